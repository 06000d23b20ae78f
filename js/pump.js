// @ts-check
/**
 * The engine's byte path on the platform side: one small loop per response that stamps every
 * arrival with `performance.now()` first, copies the bytes into a reused buffer inside the wasm
 * memory, and makes one wasm call per chunk (no Rust future, promise or allocation per chunk).
 * It holds no rules: what the bytes mean is decided by the engine.
 * @internal
 */
import { exchangeHead as head, exchangeChunk as chunk, exchangeEnd as end, exchangeFail as failed, exchangeScratch, exchangeMemory, timerFired as fired } from "./llmeter_wasm.js";
import { guard, whenCrashed } from "./crash.js";

// Each call into the engine from a fetch callback is guarded: a trap stops the run with an
// error instead of escaping as an uncaught exception.
const exchangeHead = guard(head);
const exchangeChunk = guard(chunk);
const exchangeEnd = guard(end);
const exchangeFail = guard(failed);
const timerFired = guard(fired);

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

// A crashed engine is replaced by a new instance with a new memory: abort what was in flight
// and forget the old buffer.
whenCrashed(() => {
  for (const c of controllers.values()) c.abort();
  controllers.clear();
  clearTimer();
  scratchPtr = scratchCap = 0;
  memory = null;
  heap = new Uint8Array(0);
});

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
export function send(id, url, method, headers, body, wanted) {
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
export function abort(id) {
  const controller = controllers.get(id);
  if (controller) {
    controllers.delete(id);
    controller.abort();
  }
}

/** The engine's one timer (all its sleeps share it): the handle lives here, not in wasm. */
let timer = /** @type {ReturnType<typeof setTimeout> | null} */ (null);

/** (Re-)arms the timer to fire in `ms`. @param {number} ms */
export function armTimer(ms) {
  if (timer !== null) clearTimeout(timer);
  timer = setTimeout(onTimer, ms);
}

/** Clears the timer (nothing waits: an armed timer would keep a Node process alive). */
export function clearTimer() {
  if (timer !== null) clearTimeout(timer);
  timer = null;
}

function onTimer() {
  timer = null;
  timerFired();
}
