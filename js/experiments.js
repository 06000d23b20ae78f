// @ts-check
/**
 * LLMeter's experiments: `LoadTest` (one run per concurrency level) and `LatencyHeatmap`
 * (latency over input × output token lengths). The core plans levels, prompts and the request
 * list; every run goes through `Runner.run`, so run options such as `onResponse` or `store`
 * work unchanged. Charts and the HTML report live in `report.js`, loaded on first use.
 */
import { init, Runner, Result } from "./index.js";
import { loadTestLevels, heatmapPlan, subrequestLimitInForce } from "./llmeter_wasm.js";

/** @param {number} clients */
const levelFolder = (clients) => `${String(clients).padStart(5, "0")}-clients`;

/** LLMeter's default name, `YYYYMMDD-HHMM` (UTC). */
function defaultTestName() {
  const s = new Date().toISOString();
  return `${s.slice(0, 4)}${s.slice(5, 7)}${s.slice(8, 10)}-${s.slice(11, 13)}${s.slice(14, 16)}`;
}

/**
 * A payload as an object, an array of objects, JSONL text, or a Blob of JSONL.
 * @param {unknown} payload
 * @returns {Promise<import("./types.js").Payload[]>}
 */
export async function readPayloads(payload) {
  if (typeof Blob !== "undefined" && payload instanceof Blob) payload = await payload.text();
  if (typeof payload === "string") {
    /** @type {Record<string, unknown>[]} */
    const out = [];
    payload.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() === "") return;
      let v;
      try { v = JSON.parse(line); } catch (e) { throw new TypeError(`payload line ${i + 1} is not JSON: ${/** @type {Error} */ (e).message}`); }
      if (!v || typeof v !== "object" || Array.isArray(v)) throw new TypeError(`payload line ${i + 1} must be a JSON object`);
      out.push(v);
    });
    if (out.length === 0) throw new RangeError("payload: the JSONL text has no payloads");
    return out;
  }
  if (Array.isArray(payload)) return payload;
  if (payload && typeof payload === "object") return [/** @type {Record<string, unknown>} */ (payload)];
  throw new TypeError("payload must be an object, an array of objects, JSONL text or a Blob");
}

/** @param {Record<string, string>} files @param {string} prefix */
function prefixed(files, prefix) {
  /** @type {Record<string, string>} */
  const out = {};
  for (const [name, text] of Object.entries(files)) out[`${prefix}/${name}`] = text;
  return out;
}

const report = () => import("./report.js");

/**
 * @typedef {Object} LoadTestProgress
 * @property {number} level 0-based index of the current level
 * @property {number} levels number of levels
 * @property {number} clients clients of the current level
 * @property {number} levelsDone levels finished before this one
 * @property {number} fraction share of the whole test done, 0…1 (levels count equally; time-bound levels by elapsed time)
 * @property {import("./types.js").Progress} run the current level's progress
 */

/**
 * @typedef {Omit<import("./index.js").RunOptions, "clients" | "nRequests" | "runDuration" | "runName" | "testName" | "payload" | "payloadAssignment" | "onProgress" | "timeout">} LevelRunOptions
 *   Run options passed to every level's run: `onResponse`, `store`, `signal`, `seed`,
 *   `subrequestLimit`, … (see `RunOptions`).
 */

/**
 * @typedef {Object} LoadTestPlanOptions
 * @property {import("./index.js").Endpoint} endpoint
 * @property {import("./types.js").Payload | import("./types.js").Payload[] | string | Blob} payload object, array, JSONL text or Blob
 * @property {number[]} sequenceOfClients concurrency levels, run in this order
 * @property {number} [minRequestsPerClient] default 1
 * @property {number} [minRequestsPerRun] default 10 (LLMeter's rule: each level sends at least this many)
 * @property {number} [runDuration] seconds per level instead of the request counts
 * @property {string} [testName] default `YYYYMMDD-HHMM` (UTC)
 * @property {import("./index.js").Tokenizer} [tokenizer]
 * @property {number} [timeout] per-request seconds
 * @property {AbortSignal} [signal] stops the current level (its partial result is kept) and the test
 * @property {(p: LoadTestProgress) => void} [onProgress]
 */

