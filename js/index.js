// @ts-check
/**
 * llmeter-wasm — LLM latency and throughput benchmarking in browsers and edge runtimes.
 *
 * The JavaScript API over the wasm engine. Works unchanged in pages, Web Workers, Node ≥ 20,
 * Deno and workerd. Call `await init()` once (runs also call it lazily); in workerd, where the
 * `.wasm` is imported as a module, call `initSync(module)` instead.
 */
import { core } from "./core.js";
import { loadEngine } from "./engines.js";
import { runTransport } from "./pump.js";
import { endpointConfig, endpointEngine } from "./endpoints/endpoint.js";
import { buildResult, DEFAULT_YIELD_EVERY, resultFiles } from "./result-loader.js";
import { FolderRecorder, pathFolder, handleFolder, pathKind, listFolder, readText, joinPath } from "./output.js";
export * from "./experiments.js";
export { CostModel, InputTokens, OutputTokens, EndpointTime, SageMakerRTEndpointCompute, SageMakerRTEndpointStorage, MlflowCallback, CacheBuster } from "./callbacks.js";
export { Endpoint } from "./endpoints/endpoint.js";
export { OpenAIEndpoint } from "./endpoints/openai.js";
export { OpenAIResponsesEndpoint } from "./endpoints/openai-responses.js";
export { AnthropicEndpoint } from "./endpoints/anthropic.js";
export { CustomEndpoint } from "./endpoints/custom.js";
// The AWS families run in the optional AWS engine: `await initAws()` from "llmeter-wasm/aws.js".
export { BedrockConverseEndpoint, BedrockInvokeEndpoint } from "./endpoints/bedrock.js";
export { SageMakerEndpoint } from "./endpoints/sagemaker.js";

// The data shapes (hand-written in types.d.ts: the values come from the wasm core).
/** @typedef {import("./types.js").Summary} Summary */
/** @typedef {import("./types.js").Stats} Stats */
/** @typedef {import("./types.js").RunStats} RunStats */
/** @typedef {import("./types.js").MetricStats} MetricStats */
/** @typedef {import("./types.js").Metric} Metric */
/** @typedef {import("./types.js").Aggregate} Aggregate */
/** @typedef {import("./types.js").MetricKey} MetricKey */
/** @typedef {import("./types.js").InvocationResponse} InvocationResponse */
/** @typedef {import("./types.js").ResponseTimings} ResponseTimings */
/** @typedef {import("./types.js").RunInfo} RunInfo */
/** @typedef {import("./types.js").ShardManifest} ShardManifest */
/** @typedef {import("./types.js").ClockKind} ClockKind */
/** @typedef {import("./types.js").RunConfig} RunConfig */
/** @typedef {import("./types.js").RunConfigEndpoint} RunConfigEndpoint */
/** @typedef {import("./types.js").Payload} Payload */
/** @typedef {import("./types.js").Progress} Progress */
/** @typedef {import("./types.js").LiveStats} LiveStats */
/** @typedef {import("./types.js").Figure} Figure */
/** @typedef {import("./types.js").FileContent} FileContent */
/** @typedef {import("./types.js").WasmSource} WasmSource */
/** @typedef {import("./types.js").WasmBytes} WasmBytes */
/** @typedef {import("./types.js").WasmModule} WasmModule */


/**
 * Loads the wasm module. Without an argument it finds `llmeter_wasm_bg.wasm` next to this file
 * (by `fetch` in browsers and Deno, by reading the file in Node; in a bundle, the copy the
 * bundler emitted). A failed load can be retried.
 * @param {WasmSource} [source] the `.wasm`'s bytes, compiled module, URL or `Response`
 *   (e.g. `import wasm from "llmeter-wasm/llmeter_wasm_bg.wasm.base64.js"` where no bundler
 *   support for `.wasm` files is at hand)
 * @returns {Promise<void>}
 */
export async function init(source) {
  await core.init(source);
}

