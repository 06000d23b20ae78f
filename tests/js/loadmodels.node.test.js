// Load models, callbacks, output folders and LLMeter's loading rules in Node, against real
// llm-sim processes: open-loop arrivals (lag below capacity; a server slower than the offered
// rate, where the open loop warns and sees the queue a closed loop hides), warm-up/cool-down,
// SLO goodput, callbacks in LLMeter's order (CostModel, CacheBuster, custom ones), outputPath
// written as the run goes, Result.load / LoadTestResult.load with loadResponses, rate levels
// and a GuideLLM sweep.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, existsSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startSim } from "./sim.js";
import {
  OpenAIEndpoint, Runner, Result, LoadTest, LoadTestResult, LatencyHeatmap,
  CostModel, InputTokens, OutputTokens, EndpointTime, CacheBuster,
} from "../../pkg/index.js";

let sim;
before(async () => {
  sim = await startSim(["--ttft-ms", "5", "--itl-ms", "1", "--seed", "3"]);
  // Node's fetch initialises lazily: the first request of a process pays for it.
  await new Runner({ endpoint: endpoint() }).run({ clients: 2, nRequests: 2, payload });
});
after(async () => sim?.stop());

const endpoint = (s = sim) => new OpenAIEndpoint({ baseUrl: s.base, model: "sim" });
const payload = { messages: [{ role: "user", content: "hello there" }], max_tokens: 4 };
const tmp = () => mkdtempSync(path.join(tmpdir(), "llmeter-loadmodels-"));
const lagsOf = (r) => r.timings.map((t) => t.sent_at - t.scheduled_at);

// How close to its time a request leaves is a performance figure (npm run bench, "schedule
// lag"); here only that the schedule is kept within a loaded CI machine's margin.
test("open loop below capacity: constant arrivals leave on time (lag p99 < 50 ms even on a loaded machine)", async (t) => {
  const r = await new Runner({ endpoint: endpoint() }).run({ rate: 40, nRequests: 120, payload, maxConcurrency: 32, maxScheduleLag: 0.05 });
  assert.equal(r.responses.length, 120);
  assert.ok(r.responses.every((x) => x.error === null));
  // The schedule is exact: arrival k is due at k / 40 s.
  const due = r.timings.map((t) => t.scheduled_at).sort((a, b) => a - b);
  due.forEach((d, k) => assert.ok(Math.abs(d - k / 40) < 1e-9, `arrival ${k} due at ${d}`));
  assert.ok(lagsOf(r).every((lag) => lag >= 0));
  const p99 = r.stats["schedule_lag-p99"];
  t.diagnostic(`schedule lag p50 ${(r.stats["schedule_lag-p50"] * 1000).toFixed(3)} ms, p99 ${(p99 * 1000).toFixed(3)} ms`);
  assert.ok(p99 < 0.05, `schedule lag p99 ${(p99 * 1000).toFixed(2)} ms`);
  assert.deepEqual(r.info.warnings, []);
  assert.deepEqual({ ...r.info.load, seed: undefined }, { model: "open", rate: 40, arrival: "constant", max_concurrency: 32, seed: undefined, excluded_responses: 0 });
  assert.equal(r.summary.clients, 32);
  // Achieved throughput matches the offered rate over ~3 s.
  assert.ok(Math.abs(r.stats.requests_per_minute / 60 - 40) < 4, `${r.stats.requests_per_minute / 60} requests/s`);
  console.log(`[loadmodels] below capacity: lag p50 ${(r.stats["schedule_lag-p50"] * 1000).toFixed(3)} ms, p99 ${(p99 * 1000).toFixed(3)} ms`);
});

