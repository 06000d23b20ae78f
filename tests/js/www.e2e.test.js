// The playground (www/dist) end to end in headless Chromium against real llm-sim processes:
// configure, run, live progress, charts, stop mid-way, history across reloads, export and
// re-import, compare, a CORS-misconfigured endpoint, accessibility (axe-core); hardening: the
// Content-Security-Policy (no violation during the whole suite), frame-ancestors, cross-origin
// isolation by headers and by the service-worker fallback (the finer clock it gives), a share
// link nested too deep, a crashed engine worker, storage full mid-run. Screenshots of the main
// states go to out/screenshots/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createServer } from "node:http";
import { startSim, ROOT } from "./sim.js";
import { launchChromium } from "./browser.js";
import { LLAMA3_TOKENIZER_PATH } from "./tokenizer-fixtures.js";
import { serveWww } from "../../scripts/serve-www.mjs";
import { encodeShare } from "../../www/src/share.js";

const SHOTS = path.join(ROOT, "out/screenshots");
const DOWNLOADS = path.join(ROOT, "out/www-downloads");
const SECRET = "sk-e2e-do-not-store";
let sim, noCors, site, browser, context, page;
/** Content-Security-Policy violations reported by any page of the suite (Chromium logs each). */
const cspViolations = [];

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  mkdirSync(DOWNLOADS, { recursive: true });
  sim = await startSim(["--ttft-ms", "normal:60,10", "--itl-ms", "normal:8,2", "--seed", "7"]);
  noCors = await startSim(["--no-cors"]);
  site = await serveWww(0);
  browser = await launchChromium();
  context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1360, height: 900 } });
  context.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text()); });
  page = await context.newPage();
  page.on("dialog", (d) => d.accept());
  page.on("pageerror", (e) => console.log("# page error:", e.message));
  await open();
});
after(async () => {
  await browser?.close();
  await site?.close();
  await sim?.stop();
  await noCors?.stop();
});

async function open() {
  await page.goto(`${site.origin}/`);
  await page.waitForFunction(() => window.playground?.ready === true);
}

const shot = (name) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

async function configure({ base = sim.base, clients = 4, perClient = 6, maxTokens = 24, runName }) {
  await page.check('input[name="experiment"][value="load"]');
  await page.check('input[name="load"][value="clients"]');
  // The form remembers its settings: no warm-up, SLOs or prices unless a test sets them.
  // (Folded away in <details>: set directly.)
  await page.evaluate((ids) => { for (const id of ids) document.getElementById(id).value = ""; }, ["warmup", "slo-ttft", "slo-tpot", "slo-ttlt", "price-in", "price-out", "price-hour"]);
  await page.fill("#base-url", base);
  await page.fill("#model", "sim-model");
  await page.fill("#api-key", SECRET);
  await page.fill("#payload", JSON.stringify({ messages: [{ role: "user", content: "Explain TTFT." }], max_tokens: maxTokens }, null, 2));
  await page.fill("#clients", String(clients));
  await page.check('input[name="mode"][value="requests"]');
  await page.fill("#amount", String(perClient));
  await page.fill("#run-name", runName);
}

const text = (sel) => page.textContent(sel);
const historyRow = (name) => page.locator("#history-table tbody tr", { has: page.getByRole("button", { name: `Open run “${name}”` }) });

async function seriousA11yViolations() {
  // Evaluated by the test driver: the page's CSP allows no injected script tag.
  await page.evaluate(readFileSync(path.join(ROOT, "node_modules/axe-core/axe.min.js"), "utf8"));
  const results = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return results.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")})`);
}

test("the empty page passes axe-core with no serious or critical violations", async () => {
  assert.deepEqual(await seriousA11yViolations(), []);
});

test("payload editor points at the exact line of a JSON or JSONL error", async () => {
  await page.fill("#payload", '{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 8}\n{"messages": [}\n{"messages": []}');
  assert.match(await text("#payload-status"), /^Line 2 is not valid JSON/);
  assert.equal(await page.getAttribute("#payload", "aria-invalid"), "true");
  assert.match(await text("#payload-gutter"), /▶2/);
  await page.fill("#payload", '{\n  "messages": [],\n  "max_tokens": 8,\n}');
  assert.match(await text("#payload-status"), /^Invalid JSON at line 4/);
  await page.fill("#payload", '{"max_tokens": 8}');
  assert.match(await text("#payload-status"), /no "messages" array/);
  await page.selectOption("#preset", "mixed");
  assert.match(await text("#payload-status"), /✓ 3 payloads \(JSONL\)/);
});