/**
 * Synchronous initialisation from a compiled module or bytes (workerd: `import wasm from
 * "llmeter-wasm/llmeter_wasm_bg.wasm"; initSync(wasm)`).
 * @param {WasmBytes | WasmModule} module
 */
export function initSync(module) {
  core.initSync(module);
}

/**
 * @typedef {Object} Tokenizer Anything with `encode(text)` returning an array-like of tokens.
 * @property {(text: string) => ArrayLike<unknown>} encode
 * @property {(tokens: ArrayLike<unknown>) => string} [decode]
 * @property {string} [name]
 */

/** @typedef {import("./endpoints/endpoint.js").EndpointKind} EndpointKind */

/** @typedef {import("./callbacks.js").Callback} Callback */

/**
 * @typedef {Object} RunnerOptions
 * @property {import("./endpoints/endpoint.js").Endpoint} endpoint Any endpoint class of the package.
 * @property {Tokenizer} [tokenizer] Counts tokens when the API reports no usage (default:
 *   whitespace words, LLMeter's DummyTokenizer).
 * @property {number} [timeout] Per-request limit in seconds (default 60); the request is aborted.
 * @property {"fetch" | "node:http"} [transport] The HTTP client: in Node `node:http` by default
 *   (Node's own client: a third of `fetch`'s CPU per request and far less garbage, so GC pauses
 *   disturb fewer timings), `fetch` everywhere else. `"fetch"` keeps to Node's `fetch` (undici).
 * @property {Callback[]} [callbacks] LLMeter's callbacks for every run (see `callbacks.js`):
 *   `beforeRun`, `beforeInvoke`, `afterInvoke`, `afterRun`, in LLMeter's order.
 * @property {string} [outputPath] Node and Deno: each run writes its folder into
 *   `{outputPath}/{runName}/` as it goes (LLMeter's `Runner(output_path=…)`).
 * @property {any} [outputDirectory] Browsers: a File System Access directory handle
 *   (`showDirectoryPicker()`, `navigator.storage.getDirectory()`); each run writes into
 *   `{runName}/` inside it as it goes.
 */