test("a server slower than the offered rate: the open loop warns and sees the queue a closed loop at the same load hides", async () => {
  // Two generation slots, ~55 ms per request (40 ms to the first token, 4 tokens 5 ms apart):
  // about 36 requests/s. Offered: 80 requests/s.
  const slow = await startSim(["--max-concurrency", "2", "--ttft-ms", "40", "--itl-ms", "5", "--seed", "4"]);
  try {
    const runner = new Runner({ endpoint: endpoint(slow) });
    await runner.run({ clients: 2, nRequests: 1, payload });
    const open = await runner.run({ rate: 80, nRequests: 80, payload, maxConcurrency: 16 });
    // "The same load" for a closed loop (Little's law): clients = rate × unloaded latency.
    const closed = await runner.run({ clients: Math.round(80 * 0.055), nRequests: 20, payload });
    const warning = open.info.warnings.find((w) => w.includes("fell behind its schedule"));
    assert.ok(warning, `warnings: ${open.info.warnings}`);
    assert.match(warning, /found all 16 slots busy/);
    assert.ok(open.stats["schedule_lag-p99"] > 0.1, `${open.stats["schedule_lag-p99"]}`);
    assert.equal(closed.info.warnings.find((w) => w.includes("fell behind its schedule")), undefined);
    // The closed loop slowed down with the server (it never offered 80/s) and so measured less.
    assert.ok(closed.stats.requests_per_minute / 60 < 50, `${closed.stats.requests_per_minute / 60} requests/s`);
    const [o, c] = [open.stats["time_to_last_token-p50"], closed.stats["time_to_last_token-p50"]];
    assert.ok(c * 2 < o, `TTLT p50: closed ${c} s, open ${o} s`);
    console.log(`[loadmodels] slow server: open TTLT p50 ${o.toFixed(3)} s (lag p99 ${open.stats["schedule_lag-p99"].toFixed(3)} s), closed ${c.toFixed(3)} s at ${(closed.stats.requests_per_minute / 60).toFixed(1)} req/s`);
  } finally {
    await slow.stop();
  }
});

test("options are checked before any request, naming the option", async () => {
  const runner = new Runner({ endpoint: endpoint() });
  await assert.rejects(runner.run({ rate: 0, payload }), (e) => e instanceof RangeError && /rate/.test(e.message));
  await assert.rejects(runner.run({ rate: 5, clients: 2, payload }), (e) => e instanceof RangeError && /clients .* or rate/.test(e.message));
  await assert.rejects(runner.run({ rate: 5, arrival: "bursty", payload }), (e) => e instanceof RangeError && /arrival/.test(e.message));
  await assert.rejects(runner.run({ maxConcurrency: 4, payload }), (e) => e instanceof TypeError && /need rate/.test(e.message));
  await assert.rejects(runner.run({ warmup: { minutes: 1 }, payload }), (e) => e instanceof TypeError && /warmup/.test(e.message));
  await assert.rejects(runner.run({ warmup: 0, payload }), (e) => e instanceof RangeError && /warmup/.test(e.message));
  await assert.rejects(runner.run({ slo: {}, payload }), (e) => e instanceof RangeError && /slo/.test(e.message));
  await assert.rejects(runner.run({ slo: { ttft: -1 }, payload }), (e) => e instanceof RangeError && /slo\.ttft/.test(e.message));
  await assert.rejects(runner.run({ runName: "", payload }), (e) => e instanceof RangeError && /runName/.test(e.message));
  assert.throws(() => new Runner({ endpoint: endpoint(), callbacks: [{ beforeRun: 3 }] }), /callbacks\[0\]\.beforeRun/);
  assert.throws(() => new CostModel({ requestDims: [new InputTokens(1), new InputTokens(2)] }), (e) => e instanceof RangeError && /duplicate cost dimension name "InputTokens"/.test(e.message));
  assert.throws(() => new CostModel({ runDims: [{ kind: "EndpointTime" }] }), /pricePerHour is required/);
});

test("warm-up and cool-down responses are saved apart, flagged, and left out of the stats", async () => {
  const out = tmp();
  const r = await new Runner({ endpoint: endpoint() }).run({ clients: 2, nRequests: 3, payload, warmup: 2, cooldown: { requests: 2 }, outputPath: out });
  assert.equal(r.summary.total_requests, 6);
  assert.equal(r.stats.total_requests, 6);
  assert.equal(r.responses.length, 6);
  assert.ok(r.excluded.length >= 4, `${r.excluded.length} excluded`);
  assert.deepEqual([...new Set(r.excluded.map((x) => x.annotations.load_phase))].sort(), ["cooldown", "warmup"]);
  assert.ok(r.responses.every((x) => !x.annotations?.load_phase));
  const lines = readFileSync(path.join(out, "warmup_cooldown.jsonl"), "utf8").trim().split("\n");
  assert.equal(lines.length, r.excluded.length);
  assert.equal(readFileSync(path.join(out, "responses.jsonl"), "utf8").trim().split("\n").length, 6);
  const loaded = await Result.load(out);
  assert.equal(loaded.excluded.length, r.excluded.length);
  assert.deepEqual(loaded.stats, r.stats);
});

