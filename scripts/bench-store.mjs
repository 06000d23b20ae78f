// npm run bench:store — the ResultStore in headless Chromium with a 100k-response run (plus 20
// small runs): time to list (target < 1 s), to read the run's files and to load it as a Result,
// and the longest main-thread stall (page freeze: longest gap between 4 ms timer ticks) while
// doing so. Prints a table and writes JSON.
import { writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { startStatic, launchChromium } from "../tests/js/browser.js";
import { ROOT } from "../tests/js/sim.js";

const N = Number(process.env.BENCH_STORE_RESPONSES ?? 100_000);
const REPEATS = 5;
const site = await startStatic();
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  await page.goto(`${site.origin}/tests/js/pages/blank.html`);
  const out = await page.evaluate(async ({ N, REPEATS }) => {
    const { Result } = await import("/pkg/index.js");
    const { ResultStore } = await import("/pkg/store.js");
    const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    // A realistic 100k-response run folder (LLMeter's 14 keys per line).
    const t0 = Date.parse("2026-11-30T00:00:00Z");
    const lines = [];
    for (let i = 0; i < N; i++) {
      const ttft = 0.05 + (i % 97) / 1000, ttlt = ttft + 0.2 + (i % 89) / 500;
      lines.push(JSON.stringify({ response_text: "lorem ipsum dolor sit amet ".repeat(4), input_payload: { messages: [{ role: "user", content: `question ${i % 50}` }], max_tokens: 64, model: "m", stream: true }, id: `r${i}`, input_prompt: `question ${i % 50}`, time_to_first_token: ttft, time_to_last_token: ttlt, num_tokens_input: 12, num_tokens_output: 64, num_tokens_input_cached: null, num_tokens_output_reasoning: null, time_per_output_token: (ttlt - ttft) / 63, error: null, retries: null, request_time: new Date(t0 + i * 10).toISOString().replace(/\.\d+Z$/, "Z") }));
    }
    const summary = { total_requests: N, clients: 50, n_requests: Math.floor(N / 50), total_test_time: N / 100, model_id: "m", output_path: null, endpoint_name: "openai", provider: "openai", run_name: "big-run", run_description: null, start_time: "2026-11-30T00:00:00Z", first_request_time: null, last_request_time: null, end_time: null };
    const big = await Result.fromFiles({ "summary.json": JSON.stringify(summary), "responses.jsonl": lines.join("\n") + "\n" });
    indexedDB.deleteDatabase("bench-db");
    let store = await ResultStore.open({ name: "bench-db", batchSize: 500 });
    let t = performance.now();
    const id = await store.save(big);
    const saveMs = performance.now() - t;
    for (let i = 0; i < 20; i++) await store.save(await Result.fromFiles({ "summary.json": JSON.stringify({ ...summary, total_requests: 10, run_name: `small-${i}` }), "responses.jsonl": lines.slice(0, 10).join("\n") }));
    store.close();
    // Longest gap between 4 ms ticks while an operation runs = how long the page froze.
    const stall = async (fn) => {
      let last = performance.now(), worst = 0;
      const timer = setInterval(() => { const now = performance.now(); worst = Math.max(worst, now - last); last = now; }, 4);
      const start = performance.now();
      const value = await fn();
      const ms = performance.now() - start;
      clearInterval(timer);
      worst = Math.max(worst, performance.now() - last);
      return { ms, stallMs: worst, value };
    };
    const page = [], pageStall = [], statsT = [], list = [], listStall = [], files = [], filesStall = [], load = [], loadStall = [];
    let listed = 0, loaded = 0;
    for (let r = 0; r < REPEATS; r++) {
      store = await ResultStore.open({ name: "bench-db" }); // fresh connection, as after a reload
      const a = await stall(() => store.list());
      list.push(a.ms); listStall.push(a.stallMs); listed = a.value.length;
      const b = await stall(() => store.files(id));
      files.push(b.ms); filesStall.push(b.stallMs);
      const d = await stall(() => store.responses(id, { offset: N - 150, limit: 100 }));
      page.push(d.ms); pageStall.push(d.stallMs);
      const e = await stall(() => store.stats(id));
      statsT.push(e.ms);
      const c = await stall(() => store.load(id));
      load.push(c.ms); loadStall.push(c.stallMs); loaded = c.value.responses.length;
      store.close();
    }
    const usage = await navigator.storage.estimate();
    return { pageMs: median(page), pageStallMs: median(pageStall), statsMs: median(statsT), responses: N, runsListed: listed, loaded, saveMs, listMs: median(list), listStallMs: median(listStall), filesMs: median(files), filesStallMs: median(filesStall), loadMs: median(load), loadStallMs: median(loadStall), listAll: list, loadAll: load, loadStallAll: loadStall, storageBytes: usage.usage };
  }, { N, REPEATS });
  const date = new Date().toISOString();
  console.log(`\nResultStore in headless Chromium (${date}), ${out.responses} responses in one run + 20 small runs; medians of ${REPEATS}:`);
  console.log(`| operation | time | longest main-thread stall |\n|---|---|---|`);
  console.log(`| list() (${out.runsListed} runs, newest first, with summaries) | ${out.listMs.toFixed(1)} ms | ${out.listStallMs.toFixed(1)} ms |`);
  console.log(`| stats(id) (all stats, no responses read) | ${out.statsMs.toFixed(1)} ms | |`);
  console.log(`| responses(id, 100 near the end) | ${out.pageMs.toFixed(1)} ms | ${out.pageStallMs.toFixed(1)} ms |`);
  console.log(`| files(id) (read ${out.responses} responses in pages) | ${out.filesMs.toFixed(0)} ms | ${out.filesStallMs.toFixed(0)} ms |`);
  console.log(`| load(id) (files + Result with stats) | ${out.loadMs.toFixed(0)} ms | ${out.loadStallMs.toFixed(0)} ms |`);
  console.log(`| save(result) once | ${out.saveMs.toFixed(0)} ms | |`);
  console.log(`load(id) of ${out.responses} responses: longest page freeze ${out.loadStallMs.toFixed(0)} ms (median; each run: ${out.loadStallAll.map((x) => x.toFixed(0)).join(", ")} ms), total ${out.loadMs.toFixed(0)} ms`);
  console.log(`storage used: ${(out.storageBytes / 1e6).toFixed(1)} MB`);
  console.log(out.listMs < 1000 ? "list < 1 s: OK" : "list < 1 s: NOT MET");
  mkdirSync(path.join(ROOT, "target/bench"), { recursive: true });
  writeFileSync(path.join(ROOT, "target/bench/store.json"), JSON.stringify({ date, ...out }, null, 2));
} finally {
  await browser.close();
  await site.close();
}
