// `npm run bench` (outside the test suite): llmeter-wasm side by side with the platform's floor
// (a bare fetch loop in the same runtime) and with Python LLMeter, against one llm-sim.
//  1. truth       client minus server ground truth TTFT/TTLT (p50, p99): Node, Chromium page and
//                 Web Worker (h2/TLS at 64 clients), workerd, Python llmeter; 1, 6, 64 clients
//  2. throughput  requests/s and CPU s per 1000 requests, zero delays, 16-token streams
//  3. processing  wasm tokenizer vs Python tokenizers, stats for 100k responses, bundle sizes
//  4. perturbation TTFT error with HF token counting on vs off, 64 clients
// Every figure is the median over repeats with its spread (min–max); comparisons are ratios or
// differences within the same run. Prints one table, writes out/bench/latest.{json,md};
// `--quick` is a smaller run (~4 min), `--readme` puts the table into README.md,
// `--only=truth,throughput,...` runs some sections.
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startSim, ROOT } from "../tests/js/sim.js";
import { init } from "../pkg/index.js";
import { runLoop } from "./bench/pages/loops.js";
import { summarize, truthErrors, median } from "./bench/stats.mjs";
import { startBrowser } from "./bench/browser.mjs";
import { startOtherEngines } from "./bench/engines.mjs";
import { startWorkerd } from "../tests/js/workerd.js";
import { tokenizerSpeed, makeRunFolder, statsCost, bundleSizes, TOKENIZER_JSON } from "./bench/processing.mjs";

const args = process.argv.slice(2);
const QUICK = args.includes("--quick");
const ONLY = args.find((a) => a.startsWith("--only="))?.slice(7).split(",");
const runs = (section) => !ONLY || ONLY.includes(section);
const PYTHON = process.env.LLMETER_PYTHON ?? path.join(ROOT, ".venv/bin/python");
const SIM_LOAD = process.env.SIM_LOAD_BIN ?? path.join(ROOT, "target/sim/sim-load");

const CFG = QUICK
  ? { repeats: 2, truthPerClient: { 1: 6, 6: 2, 64: 1 }, tpClients: [1, 8, 32, 128], tpRequests: 800, tpPyRequests: 200, tokChars: 200_000, statsN: 100_000, statsRepeats: 1, pertPerClient: 2 }
  : { repeats: 3, truthPerClient: { 1: 12, 6: 4, 64: 2 }, tpClients: [1, 8, 32, 128], tpRequests: 3000, tpPyRequests: 500, tokChars: 1_000_000, statsN: 100_000, statsRepeats: 2, pertPerClient: 3 };
const TRUTH_CLIENTS = [1, 6, 64];
const TRUTH_SIM = ["--ttft-ms", "50", "--itl-ms", "5"];
const TRUTH_TOKENS = 32;
const TP_TOKENS = 16;
const TP_RUN_S = QUICK ? 0.7 : 1.5;

