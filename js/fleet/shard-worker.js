// @ts-check
/**
 * The engine in a dedicated worker, for `Runner.run({workers: N})`: one module Web Worker
 * (browsers, Deno) or worker thread (Node) runs its share of the clients with the same engine
 * and sends back, in batches, each response as it completes, then its shard's files.
 * @internal
 */
import { coreEngine as engine } from "../core.js";
import { isNode } from "../loader.js";

/** Responses are sent back at most this often or in batches of this size. */
const BATCH_MS = 50;
const BATCH_SIZE = 64;

// No top-level await: bundlers emit workers as classic scripts (Vite's default), which have none.
/** @type {Promise<{ post: (m: any) => void, listen: (f: (m: any) => void) => void }>} */
const portReady = (async () => {
  if (isNode()) {
    const name = "node:worker_threads";
    const { parentPort } = await import(/* @vite-ignore */ /* webpackIgnore: true */ name);
    return { post: (m) => parentPort.postMessage(m), listen: (f) => parentPort.on("message", f) };
  }
  const g = /** @type {any} */ (globalThis);
  return { post: (m) => g.postMessage(m), listen: (f) => g.addEventListener("message", (/** @type {MessageEvent} */ e) => f(e.data)) };
})();

/** The run's id for `cancelRun` (one run per worker). */
const CANCEL_ID = 1;

portReady.then((port) => {
port.listen(async (msg) => {
  if (msg?.type === "abort") return engine.wasm.cancelRun(CANCEL_ID);
  if (msg?.type !== "run") return;
  try {
    if (msg.module) engine.loader.initSync(msg.module);
    else await engine.loader.init();
    /** @type {any[]} */ let batch = [];
    /** @type {Record<number, unknown>} */ let payloads = {};
    const sentPayloads = new Set();
    /** @type {ReturnType<typeof setTimeout> | null} */ let timer = null;
    const flush = () => {
      if (timer !== null) { clearTimeout(timer); timer = null; }
      if (batch.length === 0) return;
      port.post({ type: "responses", items: batch, payloads });
      batch = [];
      payloads = {};
    };
    const fault = msg.fault; // test hook: die for real after this many responses
    let seen = 0;
    const spec = {
      ...msg.spec,
      cancelId: CANCEL_ID,
      onResponse: (/** @type {any} */ r, /** @type {any} */ t) => {
        // Each payload object crosses once; responses point at it by index.
        const index = t.payload_index;
        const { input_payload, ...rest } = r;
        if (index !== null && index !== undefined && !sentPayloads.has(index)) {
          sentPayloads.add(index);
          payloads[index] = input_payload;
        }
        batch.push([rest, t]);
        if (batch.length >= BATCH_SIZE) flush();
        else timer ??= setTimeout(flush, BATCH_MS);
        if (fault !== undefined && ++seen >= fault) {
          flush();
          setTimeout(() => { throw new Error("injected worker fault (test)"); });
        }
      },
    };
    const result = await engine.crash.tracked(engine.wasm.runBenchmark(spec));
    flush();
    port.post({ type: "done", files: result.toFiles() });
    result.free();
  } catch (e) {
    const err = /** @type {any} */ (e);
    port.post({ type: "error", name: err?.name ?? "Error", message: err?.message ?? String(e) });
  }
});
port.post({ type: "ready" });
});