/**
 * @typedef {Object} RunOptions
 * @property {number} [clients] Concurrent clients (default 1).
 * @property {number} [nRequests] Requests per client (default: number of payloads).
 * @property {number} [runDuration] Seconds each client keeps sending (instead of nRequests).
 * @property {Payload | Payload[]} payload One payload or a list (each client cycles through a
 *   shuffled copy).
 * @property {string} [runName] Default `YYYYMMDD-HHMM` (UTC).
 * @property {string} [runDescription]
 * @property {AbortSignal} [signal] Aborting returns the partial result, marked interrupted.
 * @property {(p: Progress) => void} [onProgress] Throttled progress with live stats.
 * @property {(response: InvocationResponse, timings: ResponseTimings) => void} [onResponse]
 *   Called with every response as soon as it completes (before token-count fallbacks).
 * @property {number} [progressIntervalMs] Minimum ms between progress callbacks (default 500).
 * @property {number} [seed] Seed for payload shuffles and start jitter (default 0).
 * @property {number} [startJitterMs] Max random delay before each client starts (default 10).
 * @property {number} [timeout] Overrides the Runner's timeout for this run.
 * @property {"fetch" | "node:http"} [transport] Overrides the Runner's transport for this run.
 * @property {number} [maxEventBytes] Largest stream message (SSE line or event) or non-streamed
 *   body a response may have, in bytes (default 16 MiB); a larger one fails that request.
 * @property {number} [subrequestLimit] Requests this invocation may send (Cloudflare Workers:
 *   50 on the Free plan, 10,000 on Paid; default 50 in workerd, none elsewhere). A count-bound
 *   run that would exceed it throws a `RangeError` before sending anything; a time-bound run
 *   stops starting requests at the limit and says so in `info.warnings`.
 * @property {number} [subrequestsSent] Subrequests this invocation already made (earlier runs,
 *   a warm-up), counted against `subrequestLimit` (default 0).
 * @property {{ recorder(start: RunStart): Promise<RunRecorder> }} [store]
 *   A `ResultStore` (`llmeter-wasm/store.js`): responses are saved during the run.
 * @property {string} [testName] Groups the run with others (a load test's levels) in the store.
 * @property {"cycle" | "eachOnce"} [payloadAssignment] `cycle` (default): each client sends
 *   `nRequests` payloads from its shuffled copy of the list; `eachOnce`: every payload is sent
 *   exactly once, the clients taking them from one shared queue (`nRequests` is ignored).
 * @property {number} [rate] Open loop: requests start at this many per second whatever the
 *   answers do (instead of `clients`); `nRequests` is then the total and `runDuration` the
 *   seconds of arrivals. Each request records when it was due and when it left; the stats
 *   report the schedule lag and `info.warnings` says when the loop fell behind.
 * @property {"constant" | "poisson"} [arrival] Open loop: gaps of exactly `1 / rate` s
 *   (default), or exponential gaps (a Poisson process) drawn from `seed`.
 * @property {number} [maxConcurrency] Open loop: most requests in flight (default: `rate ×
 *   timeout`, at most 10,000); an arrival that finds them all busy waits, and its lag says so.
 * @property {number} [maxScheduleLag] Warn when the client falls behind by more than this many
 *   seconds at p99 (default 0.01): an open loop's schedule lag, and in every run the lateness of
 *   a timer on the run's thread (a busy thread delays the stamps of chunks too).
 * @property {number | { requests: number } | { seconds: number }} [warmup] First requests (a
 *   number, or for a time) sent before the measured ones: saved apart
 *   (`warmup_cooldown.jsonl`, flagged `annotations.load_phase`), left out of the stats.
 * @property {number | { requests: number } | { seconds: number }} [cooldown] Requests after
 *   the measured ones, keeping the load up while the last measured requests finish: saved
 *   apart, left out of the stats.
 * @property {{ ttft?: number, tpot?: number, ttlt?: number }} [slo] Latency objectives in
 *   seconds: the stats get `goodput` (requests per minute meeting all of them) and
 *   `slo_attainment` (overall and per objective), as vLLM's benchmark and DistServe define them.
 * @property {Callback[]} [callbacks] Replaces the Runner's callbacks for this run.
 * @property {string} [outputPath] Node and Deno: write this run's folder exactly here, as it
 *   goes (LLMeter's `Runner.run(output_path=…)`).
 * @property {any} [outputDirectory] Browsers: write this run's files into this directory handle.
 * @property {(runConfig: RunConfig) => void} [onStart] Called once before the first request
 *   with the run's `run_config.json` (the engine's, after `beforeRun` callbacks).
 * @property {ShardOptions} [shard] Runs as one shard of a test (a fleet): the result carries a
 *   manifest (`result.shard`, saved as `shard.json`) and this machine's wall-clock offset,
 *   estimated from the endpoint's `Date` headers (browsers need the endpoint to expose `Date`
 *   with `Access-Control-Expose-Headers`), so `Result.merge` can combine it with shards from
 *   other machines.
 * @property {number} [workers] Spreads the clients over this many dedicated workers (module Web
 *   Workers in browsers, worker threads in Node, Workers in Deno), each running the same engine
 *   on its share; the shards are merged exactly into one result. A worker that dies fails only
 *   its own clients' requests, each with an error. Not in workerd (split load over invocations
 *   there); `tokenizer` must be left out (token counts fall back to whitespace words), and a
 *   `CustomEndpoint` or `onStart` is refused (JS functions cannot cross to a worker).
 */

