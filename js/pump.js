// @ts-check
/**
 * The engine's byte path on the platform side: one small loop per response that stamps every
 * arrival with `performance.now()` first, copies the bytes into a reused buffer inside the wasm
 * memory, and makes one wasm call per chunk (no Rust future, promise or allocation per chunk).
 * It holds no rules: what the bytes mean is decided by the engine.
 * @internal
 */
import { exchangeHead, exchangeChunk, exchangeEnd, exchangeFail, exchangeScratch, exchangeMemory } from "./llmeter_wasm.js";

/**
 * The exchange functions of one engine module (the core, or the AWS build): each engine has its
 * own memory and exchange registry, so each gets its own pump.
 * @typedef {Object} ExchangeExports
 * @property {typeof exchangeHead} exchangeHead
 * @property {typeof exchangeChunk} exchangeChunk
 * @property {typeof exchangeEnd} exchangeEnd
 * @property {typeof exchangeFail} exchangeFail
 * @property {typeof exchangeScratch} exchangeScratch
 * @property {typeof exchangeMemory} exchangeMemory
 */

/**
 * A pump over one engine module's exchange functions.
 * @param {ExchangeExports} wasm
 * @returns {{ send: (id: number, url: string, method: string, headers: [string, string][], body: string | Uint8Array | undefined, wanted: string) => void, abort: (id: number) => void }}
 */
export function createPump(wasm) {
  const { exchangeHead, exchangeChunk, exchangeEnd, exchangeFail, exchangeScratch, exchangeMemory } = wasm;

  /** @type {Map<number, AbortController>} */
  const controllers = new Map();
  /** @type {Map<string, string[]>} names of the response headers each endpoint reads, split once */
  const wantedLists = new Map();

  /** The scratch buffer in wasm memory: its address, capacity, and a view of the memory. */
  let scratchPtr = 0;
  let scratchCap = 0;
  /** @type {WebAssembly.Memory | null} */
  let memory = null;
  let heap = new Uint8Array(0);

  /**
   * Copies `bytes` into the scratch buffer and returns their length.
   * @param {Uint8Array} bytes
   */
  function toScratch(bytes) {
    const len = bytes.length;
    if (len > scratchCap) {
      scratchPtr = exchangeScratch(len);
      scratchCap = len;
    }
    // A grown wasm memory detaches the old buffer: take a fresh view then.
    if (heap.byteLength === 0 || memory === null) {
      memory ??= /** @type {WebAssembly.Memory} */ (exchangeMemory());
      heap = new Uint8Array(memory.buffer);
    }
    heap.set(bytes, scratchPtr);
    return len;
  }

  /** @param {unknown} e */
  function failureParts(e) {
    const err = /** @type {any} */ (e);
    const name = typeof err?.name === "string" ? err.name : "Error";
    const message = typeof err?.message === "string" ? err.message : String(e);
    let cause = "";
    const c = err?.cause;
    if (c !== undefined && c !== null) cause = typeof c?.message === "string" ? `${c.name ?? "Error"}: ${c.message}${c.code ? ` (${c.code})` : ""}` : String(c);
    return [name, message, cause];
  }

  /**
   * Starts one exchange. `headers` is `[[name, value], …]`; `wanted` the response header names
   * to report, comma-separated. The engine passes the same objects again for requests that share
   * them: nothing here may change them.
   * @param {number} id
   * @param {string} url
   * @param {string} method
   * @param {[string, string][]} headers
   * @param {string | Uint8Array | undefined} body
   * @param {string} wanted
   */
  function send(id, url, method, headers, body, wanted) {
    const controller = new AbortController();
    controllers.set(id, controller);
    let names = wantedLists.get(wanted);
    if (!names) wantedLists.set(wanted, (names = wanted === "" ? [] : wanted.split(",")));
    const wantedNames = names;
    /** @param {unknown} e @param {boolean} inBody */
    const fail = (e, inBody) => {
      const t = performance.now();
      if (!controllers.delete(id)) return; // aborted by the engine: it no longer listens
      const [name, message, cause] = failureParts(e);
      exchangeFail(id, inBody, name, message, cause, t);
    };
    /** @type {RequestInit} */
    const init = { method, headers, body: /** @type {BodyInit | undefined} */ (body), signal: controller.signal };
    const sentMs = performance.now();
    let request;
    try {
      request = fetch(url, init);
    } catch (e) {
      queueMicrotask(() => fail(e, false));
      return;
    }
    request.then((response) => {
      const t = performance.now();
      if (!controllers.has(id)) return;
      const values = wantedNames.map((n) => response.headers.get(n));
      exchangeHead(id, response.status, values, sentMs, t);
      const stream = response.body;
      if (!stream) {
        controllers.delete(id);
        exchangeEnd(id, performance.now());
        return;
      }
      const reader = stream.getReader();
      /** @param {ReadableStreamReadResult<Uint8Array>} r */
      const onRead = (r) => {
        const at = performance.now();
        if (!controllers.has(id)) return;
        if (r.done) {
          controllers.delete(id);
          exchangeEnd(id, at);
          return;
        }
        exchangeChunk(id, toScratch(r.value), at);
        reader.read().then(onRead, onError);
      };
      /** @param {unknown} e */
      const onError = (e) => fail(e, true);
      reader.read().then(onRead, onError);
    }, (e) => fail(e, false));
  }

  /** Aborts an exchange the engine gave up on (timeout, cancellation). @param {number} id */
  function abort(id) {
    const controller = controllers.get(id);
    if (controller) {
      controllers.delete(id);
      controller.abort();
    }
  }

  return { send, abort };
}

const corePump = createPump({ exchangeHead, exchangeChunk, exchangeEnd, exchangeFail, exchangeScratch, exchangeMemory });
/** The core engine's pump. */
export const send = corePump.send;
export const abort = corePump.abort;