test("a run in the worker: live progress, final stats, charts drawn, key never stored", async () => {
  await configure({ clients: 4, perClient: 8, runName: "e2e-full" });
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot("01-configured");
  await page.click("#start");
  // Live: some responses counted while others are still outstanding.
  await page.waitForFunction(() => {
    const done = Number(document.getElementById("live-completed").textContent);
    const bar = document.getElementById("progress");
    return done > 0 && bar.value < bar.max;
  });
  assert.match(await text("#progress-text"), /\/ 32 requests/);
  await page.waitForFunction(() => document.querySelector('#history-table tr[data-status="running"] .badge')?.textContent === "running");
  assert.ok(page.workers().length >= 1, "the engine runs in a Web Worker");
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot("02-running");
  await page.waitForFunction(() => /^Finished/.test(document.getElementById("live-state").textContent));
  assert.equal(await text("#live-completed"), "32");
  assert.equal(await text("#live-failed"), "0");
  assert.match(await text("#live-ttft-p50"), /^\d+(\.\d)? ms$/);
  const ttftP50 = Number((await text("#live-ttft-p50")).replace(" ms", ""));
  assert.ok(ttftP50 > 40 && ttftP50 < 200, `TTFT p50 ${ttftP50} ms (sim: 60 ms)`);
  assert.equal(await page.isVisible("#results"), true);
  const firstRow = await page.$$eval("#stats-table tbody tr:first-child > *", (cells) => cells.map((c) => c.textContent));
  assert.equal(firstRow[0], "Time to first token");
  assert.match(firstRow[1], /ms$/);
  // Charts: the package's figure objects, drawn by Plotly with every response.
  await page.waitForSelector("#chart-time_to_first_token_histogram .bars path");
  const drawn = await page.evaluate(() => ["time_to_first_token_histogram", "time_to_last_token_histogram", "time_per_output_token_histogram", "latency_box"].map((id) => {
    const gd = document.getElementById(`chart-${id}`);
    return gd.data.reduce((n, t) => n + (t.x ?? t.y).length, 0);
  }));
  assert.deepEqual(drawn, [32, 32, 32, 96]);
  assert.ok((await page.$$("#chart-latency_box .box")).length >= 3);
  // Responses are text: a model answer is never parsed as HTML.
  assert.equal(await page.$$eval("#responses-table tbody tr", (r) => r.length), 32);
  assert.match(await text("#resp-output"), /^PROMPT\nExplain TTFT\.\n\nOUTPUT\n\s*\S+/);
  assert.equal(await page.$$eval("#resp-output *", (els) => els.length), 0);
  // The sim saw the key; the browser's history did not keep it.
  const seen = await sim.requests();
  assert.equal(seen.length, 32);
  // Everything the page's ResultStore (IndexedDB) holds.
  const stored = await page.evaluate(() => new Promise((resolve) => {
    const req = indexedDB.open("llmeter-results");
    req.onsuccess = () => {
      const tx = req.result.transaction(["runs", "batches"]);
      const runs = tx.objectStore("runs").getAll(), batches = tx.objectStore("batches").getAll();
      tx.oncomplete = () => resolve(JSON.stringify([runs.result, batches.result]));
    };
  }));
  assert.ok(stored.includes("e2e-full"));
  assert.ok(!stored.includes(SECRET), "API key stored in history");
  assert.equal(await historyRow("e2e-full").locator(".badge").textContent(), "complete");
  await shot("03-results");
});

test("stopping mid-way keeps the partial result, marked interrupted in history", async () => {
  await configure({ clients: 2, perClient: 40, runName: "e2e-stopped" });
  await page.click("#start");
  await page.waitForFunction(() => /^Running “e2e-stopped”/.test(document.getElementById("live-state").textContent) && Number(document.getElementById("live-completed").textContent) >= 4);
  await page.click("#stop");
  await page.waitForFunction(() => /^Stopped/.test(document.getElementById("live-state").textContent));
  // Cancelling requests in flight is not a crash: no problem shown, the engine is not replaced.
  assert.equal(await page.isHidden("#problem"), true, await text("#problem"));
  const row = historyRow("e2e-stopped");
  assert.equal(await row.locator(".badge").textContent(), "interrupted");
  const okCount = Number((await row.locator("td").nth(4).textContent()).match(/^(\d+) ok/)[1]);
  assert.ok(okCount >= 4 && okCount < 80, `${okCount} responses kept`);
  assert.match(await text("#results-meta"), /interrupted/);
  await shot("04-stopped");
});

test("a page closed mid-run: the next visit finds the run, interrupted, with the responses saved until then", async () => {
  await configure({ clients: 2, perClient: 60, runName: "e2e-closed" });
  await page.click("#start");
  await page.waitForFunction(() => /^Running “e2e-closed”/.test(document.getElementById("live-state").textContent) && Number(document.getElementById("live-completed").textContent) >= 6);
  await page.waitForTimeout(600); // the store commits responses in groups (every 250 ms)
  await open(); // the reload ends the page and its worker mid-run
  const row = historyRow("e2e-closed");
  await row.waitFor();
  assert.equal(await row.locator(".badge").textContent(), "interrupted");
  const kept = Number((await row.locator("td").nth(4).textContent()).match(/^(\d+) ok/)[1]);
  assert.ok(kept >= 6 && kept < 120, `${kept} responses kept`);
  await row.getByRole("button", { name: "Open run “e2e-closed”" }).click();
  await page.waitForFunction((n) => document.querySelectorAll("#responses-table tbody tr").length === n, kept);
  assert.match(await text("#results-warnings"), /Recovered from the result store/);
});

test("history survives a reload; compare two runs on the same charts", async () => {
  await open();
  await historyRow("e2e-full").waitFor();
  assert.equal(await historyRow("e2e-stopped").locator(".badge").textContent(), "interrupted");
  // Form configuration (not the key) comes back too.
  assert.equal(await page.inputValue("#base-url"), sim.base);
  assert.equal(await page.inputValue("#api-key"), "");
  await historyRow("e2e-full").locator(".pick").check();
  await historyRow("e2e-stopped").locator(".pick").check();
  await page.click("#compare");
  await page.waitForFunction(() => document.getElementById("chart-time_to_first_token")?.data?.length === 2);
  assert.match(await text("#results-title"), /Comparing 2 runs/);
  assert.equal(await page.$$eval("#stats-table tbody tr", (r) => r.length), 2);
  await shot("05-compare");
});