test("SLOs: goodput and attainment in stats, figures and the HTML report", async () => {
  const r = await new Runner({ endpoint: endpoint() }).run({ clients: 2, nRequests: 10, payload, slo: { ttft: 0.5, tpot: 0.5, ttlt: 0.001 } });
  const s = r.stats;
  // Every request meets the TTFT and TPOT objectives; none finishes within 1 ms.
  assert.equal(s["slo_attainment-time_to_first_token"], 1);
  assert.equal(s["slo_attainment-time_per_output_token"], 1);
  assert.equal(s["slo_attainment-time_to_last_token"], 0);
  assert.equal(s.slo_attainment, 0);
  assert.equal(s.goodput, 0);
  assert.deepEqual(r.info.slo, { ttft: 0.5, tpot: 0.5, ttlt: 0.001 });
  const good = await new Runner({ endpoint: endpoint() }).run({ clients: 2, nRequests: 10, payload, slo: { ttlt: 5 } });
  assert.equal(good.stats.slo_attainment, 1);
  assert.equal(good.stats.goodput, good.stats.requests_per_minute);
  const figs = await good.figures();
  assert.deepEqual(figs.slo_attainment.data[0].y, [1, 1]);
  const html = await good.toHTML();
  assert.match(html, /goodput \(req\/min\)/);
  assert.match(html, /SLO: TTLT ≤ 5 s/);
});

test("callbacks in LLMeter's order: async hooks awaited, payload edits sent, annotations and contributed stats saved", async () => {
  const log = [];
  const tracer = {
    async beforeRun(config) { await new Promise((r) => setTimeout(r, 5)); log.push(`beforeRun ${config.run_name}`); config.run_description = "traced"; },
    async beforeInvoke(p) { log.push("beforeInvoke"); p.messages[0].content += " (edited)"; },
    afterInvoke(response) { log.push(`afterInvoke ${response.num_tokens_output}`); response.annotations = { ...response.annotations, traced: response.id.length }; },
    async afterRun(result) { log.push("afterRun"); result.contributeStats({ traced_responses: result.responses.length }); },
  };
  const out = tmp();
  const runner = new Runner({ endpoint: endpoint(), callbacks: [tracer], outputPath: out });
  const r = await runner.run({ clients: 2, nRequests: 3, payload, runName: "traced-run", onStart: (c) => log.push(`onStart ${c.run_description}`) });
  assert.deepEqual(log.slice(0, 2), ["beforeRun traced-run", "onStart traced"]);
  assert.equal(log.filter((l) => l === "beforeInvoke").length, 6);
  // afterInvoke runs for every response after the last request, with token counts filled.
  const firstAfter = log.findIndex((l) => l.startsWith("afterInvoke"));
  assert.ok(log.slice(firstAfter, firstAfter + 6).every((l) => l === "afterInvoke 4"), log.join(" | "));
  assert.equal(log.at(-1), "afterRun");
  assert.equal(r.summary.run_description, "traced");
  assert.ok(r.responses.every((x) => x.input_payload.messages[0].content === "hello there (edited)"));
  assert.ok(r.responses.every((x) => x.annotations.traced === x.id.length));
  assert.equal(r.stats.traced_responses, 6);
  // Saved in LLMeter's files, and back through Result.load.
  const folder = path.join(out, "traced-run");
  assert.equal(JSON.parse(readFileSync(path.join(folder, "stats.json"), "utf8")).traced_responses, 6);
  const back = await Result.load(folder);
  assert.equal(back.stats.traced_responses, 6);
  assert.deepEqual(back.responses.map((x) => x.annotations), r.responses.map((x) => x.annotations));
  assert.equal(back.summary.output_path, folder);
  // A throwing beforeRun rejects the run with its own error; nothing is sent.
  const boom = new Error("no run today");
  await sim.clear();
  await assert.rejects(runner.run({ clients: 1, payload, callbacks: [{ beforeRun() { throw boom; } }] }), (e) => e === boom);
  assert.equal((await sim.requests()).length, 0);
  // A throwing afterRun is a warning (LLMeter 0.2.0 logs it), saved with the run.
  const warned = await runner.run({ clients: 1, nRequests: 1, payload, runName: "warned", callbacks: [{ afterRun() { throw new Error("late"); } }] });
  assert.ok(warned.info.warnings.some((w) => /afterRun failed: late/.test(w)), warned.info.warnings.join());
  assert.ok(readFileSync(path.join(out, "warned", "run_info.json"), "utf8").includes("afterRun failed: late"));
});

