// @ts-check
/**
 * LLMeter's callbacks (its §6.7 and §11): objects with any of `beforeRun(runConfig)`,
 * `beforeInvoke(payload)`, `afterInvoke(response)`, `afterRun(result)` — async or not — passed
 * as `callbacks: [...]` to `Runner`, `LoadTest` or `LatencyHeatmap`. They run in LLMeter's
 * order: `beforeRun` once before anything is sent (edits to the config are saved), `beforeInvoke`
 * before each request (edit the payload in place; each request then prepares its own copy),
 * `afterInvoke` for each measured response once its token counts are filled (after the last
 * request: nothing runs while requests are in flight), `afterRun` after the stats and before
 * saving. Stats added with `result.contributeStats({...})` are merged into `stats` and
 * `stats.json`; per-response data goes into `response.annotations`.
 *
 * Built-ins: `CostModel` with its dimensions, `MlflowCallback`, `CacheBuster`. The first and the
 * last run inside the engine (the rules live in the Rust core).
 */
import { core, requireCore } from "./core.js";
import { costModelEnvelope } from "./llmeter_wasm.js";

/** @typedef {import("./types.js").InvocationResponse} InvocationResponse */
/** @typedef {import("./types.js").RunConfig} RunConfig */
/** @typedef {import("./types.js").Payload} Payload */

/**
 * @typedef {Object} Callback What a callback may implement (all optional, sync or async).
 * @property {(runConfig: RunConfig) => void | Promise<void>} [beforeRun] The run's
 *   `run_config.json` (edit it in place: the edits are saved).
 * @property {(payload: Payload) => void | Promise<void>} [beforeInvoke] The payload about to be
 *   sent (edit it in place).
 * @property {(response: InvocationResponse) => void | Promise<void>} [afterInvoke]
 * @property {(result: import("./index.js").Result) => void | Promise<void>} [afterRun]
 */

/** A price as LLMeter's dimensions take it. @param {unknown} v @param {string} name */
function price(v, name) {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw new RangeError(`${name} must be a non-negative number`);
  return v;
}

/** Request dimension: `ceil(num_tokens_input / granularity) × granularity × pricePerMillion / 1e6`. */
export class InputTokens {
  /** @param {number} pricePerMillion @param {number} [granularity] tokens billed per increment (default 1) */
  constructor(pricePerMillion, granularity = 1) {
    this.kind = "InputTokens";
    this.pricePerMillion = price(pricePerMillion, "pricePerMillion");
    this.granularity = granularity;
  }
}

/** Request dimension: the same with `num_tokens_output`. */
export class OutputTokens {
  /** @param {number} pricePerMillion @param {number} [granularity] */
  constructor(pricePerMillion, granularity = 1) {
    this.kind = "OutputTokens";
    this.pricePerMillion = price(pricePerMillion, "pricePerMillion");
    this.granularity = granularity;
  }
}

/** Run dimension: `ceil(total_test_time / granularitySecs) × granularitySecs × pricePerHour / 3600`. */
export class EndpointTime {
  /** @param {number} pricePerHour @param {number} [granularitySecs] seconds billed per increment (default 1) */
  constructor(pricePerHour, granularitySecs = 1) {
    this.kind = "EndpointTime";
    this.pricePerHour = price(pricePerHour, "pricePerHour");
    this.granularitySecs = granularitySecs;
  }
}

/** Run dimension: SageMaker real-time endpoint instances, `ceil(total_test_time) × instanceCount × pricePerHour / 3600` (give the price: it is not looked up). */
export class SageMakerRTEndpointCompute {
  /** @param {{ instanceType: string, instanceCount?: number, pricePerHour: number, region?: string }} options */
  constructor({ instanceType, instanceCount = 1, pricePerHour, region }) {
    this.kind = "SageMakerRTEndpointCompute";
    Object.assign(this, { instanceType, instanceCount, pricePerHour: price(pricePerHour, "pricePerHour"), region });
  }
}

/** Run dimension: SageMaker endpoint storage, `ceil(total_test_time) × gbsProvisioned × pricePerGbHour / 3600`. */
export class SageMakerRTEndpointStorage {
  /** @param {{ gbsProvisioned: number, pricePerGbHour: number, region?: string }} options */
  constructor({ gbsProvisioned, pricePerGbHour, region }) {
    this.kind = "SageMakerRTEndpointStorage";
    Object.assign(this, { gbsProvisioned, pricePerGbHour: price(pricePerGbHour, "pricePerGbHour"), region });
  }
}

/** @typedef {InputTokens | OutputTokens} RequestDimension */
/** @typedef {EndpointTime | SageMakerRTEndpointCompute | SageMakerRTEndpointStorage} RunDimension */

/**
 * LLMeter's `CostModel`: per-response costs in `annotations` (`cost_InputTokens`, …,
 * `cost_total`) and the run's `cost_*` stats — LLMeter's exact keys and arithmetic. Unlike
 * LLMeter, failed requests (no token counts, null costs) do not erase every cost key: they are
 * left out of the sums and statistics.
 */