/**
 * @typedef {Object} ShardOptions
 * @property {string} testId The test this run is a shard of (a folder name).
 * @property {string} shardId This shard (a folder name, unique in the test).
 * @property {string} [label] A label (region, network, …): the merged result breaks every metric down by it.
 * @property {Record<string, unknown>} [plan] The plan it ran, recorded in the manifest.
 * @property {import("./types.js").ClockOffset} [clockOffset] An offset estimated elsewhere (e.g.
 *   from the fleet plan's download), used when the endpoint's answers carry no readable `Date`.
 */

/**
 * @typedef {Object} RunStart What `Runner.run` tells a store before the first request.
 * @property {Record<string, unknown>} endpoint The endpoint's public description (`toJSON()`, no secrets).
 * @property {RunOptions} options The run's options (without `store`, `callbacks`, `outputPath`,
 *   `outputDirectory` and `onStart`).
 */

/**
 * @typedef {Object} RunRecorder What a store (or an output folder) gives `Runner.run` to record
 * one run.
 * @property {(runConfig: RunConfig) => void} [onStart] The engine's `run_config.json`
 *   before the first request (names the run).
 * @property {(response: InvocationResponse, timings: ResponseTimings) => void} onResponse
 * @property {(result: Result) => Promise<Result>} finish
 * @property {() => Promise<void>} abort
 */

/** @param {unknown} callbacks */
function checkCallbacks(callbacks) {
  if (!Array.isArray(callbacks)) throw new TypeError("callbacks must be an array of callback objects");
  callbacks.forEach((cb, i) => {
    if (!cb || typeof cb !== "object") throw new TypeError(`callbacks[${i}] must be an object`);
    for (const hook of ["beforeRun", "beforeInvoke", "afterInvoke", "afterRun"]) {
      if (cb[hook] !== undefined && typeof cb[hook] !== "function") throw new TypeError(`callbacks[${i}].${hook} must be a function`);
    }
  });
  return /** @type {Callback[]} */ (callbacks);
}

/** @param {unknown} e */
const messageOf = (e) => (e instanceof Error ? e.message : typeof e === "string" ? e : `threw ${e !== null && typeof e === "object" ? "an object" : String(e)}`);

/** Runs benchmarks against one endpoint. */
export class Runner {
  /** @param {RunnerOptions} options */
  constructor(options) {
    if (!options || typeof options !== "object") throw new TypeError("Runner options must be an object");
    endpointConfig(options.endpoint); // throws a TypeError for anything but a package endpoint
    if (options.tokenizer !== undefined && typeof options.tokenizer?.encode !== "function") throw new TypeError("tokenizer must have an encode(text) method");
    if (options.timeout !== undefined && !(typeof options.timeout === "number" && options.timeout > 0)) throw new RangeError("timeout must be a positive number of seconds");
    if (options.outputPath !== undefined && typeof options.outputPath !== "string") throw new TypeError("outputPath must be a string (a folder path)");
    this.endpoint = options.endpoint;
    this.tokenizer = options.tokenizer;
    this.timeout = options.timeout ?? 60;
    if (options.transport !== undefined) runTransport(options.transport); // a RangeError for a wrong one
    this.transport = options.transport;
    this.callbacks = checkCallbacks(options.callbacks ?? []);
    this.outputPath = options.outputPath;
    this.outputDirectory = options.outputDirectory;
  }