test("export a run as zip, delete it, import it back; HTML report", async () => {
  const row = historyRow("e2e-full");
  const [download] = await Promise.all([page.waitForEvent("download"), row.getByRole("button", { name: "Export “e2e-full” as zip" }).click()]);
  const zipPath = path.join(DOWNLOADS, download.suggestedFilename());
  await download.saveAs(zipPath);
  assert.equal(download.suggestedFilename(), "e2e-full.zip");
  const zip = readFileSync(zipPath);
  assert.ok(zip.includes("e2e-full/responses.jsonl") && zip.includes("e2e-full/summary.json"));
  assert.ok(!zip.includes(SECRET));
  await row.getByRole("button", { name: "Delete “e2e-full”" }).click();
  await page.waitForFunction(() => !document.querySelector('#history-table button[aria-label="Open run “e2e-full”"]'));
  await page.setInputFiles("#import-zip", zipPath);
  await page.waitForFunction(() => /Imported 1 run/.test(document.getElementById("history-status").textContent));
  const back = historyRow("e2e-full");
  assert.equal(await back.locator(".badge").textContent(), "complete");
  assert.equal(await back.locator("td").nth(4).textContent(), "32 ok");
  await back.getByRole("button", { name: "Open run “e2e-full”" }).click();
  await page.waitForFunction(() => document.getElementById("chart-time_to_first_token_histogram")?.data?.[0]?.x?.length === 32);
  const [report] = await Promise.all([page.waitForEvent("download"), page.click("#export-html")]);
  const html = readFileSync(await report.path(), "utf8");
  assert.match(html, /e2e-full/);
  assert.ok((html.match(/<svg/g) ?? []).length >= 4, "the report embeds its charts as SVG");
  assert.ok(!html.includes(SECRET));
});

