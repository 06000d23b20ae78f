// The engine runs here, in a dedicated Web Worker, so the page's rendering and charting never
// delay a chunk's timestamp. In: {type:"start", endpoint, run, levels, timeout} and {type:"stop"}.
// `levels` is the clients sequence: one run per level (a load test), or a single level.
// Out: level (a run starts), progress, done (files + JSON view; `last` after the final level), error.
import { init, OpenAIEndpoint, Runner } from "./pkg/index.js";
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
    const runner = new Runner({ endpoint: new OpenAIEndpoint(msg.endpoint), timeout: msg.timeout });
    const levels = msg.levels;
    for (let i = 0; i < levels.length; i++) {
      const clients = levels[i];
      // LLMeter's load-test folder names: {testName}/{clients:05}-clients.
      const folder = `${String(clients).padStart(5, "0")}-clients`;
      const group = levels.length > 1 ? msg.run.runName : null;
      self.postMessage({ type: "level", index: i, clients, runName: group ? `${group}/${folder}` : msg.run.runName });
      const result = await runner.run({
        ...msg.run,
        clients,
        runName: group ? folder : msg.run.runName,
        ...(store ? { store, ...(group ? { testName: group } : {}) } : {}),
        signal: controller.signal,
        progressIntervalMs: 250,
        onProgress: (p) => self.postMessage({ type: "progress", progress: p }),
      });
      // Serialising the result happens after the run, never while requests are in flight.
      const stopped = controller.signal.aborted;
      self.postMessage({ type: "done", files: result.toFiles(), view: { stats: result.stats, info: result.info, summary: result.summary }, last: stopped || i === levels.length - 1 });
      if (stopped) break;
    }
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
