// Writes run folders from real runs of the package (pkg/) against llm-sim, for the Python
// cross-checks in test_llmeter_callbacks.py:
//   node tests/python/js_folders.mjs OUT
// OUT/closed/{00001-clients,00003-clients}  a LoadTest (closed loops)
// OUT/costs, OUT/costs_failed               CostModel + an annotating callback (with failures)
// OUT/phases                                warm-up and cool-down
// OUT/rate                                  an open loop with SLOs
// OUT/custom_tokenizer                      a JS tokenizer
// Prints the cost model's dimensions as JSON (the Python side builds LLMeter's own from them).
import { startSim } from "../js/sim.js";
import { OpenAIEndpoint, Runner, LoadTest, CostModel, InputTokens, OutputTokens, EndpointTime } from "../../pkg/index.js";

const out = process.argv[2];
if (!out) throw new Error("usage: node js_folders.mjs OUT");
const payload = [
  { messages: [{ role: "user", content: "hello there, how are you" }], max_tokens: 5 },
  { messages: [{ role: "user", content: "one two three" }], max_tokens: 9 },
];
const dims = { input: { price_per_million: 3, granularity: 1 }, output: { price_per_million: 15, granularity: 2 }, endpoint: { price_per_hour: 36, granularity_secs: 0.5 } };
const costModel = () => new CostModel({
  requestDims: [new InputTokens(dims.input.price_per_million), new OutputTokens(dims.output.price_per_million, dims.output.granularity)],
  runDims: { endpoint: new EndpointTime(dims.endpoint.price_per_hour, dims.endpoint.granularity_secs) },
});
// LLMeter 0.2.0 callbacks put per-response data in annotations.
const annotator = { afterInvoke(r) { r.annotations = { ...r.annotations, text_chars: (r.response_text ?? "").length } } };

const sim = await startSim(["--ttft-ms", "8", "--itl-ms", "2", "--seed", "5"]);
const faulty = await startSim(["--ttft-ms", "8", "--itl-ms", "2", "--seed", "6", "--fault-rate", "0.3", "--faults", "500,disconnect"]);
try {
  const endpoint = (s) => new OpenAIEndpoint({ baseUrl: s.base, model: "sim" });
  await new LoadTest({ endpoint: endpoint(sim), payload, sequenceOfClients: [1, 3], minRequestsPerRun: 12, testName: "closed", outputPath: out }).run();
  await new Runner({ endpoint: endpoint(sim), callbacks: [annotator, costModel()], outputPath: out }).run({ clients: 2, nRequests: 8, payload, runName: "costs" });
  const failed = await new Runner({ endpoint: endpoint(faulty), callbacks: [annotator, costModel()], outputPath: out }).run({ clients: 2, nRequests: 12, payload, runName: "costs_failed" });
  if (!failed.responses.some((r) => r.error) || !failed.responses.some((r) => !r.error)) throw new Error("costs_failed needs failures and successes");
  await new Runner({ endpoint: endpoint(sim), outputPath: out }).run({ clients: 2, nRequests: 4, payload, runName: "phases", warmup: 3, cooldown: { requests: 2 } });
  await new Runner({ endpoint: endpoint(sim), outputPath: out }).run({ rate: 30, nRequests: 15, payload, runName: "rate", slo: { ttft: 0.05, ttlt: 0.2 } });
  const chars = { name: "chars", encode: (t) => [...t] };
  await new Runner({ endpoint: endpoint(sim), tokenizer: chars, outputPath: out }).run({ clients: 1, nRequests: 2, payload: { messages: [{ role: "user", content: "no usage here" }], max_tokens: 3, stream_options: { include_usage: false } }, runName: "custom_tokenizer" });
  console.log(JSON.stringify(dims));
} finally {
  await sim.stop();
  await faulty.stop();
}
