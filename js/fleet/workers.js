// @ts-check
/**
 * `Runner.run({workers: N})`: the clients spread over N dedicated workers (module Web Workers
 * in browsers, worker threads in Node, Workers in Deno), each running the same engine on its
 * share, merged exactly into one result by the core. A worker that dies fails only its own
 * clients' requests, each with an error; what it finished before is kept.
 * @internal
 */
import wasmInit from "../llmeter_wasm.js";
import { lostShard, LiveTracker } from "../llmeter_fleet.js";
import { initFleet } from "./init.js";
import { mergeShards } from "./merge.js";
import { endpointConfig, endpointEngine } from "../endpoints/endpoint.js";
import { isNode } from "../loader.js";
import { Result, init } from "../index.js";
import { runTransport } from "../pump.js";

/** The most workers one run may use. */
const MAX_WORKERS = 256;

/**
 * A worker of any runtime behind one interface.
 * @typedef {Object} Port
 * @property {(m: any, transfer?: any[]) => void} post
 * @property {(onMessage: (m: any) => void, onFailure: (why: string) => void) => void} listen
 * @property {() => void} terminate
 */

/** @returns {Promise<Port>} */
async function spawn() {
  if (isNode()) {
    // Kept as it stands by bundlers (webpack would otherwise emit an unbundled copy of the file
    // into every browser bundle): Node loads the package's own file.
    const url = new URL(/* webpackIgnore: true */ "./shard-worker.js", import.meta.url);
    const name = "node:worker_threads";
    const { Worker } = await import(/* @vite-ignore */ /* webpackIgnore: true */ name);
    const w = new Worker(url);
    return {
      post: (m) => w.postMessage(m),
      listen: (onMessage, onFailure) => {
        w.on("message", onMessage);
        w.on("error", (/** @type {Error} */ e) => onFailure(`${e.name}: ${e.message}`));
        w.on("exit", (/** @type {number} */ code) => onFailure(`the worker exited with code ${code}`));
      },
      terminate: () => void w.terminate(),
    };
  }
  if (typeof Worker !== "function") throw new RangeError("workers: this runtime has no Worker (in workerd, split the load over invocations; see docs/SCALE.md)");
  // Written out in full: bundlers recognise exactly this form and bundle the worker.
  const w = new Worker(new URL("./shard-worker.js", import.meta.url), { type: "module" });
  return {
    post: (m) => w.postMessage(m),
    listen: (onMessage, onFailure) => {
      w.onmessage = (e) => onMessage(e.data);
      w.onerror = (e) => { e.preventDefault?.(); onFailure(e.message || "the worker failed to start or threw"); };
      w.onmessageerror = () => onFailure("a message from the worker could not be read");
    },
    terminate: () => w.terminate(),
  };
}

/** `n` items dealt into `parts` shares, the first ones one larger. @param {number} n @param {number} parts */
const shares = (n, parts) => Array.from({ length: parts }, (_, i) => Math.floor(n / parts) + (i < n % parts ? 1 : 0));

/**
 * @param {import("../index.js").Runner} runner
 * @param {import("../index.js").RunOptions} options
 * @returns {Promise<Result>}
 */
