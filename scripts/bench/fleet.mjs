// Bench sections of fleets (issue 16) and of `workers: N` (issue 15 item 5), run by
// scripts/bench.mjs (`--only=workers,probe`) or alone: `node scripts/bench/fleet.mjs [--quick]`.
//  workers  Chromium page, h2: TTFT/TTLT error against llm-sim's ground truth for 64 and 256
//           clients — the engine on the page's thread, spread over 1 and 4 dedicated workers,
//           and the bare fetch loop (the floor) — interleaved repeat by repeat.
//  probe    the Probe's own cost in a real Chromium tab: main-thread task time per probe request
//           (DevTools Performance.getMetrics TaskDuration, an idle tab's rate and DevTools' own evaluate
//           subtracted; each tab paired with a tab of the method's floor, which is subtracted too), in
//           the app's service worker, in a dedicated worker (the default) and on the page, beside
//           references with no tool (an empty module worker; the same request from the page,
//           a plain worker and a service worker); and the bytes of its entry and what it loads
//           lazily (gzip -9).
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { createServer } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startSim, ROOT } from "../../tests/js/sim.js";
import { startStatic } from "../../tests/js/browser.js";
import { launchRawChromium } from "../../tests/js/cdp.js";
import { startBrowser } from "./browser.mjs";
import { summarize, truthErrors } from "./stats.mjs";

const TRUTH_SIM = ["--ttft-ms", "50", "--itl-ms", "5"];
const TOKENS = 32;
const rotate = (xs, i) => xs.map((_, j) => xs[(i + j) % xs.length]);

/** @param {{ repeats: number, log: (...m: any[]) => void, guard: (label: string, f: () => Promise<void>) => Promise<void> }} ctx */
export async function workersSection({ repeats, log, guard }) {
  const rows = [];
  const sim = await startSim([...TRUTH_SIM, "--tls-port", "0"]);
  const browser = await startBrowser();
  const kinds = [["engine", {}], ["1 worker", { workers: 1 }], ["4 workers", { workers: 4 }], ["bare", {}]];
  try {
    for (const clients of [64, 256]) {
      await guard(`workers ${clients}`, async () => {
        const spec = (kind, extra, perClient) => ({ kind: kind === "bare" ? "bare" : "engine", base: sim.httpsBase, clients, perClient, maxTokens: TOKENS, ...extra });
        for (const [kind, extra] of kinds) await browser.run("page", spec(kind, extra, 1)); // warm-up
        await sim.clear();
        const acc = Object.fromEntries(kinds.map(([k]) => [k, []]));
        const secs = Object.fromEntries(kinds.map(([k]) => [k, []]));
        for (let i = 0; i < repeats; i++) {
          for (const [kind, extra] of rotate(kinds, i)) {
            const r = await browser.run("page", spec(kind, extra, 2));
            acc[kind].push(truthErrors(r.samples, await sim.requests()));
            secs[kind].push(r.seconds);
            await sim.clear();
          }
        }
        const row = { clients, protocol: "h2" };
        for (const [kind] of kinds) {
          row[kind] = { ttftP50: summarize(acc[kind].map((e) => e.ttftP50)), ttftP99: summarize(acc[kind].map((e) => e.ttftP99)), ttltP50: summarize(acc[kind].map((e) => e.ttltP50)), seconds: summarize(secs[kind]) };
        }
        rows.push(row);
        log(`workers ${clients}: TTFT p50 engine +${row.engine.ttftP50.median.toFixed(1)}, 1 worker +${row["1 worker"].ttftP50.median.toFixed(1)}, 4 workers +${row["4 workers"].ttftP50.median.toFixed(1)}, bare +${row.bare.ttftP50.median.toFixed(1)} ms`);
      });
    }
  } finally {
    await browser.stop();
    await sim.stop();
  }
  return rows;
}

