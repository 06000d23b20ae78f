// @ts-check
/**
 * An engine's byte path on the platform side: one small loop per response that stamps every
 * arrival with `performance.now()` first, copies the bytes into a reused buffer inside the wasm
 * memory, and makes one wasm call per chunk (no Rust future, promise or allocation per chunk).
 * It also owns the engine's one timer. It holds no rules: what the bytes mean is decided by the
 * engine. Each engine module (the core, the optional AWS build) has its own memory, exchanges
 * and timer, so each gets its own pump (`createPump`), handed to it by `setPlatform`.
 * @internal
 */

/**
 * The exports of an engine module the pump calls.
 * @typedef {Object} PumpExports
 * @property {(id: number, status: number, values: (string | null)[], sentMs: number, at: number) => void} exchangeHead
 * @property {(id: number, len: number, at: number) => void} exchangeChunk
 * @property {(id: number, at: number) => void} exchangeEnd
 * @property {(id: number, inBody: boolean, name: string, message: string, cause: string, at: number) => void} exchangeFail
 * @property {(len: number) => number} exchangeScratch
 * @property {() => unknown} exchangeMemory
 * @property {() => void} timerFired
 */

/**
 * What the engine calls (through `setPlatform`).
 * @typedef {Object} Pump
 * @property {(id: number, url: string, method: string, headers: [string, string][], body: string | Uint8Array | undefined, wanted: string) => void} send
 * @property {(id: number) => void} abort
 * @property {(ms: number) => void} armTimer
 * @property {() => void} clearTimer
 * @property {() => Promise<void> | undefined} nextTurn
 */

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
 * The pump of one engine module.
 * @param {PumpExports} wasm the module's exports
 * @param {import("./crash.js").CrashHandler} crash the module's crash handler
 * @returns {Pump}
 */
export function createPump(wasm, crash) {
  // Each call into the engine from a fetch callback is guarded: a trap stops the run with an
  // error instead of escaping as an uncaught exception.
  const exchangeHead = crash.guard(wasm.exchangeHead);
  const exchangeChunk = crash.guard(wasm.exchangeChunk);
  const exchangeEnd = crash.guard(wasm.exchangeEnd);
  const exchangeFail = crash.guard(wasm.exchangeFail);
  const timerFired = crash.guard(wasm.timerFired);
  const { exchangeScratch, exchangeMemory } = wasm;

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

  /** The engine's one timer (all its sleeps share it): the handle lives here, not in wasm. */
  let timer = /** @type {ReturnType<typeof setTimeout> | null} */ (null);

  // A crashed engine is replaced by a new instance with a new memory: abort what was in flight
  // and forget the old buffer.
  crash.whenCrashed(() => {
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

  /**
   * Starts one exchange. `headers` is `[[name, value], …]`; `wanted` the response header names
   * to report, comma-separated. The engine passes the same objects again for requests that
   * share them: nothing here may change them.
   * @type {Pump["send"]}
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

  /** (Re-)arms the timer to fire in `ms`. @param {number} ms */
  function armTimer(ms) {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(onTimer, ms);
  }

  /** Clears the timer (nothing waits: an armed timer would keep a Node process alive). */
  function clearTimer() {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  }

  function onTimer() {
    timer = null;
    timerFired();
  }

  /**
   * A promise resolved after one turn of the event loop (a macrotask, finer than a timer's
   * millisecond): open-loop arrivals wait on these for their last 2 ms. `undefined` where there
   * is no `MessageChannel`.
   */
  function nextTurn() {
    if (typeof MessageChannel !== "function") return undefined;
    const { port1, port2 } = new MessageChannel();
    return new Promise((resolve) => {
      // Closed ports keep no event loop alive.
      port1.onmessage = () => { port1.close(); port2.close(); resolve(undefined); };
      port2.postMessage(undefined);
    });
  }

  return { send, abort, armTimer, clearTimer, nextTurn };
}
