// @ts-check
/**
 * LLMeter's experiments: `LoadTest` (one run per concurrency level) and `LatencyHeatmap`
 * (latency over input × output token lengths). The core plans levels, prompts and the request
 * list; every run goes through `Runner.run`, so run options such as `onResponse` or `store`
 * work unchanged. Charts and the HTML report live in `report.js`, loaded on first use.
 */
import { init, Runner, Result } from "./index.js";
import { core, requireCore } from "./core.js";
import { checkTestName as coreCheckTestName, loadTestLevels, heatmapPlan, subrequestLimitInForce, sweepRates, defaultRunName, levelFolderName, heatmapCellOf } from "./llmeter_wasm.js";
import { loadTestFolders } from "./result-loader.js";
import { pathFolder, pathKind, listFolder, joinPath, baseName } from "./output.js";

/** LLMeter's default test name, `YYYYMMDD-HHMM` (UTC), from the core. */
function defaultTestName() {
  requireCore();
  return defaultRunName(Date.now());
}

/**
 * A test name: the option, checked by the core's folder-name rule now if the engine is loaded,
 * else when the experiment runs (`checkTestName` again there). @param {unknown} testName
 */
function checkTestName(testName) {
  if (testName === undefined) return undefined;
  if (typeof testName !== "string") throw new TypeError("testName must be a string");
  if (core.initialized()) coreCheckTestName(testName);
  return testName;
}

/**
 * Where a level's run writes (exactly): `{outputPath}/{testName}/{level}` (a path), or the same
 * folders inside a directory handle; nothing when neither is given.
 * @param {{ outputPath?: string, outputDirectory?: any }} out @param {string} testName @param {string} level
 * @returns {Promise<{ outputPath?: string, outputDirectory?: any }>}
 */
