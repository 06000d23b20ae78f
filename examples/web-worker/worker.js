// The engine in a dedicated Web Worker, so the page's rendering never delays a timestamp.
// In your project: import { OpenAIEndpoint, Runner } from "llmeter-wasm"; (import maps do not
// reach workers in every browser, so this example uses the path.)
import { init, OpenAIEndpoint, Runner, LoadTest, LatencyHeatmap } from "../../pkg/index.js";

// Workers: load the wasm once (fetched from next to the package's index.js). Not awaited at the
// top level: a message posted while the module is still evaluating would find no handler.
const ready = init();

self.onmessage = async ({ data }) => {
  try {
    await ready;
    const endpoint = new OpenAIEndpoint({ baseUrl: data.baseUrl, model: data.model, apiKey: data.apiKey });
    // Warm-up, not measured: connection setup, CORS preflight, the runtime's lazy fetch setup and JIT.
    await new Runner({ endpoint }).run({ clients: data.clients, nRequests: 2, payload: endpoint.createPayload("warm-up", 4) });
    const result = await new Runner({ endpoint }).run({
      clients: data.clients, nRequests: data.nRequests,
      payload: endpoint.createPayload("Tell me about edge runtimes.", 16),
      onProgress: (p) => self.postMessage({ progress: { completed: p.completed, failed: p.failed } }),
    });
    // LLMeter's LoadTest: one run per number of clients.
    const loadTest = await new LoadTest({ endpoint, payload: endpoint.createPayload("Tell me about edge runtimes.", 16), sequenceOfClients: [1, 2], minRequestsPerClient: 2, minRequestsPerRun: 2 }).run();
    const levels = Object.fromEntries([...loadTest.results].map(([c, r]) => [c, { requests: r.stats.total_requests, failed: r.stats.failed_requests, ttftP50: r.stats["time_to_first_token-p50"] }]));
    // LatencyHeatmap: each (input length × output length) cell gets exactly its requests.
    const heatmap = await new LatencyHeatmap({ endpoint, sourceText: "The quick brown fox jumps over the lazy dog. ".repeat(20), clients: 2, inputLengths: [5, 20], outputLengths: [4, 8], requestsPerCombination: 1 }).run();
    const cells = heatmap.cells().map((row) => row.map((responses) => responses.length));
    self.postMessage({ result: { ...result.toJSON(), loadTest: { testName: loadTest.testName, levels }, heatmap: { cells, failed: heatmap.result.stats.failed_requests } } });
  } catch (e) {
    self.postMessage({ error: `${e.name}: ${e.message}` });
  }
};
