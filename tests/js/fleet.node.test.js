// Shards and workers in Node against a real llm-sim: shards merged exactly (the merged stats
// are the stats of one folder holding every shard's responses), per-label breakdowns, the clock
// offset from the endpoint's Date header, `workers: N` over real worker threads (counts equal
// the simulator's ground truth; a worker that dies fails only its own clients' requests), and
// Python llmeter loading a merged folder with equal stats.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { startSim, ROOT } from "./sim.js";
import { OpenAIEndpoint, CustomEndpoint, Runner, Result, LoadTest, LoadTestResult } from "../../pkg/index.js";

const PY = path.join(ROOT, ".venv/bin/python");
let sim, endpoint;
const payload = [1, 2, 3].map((i) => ({ messages: [{ role: "user", content: `question number ${i}` }], max_tokens: 3 + i }));

before(async () => {
  sim = await startSim(["--ttft-ms", "15", "--itl-ms", "2", "--seed", "5"]);
  endpoint = new OpenAIEndpoint({ baseUrl: sim.base, model: "sim-model" });
});
after(async () => {
  await sim?.stop();
});

/** Ground truth of the requests the simulator completed since `clear()`. */
async function truth() {
  const records = (await sim.requests()).filter((r) => r.outcome === "completed");
  return { requests: records.length, input: records.reduce((a, r) => a + r.input_tokens, 0), output: records.reduce((a, r) => a + r.output_tokens, 0) };
}

/** A folder holding every shard's responses as one run, with the merged summary. */
function oneRunFolder(merged, shards) {
  const files = merged.toFiles();
  const order = merged.info.fleet.shards.map((s) => s.shard_id);
  const byId = new Map(shards.map((s) => [s.shard.shard_id, s.toFiles()]));
  return {
    "summary.json": files["summary.json"],
    // In the merged order, with request times as the merge wrote them (offsets applied).
    "responses.jsonl": files["responses.jsonl"],
    "chunk_timings.jsonl": order.map((id) => byId.get(id)["chunk_timings.jsonl"]).join(""),
  };
}

test("shards run in Node merge exactly: stats of one folder with every response; per-label breakdown; counts = ground truth", async () => {
  await sim.clear();
  const runner = new Runner({ endpoint });
  const specs = [["eu-1", "eu", 2, 3], ["us-1", "us", 3, 2], ["eu-2", "eu", 1, 4]];
  const shards = await Promise.all(specs.map(([shardId, label, clients, nRequests]) => runner.run({ clients, nRequests, payload, shard: { testId: "node-fleet", shardId, label } })));
  for (const s of shards) {
    assert.equal(s.shard.test_id, "node-fleet");
    assert.match(s.shard.engine, /^llmeter-wasm \d/);
    assert.match(s.shard.runtime, /^node /);
    assert.ok("shard.json" in s.toFiles());
  }
  const merged = await Result.merge(shards);
  const gt = await truth();
  assert.equal(merged.summary.total_requests, 6 + 6 + 4);
  assert.equal(merged.summary.total_requests, gt.requests);
  assert.equal(merged.summary.clients, 6);
  assert.equal(merged.stats.total_output_tokens, gt.output);
  assert.equal(merged.stats.total_input_tokens, gt.input);
  assert.equal(merged.summary.run_name, "node-fleet");
  // Exactness: the merged stats are those LLMeter's load computes for one folder of all responses.
  const one = await Result.fromFiles(oneRunFolder(merged, shards));
  const { by_label, ...rest } = merged.stats;
  for (const [k, v] of Object.entries(one.stats)) assert.deepEqual(rest[k], v, k);
  assert.deepEqual(Object.keys(by_label), ["eu", "us"]);
  assert.equal(by_label.eu.total_requests, 10);
  assert.equal(by_label.eu.shards, 2);
  assert.equal(by_label.us.clients, 3);
  const euTtft = merged.responses.slice(0, 6).concat(merged.responses.slice(12)).map((r) => r.time_to_first_token);
  assert.equal(merged.info.fleet.shards.map((s) => s.shard_id).join(), "eu-1,eu-2,us-1");
  assert.equal(by_label.eu["time_to_first_token-average"] > 0, true);
  assert.equal(euTtft.length, 10);
  // Saved and loaded again: the breakdown and the shard list survive.
  const back = await Result.fromFiles(merged.toFiles());
  assert.deepEqual(back.stats, merged.stats);
  assert.deepEqual(back.info.fleet, merged.info.fleet);
  // Python llmeter loads the merged folder with equal stats.
  const dir = mkdtempSync(path.join(tmpdir(), "fleet-merged-"));
  for (const [name, text] of Object.entries(merged.toFiles())) writeFileSync(path.join(dir, name), text);
  assert.match(execFileSync(PY, [path.join(ROOT, "tests/python/compare_stats.py"), dir], { encoding: "utf8" }), /stats equal: \d+ keys/);
});

