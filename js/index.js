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
import { endpointConfig, endpointEngine } from "./endpoints/endpoint.js";
import { buildResult, DEFAULT_YIELD_EVERY } from "./result-loader.js";
export * from "./experiments.js";
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

/**
 * @typedef {Object} RunnerOptions
 * @property {import("./endpoints/endpoint.js").Endpoint} endpoint Any endpoint class of the package.
 * @property {Tokenizer} [tokenizer] Counts tokens when the API reports no usage (default:
 *   whitespace words, LLMeter's DummyTokenizer).
 * @property {number} [timeout] Per-request limit in seconds (default 60); the request is aborted.
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
 * @property {number} [maxEventBytes] Largest stream message (SSE line or event) or non-streamed
 *   body a response may have, in bytes (default 16 MiB); a larger one fails that request.
 * @property {number} [subrequestLimit] Requests this invocation may send (Cloudflare Workers:
 *   50 on the Free plan, 10,000 on Paid; default 50 in workerd, none elsewhere). A count-bound
 *   run that would exceed it throws a `RangeError` before sending anything; a time-bound run
 *   stops starting requests at the limit and says so in `info.warnings`.
 * @property {number} [subrequestsSent] Subrequests this invocation already made (earlier runs,
 *   a warm-up), counted against `subrequestLimit` (default 0).
 * @property {{ recorder(start: { endpoint: Record<string, any>, options: Record<string, any> }): Promise<RunRecorder> }} [store]
 *   A `ResultStore` (`llmeter-wasm/store.js`): responses are saved during the run.
 * @property {string} [testName] Groups the run with others (a load test's levels) in the store.
 * @property {"cycle" | "eachOnce"} [payloadAssignment] `cycle` (default): each client sends
 *   `nRequests` payloads from its shuffled copy of the list; `eachOnce`: every payload is sent
 *   exactly once, the clients taking them from one shared queue (`nRequests` is ignored).
 */

/**
 * @typedef {Object} RunRecorder What a store gives `Runner.run` to record one run.
 * @property {string} runName The run's name (the option, or the store's default).
 * @property {(response: Record<string, any>, timings: Record<string, any>) => void} onResponse
 * @property {(result: Result) => Promise<Result>} finish
 * @property {() => Promise<void>} abort
 */

/** Runs benchmarks against one endpoint. */
export class Runner {
  /** @param {RunnerOptions} options */
  constructor(options) {
    if (!options || typeof options !== "object") throw new TypeError("Runner options must be an object");
    endpointConfig(options.endpoint); // throws a TypeError for anything but a package endpoint
    if (options.tokenizer !== undefined && typeof options.tokenizer?.encode !== "function") throw new TypeError("tokenizer must have an encode(text) method");
    if (options.timeout !== undefined && !(typeof options.timeout === "number" && options.timeout > 0)) throw new RangeError("timeout must be a positive number of seconds");
    this.endpoint = options.endpoint;
    this.tokenizer = options.tokenizer;
    this.timeout = options.timeout ?? 60;
  }

  /**
   * @param {RunOptions} options
   * @returns {Promise<Result>}
   */
  async run(options) {
    if (!options || typeof options !== "object") throw new TypeError("run options must be an object");
    const { store, ...runOptions } = options;
    if (store !== undefined && typeof store?.recorder !== "function") throw new TypeError("store must be a ResultStore (llmeter-wasm/store.js)");
    // The whole run happens in the endpoint's engine (the core, or the optional AWS build).
    const engine = await loadEngine(endpointEngine(this.endpoint), this.endpoint.constructor.name);
    const spec = { timeout: this.timeout, ...runOptions, endpoint: endpointConfig(this.endpoint), tokenizer: this.tokenizer, signal: undefined };
    if (!store) return new Result(await runEngine(engine, spec, runOptions.signal));
    // The store is a sink: it names the run, gets each response as it completes and the final
    // result; it never calls back into the Runner.
    const recorder = await store.recorder({ endpoint: this.endpoint.toJSON(), options: runOptions });
    const userOnResponse = runOptions.onResponse;
    if (runOptions.runName === undefined) spec.runName = recorder.runName; // a wrong one is the engine's to reject
    if (userOnResponse === undefined) spec.onResponse = recorder.onResponse;
    else if (typeof userOnResponse === "function") spec.onResponse = (/** @type {any} */ r, /** @type {any} */ t) => { recorder.onResponse(r, t); userOnResponse(r, t); };
    let result;
    try {
      result = new Result(await runEngine(engine, spec, runOptions.signal));
    } catch (err) {
      await recorder.abort();
      throw err;
    }
    return recorder.finish(result);
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
   * @param {any} handle the core's result
   * @internal results come from `Runner.run` and `Result.fromFiles`
   */
  constructor(handle) {
    /** @private */ this._h = handle;
    /** @private */ this._cache = new Map();
  }

  /**
   * Loads a run folder given as `{fileName: text}` (written by us or by Python LLMeter).
   * `responses.jsonl` and `chunk_timings.jsonl` are parsed `yieldEvery` lines at a time with a
   * yield to the event loop in between, so a large run loads without freezing the page; they
   * may also be given as (async) iterables of text pieces, read in that order (responses first).
   * @param {Record<string, FileContent>} files
   * @param {{ yieldEvery?: number }} [options] `yieldEvery`: lines per step (default 2000;
   *   `Infinity`: one step).
   */
  static async fromFiles(files, options = {}) {
    const { yieldEvery = DEFAULT_YIELD_EVERY } = options ?? {};
    if (!(yieldEvery === Infinity || (Number.isInteger(yieldEvery) && yieldEvery >= 1))) throw new RangeError("yieldEvery must be a positive integer number of lines (or Infinity)");
    await init();
    return new Result(await buildResult(files, yieldEvery));
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
   * Where and how the run was measured: runtime (name and version), HTTP protocol, the smallest
   * timer step observed, the clock's kind (`fine`; `coarsened`: browsers; `frozen-between-io`:
   * workerd, where time advances only when I/O completes), warnings, interrupted.
   * @returns {RunInfo}
   */
  get info() { return this._get("info"); }
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
    return { summary: this.summary, stats: this.stats, info: this.info, responses: this.responses, timings: this.timings, runConfig: this.runConfig };
  }
}