/** @param {{ repeats: number, log: (...m: any[]) => void, guard: (label: string, f: () => Promise<void>) => Promise<void> }} ctx */
export async function probeSection({ repeats, log, guard }) {
  // More tabs than other sections' repeats: one tab's figure is a millisecond or two, noisy.
  const probeRepeats = Math.max(5, repeats);
  const out = { cost: [], sizes: probeSizes() };
  const sim = await startSim(TRUTH_SIM);
  const site = await startStatic();
  const collector = createServer((req, res) => { req.resume(); req.on("end", () => res.writeHead(204, { "access-control-allow-origin": "*" }).end()); });
  await new Promise((r) => collector.listen(0, "127.0.0.1", r));
  const chromium = await launchRawChromium();
  const metrics = async (tab) => Object.fromEntries((await tab.send("Performance.getMetrics")).metrics.map((x) => [x.name, x.value]));
  try {
    // The reference first: what any dedicated worker costs the page, whatever it runs.
    const reference = (where) => () => `fetch-reference.html?where=${where}#${encodeURIComponent(JSON.stringify({ base: sim.base, maxTokens: TOKENS }))}`;
    const cases = [
      { where: "nothing: a 230 ms wait, as long as one request (the method's floor)", requests: 1, page: reference("none") },
      { where: "an empty module worker (reference)", requests: 1, page: () => "empty-worker.html" },
      { where: "the same request sent by the page itself, no tool (reference)", requests: 1, page: reference("page") },
      { where: "the same request sent by a plain worker, no tool (reference)", requests: 1, page: reference("worker") },
      { where: "the same request sent by the page's service worker, no tool (reference)", requests: 1, page: reference("sw") },
    ];
    // The app's service worker (probe-sw.html?sw=serve calls serveProbes()), a dedicated worker, the page.
    for (const where of ["service worker", "worker", "page"]) {
      for (const requests of [1, 5]) {
        cases.push({ where, requests, page: () => {
          const o = { testId: `bench-${Math.random()}`, sampleRate: 1, requestsPerView: requests, requestsPerDay: 1000, serviceWorker: where === "service worker", inWorker: where !== "page", beaconUrl: `http://127.0.0.1:${collector.address().port}/`, endpoint: { kind: "openai", baseUrl: sim.base, model: "m" }, payload: { messages: [{ role: "user", content: "ping" }], max_tokens: TOKENS } };
          const fragment = encodeURIComponent(JSON.stringify(o));
          return where === "service worker" ? `probe-sw.html?sw=serve#${fragment}` : `probe.html#${fragment}`;
        } });
      }
    }
    /** Main-thread task time of one tab's `startProbe()`, ms (DevTools' evaluate and the tab's idle rate subtracted). */
    const measureTab = async (page, where) => {
      const tab = await chromium.newTab(`${site.origin}/tests/js/pages/${page}`);
      try {
        // Ready: its module ran (a page with a service worker waits for it to take control).
        for (let j = 0; j < 200 && !(await tab.evaluate("typeof window.startProbe === 'function'").catch(() => false)); j++) await new Promise((r) => setTimeout(r, 25));
        await tab.send("Performance.enable", { timeDomain: "threadTicks" });
        await new Promise((r) => setTimeout(r, 300));
        // What DevTools' own evaluate costs, and the tab's rate of main-thread work while idle:
        // both subtracted from the probe's figure.
        const e0 = await metrics(tab);
        await tab.evaluate("1");
        const e1 = await metrics(tab), evaluateMs = (e1.TaskDuration - e0.TaskDuration) * 1000;
        const i0 = await metrics(tab), w0 = performance.now();
        await tab.evaluate("new Promise((r) => setTimeout(() => r(1), 500))");
        const i1 = await metrics(tab), idlePerMs = Math.max(0, (i1.TaskDuration - i0.TaskDuration) * 1000 - evaluateMs) / (performance.now() - w0);
        const a = await metrics(tab), t0 = performance.now();
        const outcome = await tab.evaluate("window.startProbe()");
        const b = await metrics(tab), wall = performance.now() - t0;
        if (outcome.reason !== "sent") throw new Error(`probe: ${outcome.reason}`);
        if (outcome.measuredIn && outcome.measuredIn !== where) throw new Error(`probe: measured in the ${outcome.measuredIn}, not the ${where}`);
        return (b.TaskDuration - a.TaskDuration) * 1000 - evaluateMs - idlePerMs * wall;
      } finally {
        await tab.close();
      }
    };
    // Each tab of a row is paired with a tab of the method's floor opened just before it (a page
    // that only awaits a 230 ms timer: what waiting on a promise through DevTools costs the page's
    // thread with no work at all). Row − its floor is what the row's own work costs the page.
    const [floor, ...rows] = cases;
    const floorRow = { where: floor.where, requests: 1, perRequestMs: [], totalMs: [], ownPerRequestMs: [] };
    for (const { where, requests, page } of rows) {
      await guard(`probe ${where} ${requests}`, async () => {
        const perRequestMs = [], totalMs = [], ownPerRequestMs = [];
        for (let i = 0; i < probeRepeats + 1; i++) {
          const floorMs = await measureTab(floor.page(), "nothing");
          const ms = await measureTab(page(), where);
          if (i === 0) continue; // the first pair warms the browser's caches
          floorRow.perRequestMs.push(floorMs);
          totalMs.push(ms);
          perRequestMs.push(ms / requests);
          ownPerRequestMs.push((ms - floorMs) / requests);
        }
        out.cost.push({ where, requests, perRequestMs: summarize(perRequestMs), totalMs: summarize(totalMs), ownPerRequestMs: summarize(ownPerRequestMs) });
        log(`probe ${where} ${requests} requests: ${summarize(perRequestMs).median.toFixed(2)} ms main thread per request, ${summarize(ownPerRequestMs).median.toFixed(2)} ms above the floor`);
      });
    }
    if (floorRow.perRequestMs.length) out.cost.unshift({ where: floor.where, requests: 1, perRequestMs: summarize(floorRow.perRequestMs), totalMs: summarize(floorRow.perRequestMs), ownPerRequestMs: null });
  } finally {
    await chromium.close().catch(() => {});
    collector.close();
    await site.close();
    await sim.stop();
  }
  return out;
}