  /**
   * @param {RunOptions} options
   * @returns {Promise<Result>}
   */
  async run(options) {
    if (!options || typeof options !== "object") throw new TypeError("run options must be an object");
    if (options.workers !== undefined) return (await import("./fleet/workers.js")).runInWorkers(this, options);
    const { store, callbacks = this.callbacks, outputPath, outputDirectory, onStart, ...runOptions } = options;
    if (store !== undefined && typeof store?.recorder !== "function") throw new TypeError("store must be a ResultStore (llmeter-wasm/store.js)");
    if (onStart !== undefined && typeof onStart !== "function") throw new TypeError("onStart must be a function");
    if (outputPath !== undefined && typeof outputPath !== "string") throw new TypeError("outputPath must be a string (a folder path)");
    checkCallbacks(callbacks);
    await init();
    // The whole run happens in the endpoint's engine (the core, or the optional AWS build).
    const engine = await loadEngine(endpointEngine(this.endpoint), this.endpoint.constructor.name);
    /** @type {Record<string, any>} */
    const spec = { timeout: this.timeout, ...runOptions, transport: runTransport(runOptions.transport ?? this.transport), endpoint: endpointConfig(this.endpoint), tokenizer: this.tokenizer, callbacks, signal: undefined };
    // Sinks get the run's start, each response as it completes and the final result; they
    // never call back into the Runner. Output folders: the run's own (exact) or the Runner's
    // (a folder per run, named by the engine), as LLMeter.
    /** @type {RunRecorder[]} */
    const sinks = [];
    const base = outputPath ?? outputDirectory ?? this.outputPath ?? this.outputDirectory;
    if (base !== undefined) {
      const nested = outputPath === undefined && outputDirectory === undefined;
      if (typeof base === "string") Object.assign(spec, { outputPath: base, outputNested: nested });
      sinks.push(new FolderRecorder(typeof base === "string" ? await pathFolder(base) : handleFolder(base), nested));
    }
    if (store) sinks.push(await store.recorder({ endpoint: this.endpoint.toJSON(), options: runOptions }));
    if (sinks.length || onStart) {
      spec.onStart = (/** @type {any} */ config) => {
        for (const s of sinks) s.onStart?.(config);
        return onStart?.(config);
      };
    }
    const userOnResponse = runOptions.onResponse;
    if (sinks.length && (userOnResponse === undefined || typeof userOnResponse === "function")) {
      spec.onResponse = (/** @type {any} */ r, /** @type {any} */ t) => {
        for (const s of sinks) s.onResponse(r, t);
        return userOnResponse?.(r, t); // a promise is the engine's to defuse
      };
    }
    let result;
    try {
      result = new Result(await runEngine(engine, spec, runOptions.signal));
    } catch (err) {
      for (const s of sinks) await s.abort();
      throw err;
    }
    // LLMeter: afterRun after the stats, before saving; a failing one is a warning (0.2.0).
    for (const cb of callbacks) {
      if (typeof cb.afterRun !== "function") continue;
      try {
        await cb.afterRun(result);
      } catch (e) {
        result._warn(`callback ${cb.constructor?.name ?? "callback"}: afterRun failed: ${messageOf(e)}`);
      }
    }
    for (const s of sinks) result = await s.finish(result);
    return result;
  }
}

let nextCancelId = 1;

/**
 * Runs `engine`; an `AbortSignal` cancels it through `cancelRun` (the listener lives here,
 * so nothing of the engine stays on a signal the caller keeps); an engine crash rejects it.
 * @param {import("./engines.js").Engine} engine
 * @param {Record<string, unknown>} spec
 * @param {AbortSignal | undefined} signal
 */
async function runEngine(engine, spec, signal) {
  if (signal !== undefined && signal !== null && typeof signal?.addEventListener !== "function") throw new TypeError("signal must be an AbortSignal");
  const cancelId = nextCancelId++;
  const cancel = engine.crash.guard(() => engine.wasm.cancelRun(cancelId));
  signal?.addEventListener("abort", cancel);
  try {
    if (signal?.aborted) cancel();
    return await engine.crash.tracked(engine.wasm.runBenchmark({ ...spec, cancelId }));
  } finally {
    signal?.removeEventListener("abort", cancel);
  }
}

/** A run's result: LLMeter's summary, stats and responses, plus our timing extras. */
export class Result {
  /**
   * @param {any} handle the wasm `WasmRunResult`: of the engine that ran it, or of the fleet
   *   module that loaded it (the same class in both)
   * @internal results come from `Runner.run` and `Result.fromFiles`
   */
  constructor(handle) {
    /** @internal the wasm result */ this._h = handle;
    /** @private */ this._cache = new Map();
  }