async function levelOutput(out, testName, level) {
  if (typeof out.outputPath === "string") return { outputPath: joinPath(joinPath(out.outputPath, testName), level) };
  if (out.outputDirectory) {
    const test = await out.outputDirectory.getDirectoryHandle(testName, { create: true });
    return { outputDirectory: await test.getDirectoryHandle(level, { create: true }) };
  }
  return {};
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
 * @property {number} levels number of levels (a sweep: known once its first two levels ran)
 * @property {number} [clients] clients of the current level (closed loop)
 * @property {number} [rate] requests per second of the current level (open loop)
 * @property {number} levelsDone levels finished before this one
 * @property {number} fraction share of the whole test done, 0…1 (levels count equally; time-bound levels by elapsed time)
 * @property {import("./types.js").Progress} run the current level's progress
 */

/**
 * @typedef {Omit<import("./index.js").RunOptions, "clients" | "nRequests" | "runDuration" | "runName" | "testName" | "payload" | "payloadAssignment" | "onProgress" | "timeout" | "rate" | "outputPath" | "outputDirectory">} LevelRunOptions
 *   Run options passed to every level's run: `onResponse`, `store`, `signal`, `seed`,
 *   `subrequestLimit`, `callbacks`, `warmup`, `slo`, `arrival`, `maxConcurrency`, … (see `RunOptions`).
 */

/**
 * @typedef {Object} SweepOptions GuideLLM's sweep: a synchronous level (one client), a
 * throughput level (`throughputClients` clients), then `size − 2` rates evenly spaced from the
 * synchronous level's successful rate to the throughput level's.
 * @property {number} [size] levels in all, synchronous and throughput included (default 10)
 * @property {number} [throughputClients] clients of the throughput level (default 32)
 */

/**
 * @typedef {Object} LoadTestPlanOptions
 * @property {import("./index.js").Endpoint} endpoint
 * @property {import("./types.js").Payload | import("./types.js").Payload[] | string | Blob} payload object, array, JSONL text or Blob
 * @property {number[]} [sequenceOfClients] concurrency levels (closed loops), run in this order
 * @property {number[]} [sequenceOfRates] request rates (open loops, requests per second), run
 *   in this order; each level is saved in a folder named by its rate (`00002.500-rps`)
 * @property {SweepOptions | true} [sweep] GuideLLM's sweep instead of a sequence
 * @property {number} [minRequestsPerClient] default 1
 * @property {number} [minRequestsPerRun] default 10 (LLMeter's rule: each level sends at least
 *   this many; a rate level sends exactly this many)
 * @property {number} [runDuration] seconds per level instead of the request counts
 * @property {string} [testName] default `YYYYMMDD-HHMM` (UTC)
 * @property {import("./index.js").Tokenizer} [tokenizer]
 * @property {number} [timeout] per-request seconds
 * @property {AbortSignal} [signal] stops the current level (its partial result is kept) and the test
 * @property {(p: LoadTestProgress) => void} [onProgress]
 * @property {string} [outputPath] Node and Deno: levels are written as they run into
 *   `{outputPath}/{testName}/{level}/` (LLMeter's intended layout)
 * @property {any} [outputDirectory] Browsers: the same inside a File System Access directory handle
 */

/** @typedef {LoadTestPlanOptions & LevelRunOptions} LoadTestOptions */
/** @typedef {LevelRunOptions & { onProgress?: (p: LoadTestProgress) => void }} LoadTestRunOptions */

/** LLMeter's LoadTest: one run per number of clients — or per request rate, or a GuideLLM sweep. */
export class LoadTest {
  /** @param {LoadTestOptions} options run options (`onResponse`, `store`, `callbacks`, …) apply to every level */
  constructor(options) {
    if (!options || typeof options !== "object") throw new TypeError("LoadTest options must be an object");
    const { endpoint, tokenizer, timeout, payload, sequenceOfClients, sequenceOfRates, sweep, minRequestsPerClient, minRequestsPerRun, runDuration, testName, outputPath, outputDirectory, ...runOptions } = options;
    this.runner = new Runner({ endpoint, tokenizer, timeout });
    if (payload === undefined) throw new TypeError("payload is required");
    if (sweep !== undefined && (sequenceOfClients !== undefined || sequenceOfRates !== undefined)) throw new TypeError("give sweep or a sequence (sequenceOfClients, sequenceOfRates), not both");
    if (sweep !== undefined && sweep !== true && (!sweep || typeof sweep !== "object")) throw new TypeError("sweep must be true or { size, throughputClients }");
    if (outputPath !== undefined && typeof outputPath !== "string") throw new TypeError("outputPath must be a string (a folder path)");
    /** @internal */ this.payload = payload;
    /** @internal */ this.plan = { sequenceOfClients, sequenceOfRates, minRequestsPerClient, minRequestsPerRun, runDuration };
    /** @internal */ this.sweep = sweep === true ? {} : sweep;
    /** @internal */ this.output = { outputPath, outputDirectory };
    /** @internal */ this._testName = checkTestName(testName);
    if (core.initialized()) this._testName ??= defaultTestName();
    /** @internal */ this.runOptions = runOptions;
  }

  /** The test's name (its folder): the option, or `YYYYMMDD-HHMM` (UTC) when the test was made (or first run). */
  get testName() {
    this._testName ??= defaultTestName();
    return this._testName;
  }

  /**
   * Runs every level in order. Extra options override the constructor's for this call.
   * @param {LoadTestRunOptions} [overrides]
   * @returns {Promise<LoadTestResult>}
   */
  async run(overrides = {}) {
    await init();
    const testName = this.testName;
    coreCheckTestName(testName); // if the engine was not loaded when it was given
    const sweep = this.sweep;
    const { onProgress, signal, ...rest } = { ...this.runOptions, ...overrides };
    if (onProgress !== undefined && typeof onProgress !== "function") throw new TypeError("onProgress must be a function");
    const common = { minRequestsPerClient: this.plan.minRequestsPerClient, minRequestsPerRun: this.plan.minRequestsPerRun, runDuration: this.plan.runDuration };
    /** @typedef {{clients?: number, rate?: number, nRequests?: number, runDuration?: number, runName: string}} Level */
    /** @type {{ levels: Level[], plannedRequests: number }} */
    let planned;
    let sweepSize = 0;
    if (sweep) {
      sweepSize = sweep.size ?? 10;
      const throughputClients = sweep.throughputClients ?? 32;
      if (!Number.isInteger(sweepSize) || sweepSize < 2) throw new RangeError("sweep.size must be an integer of at least 2 (synchronous and throughput levels included)");
      planned = loadTestLevels({ ...common, sequenceOfClients: [1, throughputClients] });
      if (sweepSize > 2) {
        // The rates are known after the first two levels; their count and requests are not.
        const rates = loadTestLevels({ ...common, sequenceOfRates: Array.from({ length: sweepSize - 2 }, (_, i) => i + 1) });
        planned = { levels: planned.levels, plannedRequests: planned.plannedRequests + rates.plannedRequests };
      }
    } else {
      planned = loadTestLevels({ ...common, sequenceOfClients: this.plan.sequenceOfClients, sequenceOfRates: this.plan.sequenceOfRates });
    }
    const payload = await readPayloads(this.payload);
    // Runtimes with a subrequest budget per invocation (workerd): the whole test must fit, so
    // a test that would be cut off at a later level fails before its first request.
    let sent = /** @type {number | undefined} */ (rest.subrequestsSent) ?? 0;
    const limit = subrequestLimitInForce(/** @type {number | undefined} */ (rest.subrequestLimit));
    const levelCount = sweep ? sweepSize : planned.levels.length;
    if (limit !== undefined && sent + planned.plannedRequests > limit) {
      throw new RangeError(`subrequestLimit: this load test would send ${planned.plannedRequests} requests over ${levelCount} levels${sent ? ` after ${sent} already sent` : ""}, but only ${limit} subrequests are allowed per invocation here (Cloudflare Workers: 50 on the Free plan, 10,000 on Paid; set subrequestLimit to your plan's). Use fewer levels or requests, or run the levels in separate invocations.`);
    }
    /** @type {Map<number, Result>} */
    const results = new Map();
    /** @type {Map<number, Result>} */
    const rates = new Map();
    const levels = [...planned.levels];
    let total = levelCount;
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i];
      if (/** @type {AbortSignal|undefined} */ (signal)?.aborted) break;
      const shape = level.rate !== undefined ? { rate: level.rate } : { clients: level.clients };
      // An open loop's options (arrival, maxConcurrency) shape the rate levels only.
      const { arrival, maxConcurrency, ...closedRest } = rest;
      const result = await this.runner.run({
        ...(level.rate !== undefined ? rest : closedRest),
        ...shape,
        ...(await levelOutput(this.output, testName, level.runName)),
        subrequestsSent: sent,
        signal,
        nRequests: level.nRequests,
        runDuration: level.runDuration,
        runName: level.runName,
        testName, // groups the levels in a ResultStore
        payload,
        onProgress: onProgress && ((/** @type {any} */ p) => /** @type {Function} */ (onProgress)({
          level: i, levels: total, ...shape, levelsDone: i, run: p,
          fraction: (i + Math.min(1, p.expected ? p.completed / p.expected : p.elapsedS / (level.runDuration ?? Infinity))) / total,
        })),
      });
      if (level.rate !== undefined) rates.set(level.rate, result);
      else results.set(/** @type {number} */ (level.clients), result);
      sent += result.responses.length + result.excluded.length;
      if (result.info.interrupted) break;
      // A sweep's rates come from its synchronous and throughput levels (GuideLLM's rule, in the core).
      if (sweep && i === 1 && sweepSize > 2) {
        const [sync, throughput] = [results.get(/** @type {number} */ (levels[0].clients)), result];
        const derived = Array.from(sweepRates(/** @type {Result} */ (sync)._h, throughput._h, sweepSize));
        if (derived.length) levels.push(...loadTestLevels({ ...common, sequenceOfRates: derived }).levels);
        total = levels.length;
      }
    }
    return new LoadTestResult(testName, results, rates);
  }
}