/** gzip -9 sizes of the probe's entry and of what a sampled page view loads after it. */
export function probeSizes() {
  const pkg = path.join(ROOT, "pkg");
  const gz = (files) => files.reduce((a, f) => a + gzipSync(readFileSync(path.join(pkg, f)), { level: 9 }).length, 0);
  const raw = (files) => files.reduce((a, f) => a + readFileSync(path.join(pkg, f)).length, 0);
  const entry = ["probe.js", "probe-rules.js"];
  // The worker is one file (scripts/bundle-probe-worker.mjs): the engine's JS is in it.
  const engineJs = ["probe-worker.js"];
  const wasm = ["llmeter_wasm_bg.wasm"];
  return [
    { what: "probe.js (the entry)", raw: raw(entry), gzip: gz(entry) },
    { what: "loaded when sampled: the worker with the engine's JS (one file)", raw: raw(engineJs), gzip: gz(engineJs) },
    { what: "loaded when sampled: the core wasm", raw: raw(wasm), gzip: gz(wasm) },
  ];
}

const f = (x, d = 2) => (x === undefined || x === null || Number.isNaN(x) ? "–" : Number(x).toFixed(d));
const sp = (s, d = 1) => (s ? `${f(s.median, d)} (${f(s.min, d)}–${f(s.max, d)})` : "–");

/** Markdown for the two sections. */
/**
 * One line under the workers table: where the engine's TTFT error p50 (median of the repeats) was
 * lowest at each client count — the page's own thread, 1 worker or 4 workers — read from the
 * figures, so a later run that says otherwise says so.
 */