test("CostModel: LLMeter's cost_* keys, also when some requests failed; CacheBuster tags every request", async () => {
  const faulty = await startSim(["--ttft-ms", "2", "--fault-rate", "0.3", "--faults", "500", "--seed", "9"]);
  try {
    const cost = new CostModel({ requestDims: [new InputTokens(3), new OutputTokens(15)], runDims: { endpoint: new EndpointTime(36) } });
    const r = await new Runner({ endpoint: endpoint(faulty), callbacks: [new CacheBuster(), cost] }).run({ clients: 2, nRequests: 10, payload });
    const failed = r.responses.filter((x) => x.error !== null);
    const ok = r.responses.filter((x) => x.error === null);
    assert.ok(failed.length > 0 && ok.length > 0, `${failed.length} failed`);
    for (const x of ok) {
      // 2 prompt words + the tag; 4 output tokens from the API's usage.
      assert.equal(x.annotations.cost_InputTokens, x.num_tokens_input * 3 / 1e6);
      assert.equal(x.annotations.cost_OutputTokens, 4 * 15 / 1e6);
    }
    for (const x of failed) assert.equal(x.annotations.cost_total, null);
    const s = r.stats;
    const keys = Object.keys(s).filter((k) => k.startsWith("cost_"));
    assert.deepEqual(keys, [
      ...["average", "p50", "p90", "p99"].map((a) => `cost_InputTokens_per_request-${a}`),
      ...["average", "p50", "p90", "p99"].map((a) => `cost_OutputTokens_per_request-${a}`),
      ...["average", "p50", "p90", "p99"].map((a) => `cost_per_request-${a}`),
      "cost_endpoint", "cost_InputTokens", "cost_OutputTokens", "cost_total",
    ]);
    assert.equal(s.cost_endpoint, Math.ceil(r.summary.total_test_time) * 36 / 3600);
    assert.ok(Math.abs(s.cost_OutputTokens - ok.length * 60e-6) < 1e-15);
    // Every request got its own tag (no two prompts alike: implicit caching cannot help).
    const prompts = new Set(r.responses.filter((x) => x.input_payload).map((x) => x.input_payload.messages[0].content));
    assert.equal(prompts.size, r.responses.filter((x) => x.input_payload).length);
    assert.ok([...prompts].every((p) => /^\[req-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\] hello there$/.test(p)));
    // The cost model is LLMeter's envelope in run_config.json; the cache buster is not an LLMeter class.
    assert.deepEqual(r.runConfig.callbacks, [cost.envelope]);
  } finally {
    await faulty.stop();
  }
});

test("outputPath is written as the run goes, then replaced by the final files", async () => {
  const out = tmp();
  const folder = path.join(out, "live");
  let seenDuring = null;
  const r = await new Runner({ endpoint: endpoint() }).run({
    clients: 1, nRequests: 30, payload, runName: "live", outputPath: folder, progressIntervalMs: 0,
    onProgress: (p) => {
      if (p.completed === 25 && seenDuring === null) {
        seenDuring = { config: existsSync(path.join(folder, "run_config.json")), summary: existsSync(path.join(folder, "summary.json")), lines: readFileSync(path.join(folder, "responses.jsonl"), "utf8").split("\n").filter(Boolean).length };
      }
    },
  });
  // The runner writes responses in batches (every 250 ms or 200 responses), never per response.
  assert.equal(seenDuring.config, true);
  assert.equal(seenDuring.summary, false);
  assert.ok(seenDuring.lines >= 0 && seenDuring.lines < 25, JSON.stringify(seenDuring));
  assert.deepEqual(readdirSync(folder).sort(), ["chunk_timings.jsonl", "payload.jsonl", "responses.jsonl", "run_config.json", "run_info.json", "stats.json", "summary.json"]);
  assert.equal(r.summary.output_path, folder);
  assert.equal(JSON.parse(readFileSync(path.join(folder, "run_config.json"), "utf8")).output_path, folder);
  assert.deepEqual((await Result.load(folder)).stats, r.stats);
});