await init();
const t0 = performance.now();
const log = (...m) => console.error(`[bench ${((performance.now() - t0) / 1000).toFixed(0)}s]`, ...m);
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(" ");
const report = {
  date: new Date().toISOString(),
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model?.trim() ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}`,
  node: process.versions.node,
  quick: QUICK,
  config: CFG,
  loadAverageStart: load(),
  truth: [],
  throughput: [],
  processing: {},
  perturbation: null,
  errors: [],
};

const children = new Set();
process.on("exit", () => children.forEach((p) => p.kill()));
function python(script, argv) {
  return new Promise((resolve, reject) => {
    const p = spawn(PYTHON, [path.join(ROOT, script), ...argv], { stdio: ["ignore", "pipe", "pipe"] });
    children.add(p);
    p.on("exit", () => children.delete(p));
    let out = "", err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out.trim().split("\n").pop())) : reject(new Error(`${script} exited ${code}: ${err.slice(-500)}`))));
  });
}

async function guard(label, fn) {
  try {
    return await fn();
  } catch (e) {
    log(`FAILED ${label}: ${e.message}`);
    report.errors.push({ label, error: String(e.stack ?? e) });
    return null;
  }
}

// ---------- 1. measurement truth ----------
async function truthSection() {
  const sim = await startSim([...TRUTH_SIM, "--tls-port", "0"]);
  const browser = await guard("chromium start", startBrowser);
  const workerd = await guard("workerd start", startWorkerd);
  const engines = await guard("firefox/webkit start", startOtherEngines);
  report.errors.push(...(engines?.errors ?? []));
  report.versions = { chromium: browser?.version, workerd: workerd?.version, ...engines?.versions };
  // Each runtime: engine and bare loop, interleaved run by run so that noise hits both alike.
  const runtimes = [
    { name: "node", run: (spec) => runLoop(spec) },
    browser && { name: "chromium page", run: (spec) => browser.run("page", spec), h2At64: true },
    browser && { name: "chromium worker", run: (spec) => browser.run("worker", spec), h2At64: true },
    workerd && { name: "workerd", run: (spec) => workerd.run(spec) },
    ...(engines?.runtimes ?? []),
  ].filter(Boolean);
  try {
    for (const clients of TRUTH_CLIENTS) {
      const perClient = CFG.truthPerClient[clients];
      for (const rt of runtimes) {
        await guard(`truth ${rt.name} ${clients}`, async () => {
          const h2 = rt.h2At64 && clients === 64;
          const base = h2 ? sim.httpsBase : sim.base;
          const acc = { engine: [], bare: [] };
          let protocol = null;
          // Warm-up: connections, CORS preflights, JIT — outside the measured runs.
          for (const kind of ["engine", "bare"]) await rt.run({ kind, base, clients, perClient: 1, maxTokens: TRUTH_TOKENS });
          for (let i = 0; i < CFG.repeats; i++) {
            for (const kind of i % 2 ? ["bare", "engine"] : ["engine", "bare"]) {
              const r = await rt.run({ kind, base, clients, perClient, maxTokens: TRUTH_TOKENS });
              if (kind === "engine") protocol = r.protocol;
              acc[kind].push(truthErrors(r.samples, await sim.requests()));
            }
            await sim.clear();
          }
          const row = { runtime: rt.name, clients, perRun: clients * perClient, protocol: protocol ?? (h2 ? "h2" : "http/1.1") };
          for (const kind of ["engine", "bare"]) for (const k of ["ttftP50", "ttftP99", "ttltP50", "ttltP99"]) row[`${kind}${k[0].toUpperCase()}${k.slice(1)}`] = summarize(acc[kind].map((e) => e[k]));
          row.overheadTtftP50 = summarize(acc.engine.map((e, i) => e.ttftP50 - acc.bare[i].ttftP50));
          row.overheadTtftP99 = summarize(acc.engine.map((e, i) => e.ttftP99 - acc.bare[i].ttftP99));
          row.overheadTtltP50 = summarize(acc.engine.map((e, i) => e.ttltP50 - acc.bare[i].ttltP50));
          report.truth.push(row);
          log(`truth ${rt.name} ${clients}: engine TTFT p50 +${row.engineTtftP50.median.toFixed(2)} ms, bare +${row.bareTtftP50.median.toFixed(2)} ms`);
        });
      }
      await guard(`truth python ${clients}`, async () => {
        const perClient = CFG.truthPerClient[clients];
        const spec = { base: sim.base, runs: [{ clients, perClient: 1, maxTokens: TRUTH_TOKENS }, ...Array.from({ length: CFG.repeats }, () => ({ clients, perClient, maxTokens: TRUTH_TOKENS }))] };
        const out = (await python("scripts/bench/llmeter_client.py", [JSON.stringify(spec)])).slice(1);
        const recs = await sim.requests();
        await sim.clear();
        const e = out.map((r) => truthErrors(r.samples, recs));
        const row = { runtime: "python llmeter", clients, perRun: clients * perClient, protocol: "http/1.1" };
        for (const k of ["ttftP50", "ttftP99", "ttltP50", "ttltP99"]) row[`python${k[0].toUpperCase()}${k.slice(1)}`] = summarize(e.map((x) => x[k]));
        report.truth.push(row);
        log(`truth python ${clients}: TTFT p50 +${row.pythonTtftP50.median.toFixed(2)} ms`);
      });
    }
  } finally {
    await browser?.stop();
    await engines?.stop();
    await workerd?.stop();
    await sim.stop();
  }
}

// ---------- 2. throughput ----------
async function throughputSection() {
  const sim = await startSim(["--ttft-ms", "0", "--itl-ms", "0"]);
  try {
    for (const clients of CFG.tpClients) {
      // Warm-up, which also sizes the runs: about TP_RUN_S each (the machine may be busy),
      // between 200 and CFG.tpRequests requests.
      let warmRps = Infinity;
      for (const kind of ["engine", "bare"]) {
        const w = await runLoop({ kind, base: sim.base, clients, perClient: Math.max(2, Math.round(200 / clients)), maxTokens: TP_TOKENS });
        warmRps = Math.min(warmRps, w.samples.length / w.seconds);
      }
      await sim.clear();
      const perClient = Math.max(1, Math.round(Math.min(CFG.tpRequests, Math.max(200, warmRps * TP_RUN_S)) / clients));
      const n = clients * perClient;
      const acc = { engine: { rps: [], cpu: [] }, bare: { rps: [], cpu: [] } };
      for (let i = 0; i < CFG.repeats + 2; i++) {
        for (const kind of i % 2 ? ["bare", "engine"] : ["engine", "bare"]) {
          const r = await runLoop({ kind, base: sim.base, clients, perClient, maxTokens: TP_TOKENS });
          acc[kind].cpu.push((r.cpuS / n) * 1000);
          acc[kind].rps.push(n / r.seconds);
          await sim.clear();
        }
      }
      const row = {
        clients,
        requestsPerRun: n,
        engineRps: summarize(acc.engine.rps),
        bareRps: summarize(acc.bare.rps),
        engineCpuPer1000: summarize(acc.engine.cpu),
        bareCpuPer1000: summarize(acc.bare.cpu),
        ratio: summarize(acc.engine.rps.map((e, i) => e / acc.bare.rps[i])),
      };
      await guard(`throughput python ${clients}`, async () => {
        // Python LLMeter does about a tenth of a bare loop's rate: size its runs likewise.
        const pyPer = Math.max(1, Math.round(Math.min(CFG.tpPyRequests, Math.max(clients, (warmRps / 10) * TP_RUN_S)) / clients));
        const spec = { base: sim.base, runs: [{ clients, perClient: 1, maxTokens: TP_TOKENS }, ...Array.from({ length: CFG.repeats }, () => ({ clients, perClient: pyPer, maxTokens: TP_TOKENS }))] };
        const out = (await python("scripts/bench/llmeter_client.py", [JSON.stringify(spec)])).slice(1);
        await sim.clear();
        row.pythonRequestsPerRun = clients * pyPer;
        row.pythonRps = summarize(out.map((r) => (clients * pyPer) / r.seconds));
        row.pythonCpuPer1000 = summarize(out.map((r) => (r.cpuS / (clients * pyPer)) * 1000));
        row.engineOverPython = row.engineRps.median / row.pythonRps.median;
      });
      await guard(`throughput sim-load ${clients}`, async () => {
        const out = JSON.parse(execFileSync(SIM_LOAD, ["--addr", `127.0.0.1:${sim.port}`, "--connections", String(clients), "--requests", String(Math.max(n, 4000))], { encoding: "utf8" }).trim().split("\n").pop());
        await sim.clear();
        row.nativeRps = out.requests_per_s;
      });
      report.throughput.push(row);
      log(`throughput ${clients}: engine ${row.engineRps.median.toFixed(0)}/s, bare ${row.bareRps.median.toFixed(0)}/s, ratio ${row.ratio.median.toFixed(3)}, python ${row.pythonRps?.median.toFixed(0)}/s`);
    }
  } finally {
    await sim.stop();
  }
}

// ---------- 3. processing ----------
async function processingSection() {
  const dir = path.join(ROOT, "out/bench/tmp");
  mkdirSync(dir, { recursive: true });
  await guard("tokenizer speed", async () => {
    const t = await tokenizerSpeed(dir, { chars: CFG.tokChars, repeats: CFG.repeats });
    report.processing.tokenizer = { ...t, ours: summarize(t.oursTokensPerSecond), python: summarize(t.pythonTokensPerSecond), ratio: median(t.oursTokensPerSecond) / median(t.pythonTokensPerSecond) };
    log(`tokenizer: ours ${report.processing.tokenizer.ours.median.toFixed(0)} tok/s, python ${report.processing.tokenizer.python.median.toFixed(0)} tok/s`);
  });
  await guard("stats 100k", async () => {
    const sim = await startSim(["--ttft-ms", "0"]);
    const folder = path.join(dir, "run-100k");
    let made;
    try {
      made = await makeRunFolder(sim, folder, CFG.statsN);
    } finally {
      await sim.stop();
    }
    const { ours, python: py } = statsCost(folder, CFG.statsRepeats);
    const pick = (xs, k) => summarize(xs.map((x) => x[k]));
    report.processing.stats = { ...made, ours: { seconds: pick(ours, "seconds"), peakRssMb: pick(ours, "peakRssMb"), rssGrowthMb: pick(ours, "rssGrowthMb") }, python: { seconds: pick(py, "seconds"), peakRssMb: pick(py, "peakRssMb"), rssGrowthMb: pick(py, "rssGrowthMb") }, ttftP50: { ours: ours[0].ttftP50, python: py[0].ttftP50 } };
    log(`stats ${CFG.statsN}: ours ${report.processing.stats.ours.seconds.median.toFixed(2)} s, python ${report.processing.stats.python.seconds.median.toFixed(2)} s`);
    rmSync(folder, { recursive: true, force: true });
  });
  report.processing.sizes = bundleSizes();
}

// ---------- 4. perturbation ----------
async function perturbationSection() {
  const sim = await startSim(TRUTH_SIM);
  try {
    const { Tokenizer } = await import("../pkg/tokenizer.js");
    const tokenizer = await Tokenizer.fromBytes(readFileSync(TOKENIZER_JSON), "llama3");
    const clients = 64, perClient = CFG.pertPerClient;
    const variants = {
      off: { kind: "engine" },
      on: { kind: "engine", tokenizer, noUsage: true },
      bare: { kind: "bare" },
    };
    const acc = { off: [], on: [], bare: [] };
    let countedOutput = null;
    for (const v of Object.values(variants)) await runLoop({ ...v, base: sim.base, clients, perClient: 1, maxTokens: TRUTH_TOKENS });
    for (let i = 0; i < CFG.repeats + 1; i++) {
      for (const [name, v] of i % 2 ? Object.entries(variants).reverse() : Object.entries(variants)) {
        const r = await runLoop({ ...v, base: sim.base, clients, perClient, maxTokens: TRUTH_TOKENS });
        if (name === "on") countedOutput = r.samples[0].out;
        acc[name].push(truthErrors(r.samples, await sim.requests()));
        await sim.clear();
      }
    }
    const s = (name, k) => summarize(acc[name].map((e) => e[k]));
    report.perturbation = {
      clients,
      requestsPerRun: clients * perClient,
      tokenizer: "llama3 tokenizer.json (wasm), usage off so every count uses it",
      hfOutputTokensOfFirstResponse: countedOutput,
      offTtftP50: s("off", "ttftP50"), onTtftP50: s("on", "ttftP50"), bareTtftP50: s("bare", "ttftP50"),
      offTtftP99: s("off", "ttftP99"), onTtftP99: s("on", "ttftP99"), bareTtftP99: s("bare", "ttftP99"),
      deltaP50: summarize(acc.on.map((e, i) => e.ttftP50 - acc.off[i].ttftP50)),
      deltaP99: summarize(acc.on.map((e, i) => e.ttftP99 - acc.off[i].ttftP99)),
    };
    log(`perturbation: TTFT p50 on−off ${report.perturbation.deltaP50.median.toFixed(2)} ms`);
  } finally {
    await sim.stop();
  }
}

if (runs("truth")) await guard("truth", truthSection);
if (runs("throughput")) await guard("throughput", throughputSection);
if (runs("processing")) await guard("processing", processingSection);
if (runs("perturbation")) await guard("perturbation", perturbationSection);
report.loadAverageEnd = load();
report.seconds = (performance.now() - t0) / 1000;

// ---------- the table ----------
const f = (x, d = 2) => (x === undefined || x === null ? "–" : Number(x).toFixed(d));
const sp = (s, d = 2, unit = "") => (s ? `${f(s.median, d)}${unit} (${f(s.min, d)}–${f(s.max, d)})` : "–");
const plus = (s, d = 2) => (s ? `${s.median >= 0 ? "+" : ""}${f(s.median, d)} (${f(s.min, d)}…${f(s.max, d)})` : "–");
const rows = [];
const add = (section, what, ours, floor, peer, compare, target = "") => rows.push([section, what, ours, floor, peer, compare, target]);
for (const r of report.truth.filter((r) => r.runtime !== "python llmeter")) {
  const py = report.truth.find((p) => p.runtime === "python llmeter" && p.clients === r.clients);
  const what = `${r.runtime}, ${r.clients} client${r.clients > 1 ? "s" : ""}${r.protocol && r.protocol !== "http/1.1" ? ` (${r.protocol})` : ""}`;
  const pyCell = (k1, k2) => (py && r.runtime === "node" ? `+${f(py[k1].median)} / +${f(py[k2].median)}` : "");
  const p50ok = r.overheadTtftP50.median <= 0.5;
  const p99ok = r.clients === 64 ? r.engineTtftP99.median <= 5 : null;
  add("truth TTFT err p50 / p99 ms", what, `+${f(r.engineTtftP50.median)} / +${f(r.engineTtftP99.median)}`, `+${f(r.bareTtftP50.median)} / +${f(r.bareTtftP99.median)}`, pyCell("pythonTtftP50", "pythonTtftP99"),
    `${plus(r.overheadTtftP50)} / ${plus(r.overheadTtftP99)}`, `p50 Δ ≤ 0.5 ${p50ok ? "✓" : "✗"}${p99ok === null ? "" : `; p99 ≤ 5 ${p99ok ? "✓" : "✗"}`}`);
  add("truth TTLT err p50 / p99 ms", what, `+${f(r.engineTtltP50.median)} / +${f(r.engineTtltP99.median)}`, `+${f(r.bareTtltP50.median)} / +${f(r.bareTtltP99.median)}`, pyCell("pythonTtltP50", "pythonTtltP99"), `${plus(r.overheadTtltP50)} / –`);
}
for (const r of report.throughput) {
  add("throughput req/s", `node, ${r.clients} clients`, sp(r.engineRps, 0), sp(r.bareRps, 0), r.pythonRps ? `${sp(r.pythonRps, 0)}${r.nativeRps ? `; native ${r.nativeRps}` : ""}` : "", `engine/bare ${sp(r.ratio, 3)}; engine/python ${f(r.engineOverPython, 1)}×`, `≥ 0.90 ${r.ratio.median >= 0.9 ? "✓" : "✗"}`);
  add("CPU s / 1000 req", `node, ${r.clients} clients`, sp(r.engineCpuPer1000, 3), sp(r.bareCpuPer1000, 3), sp(r.pythonCpuPer1000, 3), `engine/bare ${f(r.engineCpuPer1000.median / r.bareCpuPer1000.median, 2)}`);
}
const pt = report.processing.tokenizer;
if (pt) add("tokenizer tokens/s", `llama3, ${Math.round(pt.chars / 1000)}k chars in ${pt.chunkChars}-char calls`, sp(pt.ours, 0), "", `${sp(pt.python, 0)} (tokenizers)`, `ours/python ${f(pt.ratio, 2)}`);
const ps = report.processing.stats;
if (ps) {
  add("stats for 100k responses", `load + stats, ${(ps.bytes / 2 ** 20).toFixed(1)} MB responses.jsonl`, sp(ps.ours.seconds, 2, " s"), "", sp(ps.python.seconds, 2, " s"), `python/ours ${f(ps.python.seconds.median / ps.ours.seconds.median, 1)}×`);
  add("memory (peak RSS growth)", "same", sp(ps.ours.rssGrowthMb, 0, " MB"), "", sp(ps.python.rssGrowthMb, 0, " MB"), `python/ours ${f(ps.python.rssGrowthMb.median / ps.ours.rssGrowthMb.median, 1)}×`);
}
for (const s of report.processing.sizes ?? []) if (s.file.endsWith(".wasm")) {
  const core = s.file === "llmeter_wasm_bg.wasm";
  add("bundle size", `pkg/${s.file}${core ? " (core)" : ""}`, `${f(s.raw / 1024, 1)} KB raw, ${f(s.gzip / 1024, 1)} KB gz`, "", "", "", core ? `≤ 200 KB gz ${s.gzip / 1024 <= 200 ? "✓" : "✗"}` : "");
}
const pp = report.perturbation;
if (pp) add("perturbation TTFT err p50 / p99 ms", `node, 64 clients, HF counting on vs off`, `on +${f(pp.onTtftP50.median)} / +${f(pp.onTtftP99.median)}`, `bare +${f(pp.bareTtftP50.median)} / +${f(pp.bareTtftP99.median)}`, "", `off +${f(pp.offTtftP50.median)} / +${f(pp.offTtftP99.median)}; on−off ${plus(pp.deltaP50)} / ${plus(pp.deltaP99)}`, "must not move");

const header = ["section", "case", "llmeter-wasm", "bare fetch (floor)", "Python llmeter (peer)", "comparison (median (min…max))", "target"];
const md = [
  `Bench ${report.date.slice(0, 16).replace("T", " ")} UTC${QUICK ? " (--quick)" : ""} — ${report.machine} — Node ${report.node}, ${report.versions?.chromium ? `Chromium ${report.versions.chromium}, ` : ""}${report.versions?.workerd ?? ""} — median of ${CFG.repeats}+ repeats (spread) — load average ${report.loadAverageStart} → ${report.loadAverageEnd} — ${report.seconds.toFixed(0)} s`,
  "",
  `| ${header.join(" | ")} |`,
  `|${header.map(() => "---").join("|")}|`,
  ...rows.map((r) => `| ${r.join(" | ")} |`),
  "",
  `Truth: server TTFT 50 ms, ITL 5 ms, ${TRUTH_TOKENS} tokens, error = client − server ground truth (llm-sim \`first/last_token_sent_us − received_us\`); comparison = engine − bare in the same run. Throughput: zero delays, ${TP_TOKENS}-token streams, one Node process, CPU = its user+system time. Python llmeter ${"0.2.0"} via its Runner + OpenAICompletionStreamEndpoint; "native" = llm-sim's Rust \`sim-load\`. The load average (other work on the machine) inflates absolute figures and widens spreads; same-run comparisons hold up best.`,
  ...(report.errors.length ? ["", `Failed parts: ${report.errors.map((e) => `${e.label}: ${e.error.split("\n")[0]}`).join("; ")}`] : []),
].join("\n");

const out = path.join(ROOT, "out/bench");
mkdirSync(out, { recursive: true });
writeFileSync(path.join(out, "latest.json"), JSON.stringify(report, null, 2));
writeFileSync(path.join(out, "latest.md"), md + "\n");
console.log("\n" + md + "\n");
console.log(`raw data: out/bench/latest.json, table: out/bench/latest.md`);
if (args.includes("--readme")) {
  const readme = path.join(ROOT, "README.md");
  const text = readFileSync(readme, "utf8");
  const start = "<!-- bench:start -->", end = "<!-- bench:end -->";
  const block = `${start}\n${md}\n${end}`;
  writeFileSync(readme, text.includes(start) ? text.replace(new RegExp(`${start}[\\s\\S]*?${end}`), () => block) : `${text.trimEnd()}\n\n## Benchmarks\n\n${block}\n`);
  console.log("README.md updated");
}