  /**
   * Loads a run folder given as `{fileName: text}` (written by us or by Python LLMeter), by
   * LLMeter's `Result.load` rules. `responses.jsonl` and `chunk_timings.jsonl` are parsed
   * `yieldEvery` lines at a time with a yield to the event loop in between, so a large run loads
   * without freezing the page; they may also be given as (async) iterables of text pieces, read
   * in that order (responses first). Loading runs in the fleet's wasm module, loaded on first
   * use (in workerd, import `llmeter_fleet_bg.wasm` and call `initFleetSync` first).
   * @param {Record<string, FileContent>} files
   * @param {{ yieldEvery?: number, loadResponses?: boolean }} [options] `yieldEvery`: lines per
   *   step (default 2000; `Infinity`: one step). `loadResponses: false` (LLMeter's
   *   `load_responses=False`): only the summary and `stats.json` are read; no responses.
   */
  static async fromFiles(files, options = {}) {
    const { yieldEvery = DEFAULT_YIELD_EVERY, loadResponses = true } = options ?? {};
    if (!(yieldEvery === Infinity || (Number.isInteger(yieldEvery) && yieldEvery >= 1))) throw new RangeError("yieldEvery must be a positive integer number of lines (or Infinity)");
    if (typeof loadResponses !== "boolean") throw new TypeError("loadResponses must be a boolean");
    await init();
    return new Result(await buildResult(files, yieldEvery, { loadResponses }));
  }

  /**
   * Node and Deno: loads a run folder from disk, by LLMeter's `Result.load(path,
   * load_responses)` rules (clear errors for a missing folder or one without results).
   * @param {string} path
   * @param {{ loadResponses?: boolean }} [options]
   * @returns {Promise<Result>}
   */
  static async load(path, options = {}) {
    const { loadResponses = true } = options ?? {};
    if (typeof path !== "string" || path === "") throw new TypeError("path must be a folder path");
    if (typeof loadResponses !== "boolean") throw new TypeError("loadResponses must be a boolean");
    const kind = await pathKind(path);
    if (kind === null) throw new Error(`Result.load: no such folder: ${path}`);
    if (kind !== "dir") throw new Error(`Result.load: ${path} is a file, not a run folder`);
    await init();
    const present = new Set((await listFolder(path)).filter((e) => !e.dir).map((e) => e.name));
    if (!["summary.json", "responses.jsonl", "stats.json"].some((f) => present.has(f))) {
      throw new Error(`Result.load: no results in ${path} (no summary.json, responses.jsonl or stats.json)`);
    }
    const wanted = new Set(await resultFiles(loadResponses));
    // Without summary.json the metadata is recovered from the responses (LLMeter does so too).
    if (!present.has("summary.json")) wanted.add("responses.jsonl");
    /** @type {Record<string, string>} */
    const files = {};
    for (const name of wanted) if (present.has(name)) files[name] = await readText(joinPath(path, name));
    return new Result(await buildResult(files, DEFAULT_YIELD_EVERY, { loadResponses, outputPath: path }));
  }

  /**
   * Merges shards of one test — results of `Runner.run({shard})` from any machine, runtime or
   * worker, results loaded from their folders, or compact shard texts from probes — into one
   * result. Stats are computed on the union of the responses, so they are the stats one run of
   * the same responses has; throughput uses the union of the shards' wall-clock windows, each
   * corrected by its clock offset. Every metric is broken down per label (`stats.by_label`) and,
   * when shards ran in several runtimes, per runtime (`stats.by_runtime`); `info.fleet` lists the
   * shards (and, given the plan, the missing and late ones).
   * Loads the fleet's own small wasm module on first use.
   * @param {Iterable<import("./fleet/merge.js").Shard>} shards results, run folders
   *   (`{fileName: text}`) or compact shard texts (probes' beacons)
   * @param {import("./fleet/merge.js").MergeOptions} [options]
   * @returns {Promise<Result>}
   */
  static async merge(shards, options = {}) {
    return (await import("./fleet/merge.js")).mergeShards(shards, options);
  }