test("upload through a user-entered presign endpoint (presign, then PUT of each file)", async () => {
  // A presign service and object store in one small real HTTP server, allowing this page's origin.
  const objects = new Map(), presigned = [];
  const server = createServer(async (req, res) => {
    const cors = { "access-control-allow-origin": site.origin, "access-control-allow-headers": "content-type", "access-control-allow-methods": "POST, PUT" };
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    if (req.method === "OPTIONS") return res.writeHead(204, cors).end();
    if (req.method === "POST" && req.url === "/presign") {
      const { key, contentType } = JSON.parse(body.toString());
      presigned.push({ key, contentType });
      return res.writeHead(200, { ...cors, "content-type": "application/json" }).end(JSON.stringify({ url: `http://127.0.0.1:${server.address().port}/bucket/${encodeURIComponent(key)}?X-Amz-Signature=t` }));
    }
    if (req.method === "PUT" && req.url.startsWith("/bucket/")) {
      objects.set(decodeURIComponent(req.url.split("?")[0].slice("/bucket/".length)), { type: req.headers["content-type"], body });
      return res.writeHead(200, cors).end();
    }
    res.writeHead(404, cors).end();
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  try {
    await page.click("details:has(#presign-url) > summary");
    await page.fill("#presign-url", `http://127.0.0.1:${server.address().port}/presign`);
    await historyRow("e2e-full").getByRole("button", { name: "Upload “e2e-full” via the presign endpoint" }).click();
    await page.waitForFunction(() => /^Uploaded “e2e-full”: \d+ files under e2e-full\//.test(document.getElementById("history-status").textContent));
    const keys = presigned.map((p) => p.key).sort();
    for (const f of ["e2e-full/responses.jsonl", "e2e-full/run_config.json", "e2e-full/stats.json", "e2e-full/summary.json"]) assert.ok(keys.includes(f), `${f} not uploaded: ${keys}`);
    assert.deepEqual([...objects.keys()].sort(), keys);
    const responses = objects.get("e2e-full/responses.jsonl").body.toString().trim().split("\n");
    assert.equal(responses.length, 32);
    assert.ok([...objects.values()].every((o) => !o.body.includes(SECRET)));
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test("share link carries the configuration without secrets", async () => {
  await page.click("details:has(#headers) > summary");
  await page.fill("#headers", "X-Team: secret-team-token");
  await page.click("#share");
  const url = page.url();
  assert.match(url, /#config=/);
  const config = JSON.parse(Buffer.from(url.split("#config=")[1], "base64url").toString());
  assert.equal(config.baseUrl, sim.base);
  assert.deepEqual(config.headerNames, ["X-Team"]);
  assert.ok(!url.includes("secret-team-token") && !JSON.stringify(config).includes(SECRET));
  await page.fill("#headers", "");
  const fresh = await context.newPage();
  await fresh.goto(url);
  await fresh.waitForFunction(() => window.playground?.ready === true);
  assert.equal(await fresh.inputValue("#base-url"), sim.base);
  assert.equal(await fresh.inputValue("#api-key"), "");
  await fresh.close();
});

test("a load test: one run per clients level, latency and throughput against clients", async () => {
  await configure({ clients: "1, 2, 4", perClient: 3, runName: "e2e-load" });
  await page.click("#start");
  await page.waitForFunction(() => /^Level 2\/3 \(2 clients\)/.test(document.getElementById("progress-text").textContent));
  await page.waitForFunction(() => /^Finished: 21 responses, 0 failed over 3 levels/.test(document.getElementById("live-state").textContent));
  assert.equal(await text("#results-title"), "Load test “e2e-load”: 3 levels");
  for (const level of ["00001", "00002", "00004"]) assert.equal(await historyRow(`e2e-load/${level}-clients`).locator(".badge").textContent(), "complete");
  await page.waitForFunction(() => document.getElementById("chart-load-requests_per_minute")?.data?.length > 0);
  const series = await page.evaluate(() => document.getElementById("chart-load-time_to_first_token").data.map((t) => ({ name: t.name, x: t.x, n: t.y.filter((v) => v > 0).length })));
  assert.deepEqual(series.map((t) => t.name), ["p50", "p90", "p99", "average"]);
  assert.deepEqual(series.map((t) => t.x), [[1, 2, 4], [1, 2, 4], [1, 2, 4], [1, 2, 4]]);
  assert.ok(series.every((t) => t.n === 3), JSON.stringify(series));
  const rpm = await page.evaluate(() => document.getElementById("chart-load-requests_per_minute").data[0].y);
  assert.ok(rpm[2] > rpm[0], `requests/min should grow with clients: ${rpm}`);
  assert.deepEqual(await page.$$eval("#stats-table tbody tr td:nth-child(2)", (c) => c.map((x) => x.textContent)), ["1", "2", "4"]);
  await page.locator("#results").scrollIntoViewIfNeeded();
  await shot("06-load-test");
  // The whole test as one zip in LLMeter's load-test layout.
  const [dl] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Zip load test “e2e-load”" }).click()]);
  const zip = readFileSync(await dl.path());
  for (const level of ["00001", "00002", "00004"]) assert.ok(zip.includes(`e2e-load/${level}-clients/summary.json`), level);
  // Reopened from history as a whole.
  await page.getByRole("button", { name: "Open load test (3 levels) “e2e-load”" }).click();
  await page.waitForFunction(() => document.getElementById("chart-load-time_to_first_token")?.data?.length === 4);
});

test("rate mode with warm-up, SLOs and a cost model: schedule lag, goodput chart and costs; a rate load test charted against the offered rate", async () => {
  await configure({ perClient: 12, runName: "e2e-rate" });
  await page.check('input[name="load"][value="rate"]');
  assert.equal(await page.isVisible("#clients"), false);
  await page.fill("#rates", "10");
  await page.selectOption("#arrival", "poisson");
  if (!(await page.isVisible("#warmup"))) await page.click("#load-extras summary");
  await page.fill("#warmup", "2");
  await page.fill("#slo-ttft", "150");
  await page.fill("#slo-ttlt", "2000");
  await page.fill("#price-in", "3");
  await page.fill("#price-out", "15");
  await page.click("#start");
  await page.waitForFunction(() => /^Finished: 12 responses, 0 failed/.test(document.getElementById("live-state").textContent));
  const rows = Object.fromEntries(await page.$$eval("#stats-table tbody tr", (trs) => trs.map((tr) => [tr.cells[0].textContent, [...tr.cells].slice(1).map((c) => c.textContent)])));
  assert.match(rows["Schedule lag"][2], /ms$/);
  assert.match(rows["SLO attainment"][3], /^all \d+(\.\d)? %$/);
  assert.match(rows.Goodput[0], /req\/min$/);
  assert.match(rows.Cost[3], /^\$[\d.e-]+ run$/);
  await page.waitForFunction(() => document.getElementById("chart-slo_attainment")?.data?.[0]?.type === "bar");
  const attained = await page.evaluate(() => document.getElementById("chart-slo_attainment").data[0].x);
  assert.deepEqual(attained, ["TTFT ≤ 0.15 s", "TTLT ≤ 2 s", "all"]);
  await page.waitForSelector("#chart-schedule_lag_histogram");
  assert.match(await text("#results-meta"), /10 requests\/s/);
  await page.locator("#results").scrollIntoViewIfNeeded();
  await shot("06b-rate-slo-cost");
  // Two rates: a load test whose charts are against the offered rate, goodput included.
  await page.fill("#rates", "5, 10");
  await page.fill("#amount", "5");
  await page.fill("#run-name", "e2e-rates");
  await page.click("#start");
  await page.waitForFunction(() => /^Finished: 10 responses, 0 failed over 2 levels/.test(document.getElementById("live-state").textContent));
  await page.waitForFunction(() => document.getElementById("chart-load-goodput_vs_rate")?.data?.length === 2);
  assert.deepEqual(await page.evaluate(() => document.getElementById("chart-load-goodput_vs_rate").data[0].x), [5, 10]);
  assert.deepEqual(await page.$$eval("#stats-table tbody tr td:nth-child(2)", (c) => c.map((x) => x.textContent)), ["5 requests/s", "10 requests/s"]);
  for (const level of ["00005.000-rps", "00010.000-rps"]) assert.equal(await historyRow(`e2e-rates/${level}`).locator(".badge").textContent(), "complete");
  await shot("06c-rate-load-test");
});

test("a latency heatmap from the bundled text: every input × output cell, heatmaps drawn, reopened from history", async () => {
  await sim.clear();
  await page.check('input[name="experiment"][value="heatmap"]');
  assert.equal(await page.isVisible("#payload"), false, "the heatmap makes its own prompts");
  await page.fill("#hm-inputs", "10, 50, 200");
  await page.fill("#hm-outputs", "8, 32");
  await page.fill("#hm-per-cell", "2");
  await page.fill("#hm-clients", "4");
  await page.fill("#run-name", "e2e-heatmap");
  await page.click("#start");
  await page.waitForFunction(() => /^Finished: 12 responses, 0 failed/.test(document.getElementById("live-state").textContent));
  // The server saw each cell's output length requested 3 inputs × 2 times, and three prompt sizes.
  const seen = await sim.requests();
  assert.equal(seen.length, 12);
  assert.deepEqual(seen.map((r) => r.output_tokens).sort((a, b) => a - b), [8, 8, 8, 8, 8, 8, 32, 32, 32, 32, 32, 32]);
  assert.equal(new Set(seen.map((r) => r.input_tokens)).size, 3);
  await page.waitForFunction(() => document.getElementById("chart-heatmap-time_to_first_token")?.data?.length > 0);
  const cells = await page.evaluate(() => document.getElementById("chart-heatmap-time_to_first_token").data.find((t) => t.type === "heatmap").z);
  assert.equal(cells.flat().filter((v) => typeof v === "number" && v > 0).length, 6, JSON.stringify(cells));
  await page.locator("#results").scrollIntoViewIfNeeded();
  await shot("07-heatmap");
  await historyRow("e2e-heatmap/00004-clients").getByRole("button", { name: "Open run “e2e-heatmap/00004-clients”" }).click();
  await page.waitForFunction(() => document.getElementById("chart-heatmap-time_to_last_token")?.data?.length > 0);
  await page.check('input[name="experiment"][value="load"]');
});

test("a heatmap measured with a tokenizer.json file (Llama 3): prompts of exactly the target tokens", async () => {
  await page.check('input[name="experiment"][value="heatmap"]');
  await page.fill("#hm-inputs", "10, 50");
  await page.fill("#hm-outputs", "8");
  await page.fill("#hm-per-cell", "1");
  await page.fill("#hm-clients", "2");
  await page.selectOption("#hm-tokenizer", "file");
  await page.setInputFiles("#hm-tok-file", LLAMA3_TOKENIZER_PATH);
  await page.fill("#run-name", "e2e-heatmap-llama");
  await page.click("#start");
  await page.waitForFunction(() => /^Finished: 2 responses, 0 failed/.test(document.getElementById("live-state").textContent), null, { timeout: 120_000 });
  const plans = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("llmeter.heatmap:")).map((k) => JSON.parse(localStorage.getItem(k))));
  const plan = plans.find((p) => p.input_lengths.join() === "10,50");
  assert.deepEqual(plan.prompts.map((p) => p.tokens), [10, 50]);
  assert.ok(plan.prompts[1].text.startsWith("The Lighthouse Keeper's Year."));
  await page.selectOption("#hm-tokenizer", "whitespace");
  await page.check('input[name="experiment"][value="load"]');
});

test("platform warnings are shown prominently: connection limit, hidden tab", async () => {
  await configure({ clients: 8, perClient: 2, runName: "e2e-warnings" });
  await page.click("#start");
  await page.waitForFunction(() => /^Running “e2e-warnings”/.test(document.getElementById("live-state").textContent));
  // What a tab switch does: the document becomes hidden and says so.
  await page.evaluate(() => {
    Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
    delete document.visibilityState;
  });
  await page.waitForFunction(() => /^Finished/.test(document.getElementById("live-state").textContent));
  const live = await text("#warnings");
  assert.match(live, /8 clients over http\/1\.1/);
  assert.match(live, /tab was hidden during the run/);
  assert.match(await text("#results-warnings"), /connections per host[\s\S]*tab was hidden/);
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot("08-warnings");
});

test("payload from a JSONL file; the API key is remembered in this tab only when asked", async () => {
  const file = path.join(DOWNLOADS, "prompts.jsonl");
  writeFileSync(file, ['{"messages": [{"role": "user", "content": "a"}], "max_tokens": 4}', '{"messages": [{"role": "user", "content": "b"}], "max_tokens": 4}'].join("\n"));
  await page.setInputFiles("#payload-file", file);
  await page.waitForFunction(() => /✓ 2 payloads \(JSONL\)/.test(document.getElementById("payload-status").textContent));
  await page.fill("#api-key", "sk-tab-only");
  await page.check("#remember-key");
  assert.equal(await page.evaluate(() => sessionStorage.getItem("llmeter.apiKey")), "sk-tab-only");
  assert.equal(await page.evaluate(() => JSON.stringify(localStorage).includes("sk-tab-only")), false);
  await open();
  assert.equal(await page.inputValue("#api-key"), "sk-tab-only");
  await page.uncheck("#remember-key");
  assert.equal(await page.evaluate(() => sessionStorage.getItem("llmeter.apiKey")), null);
});

test("a CORS-misconfigured endpoint is explained in plain words", async () => {
  await configure({ base: noCors.base, clients: 1, perClient: 2, runName: "e2e-nocors" });
  await page.click("#start");
  await page.waitForSelector("#problem:not([hidden])");
  const problem = await text("#problem");
  assert.match(problem, /blocked the response: the server does not allow cross-origin requests \(CORS\)/);
  assert.match(problem, /Access-Control-Allow-Origin: http:\/\/127\.0\.0\.1:\d+/);
  assert.match(problem, /Access-Control-Allow-Headers: authorization, content-type/);
  assert.match(problem, /preflight OPTIONS/);
  assert.ok(!/TypeError/.test(problem));
  await page.locator("#problem").scrollIntoViewIfNeeded();
  await shot("09-cors");
});

test("an endpoint that echoes the API key (a 401 quoting it; an id and a mid-stream error holding it): the Responses panel shows [redacted], never the key", async () => {
  // A real endpoint on loopback that quotes back whatever key it was sent, allowing this page's origin.
  let n = 0;
  const echo = createServer(async (req, res) => {
    const cors = { "access-control-allow-origin": site.origin, "access-control-allow-headers": "authorization, content-type", "access-control-allow-methods": "POST" };
    for await (const _ of req);
    if (req.method === "OPTIONS") return res.writeHead(204, cors).end();
    const key = (req.headers.authorization ?? "").replace(/^Bearer /, "");
    if (++n % 2 === 1) {
      return res.writeHead(401, { ...cors, "content-type": "application/json" }).end(JSON.stringify({ error: { message: `Incorrect API key provided: ${key}.` } }));
    }
    res.writeHead(200, { ...cors, "content-type": "text/event-stream", "x-request-id": key });
    res.write(`data: ${JSON.stringify({ id: `chatcmpl-${key}`, choices: [{ index: 0, delta: { content: "partial" } }] })}\n\n`);
    res.end(`data: ${JSON.stringify({ error: { message: `token ${key} revoked` } })}\n\n`);
  });
  await new Promise((r) => echo.listen(0, "127.0.0.1", r));
  try {
    await configure({ base: `http://127.0.0.1:${echo.address().port}/v1`, clients: 1, perClient: 2, runName: "e2e-echo" });
    await page.click("#start");
    await page.waitForFunction(() => /^Finished/.test(document.getElementById("live-state").textContent));
    assert.equal(n, 2, "both requests reached the echoing endpoint");
    assert.equal(await text("#live-failed"), "2");
    const panel = [];
    for (const i of [1, 2]) {
      await page.getByRole("button", { name: `Show response ${i}`, exact: true }).click();
      panel.push(await text("#resp-output"));
    }
    assert.match(panel[0], /ERROR\nHTTP 401 Unauthorized: Incorrect API key provided: \[redacted\]\./);
    assert.match(panel[1], /ERROR\nAPI error mid-stream: token \[redacted\] revoked/);
    for (const t of panel) assert.ok(!t.includes(SECRET), t);
    // Nowhere on the page (the key field's value is not page text), nor in the run's history.
    assert.ok(!(await page.evaluate(() => document.body.innerText)).includes(SECRET));
    const stored = await page.evaluate(() => new Promise((resolve) => {
      const req = indexedDB.open("llmeter-results");
      req.onsuccess = () => {
        const tx = req.result.transaction(["runs", "batches"]);
        const runs = tx.objectStore("runs").getAll(), batches = tx.objectStore("batches").getAll();
        tx.oncomplete = () => resolve(JSON.stringify([runs.result, batches.result]));
      };
    }));
    assert.ok(stored.includes("e2e-echo") && stored.includes("[redacted]"));
    assert.ok(!stored.includes(SECRET), "API key stored in history");
  } finally {
    echo.closeAllConnections();
    await new Promise((r) => echo.close(r));
  }
});

test("with results and charts, axe-core finds no serious or critical accessibility violations", async () => {
  await historyRow("e2e-full").getByRole("button", { name: "Open run “e2e-full”" }).click();
  await page.waitForSelector("#chart-latency_box .box");
  assert.deepEqual(await seriousA11yViolations(), []);
});

test("narrow screens: one column, no horizontal scrolling", async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300); // Plotly re-lays out its charts on the resize event
  const { overflow, wide } = await page.evaluate(() => {
    const hasClip = (el) => { for (; el && el !== document.body; el = el.parentElement) if (getComputedStyle(el).overflowX !== "visible") return true; return false; };
    return {
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    wide: [...document.querySelectorAll("body *")].filter((el) => el.getBoundingClientRect().right > innerWidth + 1 && !hasClip(el.parentElement)).slice(0, 5).map((el) => `${el.tagName}#${el.id}.${el.className?.baseVal ?? el.className} ${Math.round(el.getBoundingClientRect().right)}`),
  };
  });
  assert.ok(overflow <= 0, `page scrolls sideways by ${overflow}px: ${wide.join(", ")}`);
  await shot("10-mobile");
  await page.setViewportSize({ width: 1360, height: 900 });
});

// ---------- hardening: headers, isolation, bad input, crashes, storage ----------

/** The page's current engine worker (after a reload the old one may still be listed for a moment). */
const engineWorker = (p) => p.workers().filter((w) => w.url().endsWith("/worker.js")).at(-1);

test("served with a strict Content-Security-Policy (also in a <meta> for static hosts) and frame-ancestors 'none'; no violation during the suite", async () => {
  const res = await fetch(`${site.origin}/`);
  const csp = res.headers.get("content-security-policy");
  assert.match(csp, /(^|; )default-src 'self'(;|$)/);
  assert.match(csp, /(^|; )script-src 'self' 'wasm-unsafe-eval'(;|$)/, "no inline or eval'd script");
  assert.match(csp, /(^|; )object-src 'none'(;|$)/);
  assert.match(csp, /(^|; )base-uri 'none'(;|$)/);
  assert.match(csp, /(^|; )frame-ancestors 'none'$/);
  const html = await res.text();
  const meta = html.match(/<meta http-equiv="Content-Security-Policy" content="([^"]+)">/)[1];
  assert.equal(`${meta}; frame-ancestors 'none'`, csp, "the header is the <meta> plus frame-ancestors");
  // No inline script or event handler attribute anywhere in the page.
  assert.deepEqual([...html.matchAll(/<script(?![^>]*\ssrc=)[^>]*>/g)].map((m) => m[0]), []);
  assert.deepEqual([...html.matchAll(/\son[a-z]+=/g)].map((m) => m[0]), []);
  // Everything the suite did so far (runs, charts, heatmaps, exports, uploads, imports) ran under the policy.
  assert.deepEqual(cspViolations, []);
  // Framed by another page: refused.
  const framing = await context.newPage();
  await framing.setContent(`<iframe src="${site.origin}/"></iframe>`);
  await framing.waitForTimeout(500);
  const frame = framing.frames()[1];
  assert.match(frame.url(), /^chrome-error:/, `the frame loaded ${frame.url()}`);
  await framing.close();
  assert.deepEqual(cspViolations.map((v) => v.replace(/^Framing .*frame-ancestors 'none'.*$/s, "framing refused")), ["framing refused"]);
  cspViolations.length = 0;
});

test("cross-origin isolated by COOP/COEP: the page and its engine worker get the fine clock, shown in the results (5 µs steps vs 100 µs without)", async () => {
  const res = await fetch(`${site.origin}/worker.js`);
  assert.equal(res.headers.get("cross-origin-opener-policy"), "same-origin");
  assert.equal(res.headers.get("cross-origin-embedder-policy"), "require-corp");
  await open();
  assert.equal(await page.evaluate(() => crossOriginIsolated), true);
  assert.equal(await engineWorker(page).evaluate(() => crossOriginIsolated), true);
  await configure({ clients: 2, perClient: 2, runName: "e2e-isolated" });
  await page.click("#start");
  await page.waitForFunction(() => /^Finished: 4 responses, 0 failed/.test(document.getElementById("live-state").textContent));
  const fine = Number((await text("#results-meta")).match(/timer step ([\d.e-]+) ms/)[1]);
  assert.ok(fine > 0 && fine <= 0.02, `isolated timer step ${fine} ms`);
  // The same page not isolated (no COOP/COEP, service workers blocked, so no fallback either).
  const plain = await serveWww(0, "127.0.0.1", { isolate: false });
  const ctx = await browser.newContext({ serviceWorkers: "block", viewport: { width: 1360, height: 900 } });
  try {
    const p = await ctx.newPage();
    await p.goto(`${plain.origin}/`);
    await p.waitForFunction(() => window.playground?.ready === true);
    assert.equal(await p.evaluate(() => crossOriginIsolated), false);
    await p.fill("#base-url", sim.base);
    await p.fill("#model", "sim-model");
    await p.fill("#clients", "2");
    await p.fill("#amount", "2");
    await p.fill("#run-name", "e2e-not-isolated");
    await p.click("#start");
    await p.waitForFunction(() => /^Finished: 4 responses, 0 failed/.test(document.getElementById("live-state").textContent));
    const coarse = Number((await p.textContent("#results-meta")).match(/timer step ([\d.e-]+) ms/)[1]);
    assert.ok(coarse >= 0.05, `not isolated timer step ${coarse} ms`);
    console.log(`# timer step: ${fine} ms isolated, ${coarse} ms not isolated`);
  } finally {
    await ctx.close();
    await plain.close();
  }
});

test("static hosting without headers: the service worker makes the page and its engine isolated; the endpoint's requests are not answered by it", async () => {
  const plain = await serveWww(0, "127.0.0.1", { isolate: false });
  const ctx = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  ctx.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text()); });
  try {
    const p = await ctx.newPage();
    await p.goto(`${plain.origin}/`);
    // The first visit registers sw.js and reloads once.
    await p.waitForFunction(() => window.playground?.ready === true && crossOriginIsolated, null, { timeout: 30_000 });
    assert.equal(await p.evaluate(() => !!navigator.serviceWorker.controller), true);
    await p.fill("#base-url", sim.base);
    await p.fill("#model", "sim-model");
    await p.fill("#clients", "2");
    await p.fill("#amount", "3");
    await p.fill("#run-name", "e2e-sw-isolated");
    await sim.clear();
    await p.click("#start");
    await p.waitForFunction(() => /^Finished: 6 responses, 0 failed/.test(document.getElementById("live-state").textContent));
    const step = Number((await p.textContent("#results-meta")).match(/timer step ([\d.e-]+) ms/)[1]);
    assert.ok(step <= 0.02, `timer step ${step} ms`);
    assert.equal(await engineWorker(p).evaluate(() => crossOriginIsolated), true);
    // The page's own files came through the service worker (with the headers it adds); the
    // endpoint's answers came from the endpoint (the worker never answers other origins).
    const own = await p.evaluate(() => performance.getEntriesByType("resource").filter((e) => e.name.endsWith("/app.js") || e.name.endsWith("/run.js")).map((e) => e.workerMatchedSourceType));
    assert.deepEqual([...new Set(own)], ["fetch-event"]);
    assert.equal((await sim.requests()).length, 6);
  } finally {
    await ctx.close();
    await plain.close();
  }
});