test("a shard places its clock on the endpoint's: the Date header gives an offset whose interval holds the truth (same machine: 0)", async () => {
  const r = await new Runner({ endpoint }).run({ clients: 4, runDuration: 2.5, payload, shard: { testId: "clock", shardId: "a" } });
  const o = r.info.clock_offset;
  assert.ok(o, "an offset");
  assert.equal(o.source, "endpoint");
  assert.equal(o.samples, r.responses.length);
  assert.ok(Math.abs(o.offset_ms) <= o.uncertainty_ms + 1, JSON.stringify(o));
  // Requests spread over 2.5 s meet the server's second at many phases: far better than ±500 ms.
  assert.ok(o.uncertainty_ms < 100, JSON.stringify(o));
  assert.deepEqual(r.shard.clock_offset, o);
  // Without `shard`, no header is read and no offset is recorded.
  const plain = await new Runner({ endpoint }).run({ clients: 1, nRequests: 2, payload });
  assert.equal(plain.info.clock_offset, undefined);
});

test("bad shard options are refused before any request, naming the option", async () => {
  const runner = new Runner({ endpoint });
  await assert.rejects(runner.run({ payload, shard: { shardId: "a" } }), { name: "TypeError", message: /shard.testId is required/ });
  await assert.rejects(runner.run({ payload, shard: { testId: "t", shardId: "a/b" } }), { name: "RangeError", message: /shard.shardId/ });
  await assert.rejects(runner.run({ payload, shard: { testId: "t", shardId: "a", label: "" } }), { name: "RangeError", message: /shard.label/ });
  await assert.rejects(Result.merge([{}]), /merge: shard 0/);
  await assert.rejects(Result.merge("nope"), /shards must be an array/);
});

test("workers: 3 worker threads run 6 clients; one merged result with the ground truth's counts", async () => {
  await sim.clear();
  const seen = [];
  const progress = [];
  const r = await new Runner({ endpoint }).run({ clients: 6, nRequests: 4, payload, workers: 3, runName: "threads", onResponse: (resp, t) => seen.push([resp, t]), onProgress: (p) => progress.push(p), progressIntervalMs: 0 });
  const gt = await truth();
  assert.equal(r.summary.total_requests, 24);
  assert.equal(gt.requests, 24);
  assert.equal(r.summary.clients, 6);
  assert.equal(r.summary.n_requests, 4);
  assert.equal(r.summary.run_name, "threads");
  assert.equal(r.stats.failed_requests, 0);
  assert.equal(r.stats.total_output_tokens, gt.output);
  assert.deepEqual(r.info.fleet.shards.map((s) => [s.shard_id, s.clients, s.responses]), [["worker-000", 2, 8], ["worker-001", 2, 8], ["worker-002", 2, 8]]);
  assert.ok(r.info.fleet.shards.every((s) => s.clock_offset.source === "same clock"));
  assert.match(r.info.runtime, /^node /);
  assert.equal(seen.length, 24);
  assert.ok(seen.every(([resp, t]) => resp.input_payload?.model === "sim-model" && typeof t.payload_index === "number"));
  const last = progress.at(-1);
  assert.equal(last.completed, 24);
  assert.equal(last.expected, 24);
  assert.ok(typeof last.stats.ttft_p50 === "number");
  // Every payload once overall: the list is dealt over the workers.
  await sim.clear();
  const many = Array.from({ length: 7 }, (_, i) => ({ messages: [{ role: "user", content: `p${i}` }], max_tokens: 2 }));
  const once = await new Runner({ endpoint }).run({ clients: 3, payload: many, payloadAssignment: "eachOnce", workers: 2 });
  assert.equal(once.summary.total_requests, 7);
  assert.equal((await truth()).requests, 7);
  assert.deepEqual(once.responses.map((x) => x.input_payload.messages[0].content).sort(), many.map((p) => p.messages[0].content).sort());
});

test("workers: a worker that dies fails only its own clients' requests, each with an error", async () => {
  const r = await new Runner({ endpoint }).run({ clients: 4, nRequests: 5, payload, workers: 2, _workerFault: { worker: 1, afterResponses: 2 } });
  assert.equal(r.summary.total_requests, 20);
  const [ok, dead] = r.info.fleet.shards;
  assert.equal(ok.responses, 10);
  assert.equal(dead.responses, 10);
  const deadResponses = r.responses.slice(10);
  assert.ok(r.responses.slice(0, 10).every((x) => x.error === null), "the other worker's requests all succeeded");
  const failed = deadResponses.filter((x) => x.error !== null);
  assert.ok(failed.length >= 1 && failed.length <= 8, `${failed.length} failed`);
  assert.ok(failed.every((x) => /^worker failed: .*injected worker fault/.test(x.error)), failed[0]?.error);
  assert.equal(r.stats.failed_requests, failed.length);
  assert.ok(r.info.warnings.some((w) => /worker-001 failed .* unfinished requests are recorded as errors/.test(w)), r.info.warnings.join("\n"));
});