/** A load test's runs: closed-loop levels keyed by number of clients, open-loop levels by rate. */
export class LoadTestResult {
  /** @param {string} testName @param {Map<number, Result>} results @param {Map<number, Result>} [rates] */
  constructor(testName, results, rates = new Map()) {
    /** @readonly */ this.testName = testName;
    /** Closed-loop levels by clients, ascending. @readonly */
    this.results = new Map([...results].sort((a, b) => a[0] - b[0]));
    /** Open-loop levels by requests per second, ascending. @readonly */
    this.rates = new Map([...rates].sort((a, b) => a[0] - b[0]));
  }

  /** Client counts, ascending. */
  get clients() { return [...this.results.keys()]; }

  /** Offered rates (requests per second), ascending. */
  get offeredRates() { return [...this.rates.keys()]; }

  /**
   * LLMeter's layout: `{testName}/{NNNNN-clients}/summary.json` etc. (Python
   * `LoadTestResult.load("{testName}")` reads it); rate levels in `{testName}/{NNNNN.NNN-rps}/`.
   * @returns {Record<string, string>}
   */
  toFiles() {
    requireCore();
    /** @type {Record<string, string>} */
    let out = {};
    for (const [clients, r] of this.results) out = { ...out, ...prefixed(r.toFiles(), `${this.testName}/${levelFolderName(clients, undefined)}`) };
    for (const [rate, r] of this.rates) out = { ...out, ...prefixed(r.toFiles(), `${this.testName}/${levelFolderName(undefined, rate)}`) };
    return out;
  }