test("a share link whose payload nests 4,000 deep is refused before the run starts; the page is not left running", async () => {
  const deep = `{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4, "x": ${"[".repeat(4000)}${"]".repeat(4000)}}`;
  const link = `${site.origin}/#${encodeShare({ baseUrl: sim.base, model: "sim-model", payload: deep, clients: "1", mode: "requests", amount: 1, runName: "e2e-deep" })}`;
  const p = await context.newPage();
  try {
    await p.goto(link);
    await p.waitForFunction(() => window.playground?.ready === true);
    assert.match(await p.textContent("#payload-status"), /nests deeper than 100 levels/);
    await p.click("#start");
    await p.waitForSelector("#problem:not([hidden])");
    assert.match(await p.textContent("#problem"), /nests deeper than 100 levels/);
    assert.equal(await p.getAttribute("body", "data-running"), null, "never marked as running");
    assert.equal(await p.isEnabled("#start"), true);
    assert.equal(await p.isDisabled("#stop"), true);
    // The page still works: a normal payload runs.
    await p.fill("#payload", JSON.stringify({ messages: [{ role: "user", content: "hi" }], max_tokens: 4 }));
    await p.click("#start");
    await p.waitForFunction(() => /^Finished: 1 responses, 0 failed/.test(document.getElementById("live-state").textContent));
  } finally {
    await p.close();
  }
});

