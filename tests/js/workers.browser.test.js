// `Runner.run({workers: N})` in the three browser engines (tests/js/engines.js): the clients of a
// page's run spread over module Web Workers against a real llm-sim, merged into one result whose
// counts equal the simulator's ground truth and whose stats are those of one folder holding
// every response (the merge is exact); a worker that dies fails only its own clients' requests.
// The same in Node: fleet.node.test.js; in Deno: runtimes.test.js.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startSim } from "./sim.js";
import { startStatic } from "./browser.js";
import { forEachEngine, launchEngine } from "./engines.js";

const payload = [1, 2, 3].map((i) => ({ messages: [{ role: "user", content: `question number ${i}` }], max_tokens: 3 + i }));

// Runs in the page (sent as source: no closures). Returns the merged result, the stats LLMeter's
// load computes for one folder of all its responses, and what onResponse/onProgress saw.
const workersRun = async ({ base, options }) => {
  const { init, OpenAIEndpoint, Runner, Result } = await import("/pkg/index.js");
  await init();
  const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: base, model: "sim-model" }) });
  const seen = [];
  let progress = null;
  const r = await runner.run({ ...options, onResponse: (resp, t) => seen.push([resp.input_payload?.model ?? null, t.payload_index]), onProgress: (p) => (progress = p), progressIntervalMs: 0 });
  const files = r.toFiles();
  const one = await Result.fromFiles({ "summary.json": files["summary.json"], "responses.jsonl": files["responses.jsonl"], "chunk_timings.jsonl": files["chunk_timings.jsonl"] });
  return { ...r.toJSON(), oneFolderStats: one.stats, seen, progress };
};

let site;
before(async () => {
  site = await startStatic();
});
after(async () => {
  await site?.close();
});

forEachEngine((engine) => {
  let sim, browser, page;
  before(async () => {
    sim = await startSim(["--ttft-ms", "15", "--itl-ms", "2", "--seed", "5"]);
    browser = await launchEngine(engine);
    page = await browser.newPage(`${site.origin}/tests/js/pages/blank.html`);
  });
  after(async () => {
    await browser?.close();
    await sim?.stop();
  });

  /** Ground truth of the requests the simulator completed since `clear()`. */
  async function truth() {
    const records = (await sim.requests()).filter((r) => r.outcome === "completed");
    return { requests: records.length, input: records.reduce((a, r) => a + r.input_tokens, 0), output: records.reduce((a, r) => a + r.output_tokens, 0) };
  }

  test(`${engine}: workers: 2 Web Workers run 6 clients of a page's run; one merged result with the ground truth's counts and the stats of one folder`, async () => {
    await sim.clear();
    const r = await page.evaluate(workersRun, { base: sim.base, options: { clients: 6, nRequests: 3, payload, workers: 2, runName: "page-workers" } });
    const gt = await truth();
    assert.equal(r.summary.total_requests, 18);
    assert.equal(gt.requests, 18);
    assert.equal(r.summary.clients, 6);
    assert.equal(r.summary.run_name, "page-workers");
    assert.equal(r.stats.failed_requests, 0, JSON.stringify(r.responses.find((x) => x.error)?.error));
    assert.equal(r.stats.total_output_tokens, gt.output);
    assert.equal(r.stats.total_input_tokens, gt.input);
    assert.deepEqual(r.info.fleet.shards.map((s) => [s.shard_id, s.clients, s.responses]), [["worker-000", 3, 9], ["worker-001", 3, 9]]);
    assert.ok(r.info.fleet.shards.every((s) => s.clock_offset.source === "same clock"), JSON.stringify(r.info.fleet.shards));
    // Each worker's engine says where it ran: a worker of this browser.
    assert.ok(r.info.fleet.shards.every((s) => s.runtime.endsWith(" (worker)")), JSON.stringify(r.info.fleet.shards.map((s) => s.runtime)));
    // Exact: the merged stats are those LLMeter's load computes for one folder of every response.
    for (const [k, v] of Object.entries(r.oneFolderStats)) assert.deepEqual(r.stats[k], v, k);
    assert.equal(r.seen.length, 18);
    assert.ok(r.seen.every(([model, index]) => model === "sim-model" && typeof index === "number"), JSON.stringify(r.seen.slice(0, 3)));
    assert.equal(r.progress.completed, 18);
    assert.equal(r.progress.expected, 18);
  });

  test(`${engine}: workers: a Web Worker that dies fails only its own clients' requests, each with an error`, async () => {
    const r = await page.evaluate(workersRun, { base: sim.base, options: { clients: 4, nRequests: 5, payload, workers: 2, _workerFault: { worker: 1, afterResponses: 2 } } });
    assert.equal(r.summary.total_requests, 20);
    const [ok, dead] = r.info.fleet.shards;
    assert.equal(ok.responses, 10);
    assert.equal(dead.responses, 10);
    assert.deepEqual(r.responses.slice(0, 10).map((x) => x.error).filter((e) => e !== null), [], "the other worker's requests all succeeded");
    const failed = r.responses.slice(10).filter((x) => x.error !== null);
    assert.ok(failed.length >= 1 && failed.length <= 8, `${failed.length} failed`);
    // The page sees the worker's uncaught error through its `error` event; engines word it differently.
    console.log(`# ${engine}: ${failed.length} of the dead worker's 10 requests failed: ${failed[0]?.error}`);
    assert.ok(failed.every((x) => /^worker failed: .*injected worker fault/.test(x.error)), failed[0]?.error);
    assert.equal(r.stats.failed_requests, failed.length);
    assert.ok(r.info.warnings.some((w) => /worker-001 failed .* unfinished requests are recorded as errors/.test(w)), r.info.warnings.join("\n"));
  });
});