  /** @internal @param {string} testName @param {[string, Result][]} loaded */
  static _of(testName, loaded) {
    /** @type {Map<number, Result>} */ const results = new Map();
    /** @type {Map<number, Result>} */ const rates = new Map();
    for (const [folder, r] of loaded) {
      const load = r.info.load;
      const rate = load?.model === "open" ? load.rate : undefined;
      const [map, key, what] = rate !== undefined ? [rates, rate, `${rate} requests/s`] : [results, r.summary.clients, `${r.summary.clients} clients`];
      if (map.has(key)) throw new Error(`${folder}: a second run with ${what}`);
      map.set(key, r);
    }
    return new LoadTestResult(testName, results, rates);
  }

  /**
   * Reads a load-test folder (ours or Python LLMeter's) given as `{path: text}`, by LLMeter's
   * rules: every folder is a level (an error names one without results), plain files beside
   * them are ignored; closed-loop levels are keyed by clients, rate levels by rate.
   * @param {Record<string, string>} files
   * @param {{ testName?: string, loadResponses?: boolean }} [options] `loadResponses: false`:
   *   only summaries and stats are read
   */
  static async fromFiles(files, options = {}) {
    const { testName, loadResponses = true } = options ?? {};
    await init();
    const { folders, testName: found } = await loadTestFolders(Object.keys(files));
    /** @type {[string, Result][]} */
    const loaded = [];
    for (const folder of folders) {
      /** @type {Record<string, string>} */
      const run = {};
      for (const [path, text] of Object.entries(files)) {
        const rest = path.replace(/\\/g, "/").replace(/^\/+/, "");
        if (rest.startsWith(`${folder}/`) && !rest.slice(folder.length + 1).includes("/")) run[rest.slice(folder.length + 1)] = text;
      }
      try { loaded.push([folder, await Result.fromFiles(run, { loadResponses })]); } catch (e) { throw new Error(`${folder}: ${/** @type {Error} */ (e).message}`); }
    }
    return LoadTestResult._of(testName ?? found ?? "load-test", loaded);
  }