test("Result.load and LoadTestResult.load: LLMeter's rules and clear errors", async () => {
  const out = tmp();
  const lt = await new LoadTest({ endpoint: endpoint(), payload, sequenceOfClients: [1, 2], testName: "lt", outputPath: out }).run();
  const folder = path.join(out, "lt");
  assert.deepEqual(readdirSync(folder).sort(), ["00001-clients", "00002-clients"]);
  const back = await LoadTestResult.load(folder);
  assert.equal(back.testName, "lt");
  assert.deepEqual(back.clients, [1, 2]);
  for (const c of [1, 2]) assert.deepEqual(back.results.get(c).stats, lt.results.get(c).stats);
  // Summaries and stats only: no responses.
  const light = await LoadTestResult.load(folder, { loadResponses: false, testName: "renamed" });
  assert.equal(light.testName, "renamed");
  assert.equal(light.results.get(2).responses.length, 0);
  assert.deepEqual(light.results.get(2).stats, JSON.parse(readFileSync(path.join(folder, "00002-clients", "stats.json"), "utf8")));
  // Clear errors: a missing path, a folder without results, a load test with a stray folder.
  await assert.rejects(Result.load(path.join(out, "nope")), /Result\.load: no such folder: .*nope/);
  mkdirSync(path.join(out, "empty"));
  await assert.rejects(Result.load(path.join(out, "empty")), /no results in .*empty/);
  await assert.rejects(LoadTestResult.load(path.join(out, "empty")), /no run folders in/);
  await assert.rejects(LoadTestResult.load(path.join(out, "nope")), /no such folder/);
  mkdirSync(path.join(folder, "notes"));
  writeFileSync(path.join(folder, "notes", "todo.txt"), "x");
  await assert.rejects(LoadTestResult.load(folder), /no results in .*notes/);
  rmSync(path.join(folder, "notes"), { recursive: true });
  // A plain file beside the levels is ignored, as in LLMeter.
  writeFileSync(path.join(folder, "report.html"), "<html>");
  assert.deepEqual((await LoadTestResult.load(folder)).clients, [1, 2]);
  // fromFiles: LLMeter's rule too.
  const files = lt.toFiles();
  await assert.rejects(LoadTestResult.fromFiles({ ...files, "lt/stray/x.txt": "x" }), /lt\/stray: no summary\.json/);
  const fromFiles = await LoadTestResult.fromFiles(files, { loadResponses: false });
  assert.equal(fromFiles.results.get(1).responses.length, 0);
});

test("LLMeter's loading differences: corrupt stats.json or run_config.json warn, offsets become UTC, null total_requests stays null", async () => {
  const r = await new Runner({ endpoint: endpoint() }).run({ clients: 1, nRequests: 3, payload, runName: "quirks" });
  const files = r.toFiles();
  const quirky = await Result.fromFiles({ ...files, "stats.json": "{ broken", "run_config.json": "[1," });
  assert.deepEqual(Object.keys(quirky.stats), Object.keys(r.stats).filter((k) => k in quirky.stats));
  assert.equal(quirky.stats["time_to_last_token-p50"], r.stats["time_to_last_token-p50"]);
  assert.ok(quirky.info.warnings.some((w) => w.startsWith("stats.json: ")));
  assert.ok(quirky.info.warnings.some((w) => w.startsWith("run_config.json: ")));
  const summary = { ...JSON.parse(files["summary.json"]), total_requests: null, start_time: "2025-01-01T14:00:00.250+02:00" };
  const lines = files["responses.jsonl"].trim().split("\n").map((l) => JSON.parse(l));
  lines[0].request_time = "2025-01-01T13:00:00+01:00";
  lines[1].id = null;
  const odd = await Result.fromFiles({ ...files, "summary.json": JSON.stringify(summary), "responses.jsonl": lines.map((l) => JSON.stringify(l)).join("\n") });
  assert.equal(odd.summary.total_requests, null);
  assert.equal(odd.stats.failed_requests_rate, null);
  assert.equal(odd.summary.start_time, "2025-01-01T12:00:00.250Z");
  assert.equal(odd.responses[0].request_time, "2025-01-01T12:00:00Z");
  assert.equal(odd.responses[1].id, null);
  assert.match(odd.toFiles()["responses.jsonl"].split("\n")[1], /"id": null/);
});