export class CostModel {
  /**
   * @param {{ requestDims?: RequestDimension[] | Record<string, RequestDimension>, runDims?: RunDimension[] | Record<string, RunDimension> }} options
   *   a list is named by each dimension's class (as LLMeter); duplicate names are an error
   */
  constructor(options) {
    if (!options || typeof options !== "object") throw new TypeError("CostModel options must be an object");
    const { requestDims, runDims } = options;
    /** @internal */ this._config = JSON.parse(JSON.stringify({ requestDims, runDims }));
    // Checked here once the engine is loaded; a run checks it anyway.
    if (core.initialized()) costModelEnvelope(this._config);
  }

  /** LLMeter's serialised form of the model (what `run_config.json` records). @returns {Record<string, any>} */
  get envelope() {
    requireCore();
    return costModelEnvelope(this._config);
  }

  /** @internal What the engine runs natively. */
  get _builtin() { return { kind: "CostModel", ...this._config }; }

  /** @param {import("./index.js").Result} result */
  afterRun(result) {
    result._costAfterRun(this._config);
  }
}

/**
 * The cache buster of LLMeter's user guide, as a callback: before each request the engine
 * prefixes the payload's first message text with a unique `[req-<uuid4>] ` tag (for a list of
 * content blocks, the first block with `text`; without `messages`, the `input`, `prompt` or
 * `inputs` text), so implicit prompt caching cannot answer repeated payloads from cache. Tags
 * come from the run's `seed`: unique within a run, reproducible.
 */
export class CacheBuster {
  /** @internal What the engine runs natively. */
  get _builtin() { return { kind: "CacheBuster" }; }
}

/**
 * LLMeter's `MlflowCallback`, through MLflow's REST API: after each run it logs the result's
 * `total_requests`, `clients`, `n_requests`, `model_id`, `output_path`, `endpoint_name`,
 * `provider`, `run_name`, `run_description` as params and every numeric stat as a metric (with
 * `step`). Without `runId` (LLMeter's "active run"), or with `nested`, it creates an MLflow run
 * named after the LLMeter run in `experimentId` (nested: a child of `runId`) and finishes it.
 */
export class MlflowCallback {
  /**
   * @param {{ trackingUri: string | URL, runId?: string, experimentId?: string, step?: number, nested?: boolean, headers?: Record<string, string>, fetch?: typeof fetch }} options
   *   `headers`: e.g. `{ Authorization: "Bearer …" }` for a secured server
   */
  constructor(options) {
    if (!options || typeof options !== "object") throw new TypeError("MlflowCallback options must be an object");
    const { trackingUri, runId, experimentId = "0", step, nested = false, headers = {}, fetch: fetchFn } = options;
    if (typeof trackingUri !== "string" && !(trackingUri instanceof URL)) throw new TypeError("trackingUri must be the MLflow server's URL");
    if (step !== undefined && !Number.isInteger(step)) throw new TypeError("step must be an integer");
    if (nested && !runId) throw new TypeError("nested needs runId (the parent run)");
    /** @private */ this._base = String(trackingUri).replace(/\/+$/, "");
    this.runId = runId;
    this.experimentId = String(experimentId);
    this.step = step;
    this.nested = nested;
    /** @private */ this._headers = { "Content-Type": "application/json", ...headers };
    /** @private */ this._fetch = fetchFn ?? globalThis.fetch.bind(globalThis);
  }

  /** @private @param {string} path @param {Record<string, unknown>} body */
  async _post(path, body) {
    const r = await this._fetch(`${this._base}/api/2.0/mlflow/${path}`, { method: "POST", headers: this._headers, body: JSON.stringify(body) });
    const text = await r.text();
    if (!r.ok) throw new Error(`MLflow ${path} answered ${r.status}: ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : {};
  }

  /** @param {import("./index.js").Result} result */
  async afterRun(result) {
    const now = Date.now();
    let runId = this.runId;
    const ownRun = this.nested || !runId;
    if (ownRun) {
      /** @type {{key: string, value: string}[]} */
      const tags = this.nested && runId ? [{ key: "mlflow.parentRunId", value: runId }] : [];
      const created = await this._post("runs/create", { experiment_id: this.experimentId, run_name: result.summary.run_name ?? undefined, start_time: now, tags });
      runId = created.run.info.run_id;
    }
    const batch = result._mlflowLogBatch(this.step, now);
    // MLflow takes at most 1000 metrics and 100 params per batch.
    for (let i = 0; i < Math.max(batch.metrics.length, 1); i += 1000) {
      await this._post("runs/log-batch", { run_id: runId, params: i === 0 ? batch.params : [], metrics: batch.metrics.slice(i, i + 1000) });
    }
    if (ownRun) await this._post("runs/update", { run_id: runId, status: "FINISHED", end_time: Date.now() });
    /** The MLflow run the last result was logged to. */
    this.lastRunId = runId;
  }
}
