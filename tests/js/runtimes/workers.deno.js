// Deno: `Runner.run({workers: N})` over Deno's Workers against llm-sim at argv[0]. `merged`: 6
// clients over 2 workers, printed with the stats of one folder of all its responses; `dying`:
// 4 clients over 2 workers with worker 1 made to die after 2 responses. Prints JSON.
import { init, OpenAIEndpoint, Runner, Result } from "../../../pkg/index.js";

const [base, mode] = Deno.args;
await init();
const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: base, model: "sim-model" }) });
const payload = [1, 2, 3].map((i) => ({ messages: [{ role: "user", content: `question number ${i}` }], max_tokens: 3 + i }));
if (mode === "merged") {
  let seen = 0;
  const r = await runner.run({ clients: 6, nRequests: 3, payload, workers: 2, runName: "deno-workers", onResponse: () => seen++ });
  const files = r.toFiles();
  const one = await Result.fromFiles({ "summary.json": files["summary.json"], "responses.jsonl": files["responses.jsonl"], "chunk_timings.jsonl": files["chunk_timings.jsonl"] });
  console.log(JSON.stringify({ ...r.toJSON(), oneFolderStats: one.stats, seen }));
} else {
  const r = await runner.run({ clients: 4, nRequests: 5, payload, workers: 2, _workerFault: { worker: 1, afterResponses: 2 } });
  console.log(JSON.stringify(r.toJSON()));
}
