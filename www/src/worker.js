// The engine runs here, in a dedicated Web Worker, so the page's rendering and charting never
// delay a chunk's timestamp. Messages in: {type:"start", endpoint, run, timeout} and {type:"stop"}.
// Messages out: progress, done (files + JSON view) and error.
import { init, OpenAIEndpoint, Runner } from "./pkg/index.js";

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
    const runner = new Runner({ endpoint: new OpenAIEndpoint(msg.endpoint), timeout: msg.timeout });
    const result = await runner.run({
      ...msg.run,
      signal: controller.signal,
      progressIntervalMs: 250,
      onProgress: (p) => self.postMessage({ type: "progress", progress: p }),
    });
    // Serialising the result happens after the run, never while requests are in flight.
    self.postMessage({ type: "done", files: result.toFiles(), view: { stats: result.stats, info: result.info, summary: result.summary } });
  } catch (e) {
    self.postMessage({ type: "error", message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  } finally {
    controller = null;
  }
};

self.postMessage({ type: "ready" });