test("the engine worker crashing mid-run (a wasm trap): the page restarts it, says so, closes the run in history, and the next run works", async () => {
  await open();
  await configure({ clients: 1, perClient: 400, runName: "e2e-crash" });
  await page.click("#start");
  await page.waitForFunction(() => Number(document.getElementById("live-completed").textContent) >= 3);
  await page.waitForTimeout(400); // a batch of responses is saved
  // A real wasm trap (`unreachable`) in the engine's worker, in a promise nobody handles, as an
  // engine trap in an async call would be.
  await engineWorker(page).evaluate(() => {
    const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 7, 8, 1, 4, 116, 114, 97, 112, 0, 0, 10, 5, 1, 3, 0, 0, 11]);
    const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes));
    Promise.resolve().then(() => exports.trap());
  });
  await page.waitForFunction(() => /stopped unexpectedly and was restarted/.test(document.getElementById("problem").textContent));
  assert.match(await text("#problem"), /RuntimeError: unreachable/);
  assert.equal(await page.getAttribute("body", "data-running"), "false");
  assert.equal(await page.isEnabled("#start"), true);
  const row = historyRow("e2e-crash");
  await page.waitForFunction(() => document.querySelector('#history-table tr[data-status="running"]') === null);
  assert.equal(await row.locator(".badge").textContent(), "interrupted");
  // A fresh engine: the next run completes.
  await configure({ clients: 2, perClient: 2, runName: "e2e-after-crash" });
  await page.click("#start");
  await page.waitForFunction(() => /^Finished: 4 responses, 0 failed/.test(document.getElementById("live-state").textContent));
  assert.equal(await historyRow("e2e-after-crash").locator(".badge").textContent(), "complete");
});

