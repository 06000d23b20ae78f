// Demo benchmark against the built-in simulator: the same run in headless Chromium and in Node,
// timings checked against the simulator's ground truth, LLMeter-format files written.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { startSim, median, ROOT } from "../tests/js/sim.js";
import { startStatic, launchChromium } from "../tests/js/browser.js";
import { OpenAIEndpoint, Runner } from "../pkg/index.js";

const OUT = path.join(ROOT, "out/demo");
const TTFT_MS = 80, ITL_MS = 15, TOKENS = 24;
const payload = { messages: [{ role: "user", content: "Explain time to first token in one paragraph." }], max_tokens: TOKENS };
const levels = [1, 4];

const sim = await startSim(["--ttft-ms", String(TTFT_MS), "--itl-ms", String(ITL_MS)]);
const site = await startStatic();
const browser = await launchChromium();
const rows = [];
try {
  const page = await browser.newPage();
  await page.goto(`${site.origin}/tests/js/pages/runner.html`);
  await page.waitForFunction(() => window.ready === true);
  for (const clients of levels) {
    const run = { clients, nRequests: 5, payload, runName: `chromium-${String(clients).padStart(5, "0")}-clients` };
    const r = await page.evaluate((args) => window.runBench(args), { endpoint: { baseUrl: sim.base, model: "sim-model" }, run });
    rows.push(await summarise("chromium", clients, r.responses, r.stats, r.info));
    save(run.runName, r.files);
  }
  for (const clients of levels) {
    const runName = `node-${String(clients).padStart(5, "0")}-clients`;
    const result = await new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: sim.base, model: "sim-model" }) }).run({ clients, nRequests: 5, payload, runName });
    rows.push(await summarise("node", clients, result.responses, result.stats, result.info));
    save(runName, result.toFiles());
  }
} finally {
  await browser.close();
  await site.close();
  await sim.stop();
}

console.log(`\nllm-sim configured: TTFT ${TTFT_MS} ms, ${ITL_MS} ms between tokens, ${TOKENS} tokens per response\n`);
console.table(rows);
console.log(`\n"err" columns: client-measured minus the simulator's own record of when it sent the token (ms, p50).`);
console.log(`Results (LLMeter's folder layout, loadable with llmeter.results.Result.load): ${path.relative(process.cwd(), OUT)}/`);
console.log(`\nThe playground (built in www/dist/): node scripts/serve-www.mjs --sim  →  http://127.0.0.1:8080/`);

function save(name, files) {
  const dir = path.join(OUT, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) writeFileSync(path.join(dir, file), content);
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
