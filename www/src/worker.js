// The engine runs here, in a dedicated Web Worker, so the page's rendering and charting never
// delay a chunk's timestamp. In: {type:"start", endpoint, run, levels, load, extras, timeout}
// (or a heatmap's {type:"start", experiment:"heatmap", …}) and {type:"stop"}. `load.kind` is
// `clients` (levels: the clients sequence), `rate` (levels: requests per second, an open loop)
// or `sweep` (GuideLLM's); one level is a run, more are a LoadTest (one run per level).
// `extras`: warm-up, SLOs (seconds) and prices for a cost model.
// Out: ready (loaded), level (a run starts), progress, warning, done (the run's files; `last`
// after the final level), error (the run could not start or failed), crash (anything uncaught:
// the page replaces this worker).
import * as pkg from "./pkg/index.js";
import { ResultStore } from "./pkg/store.js";
import { familyOf } from "./families.js";

const { init, Runner, LoadTest, CostModel, InputTokens, OutputTokens, EndpointTime } = pkg;

/** The engine modules besides the core one, loaded on first use (families.js `engine`). */
const ENGINES = { aws: async () => (await import("./pkg/aws.js")).initAws() };

/**
 * The endpoint a start message describes: its family's class (families.js) with its options,
 * after loading the family's engine module when it has its own (the AWS families: only then is
 * that module downloaded).
 */
async function endpointOf(endpoint) {
  const family = familyOf(endpoint.family);
  if (family.engine) await ENGINES[family.engine]();
  return new pkg[family.className](endpoint.options);
}

/** @param {unknown} e */
const describe = (e) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));
// A wasm trap or any error nobody caught: the engine's state is unknown, so the page restarts us.
self.addEventListener("error", (e) => self.postMessage({ type: "crash", message: e.error ? describe(e.error) : e.message }));
self.addEventListener("unhandledrejection", (e) => self.postMessage({ type: "crash", message: describe(e.reason) }));

// The page's history (history.js) reads the same database.
const STORE_NAME = "llmeter-results";
/** @type {Promise<ResultStore | null> | null} */
let opened = null;
/** The result store, or null when this browser cannot store (the run goes on, unsaved). */
const openStore = () => (opened ??= ResultStore.open({ name: STORE_NAME }).catch((e) => {
  opened = null;
  self.postMessage({ type: "warning", message: `Runs are not being saved in this browser: ${e?.message ?? e}` });
  return null;
}));

/** @type {AbortController | null} */
let controller = null;

/**
 * Run options from the form's extras: warm-up, SLOs, and a CostModel from the prices ($ per
 * million tokens, $ per hour).
 * @param {any} extras
 */
function extraOptions(extras = {}) {
  const options = {};
  if (extras.warmup) options.warmup = extras.warmup;
  if (extras.slo) options.slo = extras.slo;
  const p = extras.prices;
  if (p) {
    const requestDims = [];
    if (p.input !== undefined) requestDims.push(new InputTokens(p.input));
    if (p.output !== undefined) requestDims.push(new OutputTokens(p.output));
    options.callbacks = [new CostModel({ requestDims, runDims: p.hour !== undefined ? { endpoint: new EndpointTime(p.hour) } : {} })];
  }
  return options;
}