test("workers: options are checked, and option errors of the engine reject the run as without workers", async () => {
  const runner = new Runner({ endpoint });
  await assert.rejects(runner.run({ clients: 2, payload, workers: 3 }), { name: "RangeError", message: /3 workers need at least 3 clients/ });
  await assert.rejects(runner.run({ clients: 2, payload, workers: 0 }), { name: "RangeError", message: /workers must be an integer/ });
  await assert.rejects(new Runner({ endpoint, tokenizer: { encode: (t) => t.split(" ") } }).run({ clients: 2, payload, workers: 2 }), { name: "TypeError", message: /tokenizer/ });
  await assert.rejects(runner.run({ clients: 2, payload, workers: 2, nRequests: 2, runDuration: 1 }), { name: "RangeError", message: /runDuration/ });
  const aborted = AbortSignal.abort();
  await assert.rejects(runner.run({ clients: 2, payload, workers: 2, signal: aborted }));
  // What cannot cross to a worker is refused, not thrown uncaught: a CustomEndpoint's hooks, a function in an option.
  const custom = new CustomEndpoint({ url: `${sim.base}/chat/completions`, read: () => null });
  await assert.rejects(new Runner({ endpoint: custom }).run({ clients: 2, payload, workers: 2 }), { name: "TypeError", message: /CustomEndpoint's functions cannot be sent to workers/ });
  await assert.rejects(runner.run({ clients: 2, payload, workers: 2, onStart: () => {} }), { name: "TypeError", message: /options could not be sent to a worker/ });
});

test("LoadTestResult.merge: two shards of the same levels become one load test with the clients summed", async () => {
  const lt = () => new LoadTest({ endpoint, payload, sequenceOfClients: [1, 2], minRequestsPerRun: 2, testName: "lt" }).run();
  const [a, b] = await Promise.all([lt(), lt()]);
  const merged = await LoadTestResult.merge([a, b]);
  assert.deepEqual(merged.clients, [2, 4]);
  assert.equal(merged.results.get(2).summary.total_requests, a.results.get(1).summary.total_requests * 2);
  assert.equal(merged.results.get(4).summary.run_name, "00004-clients");
  const dir = mkdtempSync(path.join(tmpdir(), "fleet-lt-"));
  for (const [name, text] of Object.entries(merged.toFiles())) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  const loaded = JSON.parse(execFileSync(PY, ["-c", "import json,sys; from llmeter.experiments import LoadTestResult; lt=LoadTestResult.load(sys.argv[1]); print(json.dumps({str(k): r.stats['total_requests'] for k,r in lt.results.items()}))", path.join(dir, "lt")], { encoding: "utf8" }));
  assert.deepEqual(loaded, { 2: merged.results.get(2).summary.total_requests, 4: merged.results.get(4).summary.total_requests });
});

test("figures and the HTML report break a merged result down per label (one box per label); labels are escaped", async () => {
  const runner = new Runner({ endpoint });
  const hostile = `<img src=x onerror="alert(1)">`;
  const shards = await Promise.all([["a", "eu", 3], ["b", hostile, 2], ["c", "eu", 1]].map(([shardId, label, n]) => runner.run({ clients: 1, nRequests: n, payload, shard: { testId: "report", shardId, label } })));
  const merged = await Result.merge(shards);
  const figs = await merged.figures();
  const ttft = figs.time_to_first_token_by_label;
  assert.deepEqual(ttft.data.map((t) => t.name), [hostile, "eu"].sort());
  assert.equal(ttft.data.find((t) => t.name === "eu").y.length, 4);
  assert.equal(ttft.data.find((t) => t.name === hostile).y.length, 2);
  assert.deepEqual(ttft.data.find((t) => t.name === "eu").y, [...merged.responses.slice(0, 3), ...merged.responses.slice(5)].map((r) => r.time_to_first_token));
  assert.ok(figs.time_to_last_token_by_label);
  const page = await merged.toHTML();
  assert.ok(!page.includes(hostile), "the label never becomes markup");
  assert.ok(page.includes("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"));
  assert.match(page, /<h2>By label<\/h2><table class="stats">/);
  assert.match(page, /<h2>Shards of report<\/h2>/);
  assert.equal((page.match(/<g class="box">/g) ?? []).length, 3 + 2 + 2, "3 latency boxes, 2 TTFT and 2 TTLT label boxes");
  // A single run has no label figures.
  assert.equal((await shards[0].figures()).time_to_first_token_by_label, undefined);
});