  /**
   * Node and Deno: loads a load-test folder from disk, LLMeter's `LoadTestResult.load(path,
   * test_name, load_responses)`: every sub-folder is a level (one without results is an error),
   * plain files are ignored; the test name defaults to the folder's name.
   * @param {string} path
   * @param {{ testName?: string, loadResponses?: boolean }} [options]
   * @returns {Promise<LoadTestResult>}
   */
  static async load(path, options = {}) {
    const { testName, loadResponses = true } = options ?? {};
    if (typeof path !== "string" || path === "") throw new TypeError("path must be a folder path");
    const kind = await pathKind(path);
    if (kind === null) throw new Error(`LoadTestResult.load: no such folder: ${path}`);
    if (kind !== "dir") throw new Error(`LoadTestResult.load: ${path} is a file, not a load-test folder`);
    const subs = (await listFolder(path)).filter((e) => e.dir);
    if (!subs.length) throw new Error(`LoadTestResult.load: no run folders in ${path}`);
    /** @type {[string, Result][]} */
    const loaded = [];
    for (const sub of subs) loaded.push([sub.name, await Result.load(joinPath(path, sub.name), { loadResponses })]);
    return LoadTestResult._of(testName ?? baseName(path), loaded);
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
      const r = await Result.merge(runs, { runName: levelFolderName(clients * runs.length, undefined), plan: options.plan });
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
    const { endpoint, tokenizer, timeout, sourceText, clients = 4, inputLengths, outputLengths, requestsPerCombination, createPayload, createPayloadArgs = {}, testName, seed, outputPath, outputDirectory, ...runOptions } = options;
    this.runner = new Runner({ endpoint, tokenizer, timeout });
    if (typeof sourceText !== "string" && !(sourceText instanceof URL) && !(typeof Blob !== "undefined" && sourceText instanceof Blob)) throw new TypeError("sourceText must be a string, a URL or a Blob");
    if (createPayload !== undefined && typeof createPayload !== "function") throw new TypeError("createPayload must be a function");
    if (!createPayloadArgs || typeof createPayloadArgs !== "object") throw new TypeError("createPayloadArgs must be an object");
    if (outputPath !== undefined && typeof outputPath !== "string") throw new TypeError("outputPath must be a string (a folder path)");
    this.endpoint = endpoint;
    this.tokenizer = tokenizer;
    this.sourceText = sourceText;
    this.clients = clients;
    /** @internal */ this.planOptions = { inputLengths, outputLengths, requestsPerCombination, seed };
    this.createPayload = createPayload ?? ((/** @type {string} */ p, /** @type {number} */ m, /** @type {Record<string, unknown>} */ x) => endpoint.createPayload(p, m, x));
    this.createPayloadArgs = createPayloadArgs;
    /** @internal */ this._testName = checkTestName(testName);
    if (core.initialized()) this._testName ??= defaultTestName();
    /** @internal */ this.output = { outputPath, outputDirectory };
    /** @internal */ this.runOptions = runOptions;
  }

  /** The test's name (its folder): the option, or `YYYYMMDD-HHMM` (UTC). */
  get testName() {
    this._testName ??= defaultTestName();
    return this._testName;
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
    coreCheckTestName(this.testName); // if the engine was not loaded when it was given
    const payload = plan.requests.map((r, k) => {
      const p = this.createPayload(plan.prompts[r.input].text, plan.output_lengths[r.output], this.createPayloadArgs);
      if (typeof p?.then === "function") {
        p.then(undefined, () => {}); // reported here: never an unhandled rejection
        throw new TypeError(`createPayload must be synchronous (it returned a promise; request ${k})`);
      }
      if (!p || typeof p !== "object" || Array.isArray(p)) throw new TypeError(`createPayload must return an object (request ${k})`);
      return p;
    });
    if (!Number.isInteger(this.clients) || this.clients < 1) throw new RangeError("clients must be a positive integer");
    const runName = levelFolderName(this.clients, undefined);
    const output = await levelOutput(this.output, this.testName, runName);
    const result = await this.runner.run(/** @type {import("./index.js").RunOptions} */ ({
      ...this.runOptions,
      ...overrides,
      ...output,
      clients: this.clients,
      payload,
      payloadAssignment: "eachOnce",
      runName,
    }));
    const planText = JSON.stringify(plan, null, 4);
    if (output.outputPath) await (await pathFolder(output.outputPath)).write("heatmap.json", planText);
    else if (output.outputDirectory) {
      const w = await (await output.outputDirectory.getFileHandle("heatmap.json", { create: true })).createWritable();
      await w.write(planText);
      await w.close();
    }
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
    requireCore();
    const { input_lengths: ins, output_lengths: outs, requests } = this.plan;
    /** @type {import("./types.js").InvocationResponse[][][]} */
    const cells = ins.map(() => outs.map(() => []));
    // Which cell each response belongs to is the core's rule (its payload index → the plan).
    const payloadIndexes = Int32Array.from(this.result.timings, (t) => t.payload_index ?? -1);
    const of = heatmapCellOf(Uint32Array.from(requests.flatMap((r) => [r.input, r.output])), ins.length, outs.length, payloadIndexes);
    this.result.responses.forEach((r, i) => { if (of[i] >= 0) cells[Math.floor(of[i] / outs.length)][of[i] % outs.length].push(r); });
    return cells;
  }

  /** `{testName}/{NNNNN-clients}/…` with the run's files plus `heatmap.json`. @returns {Record<string, string>} */
  toFiles() {
    requireCore();
    const files = { ...this.result.toFiles(), "heatmap.json": JSON.stringify(this.plan, null, 4) };
    return prefixed(files, `${this.testName}/${levelFolderName(this.result.summary.clients, undefined)}`);
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