  /** @private @param {string} k */
  _get(k) {
    if (!this._cache.has(k)) this._cache.set(k, this._h[k]);
    return this._cache.get(k);
  }
  /** LLMeter's summary.json fields. @returns {Summary} */
  get summary() { return this._get("summary"); }
  /** LLMeter's stats (load-path values) plus our extras. @returns {Stats} */
  get stats() { return this._get("stats"); }
  /** LLMeter InvocationResponse objects. @returns {InvocationResponse[]} */
  get responses() { return this._get("responses"); }
  /** Per-response timing extras (first chunk, chunk offsets, counts), in the order of `responses`. @returns {ResponseTimings[]} */
  get timings() { return this._get("timings"); }
  /**
   * Warm-up and cool-down responses (flagged in `annotations.load_phase`), left out of the
   * stats; saved in `warmup_cooldown.jsonl`. @returns {InvocationResponse[]}
   */
  get excluded() { return this._get("excluded"); }
  /** Timings of `excluded`, in its order. @returns {ResponseTimings[]} */
  get excludedTimings() { return this._get("excludedTimings"); }
  /**
   * LLMeter's `_update_contributed_stats` for callbacks: numbers (or booleans) merged into
   * `stats` and `stats.json`. Throws a `TypeError` naming keys whose values are not numbers.
   * @param {Record<string, number | boolean>} stats
   */
  contributeStats(stats) {
    this._cache.delete("stats");
    this._h.contributeStats(stats);
  }
  /** @internal @param {string} warning */
  _warn(warning) {
    this._cache.delete("info");
    this._h.addWarning(warning);
  }
  /** @internal @param {Record<string, any>} config */
  _costAfterRun(config) {
    this._cache.delete("stats");
    this._h.costAfterRun(config);
  }
  /** @internal @param {number | undefined} step @param {number} timestampMs @returns {{ params: {key: string, value: string}[], metrics: {key: string, value: number, timestamp: number, step: number}[] }} */
  _mlflowLogBatch(step, timestampMs) { return this._h.mlflowLogBatch(step, timestampMs); }
  /**
   * Where and how the run was measured: runtime (name and version), HTTP protocol, the smallest
   * timer step observed, the clock's kind (`fine`; `coarsened`: browsers; `frozen-between-io`:
   * workerd, where time advances only when I/O completes), warnings, interrupted.
   * @returns {RunInfo}
   */
  get info() { return this._get("info"); }
  /** The shard manifest (`shard.json`) when the run was a shard of a test, else `undefined`. @returns {ShardManifest | undefined} */
  get shard() { return this._get("shard"); }
  /** LLMeter's run_config.json (no secrets). @returns {RunConfig} */
  get runConfig() { return this._get("runConfig"); }
  /** LLMeter's run folder: `{"summary.json": …, "stats.json": …, "responses.jsonl": …, …}`. @returns {Record<string, string>} */
  toFiles() { return this._h.toFiles(); }
  /**
   * Plotly figures (`{data, layout}`) of this run: histograms and box plots of TTFT, TTLT and
   * TPOT. Loads `report.js` on first use. @returns {Promise<Record<string, Figure>>}
   */
  async figures() { return (await import("./report.js")).runFigures(this); }
  /** A self-contained HTML report (stats table, SVG charts; opens offline). @returns {Promise<string>} */
  async toHTML() { return (await import("./report.js")).runHTML(this); }
  toJSON() {
    return { summary: this.summary, stats: this.stats, info: this.info, responses: this.responses, timings: this.timings, runConfig: this.runConfig, excluded: this.excluded, ...(this.shard ? { shard: this.shard } : {}) };
  }
}