test("storage full mid-run: the run finishes and its record is closed (interrupted, saying what was not saved), not left running", async () => {
  const ctx = await browser.newContext({ viewport: { width: 1360, height: 900 }, serviceWorkers: "block" });
  try {
    const p = await ctx.newPage();
    const cdp = await ctx.newCDPSession(p);
    await p.goto(`${site.origin}/`);
    await p.waitForFunction(() => window.playground?.ready === true);
    // Room for the run's record, not for its responses (each carries a 64 KB prompt).
    await cdp.send("Storage.overrideQuotaForOrigin", { origin: site.origin, quotaSize: 300 * 1024 });
    await p.fill("#base-url", sim.base);
    await p.fill("#model", "sim-model");
    await p.fill("#payload", JSON.stringify({ messages: [{ role: "user", content: "x".repeat(64 * 1024) }], max_tokens: 4 }));
    await p.fill("#clients", "2");
    await p.fill("#amount", "6");
    await p.fill("#run-name", "e2e-quota");
    await p.click("#start");
    await p.waitForFunction(() => /^Finished: 12 responses, 0 failed/.test(document.getElementById("live-state").textContent));
    assert.match(await p.textContent("#results-warnings"), /storage for this site is full/);
    const row = p.locator("#history-table tbody tr", { has: p.getByRole("button", { name: "Open run “e2e-quota”" }) });
    assert.equal(await row.locator(".badge").textContent(), "interrupted");
    assert.match(await row.locator(".badge").getAttribute("title"), /Not stored completely: .*QuotaExceededError/);
  } finally {
    await ctx.close();
  }
});