/** @typedef {LoadTestPlanOptions & LevelRunOptions} LoadTestOptions */
/** @typedef {LevelRunOptions & { onProgress?: (p: LoadTestProgress) => void }} LoadTestRunOptions */

/** LLMeter's LoadTest: one run per number of clients. */
export class LoadTest {
  /** @param {LoadTestOptions} options run options (`onResponse`, `store`, …) apply to every level */
  constructor(options) {
    if (!options || typeof options !== "object") throw new TypeError("LoadTest options must be an object");
    const { endpoint, tokenizer, timeout, payload, sequenceOfClients, minRequestsPerClient, minRequestsPerRun, runDuration, testName, ...runOptions } = options;
    this.runner = new Runner({ endpoint, tokenizer, timeout });
    if (payload === undefined) throw new TypeError("payload is required");
    if (testName !== undefined && (typeof testName !== "string" || testName === "" || /[\/\\]/.test(testName))) throw new TypeError("testName must be a non-empty string without slashes");
    /** @internal */ this.payload = payload;
    /** @internal */ this.plan = { sequenceOfClients, minRequestsPerClient, minRequestsPerRun, runDuration };
    this.testName = testName ?? defaultTestName();
    /** @internal */ this.runOptions = runOptions;
  }

  /**
   * Runs every level in order. Extra options override the constructor's for this call.
   * @param {LoadTestRunOptions} [overrides]
   * @returns {Promise<LoadTestResult>}
   */
  async run(overrides = {}) {
    await init();
    /** @type {{clients: number, nRequests?: number, runDuration?: number, runName: string}[]} */
    const levels = loadTestLevels(this.plan);
    const payload = await readPayloads(this.payload);
    const { onProgress, signal, ...rest } = { ...this.runOptions, ...overrides };
    if (onProgress !== undefined && typeof onProgress !== "function") throw new TypeError("onProgress must be a function");
    // Runtimes with a subrequest budget per invocation (workerd): the whole test must fit, so
    // a test that would be cut off at a later level fails before its first request.
    let sent = /** @type {number | undefined} */ (rest.subrequestsSent) ?? 0;
    const limit = subrequestLimitInForce(/** @type {number | undefined} */ (rest.subrequestLimit));
    const planned = levels.reduce((n, l) => n + (l.nRequests ?? 0) * l.clients, 0);
    if (limit !== undefined && sent + planned > limit) {
      throw new RangeError(`subrequestLimit: this load test would send ${planned} requests over ${levels.length} levels${sent ? ` after ${sent} already sent` : ""}, but only ${limit} subrequests are allowed per invocation here (Cloudflare Workers: 50 on the Free plan, 10,000 on Paid; set subrequestLimit to your plan's). Use fewer levels or requests, or run the levels in separate invocations.`);
    }
    /** @type {Map<number, Result>} */
    const results = new Map();
    for (const [i, level] of levels.entries()) {
      if (/** @type {AbortSignal|undefined} */ (signal)?.aborted) break;
      const result = await this.runner.run({
        ...rest,
        subrequestsSent: sent,
        signal,
        clients: level.clients,
        nRequests: level.nRequests,
        runDuration: level.runDuration,
        runName: level.runName,
        testName: this.testName, // groups the levels in a ResultStore
        payload,
        onProgress: onProgress && ((/** @type {any} */ p) => /** @type {Function} */ (onProgress)({
          level: i, levels: levels.length, clients: level.clients, levelsDone: i, run: p,
          fraction: (i + Math.min(1, p.expected ? p.completed / p.expected : p.elapsedS / (level.runDuration ?? Infinity))) / levels.length,
        })),
      });
      results.set(level.clients, result);
      sent += result.responses.length;
      if (result.info.interrupted) break;
    }
    return new LoadTestResult(this.testName, results);
  }
}

/** A load test's runs, keyed by number of clients. */
export class LoadTestResult {
  /** @param {string} testName @param {Map<number, Result>} results */
  constructor(testName, results) {
    /** @readonly */ this.testName = testName;
    /** @readonly */ this.results = new Map([...results].sort((a, b) => a[0] - b[0]));
  }

  /** Client counts, ascending. */
  get clients() { return [...this.results.keys()]; }