export function workersConclusion(workers) {
  const PLACES = [["engine", "page"], ["1 worker", "1 worker"], ["4 workers", "4 workers"]];
  const ms = (r, k) => r[k]?.ttftP50?.median;
  const rows = workers.map((r) => {
    const known = PLACES.filter(([k]) => Number.isFinite(ms(r, k)));
    const best = known.reduce((a, b) => (ms(r, b[0]) < ms(r, a[0]) ? b : a), known[0]);
    return { best: best?.[0], text: `${r.clients} clients: ${known.map(([k, name]) => `${name} ${f(ms(r, k), 1)}`).join(", ")} ms` };
  });
  const at = rows.map((r) => r.text).join("; ");
  if (rows.every((r) => r.best === "engine")) {
    return `Conclusion: the TTFT error p50 was lowest on the page's own thread at every client count (${at}): more workers do not beat it for this cheap parser over h2 in Chromium; \`workers\` is for CPU-heavy endpoints (costly parsers, token counting).`;
  }
  const lowest = rows.map((r, i) => `at ${workers[i].clients} clients ${PLACES.find(([k]) => k === r.best)?.[1] ?? "–"}`).join(", ");
  return `Conclusion: the TTFT error p50 was lowest ${lowest} (${at}).`;
}

export function fleetTables(workers, probe) {
  const md = [];
  if (workers?.length) {
    md.push("", "Workers (`workers: N`, Chromium page, h2, 2 requests per client; TTFT / TTLT error against llm-sim's ground truth, ms, median (min–max) of the repeats):", "",
      "| clients | error | engine on the page | 1 worker | 4 workers | bare fetch (floor) |", "|---|---|---|---|---|---|");
    for (const r of workers) {
      for (const [k, label] of [["ttftP50", "TTFT p50"], ["ttftP99", "TTFT p99"], ["ttltP50", "TTLT p50"], ["seconds", "run s"]]) {
        md.push(`| ${r.clients} | ${label} | ${sp(r.engine[k])} | ${sp(r["1 worker"][k])} | ${sp(r["4 workers"][k])} | ${sp(r.bare[k])} |`);
      }
    }
    md.push("", workersConclusion(workers));
  }
  if (probe?.cost?.length) {
    md.push("", "Probe cost (a real Chromium tab; main-thread task time from DevTools, an idle tab's rate and DevTools' evaluate subtracted; ms, median (min–max) of the tabs). \"Own\" is each tab minus a tab of the method's floor opened just before it (a page awaiting a 230 ms timer: what the measuring itself costs); the target (≤ 2 ms per probe request) is on it:", "",
      "| measured in | requests per page view | own, per request | main thread per request | per page view |", "|---|---|---|---|---|");
    const target = (c) => (c.where.includes("reference") || c.where.startsWith("nothing") || !c.ownPerRequestMs ? "" : c.ownPerRequestMs.median <= 2 ? " ✓" : " ✗");
    for (const c of probe.cost) md.push(`| ${c.where} | ${c.requests} | ${c.ownPerRequestMs ? sp(c.ownPerRequestMs, 2) : "–"}${target(c)} | ${sp(c.perRequestMs, 2)} | ${sp(c.totalMs, 2)} |`);
  }
  if (probe?.sizes?.length) {
    md.push("", "| probe bytes | raw | gzip -9 |", "|---|---|---|");
    for (const s of probe.sizes) md.push(`| ${s.what} | ${f(s.raw / 1024, 1)} KB | ${f(s.gzip / 1024, 1)} KB${s.what.startsWith("probe.js") ? ` (target < 60 KB ${s.gzip / 1024 < 60 ? "✓" : "✗"})` : ""} |`);
  }
  return md;
}

// Alone: node scripts/bench/fleet.mjs [--quick] [--only=workers|probe]
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes("--quick");
  const only = process.argv.find((a) => a.startsWith("--only="))?.slice(7).split(",");
  const ctx = { repeats: quick ? 2 : 3, log: (...m) => console.error("[fleet bench]", ...m), guard: async (label, fn) => { try { await fn(); } catch (e) { console.error(`[fleet bench] ${label}: ${e.stack ?? e}`); } } };
  const workers = !only || only.includes("workers") ? await workersSection(ctx) : [];
  const probe = !only || only.includes("probe") ? await probeSection(ctx) : null;
  console.log(fleetTables(workers, probe).join("\n"));
}