test("rate levels and a GuideLLM sweep: folders say their rate, charts against the offered rate", async () => {
  const out = tmp();
  const rates = await new LoadTest({ endpoint: endpoint(), payload, sequenceOfRates: [10, 20.5], minRequestsPerRun: 12, testName: "rates", outputPath: out, slo: { ttlt: 1 } }).run();
  assert.deepEqual(rates.offeredRates, [10, 20.5]);
  assert.deepEqual(readdirSync(path.join(out, "rates")).sort(), ["00010.000-rps", "00020.500-rps"]);
  const r20 = rates.rates.get(20.5);
  assert.equal(r20.info.load.rate, 20.5);
  assert.equal(r20.responses.length, 12);
  assert.ok("schedule_lag-p99" in r20.stats);
  const back = await LoadTestResult.load(path.join(out, "rates"));
  assert.deepEqual(back.offeredRates, [10, 20.5]);
  assert.deepEqual(back.clients, []);
  const figs = await back.figures();
  assert.deepEqual(Object.keys(figs).sort(), ["error_rate_vs_rate", "goodput_vs_rate", "latency_vs_rate", "schedule_lag_vs_rate", "throughput_vs_rate"]);
  assert.deepEqual(figs.goodput_vs_rate.data[0].x, [10, 20.5]);
  assert.match(await back.toHTML(), /Statistics by offered rate/);

  const sweep = await new LoadTest({ endpoint: endpoint(), payload, sweep: { size: 4, throughputClients: 4 }, runDuration: 0.4, testName: "sweep" }).run();
  assert.deepEqual(sweep.clients, [1, 4]);
  assert.equal(sweep.rates.size, 2);
  const [low, high] = sweep.offeredRates;
  const syncRate = sweep.results.get(1).responses.length / sweep.results.get(1).summary.total_test_time;
  const tpRate = sweep.results.get(4).responses.length / sweep.results.get(4).summary.total_test_time;
  // GuideLLM: linspace(sync, throughput, size - 1)[1:].
  assert.ok(Math.abs(high - tpRate) < 1e-9 && Math.abs(low - (syncRate + tpRate) / 2) < 1e-9, `${low} ${high} from ${syncRate} ${tpRate}`);
  const files = sweep.toFiles();
  assert.ok(Object.keys(files).some((p) => p.startsWith("sweep/00004-clients/")));
  const reread = await LoadTestResult.fromFiles(files);
  assert.deepEqual(reread.clients, [1, 4]);
  assert.deepEqual(reread.offeredRates, sweep.offeredRates);
});

test("LatencyHeatmap with outputPath writes its level and heatmap.json; cells come from the core", async () => {
  const out = tmp();
  const hm = await new LatencyHeatmap({ endpoint: endpoint(), sourceText: "one two three four five six seven eight", inputLengths: [2, 4], outputLengths: [3], clients: 2, testName: "hm", outputPath: out }).run();
  const folder = path.join(out, "hm", "00002-clients");
  assert.ok(existsSync(path.join(folder, "heatmap.json")) && existsSync(path.join(folder, "summary.json")));
  const cells = hm.cells();
  assert.deepEqual(cells.map((row) => row.map((c) => c.length)), [[1], [1]]);
  assert.equal(cells[1][0][0].num_tokens_input, 4);
});