  /**
   * LLMeter's layout: `{testName}/{NNNNN-clients}/summary.json` etc. (Python
   * `LoadTestResult.load("{testName}")` reads it).
   * @returns {Record<string, string>}
   */
  toFiles() {
    /** @type {Record<string, string>} */
    let out = {};
    for (const [clients, r] of this.results) out = { ...out, ...prefixed(r.toFiles(), `${this.testName}/${levelFolder(clients)}`) };
    return out;
  }

  /**
   * Reads a load-test folder (ours or Python LLMeter's) given as `{path: text}`.
   * @param {Record<string, string>} files
   * @param {{testName?: string}} [options]
   */
  static async fromFiles(files, options = {}) {
    /** @type {Map<string, Record<string, string>>} */
    const folders = new Map();
    for (const [path, text] of Object.entries(files)) {
      const parts = path.split(/[\/\\]/).filter(Boolean);
      if (parts.length < 2) continue; // a plain file next to the level folders (LLMeter ignores these)
      const dir = parts.slice(0, -1).join("/");
      if (!folders.has(dir)) folders.set(dir, {});
      /** @type {Record<string, string>} */ (folders.get(dir))[parts[parts.length - 1]] = text;
    }
    /** @type {Map<number, Result>} */
    const results = new Map();
    const parents = new Set();
    for (const [dir, run] of folders) {
      if (!("summary.json" in run || "stats.json" in run || "responses.jsonl" in run)) continue;
      let r;
      try { r = await Result.fromFiles(run); } catch (e) { throw new Error(`${dir}: ${/** @type {Error} */ (e).message}`); }
      const clients = r.summary.clients;
      if (results.has(clients)) throw new Error(`${dir}: a second run with ${clients} clients`);
      results.set(clients, r);
      const parts = dir.split("/");
      if (parts.length >= 2) parents.add(parts[parts.length - 2]);
    }
    if (results.size === 0) throw new Error("no level folder (with summary.json, stats.json or responses.jsonl) found");
    const testName = options.testName ?? (parents.size === 1 ? [...parents][0] : "load-test");
    return new LoadTestResult(testName, results);
  }

  /**
   * Merges the shards of a load test run on many machines (each a `LoadTestResult` with the
   * same levels, e.g. every participant ran `sequenceOfClients: [1, 4, 16]` as its shard):
   * level by level, the shards' runs are merged exactly (`Result.merge`), so the merged level of
   * `c` clients per shard has `c × shards` clients.
   * @param {Iterable<LoadTestResult>} shards
   * @param {{ testName?: string, plan?: Record<string, unknown> }} [options]
   * @returns {Promise<LoadTestResult>}
   */
  static async merge(shards, options = {}) {
    const list = [...shards];
    if (list.length === 0 || !list.every((lt) => lt instanceof LoadTestResult)) throw new TypeError("LoadTestResult.merge: shards must be a non-empty array of LoadTestResult");
    /** @type {Map<number, Result[]>} */
    const levels = new Map();
    for (const lt of list) for (const [clients, r] of lt.results) levels.set(clients, [...(levels.get(clients) ?? []), r]);
    const testName = options.testName ?? list[0].testName;
    /** @type {Map<number, Result>} */
    const merged = new Map();
    for (const [clients, runs] of levels) {
      if (runs.length !== list.length) throw new Error(`LoadTestResult.merge: the level of ${clients} clients is in ${runs.length} of ${list.length} shards; every shard must run the same levels`);
      const r = await Result.merge(runs, { runName: levelFolder(clients * runs.length), plan: options.plan });
      merged.set(r.summary.clients, r);
    }
    return new LoadTestResult(testName, merged);
  }

  /** Plotly figures (`{data, layout}`) keyed by chart name. @returns {Promise<Record<string, import("./types.js").Figure>>} */
  async figures() { return (await report()).loadTestFigures(this); }

  /** One self-contained HTML page (stats tables, SVG charts; no network). @returns {Promise<string>} */
  async toHTML() { return (await report()).loadTestHTML(this); }
}