export async function runInWorkers(runner, options) {
  const { workers, store, onResponse, onProgress, signal, progressIntervalMs = 500, ...rest } = options;
  const clients = rest.clients ?? 1;
  if (!(Number.isInteger(workers) && /** @type {number} */ (workers) >= 1 && /** @type {number} */ (workers) <= MAX_WORKERS)) throw new RangeError(`workers must be an integer from 1 to ${MAX_WORKERS}, got ${workers}`);
  const n = /** @type {number} */ (workers);
  if (!(Number.isInteger(clients) && clients >= n)) throw new RangeError(`workers: ${n} workers need at least ${n} clients (one each), got clients ${clients}`);
  if (store !== undefined) throw new TypeError("workers: a store cannot record a run spread over workers yet; save result.toFiles() when it ends");
  if (runner.tokenizer !== undefined) throw new TypeError("workers: a tokenizer cannot be sent to workers (it is a JS object); leave it out (whitespace words) or run without workers");
  if (rest.shard !== undefined) throw new TypeError("workers: a run spread over workers cannot also be one shard of a fleet yet; run the fleet shard without workers");
  if (endpointEngine(runner.endpoint) !== "core") throw new TypeError(`workers: ${runner.endpoint.constructor.name} runs in the optional ${endpointEngine(runner.endpoint)} engine, which the workers do not load yet; run it without workers`);
  const endpoint = endpointConfig(runner.endpoint);
  try {
    structuredClone(endpoint);
  } catch {
    // A CustomEndpoint's hooks are JS functions: they cannot be sent to a worker.
    throw new TypeError(`workers: ${runner.endpoint.constructor.name}'s functions cannot be sent to workers; run it without workers`);
  }
  const callbacks = /** @type {any} */ (rest).callbacks ?? /** @type {any} */ (runner).callbacks;
  if (Array.isArray(callbacks) && callbacks.length > 0) throw new TypeError("workers: callbacks cannot be sent to workers (they are JS objects); run without workers, or apply them to the merged result");
  if (/** @type {any} */ (rest).outputPath !== undefined || /** @type {any} */ (rest).outputDirectory !== undefined) throw new TypeError("workers: outputPath and outputDirectory are not written from workers yet; write result.toFiles() when the run ends");
  if (onResponse !== undefined && typeof onResponse !== "function") throw new TypeError("onResponse must be a function");
  if (onProgress !== undefined && typeof onProgress !== "function") throw new TypeError("onProgress must be a function");
  signal?.throwIfAborted?.();
  const { _workerFault: fault, ...runOptions } = /** @type {any} */ (rest);
  await Promise.all([init(), initFleet()]);
  const module = /** @type {any} */ (wasmInit).__wbindgen_wasm_module;
  const payload = Array.isArray(runOptions.payload) ? runOptions.payload : [runOptions.payload];
  const eachOnce = runOptions.payloadAssignment === "eachOnce";
  const seed = runOptions.seed ?? 0;
  const runName = runOptions.runName;
  const testId = runName ?? "workers";
  const clientShares = shares(clients, n);
  const startUnixMs = Date.now();
  const t0 = performance.now();
  const tracker = onProgress ? new LiveTracker() : null;
  let completed = 0, failed = 0, lastProgress = -Infinity;
  const expectedOf = (/** @type {number} */ c, /** @type {number} */ payloads) => (eachOnce ? payloads : runOptions.runDuration !== undefined ? null : c * (runOptions.nRequests ?? payloads));

  const shards = clientShares.map((c, w) => {
    // eachOnce: every payload once overall, so the list is dealt over the workers.
    const own = eachOnce ? payload.filter((/** @type {unknown} */ _, /** @type {number} */ i) => i % n === w) : payload;
    return {
      w,
      clients: c,
      payload: own,
      expected: expectedOf(c, own.length),
      shard: { testId, shardId: `worker-${String(w).padStart(3, "0")}`, sameClock: true },
      /** @type {[any, any][]} */ received: [],
      /** @type {Map<number, unknown>} */ payloads: new Map(),
      /** @type {Port | null} */ port: null,
    };
  });
  const emitProgress = (/** @type {boolean} */ force) => {
    if (!onProgress || !tracker) return;
    const now = performance.now();
    if (!force && now - lastProgress < progressIntervalMs) return;
    lastProgress = now;
    const expected = shards.every((s) => s.expected !== null) ? shards.reduce((a, s) => a + /** @type {number} */ (s.expected), 0) : null;
    const elapsedS = (now - t0) / 1000;
    try {
      onProgress({ completed, failed, expected, elapsedS, inFlight: expected === null ? clients : Math.min(clients, expected - completed), stats: tracker.snapshot(elapsedS) });
    } catch { /* a throwing callback must not end the run */ }
  };

  const onAbort = () => shards.forEach((s) => s.port?.post({ type: "abort" }));
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const outcomes = await Promise.all(shards.map((s) => new Promise((resolve) => {
      /** @type {(o: { files?: Record<string, string>, lost?: string, optionError?: Error }) => void} */
      let settle = (o) => { settle = () => {}; s.port?.terminate(); resolve(o); };
      spawn().then((port) => {
        s.port = port;
        port.listen((m) => {
          if (m?.type === "ready") {
            try {
              port.post({ type: "run", module, fault: fault?.worker === s.w ? fault.afterResponses : undefined, spec: {
                ...runOptions, clients: s.clients, payload: s.payload, seed: seed + s.w * 7919, endpoint, timeout: runOptions.timeout ?? runner.timeout, transport: runTransport(runOptions.transport ?? runner.transport), shard: s.shard,
              } });
            } catch (e) {
              // An option that cannot cross to a worker (a function, say): refused as without workers.
              return settle({ optionError: new TypeError(`workers: the run's options could not be sent to a worker: ${/** @type {any} */ (e)?.message ?? e}`) });
            }
            if (signal?.aborted) port.post({ type: "abort" });
          } else if (m?.type === "responses") {
            for (const [k, v] of Object.entries(m.payloads)) s.payloads.set(Number(k), v);
            for (const [r, t] of m.items) {
              s.received.push([r, t]);
              completed++;
              if (r.error !== null) failed++;
              tracker?.push(r.time_to_first_token ?? undefined, r.time_to_last_token ?? undefined, r.num_tokens_output ?? undefined, r.error !== null);
              if (onResponse) {
                try { onResponse({ ...r, input_payload: s.payloads.get(t.payload_index) ?? null }, t); } catch { /* as in one thread */ }
              }
            }
            emitProgress(false);
          } else if (m?.type === "done") settle({ files: m.files });
          else if (m?.type === "error") {
            // Options the engine refused (before any request) fail the whole run, as without workers.
            if ((m.name === "TypeError" || m.name === "RangeError") && s.received.length === 0) {
              const E = m.name === "TypeError" ? TypeError : RangeError;
              settle({ optionError: new E(m.message) });
            } else settle({ lost: `${m.name}: ${m.message}` });
          }
        }, (why) => settle({ lost: why }));
      }, (e) => settle({ lost: `the worker could not start: ${e?.message ?? e}` }));
    })));
    const optionError = outcomes.find((o) => o.optionError)?.optionError;
    if (optionError) throw optionError;
    emitProgress(true);
    // Each shard as its run folder: what the worker sent, or, for a worker that died, what it
    // finished plus an error for every request it still owed.
    const folders = outcomes.map((o, i) => {
      const s = shards[i];
      return o.files ?? lostShard({
        clients: s.clients, expectedRequests: s.expected ?? undefined, error: o.lost, startUnixMs, endUnixMs: Date.now(),
        runName, endpointInfo: runner.endpoint.info, shard: s.shard, seed: seed + s.w * 7919,
        responses: s.received.map(([r, t]) => ({ ...r, input_payload: s.payloads.get(t.payload_index) ?? null })),
        timings: s.received.map(([, t]) => t),
      });
    });
    const firstName = outcomes.find((o) => o.files)?.files?.["summary.json"];
    const name = runName ?? (firstName ? JSON.parse(firstName).run_name : undefined);
    return mergeShards(folders, { runName: name ?? undefined, runDescription: runOptions.runDescription });
  } finally {
    signal?.removeEventListener("abort", onAbort);
    tracker?.free();
  }
}
