// Benchmark an OpenAI-compatible endpoint from Deno.
//   cd examples/deno && deno run --allow-net=127.0.0.1 --allow-read=../../pkg --allow-env=OPENAI_API_KEY run.js [baseUrl] [model] [clients] [requestsPerClient]
// Prints a one-line summary to stderr and the result as JSON to stdout. `llmeter-wasm` is
// mapped to the built package by deno.json (in your project: "npm:llmeter-wasm").
import { init, OpenAIEndpoint, Runner, LoadTest, LatencyHeatmap } from "llmeter-wasm";

const [baseUrl = "http://127.0.0.1:8000/v1", model = "sim-model", clients = "2", nRequests = "4"] = Deno.args;

// Deno: load the wasm once (fetched from the file next to the package's index.js).
await init();
const endpoint = new OpenAIEndpoint({ baseUrl, model, apiKey: Deno.env.get("OPENAI_API_KEY") });
const runner = new Runner({ endpoint });
// Warm-up, not measured: connection setup, CORS preflight, the runtime's lazy fetch setup and JIT.
await runner.run({ clients: Number(clients), nRequests: 2, payload: endpoint.createPayload("warm-up", 4) });
const result = await runner.run({ clients: Number(clients), nRequests: Number(nRequests), payload: endpoint.createPayload("Tell me about edge runtimes.", 16) });

const s = result.stats;
console.error(`${result.info.runtime} (clock ${result.info.clock}): ${s.total_requests} requests, ${s.failed_requests} failed, TTFT p50 ${(s["time_to_first_token-p50"] * 1000).toFixed(1)} ms`);
for (const w of result.info.warnings) console.error(`warning: ${w}`);

// LLMeter's LoadTest: one run per number of clients.
const loadTest = await new LoadTest({ endpoint, payload: endpoint.createPayload("Tell me about edge runtimes.", 16), sequenceOfClients: [1, 2], minRequestsPerClient: 2, minRequestsPerRun: 2 }).run();
const levels = Object.fromEntries([...loadTest.results].map(([c, r]) => [c, { requests: r.stats.total_requests, failed: r.stats.failed_requests, ttftP50: r.stats["time_to_first_token-p50"] }]));
console.error(`load test: ${JSON.stringify(levels)}`);
// LatencyHeatmap: each (input length × output length) cell gets exactly its requests.
const heatmap = await new LatencyHeatmap({ endpoint, sourceText: "The quick brown fox jumps over the lazy dog. ".repeat(20), clients: 2, inputLengths: [5, 20], outputLengths: [4, 8], requestsPerCombination: 1 }).run();
const cells = heatmap.cells().map((row) => row.map((responses) => responses.length));
console.error(`heatmap requests per cell: ${JSON.stringify(cells)}`);
console.log(JSON.stringify({ ...result.toJSON(), loadTest: { testName: loadTest.testName, levels }, heatmap: { cells, failed: heatmap.result.stats.failed_requests } }));