self.onmessage = async (event) => {
  const msg = event.data;
  if (msg.type === "stop") {
    controller?.abort();
    return;
  }
  if (msg.type !== "start") return;
  if (controller) return self.postMessage({ type: "error", message: "A run is already in progress." });
  controller = new AbortController();
  try {
    await init();
    const store = await openStore();
    const saving = store ? { store } : {};
    if (msg.experiment === "heatmap") return await runHeatmap(msg, controller.signal, saving);
    const endpoint = await endpointOf(msg.endpoint);
    const load = msg.load ?? { kind: "clients" };
    const extras = extraOptions(msg.extras);
    const open = load.kind === "clients" ? {} : { arrival: load.arrival, maxConcurrency: load.maxConcurrency };
    // Serialising a result happens after its run, never while requests are in flight. The
    // warnings travel apart: the store adds its own (e.g. storage full) to the result's.
    const post = (result, level, last, testName) => self.postMessage({ type: "done", files: result.toFiles(), warnings: result.info.warnings, ...level, testName, last });
    if (load.kind !== "sweep" && msg.levels.length === 1) {
      const level = load.kind === "rate" ? { rate: msg.levels[0] } : { clients: msg.levels[0] };
      self.postMessage({ type: "level", index: 0, ...level });
      const runner = new Runner({ endpoint, timeout: msg.timeout });
      const result = await runner.run({ ...msg.run, ...extras, ...open, ...saving, ...level, signal: controller.signal, progressIntervalMs: 250, onProgress: (p) => self.postMessage({ type: "progress", progress: p }) });
      return post(result, level, true);
    }
    // A load test: the package's LoadTest, one run per level, saved as the test's group.
    let level = -1;
    const test = new LoadTest({
      endpoint,
      timeout: msg.timeout,
      payload: msg.run.payload,
      ...(load.kind === "clients" ? { sequenceOfClients: msg.levels } : load.kind === "rate" ? { sequenceOfRates: msg.levels } : { sweep: load.sweep }),
      // Exactly the requests asked for (LLMeter's minimum per level is not applied): per
      // client for client levels, in all for rate levels.
      minRequestsPerClient: msg.run.nRequests ?? 1,
      minRequestsPerRun: load.kind === "clients" ? 1 : msg.run.nRequests ?? 1,
      runDuration: msg.run.runDuration,
      testName: msg.run.runName,
      ...extras,
      ...open,
      ...saving,
    });
    const result = await test.run({
      signal: controller.signal,
      progressIntervalMs: 250,
      onProgress: (p) => {
        if (p.level !== level) {
          level = p.level;
          self.postMessage({ type: "level", index: p.level, levels: p.levels, clients: p.clients, rate: p.rate, testName: test.testName });
        }
        self.postMessage({ type: "progress", progress: p.run });
      },
    });
    const runs = [...[...result.results].map(([clients, r]) => [{ clients }, r]), ...[...result.rates].map(([rate, r]) => [{ rate }, r])];
    if (!runs.length) return self.postMessage({ type: "error", message: "The load test stopped before any level ran." });
    runs.forEach(([lvl, r], i) => post(r, lvl, i === runs.length - 1, test.testName));
  } catch (e) {
    self.postMessage({ type: "error", message: describe(e) });
  } finally {
    controller = null;
  }
};

/** LatencyHeatmap (from the package's experiments, when built with them): one run over all cells. */
async function runHeatmap(msg, signal, saving) {
  const pkg = await import("./pkg/index.js");
  const { Tokenizer } = await import("./pkg/tokenizer.js");
  const h = msg.heatmap;
  let tokenizer;
  if (msg.tokenizer?.kind === "url") tokenizer = await Tokenizer.fromUrl(msg.tokenizer.url);
  else if (msg.tokenizer?.kind === "json") tokenizer = await Tokenizer.fromJSON(msg.tokenizer.json, msg.tokenizer.name);
  const endpoint = await endpointOf(msg.endpoint);
  const heatmap = new pkg.LatencyHeatmap({ endpoint, sourceText: h.sourceText, clients: h.clients, inputLengths: h.inputLengths, outputLengths: h.outputLengths, requestsPerCombination: h.requestsPerCombination, tokenizer, testName: h.testName, timeout: msg.timeout });
  self.postMessage({ type: "level", index: 0, clients: h.clients, testName: heatmap.testName });
  const result = await heatmap.run({ ...saving, testName: heatmap.testName, signal, progressIntervalMs: 250, onProgress: (p) => self.postMessage({ type: "progress", progress: p }) });
  const r = result.result;
  self.postMessage({ type: "done", files: r.toFiles(), warnings: r.info.warnings, plan: result.plan, clients: h.clients, testName: heatmap.testName, last: true });
}

self.postMessage({ type: "ready" });
