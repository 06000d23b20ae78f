// The engine runs here, in a dedicated Web Worker, so the page's rendering and charting never
// delay a chunk's timestamp. In: {type:"start", endpoint, run, levels, timeout} and {type:"stop"}.
// `levels` is the clients sequence: one level is a run, more are a LoadTest (one run per level).
// Out: level (a run starts), progress, done (files + JSON view; `last` after the final level), error.
import { init, OpenAIEndpoint, Runner, LoadTest } from "./pkg/index.js";
import { ResultStore } from "./pkg/store.js";

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
    if (msg.experiment === "heatmap") return await runHeatmap(msg, controller.signal, store);
    const endpoint = new OpenAIEndpoint(msg.endpoint);
    const saving = store ? { store } : {};
    const post = (result, runName, clients, last) =>
      // Serialising the result happens after the run, never while requests are in flight.
      self.postMessage({ type: "done", files: result.toFiles(), view: { stats: result.stats, info: result.info, summary: result.summary }, runName, clients, last });
    if (msg.levels.length === 1) {
      const clients = msg.levels[0];
      self.postMessage({ type: "level", index: 0, clients, runName: msg.run.runName });
      const runner = new Runner({ endpoint, timeout: msg.timeout });
      const result = await runner.run({ ...msg.run, ...saving, clients, signal: controller.signal, progressIntervalMs: 250, onProgress: (p) => self.postMessage({ type: "progress", progress: p }) });
      return post(result, msg.run.runName, clients, true);
    }
    // A load test: the package's LoadTest, one run per level, saved as the test's group.
    const testName = msg.run.runName;
    const levelName = (clients) => `${testName}/${String(clients).padStart(5, "0")}-clients`;
    let level = -1;
    const test = new LoadTest({
      endpoint,
      timeout: msg.timeout,
      payload: msg.run.payload,
      sequenceOfClients: msg.levels,
      // Exactly the requests per client asked for (LLMeter's minimum per level is not applied).
      minRequestsPerClient: msg.run.nRequests ?? 1,
      minRequestsPerRun: 1,
      runDuration: msg.run.runDuration,
      testName,
      ...saving,
    });
    const result = await test.run({
      signal: controller.signal,
      progressIntervalMs: 250,
      onProgress: (p) => {
        if (p.level !== level) {
          level = p.level;
          self.postMessage({ type: "level", index: p.level, clients: p.clients, runName: levelName(p.clients) });
        }
        self.postMessage({ type: "progress", progress: p.run });
      },
    });
    const runs = [...result.results];
    if (!runs.length) return self.postMessage({ type: "error", message: "The load test stopped before any level ran." });
    runs.forEach(([clients, r], i) => post(r, levelName(clients), clients, i === runs.length - 1));
  } catch (e) {
    self.postMessage({ type: "error", message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  } finally {
    controller = null;
  }
};

/** LatencyHeatmap (from the package's experiments, when built with them): one run over all cells. */
async function runHeatmap(msg, signal, store) {
  const pkg = await import("./pkg/index.js");
  const { Tokenizer } = await import("./pkg/tokenizer.js");
  const h = msg.heatmap;
  let tokenizer;
  if (msg.tokenizer?.kind === "url") tokenizer = await Tokenizer.fromUrl(msg.tokenizer.url);
  else if (msg.tokenizer?.kind === "json") tokenizer = await Tokenizer.fromJSON(msg.tokenizer.json, msg.tokenizer.name);
  const endpoint = new OpenAIEndpoint(msg.endpoint);
  const heatmap = new pkg.LatencyHeatmap({ endpoint, sourceText: h.sourceText, clients: h.clients, inputLengths: h.inputLengths, outputLengths: h.outputLengths, requestsPerCombination: h.requestsPerCombination, tokenizer, testName: h.testName, timeout: msg.timeout });
  self.postMessage({ type: "level", index: 0, clients: h.clients, runName: `${h.testName}/${String(h.clients).padStart(5, "0")}-clients` });
  const saving = store ? { store, testName: h.testName } : {};
  const result = await heatmap.run({ ...saving, signal, progressIntervalMs: 250, onProgress: (p) => self.postMessage({ type: "progress", progress: p }) });
  const r = result.result;
  self.postMessage({ type: "done", files: { ...r.toFiles(), "heatmap.json": JSON.stringify(result.plan, null, 4) }, view: { stats: r.stats, info: r.info, summary: r.summary }, last: true });
}
