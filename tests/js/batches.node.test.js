// The real engine over `fetch` with chunks handed over in batches, as browsers run it (where
// `scheduler.postTask` exists: js/pump.js). Node has no `scheduler`; this file gives it one
// that runs each posted task as a macrotask (`setImmediate`), before the package is imported,
// so the engine's `exchangeChunks` path runs against a real llm-sim: every token, id and
// timing must come out as when each chunk is handed over on its own.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startSim, assertMatchesTruth } from "./sim.js";
import { truthErrors } from "./families.js";

let posted = 0;
globalThis.scheduler = {
  postTask: (f) => {
    posted++;
    return new Promise((resolve) => setImmediate(() => resolve(f())));
  },
};
const { init, OpenAIEndpoint, Runner } = await import("../../pkg/index.js");

let sim;
before(async () => {
  await init();
  sim = await startSim(["--ttft-ms", "30", "--itl-ms", "2", "--seed", "5"]);
});
after(async () => sim?.stop());

const endpoint = (headers = {}) => new OpenAIEndpoint({ baseUrl: sim.base, model: "sim-model", apiKey: "k", headers });
const payload = (maxTokens) => ({ messages: [{ role: "user", content: "Say something about latency please" }], max_tokens: maxTokens });

test("batched chunks: every token, id and count of every response match llm-sim's ground truth, and no token is seen before it was sent", async () => {
  const before = posted;
  const result = await new Runner({ endpoint: endpoint(), transport: "fetch" }).run({ clients: 8, nRequests: 3, payload: payload(24) });
  assert.ok(posted > before, "chunks were handed over from posted tasks");
  const records = assertMatchesTruth(result, await sim.requests(), { count: 24, outputTokens: 24 });
  for (const r of result.responses) assert.ok(r.time_to_last_token > r.time_to_first_token, `${r.id}: TTLT after TTFT`);
  const err = truthErrors(result.responses, [...records.values()]);
  assert.ok(err.minTtft >= 0 && err.minTtlt >= 0, `a token seen before it was sent: ${JSON.stringify(err)}`);
  await sim.clear();
});

test("batched chunks: a stream stalled after 4 tokens times out with those 4 tokens kept", async () => {
  const runner = new Runner({ endpoint: endpoint({ "x-sim-fault": "stall", "x-sim-fault-after-tokens": "4" }), transport: "fetch", timeout: 0.3 });
  const result = await runner.run({ clients: 2, nRequests: 1, payload: payload(16) });
  assert.equal(result.responses.length, 2);
  for (const r of result.responses) {
    assert.match(r.error, /timeout/);
    assert.equal(r.response_text.trim().split(/\s+/).length, 4, `partial text: ${JSON.stringify(r.response_text)}`);
    assert.ok(r.time_to_first_token > 0.03, "partial timings kept");
  }
  await sim.clear();
});