/**
 * @typedef {Omit<import("./index.js").RunOptions, "clients" | "nRequests" | "runDuration" | "runName" | "testName" | "payload" | "payloadAssignment" | "timeout" | "seed">} HeatmapRunOptions
 *   Run options passed to the heatmap's run: `onResponse`, `onProgress`, `store`, `signal`, … (see `RunOptions`).
 */

/**
 * @typedef {Object} LatencyHeatmapPlanOptions
 * @property {import("./index.js").Endpoint} endpoint
 * @property {string | URL | Blob} sourceText text to cut prompts from (a URL is fetched)
 * @property {number} [clients] default 4
 * @property {number[]} [inputLengths] default [10, 50, 200, 500]
 * @property {number[]} [outputLengths] default [128, 256, 512, 1024]
 * @property {number} [requestsPerCombination] default 1
 * @property {(prompt: string, maxTokens: number, extra: import("./types.js").Payload) => import("./types.js").Payload} [createPayload]
 *   default: the endpoint's `createPayload`
 * @property {import("./types.js").Payload} [createPayloadArgs] passed as `extra`
 * @property {import("./index.js").Tokenizer} [tokenizer] measures prompt lengths (default whitespace words)
 * @property {string} [testName]
 * @property {number} [seed] order of the requests (default 0)
 * @property {number} [timeout]
 */

/** @typedef {LatencyHeatmapPlanOptions & HeatmapRunOptions} LatencyHeatmapOptions */

/**
 * LLMeter's LatencyHeatmap, without its coverage bugs: every (input, output) cell gets exactly
 * `requestsPerCombination` requests, spread over the clients from one shared queue.
 */
export class LatencyHeatmap {
  /** @param {LatencyHeatmapOptions} options run options (`onResponse`, `store`, …) apply to the run */
  constructor(options) {
    if (!options || typeof options !== "object") throw new TypeError("LatencyHeatmap options must be an object");
    const { endpoint, tokenizer, timeout, sourceText, clients = 4, inputLengths, outputLengths, requestsPerCombination, createPayload, createPayloadArgs = {}, testName, seed, ...runOptions } = options;
    this.runner = new Runner({ endpoint, tokenizer, timeout });
    if (typeof sourceText !== "string" && !(sourceText instanceof URL) && !(typeof Blob !== "undefined" && sourceText instanceof Blob)) throw new TypeError("sourceText must be a string, a URL or a Blob");
    if (createPayload !== undefined && typeof createPayload !== "function") throw new TypeError("createPayload must be a function");
    if (!createPayloadArgs || typeof createPayloadArgs !== "object") throw new TypeError("createPayloadArgs must be an object");
    if (testName !== undefined && (typeof testName !== "string" || testName === "" || /[\/\\]/.test(testName))) throw new TypeError("testName must be a non-empty string without slashes");
    this.endpoint = endpoint;
    this.tokenizer = tokenizer;
    this.sourceText = sourceText;
    this.clients = clients;
    /** @internal */ this.planOptions = { inputLengths, outputLengths, requestsPerCombination, seed };
    this.createPayload = createPayload ?? ((/** @type {string} */ p, /** @type {number} */ m, /** @type {Record<string, unknown>} */ x) => endpoint.createPayload(p, m, x));
    this.createPayloadArgs = createPayloadArgs;
    this.testName = testName ?? defaultTestName();
    /** @internal */ this.runOptions = runOptions;
  }

  /** @internal @returns {Promise<string>} */
  async _source() {
    const s = this.sourceText;
    if (typeof s === "string") return s;
    if (s instanceof URL) {
      const r = await fetch(s);
      if (!r.ok) throw new Error(`sourceText: GET ${s} answered ${r.status}`);
      return r.text();
    }
    return s.text();
  }

  /**
   * The plan: one prompt per input length (with its measured token count) and the cell of
   * every request, in sending order.
   * @returns {Promise<HeatmapPlan>}
   */
  async plan() {
    await init();
    return JSON.parse(heatmapPlan({ ...this.planOptions, sourceText: await this._source(), tokenizer: this.tokenizer }));
  }

