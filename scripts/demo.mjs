// Demo benchmark against the built-in simulator: the same load test (1, 4, 8 clients) in headless
// Chromium and in Node, timings checked against the simulator's ground truth, and a latency
// heatmap over input × output tokens; LLMeter-format folders, Plotly figures (JSON) and
// self-contained HTML reports with the charts written to out/demo/.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { startSim, median, ROOT } from "../tests/js/sim.js";
import { startStatic, launchChromium } from "../tests/js/browser.js";
import { OpenAIEndpoint, LoadTest, LoadTestResult, LatencyHeatmap } from "../pkg/index.js";

const OUT = path.join(ROOT, "out/demo");
rmSync(OUT, { recursive: true, force: true });
const TTFT_MS = 80, ITL_MS = 15, TOKENS = 24;
const payload = { messages: [{ role: "user", content: "Explain time to first token in one paragraph." }], max_tokens: TOKENS };
const levels = [1, 4, 8];

const sim = await startSim(["--ttft-ms", String(TTFT_MS), "--itl-ms", String(ITL_MS)]);
const site = await startStatic();
const browser = await launchChromium();
const rows = [];
/** What each run's result says distorted its numbers (`info.warnings`), printed under the table. */
const warnings = [];
const chromiumFiles = {};
let heatSim, heatRows = [];
// Public-domain source text for the heatmap's prompts (Melville, "Moby-Dick", 1851), repeated.
const SOURCE_TEXT = "Call me Ishmael. Some years ago—never mind how long precisely—having little or no money in my purse, and nothing particular to interest me on shore, I thought I would sail about a little and see the watery part of the world. It is a way I have of driving off the spleen and regulating the circulation. ".repeat(40);
try {
  const page = await browser.newPage();
  await page.goto(`${site.origin}/tests/js/pages/runner.html`);
  await page.waitForFunction(() => window.ready === true);
  for (const clients of levels) {
    const run = { clients, nRequests: 5, payload, runName: `${String(clients).padStart(5, "0")}-clients` };
    const r = await page.evaluate((args) => window.runBench(args), { endpoint: { baseUrl: sim.base, model: "sim-model" }, run });
    rows.push(await summarise("chromium", clients, r.responses, r.stats, r.info));
    for (const [file, text] of Object.entries(r.files)) chromiumFiles[`${String(clients).padStart(5, "0")}-clients/${file}`] = text;
  }
  const endpoint = new OpenAIEndpoint({ baseUrl: sim.base, model: "sim-model" });
  const nodeTest = await new LoadTest({ endpoint, payload, sequenceOfClients: levels, minRequestsPerClient: 5, testName: "node-load-test" }).run();
  for (const [clients, result] of nodeTest.results) rows.push(await summarise("node", clients, result.responses, result.stats, result.info));
  await writeTest(nodeTest);
  await writeTest(await LoadTestResult.fromFiles(chromiumFiles, { testName: "chromium-load-test" }));
  // Latency heatmap: a simulator whose prefill takes 0.3 ms per input token, so TTFT grows with
  // input length and TTLT with output length.
  heatSim = await startSim(["--ttft-ms", "20", "--itl-ms", "8", "--prefill-us-per-token", "300"]);
  const heatmap = await new LatencyHeatmap({
    endpoint: new OpenAIEndpoint({ baseUrl: heatSim.base, model: "sim-model" }),
    sourceText: SOURCE_TEXT, clients: 4, inputLengths: [64, 512], outputLengths: [8, 64], requestsPerCombination: 4, testName: "node-heatmap",
  }).run();
  heatRows = heatmap.cells().flatMap((row, i) => row.map((cell, j) => ({
    "input tokens": heatmap.plan.input_lengths[i], "output tokens": heatmap.plan.output_lengths[j], requests: cell.length,
    "TTFT p50 ms": (1000 * median(cell.map((r) => r.time_to_first_token))).toFixed(1),
    "TTLT p50 ms": (1000 * median(cell.map((r) => r.time_to_last_token))).toFixed(1),
  })));
  await writeTest(heatmap);
} finally {
  await browser.close();
  await site.close();
  await sim.stop();
  await heatSim?.stop();
}

console.log(`\nllm-sim configured: TTFT ${TTFT_MS} ms, ${ITL_MS} ms between tokens, ${TOKENS} tokens per response\n`);
console.table(rows);
console.log(`\n"err" columns: client-measured minus the simulator's own record of when it sent the token (ms, p50).`);
if (warnings.length) console.log(`\nWhat the results say about their own numbers (info.warnings):\n${warnings.map((w) => `  - ${w}`).join("\n")}`);
console.log(`\nLatency heatmap (llm-sim: 20 ms + 0.3 ms per input token to first token, 8 ms per output token):`);
console.table(heatRows);
const rel = path.relative(process.cwd(), OUT);
console.log(`\nWritten to ${rel}/ — LLMeter's folder layout (llmeter.experiments.LoadTestResult.load loads each load test):`);
for (const name of ["chromium-load-test", "node-load-test", "node-heatmap"]) console.log(`  ${rel}/${name}/  report: ${rel}/${name}.html  figures: ${rel}/${name}.figures.json`);
console.log(`\nThe playground (built in www/dist/): node scripts/serve-www.mjs --sim  →  http://127.0.0.1:8080/`);

/** Writes a load test's or heatmap's folder, its Plotly figures and its HTML report. */
async function writeTest(test) {
  const files = test.toFiles();
  const prefix = Object.keys(files).every((k) => k.startsWith(`${test.testName}/`)) ? "" : `${test.testName}/`;
  for (const [file, content] of Object.entries(files)) {
    const target = path.join(OUT, prefix + file);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
  writeFileSync(path.join(OUT, `${test.testName}.figures.json`), JSON.stringify(await test.figures()));
  writeFileSync(path.join(OUT, `${test.testName}.html`), await test.toHTML());
}

async function summarise(runtime, clients, responses, stats, info) {
  const errs = [];
  for (const r of responses) {
    const [rec] = await sim.requests(r.id.replace(/^chatcmpl-/, ""));
    if (rec && r.time_to_first_token != null) {
      errs.push([r.time_to_first_token * 1000 - (rec.first_token_sent_us - rec.received_us) / 1000, r.time_to_last_token * 1000 - (rec.last_token_sent_us - rec.received_us) / 1000]);
    }
  }
  const ms = (s) => (s == null ? "—" : (s * 1000).toFixed(1));
  for (const w of info.warnings ?? []) warnings.push(`${runtime}, ${clients} clients: ${w}`);
  return {
    runtime: `${runtime} (${info.runtime})`,
    clients,
    requests: responses.length,
    failed: stats.failed_requests,
    "TTFT p50 ms": ms(stats["time_to_first_token-p50"]),
    "TTFT p90 ms": ms(stats["time_to_first_token-p90"]),
    "TTLT p50 ms": ms(stats["time_to_last_token-p50"]),
    "TPOT p50 ms": ms(stats["time_per_output_token-p50"]),
    "req/min": stats.requests_per_minute?.toFixed(0),
    "TTFT err ms": errs.length ? median(errs.map((e) => e[0])).toFixed(2) : "—",
    "TTLT err ms": errs.length ? median(errs.map((e) => e[1])).toFixed(2) : "—",
  };
}