  /**
   * @param {HeatmapRunOptions} [overrides] run options for this call (e.g. `signal`, `onProgress`)
   * @returns {Promise<LatencyHeatmapResult>}
   */
  async run(overrides = {}) {
    const plan = await this.plan();
    const payload = plan.requests.map((r, k) => {
      const p = this.createPayload(plan.prompts[r.input].text, plan.output_lengths[r.output], this.createPayloadArgs);
      if (!p || typeof p !== "object" || Array.isArray(p)) throw new TypeError(`createPayload must return an object (request ${k})`);
      return p;
    });
    if (!Number.isInteger(this.clients) || this.clients < 1) throw new RangeError("clients must be a positive integer");
    const result = await this.runner.run(/** @type {import("./index.js").RunOptions} */ ({
      ...this.runOptions,
      ...overrides,
      clients: this.clients,
      payload,
      payloadAssignment: "eachOnce",
      runName: levelFolder(this.clients),
    }));
    return new LatencyHeatmapResult(this.testName, result, plan);
  }
}

/**
 * @typedef {Object} HeatmapPlan `heatmap.json`
 * @property {number[]} input_lengths
 * @property {number[]} output_lengths
 * @property {number} requests_per_combination
 * @property {{target_tokens: number, tokens: number, text: string}[]} prompts
 * @property {{input: number, output: number}[]} requests
 */

/** A heatmap run: the run's result plus its plan (which cell each payload belongs to). */
export class LatencyHeatmapResult {
  /** @param {string} testName @param {Result} result @param {HeatmapPlan} plan */
  constructor(testName, result, plan) {
    /** @readonly */ this.testName = testName;
    /** @readonly */ this.result = result;
    /** @readonly */ this.plan = plan;
  }

  /**
   * Responses per cell: `cells[i][j]` = responses of input length i and output length j.
   * @returns {import("./types.js").InvocationResponse[][][]}
   */
  cells() {
    const { input_lengths: ins, output_lengths: outs, requests } = this.plan;
    /** @type {import("./types.js").InvocationResponse[][][]} */
    const cells = ins.map(() => outs.map(() => []));
    const timings = this.result.timings;
    this.result.responses.forEach((r, i) => {
      const req = requests[timings[i]?.payload_index ?? -1];
      if (req) cells[req.input][req.output].push(r);
    });
    return cells;
  }

  /** `{testName}/{NNNNN-clients}/…` with the run's files plus `heatmap.json`. @returns {Record<string, string>} */
  toFiles() {
    const files = { ...this.result.toFiles(), "heatmap.json": JSON.stringify(this.plan, null, 4) };
    return prefixed(files, `${this.testName}/${levelFolder(this.result.summary.clients)}`);
  }

  /** @param {Record<string, string>} files what `toFiles()` wrote */
  static async fromFiles(files) {
    const planPath = Object.keys(files).find((p) => p.split(/[\/\\]/).pop() === "heatmap.json");
    if (!planPath) throw new Error("no heatmap.json among the files");
    const dir = planPath.slice(0, planPath.length - "heatmap.json".length);
    /** @type {Record<string, string>} */
    const run = {};
    for (const [p, text] of Object.entries(files)) if (p.startsWith(dir) && !p.slice(dir.length).includes("/") && p !== planPath) run[p.slice(dir.length)] = text;
    const parts = dir.split("/").filter(Boolean);
    const testName = parts.length >= 2 ? parts[parts.length - 2] : "heatmap";
    return new LatencyHeatmapResult(testName, await Result.fromFiles(run), JSON.parse(files[planPath]));
  }

  /** TTFT and TTLT heatmaps over measured input × output tokens, with the points. @returns {Promise<Record<string, import("./types.js").Figure>>} */
  async figures() { return (await report()).heatmapFigures(this); }

  /** @returns {Promise<string>} */
  async toHTML() { return (await report()).heatmapHTML(this); }
}

/**
 * Histograms and box plots of one run's TTFT, TTLT and TPOT (Plotly `{data, layout}`).
 * @param {Result} result
 * @returns {Promise<Record<string, import("./types.js").Figure>>}
 */
export async function runFigures(result) { return (await report()).runFigures(result); }

/**
 * One run as a self-contained HTML page.
 * @param {Result} result
 * @returns {Promise<string>}
 */
export async function runHTML(result) { return (await report()).runHTML(result); }
