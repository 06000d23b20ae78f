// `npm run bench` (outside the test suite): llmeter-wasm side by side with a plain JavaScript
// client (full SSE split, JSON.parse of every event) and the platform's floor (a bare fetch
// loop) in the same runtime, and with peer tools (Python LLMeter, AIPerf, GuideLLM), against
// one llm-sim.
//  1. truth       client minus server ground truth TTFT/TTLT (p50, p99): Node, Chromium page and
//                 Web Worker (h2/TLS above 6 clients), workerd, Python llmeter; 1, 8, 64 clients
//  2. throughput  requests/s and CPU s per 1000 requests, zero delays, 16-token streams
//  3. processing  wasm tokenizer vs Python tokenizers, stats for 100k responses, bundle sizes
//  4. perturbation TTFT error with HF token counting on vs off, 64 clients
//  5. peers       AIPerf and GuideLLM: throughput, CPU per request, TTFT error; 1, 8, 64 clients
//  6. workers     `workers: N` in a Chromium page, h2, 64 and 256 clients: 1 vs 4 workers vs the
//                 page's thread vs the bare loop (scripts/bench/fleet.mjs)
//  7. probe       the Probe's main-thread time per request and its bytes (scripts/bench/fleet.mjs)
//  8. lag         open-loop schedule lag in Node: the engine beside JS schedulers replaying its schedule (scripts/bench/lag.mjs)
// Every figure is the median over repeats with its spread (min–max); comparisons are ratios or
// differences within the same run. Prints the tables, writes out/bench/latest.{json,md};
// `--quick` is a smaller run, `--readme` puts the tables into README.md,
// `--only=truth,throughput,...` runs some sections.
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startSim, ROOT } from "../tests/js/sim.js";
import { init } from "../pkg/index.js";
import { runLoop } from "./bench/pages/loops.js";
import { summarize, truthErrors, median, pooledDiff } from "./bench/stats.mjs";
import { startBrowser } from "./bench/browser.mjs";
import { startOtherEngines } from "./bench/engines.mjs";
import { startWorkerd } from "../tests/js/workerd.js";
import { tokenizerSpeed, makeRunFolder, statsCost, summaryLoadMs, bundleSizes, TOKENIZER_JSON } from "./bench/processing.mjs";
import { sseSplitter } from "../tests/js/bare.js";
import { PEERS, checkPeers, peerTokenizer, runAiperf, runGuidellm } from "./bench/peers.mjs";
import { workersSection, probeSection, fleetTables } from "./bench/fleet.mjs";
import { lagTables } from "./bench/lag.mjs";
import { benchHeader } from "./bench/header.mjs";

const args = process.argv.slice(2);
const QUICK = args.includes("--quick");
const ONLY = args.find((a) => a.startsWith("--only="))?.slice(7).split(",");
const SECTIONS = ["truth", "throughput", "processing", "perturbation", "peers", "workers", "probe", "lag"];
const unknown = ONLY?.filter((s) => !SECTIONS.includes(s));
if (unknown?.length) {
  console.error(`--only: unknown section ${unknown.join(", ")} (sections: ${SECTIONS.join(", ")})`);
  process.exit(2);
}
const runs = (section) => !ONLY || ONLY.includes(section);
const PYTHON = process.env.LLMETER_PYTHON ?? path.join(ROOT, ".venv/bin/python");
const SIM_LOAD = process.env.SIM_LOAD_BIN ?? path.join(ROOT, "target/sim/sim-load");

const CFG = QUICK
  ? { repeats: 2, truthPerClient: { 1: 6, 8: 2, 64: 1 }, truthRepeatsAt64: { targeted: 2, other: 2 }, tpClients: [1, 8, 32, 64, 128], tpRequests: 800, tpPyRequests: 200, tokChars: 200_000, statsN: 100_000, statsRepeats: 1, pertPerClient: 2, peerSeconds: 3 }
  : { repeats: 3, truthPerClient: { 1: 12, 8: 4, 64: 2 }, truthRepeatsAt64: { targeted: 40, other: 5 }, tpClients: [1, 8, 32, 64, 128], tpRequests: 3000, tpPyRequests: 500, tokChars: 1_000_000, statsN: 100_000, statsRepeats: 2, pertPerClient: 3, peerSeconds: 5 };
const TRUTH_CLIENTS = [1, 8, 64];
// 64 clients make 128 requests a run, so a run's p99 is its second-worst request: more repeats
// there, where the spread from run to run was widest (workerd, Chromium). Engine − floor moved by
// several ms from one 5-repeat run to the next (workerd 64: +2.53 in one bench, +0.35 over 30
// repeats alone); the median is shown with its 95% confidence interval, so a miss can be told
// from noise. 15 repeats left that interval ~2 ms wide in workerd and ~20 ms in Chromium, where
// Chromium's own h2 spreads a burst of 64 over ~47 ms (2026-12-04): 40 (the 14th to the 27th
// difference) narrow it by √(40/15) ≈ 1.6× for about 2 more minutes per runtime. Where the issue
// sets no target at 64 (Firefox, WebKit, Python, the peers), 5 do.
const truthRepeats = (clients, targeted = false) => (clients !== 64 ? CFG.repeats : targeted ? CFG.truthRepeatsAt64.targeted : CFG.truthRepeatsAt64.other);
// The issue's throughput and CPU targets are set at these counts; 64 is measured for the peers table.
const TARGET_CLIENTS = [1, 8, 32, 128];
const PEER_CLIENTS = [1, 8, 64];
const PEER_WARMUP_S = 1;
// The three JS loops of each runtime, in a rotating order from repeat to repeat.
const KINDS = ["engine", "plain", "bare"];
// In Node the engine's default client is node:http: the same loops over the other client too
// (the engine over fetch, the plain client over node:http), so each comparison can be made on
// one client.
const NODE_KINDS = [...KINDS, "engine-fetch", "plain-http"];
const keyOf = (kind) => kind.replace(/-(\w)/g, (_, c) => c.toUpperCase());
const rotate = (xs, i) => xs.map((_, j) => xs[(i + j) % xs.length]);
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
  peers: [],
  errors: [],
};

const children = new Set();
process.on("exit", () => children.forEach((p) => p.kill()));
// Simulators are stopped on exit too (stop() sends SIGTERM at once).
const sims = new Set();
process.on("exit", () => sims.forEach((s) => s.stop()));
async function startSimTracked(args) {
  const sim = await startSim(args);
  const stop = sim.stop;
  sims.add(sim);
  sim.stop = () => (sims.delete(sim), stop());
  return sim;
}
// Ctrl-C and SIGTERM end the bench through "exit", so every child (simulators, browsers, peer
// tools in their own process groups) is stopped too.
for (const signal of ["SIGINT", "SIGTERM"]) process.once(signal, () => process.exit(130));
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
  const sim = await startSimTracked([...TRUTH_SIM, "--tls-port", "0"]);
  const browser = await guard("chromium start", startBrowser);
  const workerd = await guard("workerd start", startWorkerd);
  const engines = await guard("firefox/webkit start", startOtherEngines);
  report.errors.push(...(engines?.errors ?? []));
  report.versions = { chromium: browser?.version, workerd: workerd?.version, ...engines?.versions };
  // Each runtime: engine, plain client and bare loop, interleaved run by run so that noise hits
  // them alike. Chromium allows 6 HTTP/1.1 connections per host: above that it uses h2 over TLS.
  const runtimes = [
    // targeted: the runtimes the issue sets targets for at 64 clients (more repeats there).
    { name: "node", run: (spec) => runLoop(spec), kinds: NODE_KINDS, targeted: true },
    browser && { name: "chromium page", run: (spec) => browser.run("page", spec), h2Above6: true, targeted: true },
    browser && { name: "chromium worker", run: (spec) => browser.run("worker", spec), h2Above6: true, targeted: true },
    workerd && { name: "workerd", run: (spec) => workerd.run(spec), targeted: true },
    ...(engines?.runtimes ?? []),
  ].filter(Boolean);
  const cap = (k) => k[0].toUpperCase() + k.slice(1);
  try {
    for (const clients of TRUTH_CLIENTS) {
      const perClient = CFG.truthPerClient[clients];
      for (const rt of runtimes) {
        await guard(`truth ${rt.name} ${clients}`, async () => {
          const h2 = rt.h2Above6 && clients > 6;
          const base = h2 ? sim.httpsBase : sim.base;
          const kinds = rt.kinds ?? KINDS;
          const acc = Object.fromEntries(kinds.map((k) => [k, []]));
          // The page's own thread CPU per run, where the runtime reports it (Chromium page).
          const cpu = Object.fromEntries(kinds.map((k) => [k, []]));
          let protocol = null;
          let busyRuns = 0;
          // Warm-up: connections, CORS preflights, JIT — outside the measured runs.
          for (const kind of kinds) await rt.run({ kind, base, clients, perClient: 1, maxTokens: TRUTH_TOKENS });
          await sim.clear();
          for (let i = 0; i < truthRepeats(clients, rt.targeted); i++) {
            for (const kind of rotate(kinds, i)) {
              const r = await rt.run({ kind, base, clients, perClient, maxTokens: TRUTH_TOKENS });
              if (kind === "engine") {
                protocol = r.protocol;
                if (r.busyThread) busyRuns++;
              }
              acc[kind].push(truthErrors(r.samples, await sim.requests()));
              if (r.threadCpuMs !== undefined) cpu[kind].push(r.threadCpuMs);
            }
            await sim.clear();
          }
          const row = { runtime: rt.name, clients, perRun: clients * perClient, protocol: protocol ?? (h2 ? "h2" : "http/1.1"), busyRuns, runs: truthRepeats(clients, rt.targeted) };
          for (const kind of kinds) for (const k of ["ttftP50", "ttftP99", "ttltP50", "ttltP99"]) row[`${keyOf(kind)}${cap(k)}`] = summarize(acc[kind].map((e) => e[k]));
          // Same-repeat differences: engine − bare (the floor) and engine − plain client.
          for (const [ref, prefix] of [["bare", "overhead"], ["plain", "overPlain"]]) {
            for (const k of ["ttftP50", "ttftP99", "ttltP50"]) row[`${prefix}${cap(k)}`] = summarize(acc.engine.map((e, i) => e[k] - acc[ref][i][k]));
            // The p99 of every request of the repeats pooled (a run's own p99 is its second-worst).
            row[`${prefix}TtftP99Pooled`] = pooledDiff(acc.engine.map((e) => e.ttft), acc[ref].map((e) => e.ttft), 99);
          }
          if (cpu.engine.length) {
            for (const kind of kinds) row[`${keyOf(kind)}ThreadCpuMs`] = summarize(cpu[kind]);
            row.overheadThreadCpuMs = summarize(cpu.engine.map((c, i) => c - cpu.bare[i]));
          }
          report.truth.push(row);
          log(`truth ${rt.name} ${clients}: TTFT p50 engine +${row.engineTtftP50.median.toFixed(2)} ms, plain +${row.plainTtftP50.median.toFixed(2)} ms, bare +${row.bareTtftP50.median.toFixed(2)} ms`);
        });
      }
      await guard(`truth python ${clients}`, async () => {
        const perClient = CFG.truthPerClient[clients];
        const spec = { base: sim.base, runs: [{ clients, perClient: 1, maxTokens: TRUTH_TOKENS }, ...Array.from({ length: truthRepeats(clients) }, () => ({ clients, perClient, maxTokens: TRUTH_TOKENS }))] };
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
  const sim = await startSimTracked(["--ttft-ms", "0", "--itl-ms", "0"]);
  try {
    for (const clients of CFG.tpClients) {
      // Warm-up, which also sizes the runs: about TP_RUN_S each (the machine may be busy),
      // between 200 and CFG.tpRequests requests.
      let warmRps = Infinity;
      for (const kind of NODE_KINDS) {
        const w = await runLoop({ kind, base: sim.base, clients, perClient: Math.max(2, Math.round(200 / clients)), maxTokens: TP_TOKENS });
        warmRps = Math.min(warmRps, w.samples.length / w.seconds);
      }
      await sim.clear();
      const perClient = Math.max(1, Math.round(Math.min(CFG.tpRequests, Math.max(200, warmRps * TP_RUN_S)) / clients));
      const n = clients * perClient;
      const acc = Object.fromEntries(NODE_KINDS.map((k) => [k, { rps: [], cpu: [] }]));
      for (let i = 0; i < CFG.repeats + 2; i++) {
        for (const kind of rotate(NODE_KINDS, i)) {
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
        plainRps: summarize(acc.plain.rps),
        bareRps: summarize(acc.bare.rps),
        engineCpuPer1000: summarize(acc.engine.cpu),
        plainCpuPer1000: summarize(acc.plain.cpu),
        bareCpuPer1000: summarize(acc.bare.cpu),
        // Same-repeat ratios.
        ratio: summarize(acc.engine.rps.map((e, i) => e / acc.bare.rps[i])),
        ratioPlain: summarize(acc.engine.rps.map((e, i) => e / acc.plain.rps[i])),
        cpuRatioPlain: summarize(acc.engine.cpu.map((e, i) => e / acc.plain.cpu[i])),
        // Each client against itself: the engine and the plain client both on node:http, both on fetch.
        engineFetchRps: summarize(acc["engine-fetch"].rps),
        plainHttpRps: summarize(acc["plain-http"].rps),
        engineFetchCpuPer1000: summarize(acc["engine-fetch"].cpu),
        plainHttpCpuPer1000: summarize(acc["plain-http"].cpu),
        ratioSameHttp: summarize(acc.engine.rps.map((e, i) => e / acc["plain-http"].rps[i])),
        ratioSameFetch: summarize(acc["engine-fetch"].rps.map((e, i) => e / acc.plain.rps[i])),
        cpuRatioSameHttp: summarize(acc.engine.cpu.map((e, i) => e / acc["plain-http"].cpu[i])),
        cpuRatioSameFetch: summarize(acc["engine-fetch"].cpu.map((e, i) => e / acc.plain.cpu[i])),
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
      log(`throughput ${clients}: engine ${row.engineRps.median.toFixed(0)}/s, plain ${row.plainRps.median.toFixed(0)}/s, bare ${row.bareRps.median.toFixed(0)}/s, engine/plain ${row.ratioPlain.median.toFixed(3)}, engine/bare ${row.ratio.median.toFixed(3)}, python ${row.pythonRps?.median.toFixed(0)}/s`);
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
    const sim = await startSimTracked(["--ttft-ms", "0"]);
    // A load-test folder with one 100k-response level (also read summary-only below).
    const folder = path.join(dir, "test-100k", "00004-clients");
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
    report.processing.summaryLoad = summarize(await summaryLoadMs(path.dirname(folder), 5));
    log(`LoadTestResult.load(loadResponses: false) of a ${CFG.statsN}-response test: ${report.processing.summaryLoad.median.toFixed(1)} ms`);
    rmSync(path.dirname(folder), { recursive: true, force: true });
  });
  report.processing.sizes = bundleSizes();
}

// ---------- 4. perturbation ----------
async function perturbationSection() {
  const sim = await startSimTracked(TRUTH_SIM);
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

// ---------- 5. peers ----------
// AIPerf and GuideLLM as their users run them, one process per case (scripts/bench/peers.mjs):
// zero delays for throughput and CPU, the truth server for TTFT error; 1, 8, 64 clients.
async function peersSection() {
  checkPeers();
  const tokenizer = peerTokenizer(path.join(ROOT, "out/bench/peer-tokenizer"));
  const work = path.join(ROOT, "out/bench/peers");
  const tools = [["aiperf", runAiperf], ["guidellm", runGuidellm]];
  const rows = new Map();
  const rowFor = (tool, clients) => {
    const key = `${tool} ${clients}`;
    if (!rows.has(key)) {
      rows.set(key, { tool, version: PEERS[tool].version, clients });
      report.peers.push(rows.get(key));
    }
    return rows.get(key);
  };
  let sim = await startSimTracked(["--ttft-ms", "0", "--itl-ms", "0"]);
  try {
    for (const clients of PEER_CLIENTS) {
      for (const [tool, run] of tools) {
        await guard(`peers throughput ${tool} ${clients}`, async () => {
          const r = await run({ url: sim.url, tokenizer, dir: path.join(work, `${tool}-throughput-${clients}`), clients, seconds: CFG.peerSeconds, warmup: 2 * clients, warmupSeconds: PEER_WARMUP_S, outputTokens: TP_TOKENS });
          await sim.clear();
          Object.assign(rowFor(tool, clients), { rps: r.rps, requests: r.requests, windowS: r.windowS, cpuS: r.cpuS, cpuPer1000: r.cpuPerRequestMs, processCpuS: r.processCpuS, processes: r.processes });
          log(`peers throughput ${tool} ${clients}: ${r.rps.toFixed(0)}/s, CPU ${r.cpuPerRequestMs.toFixed(3)} ms/request (${r.processes} processes; ${r.processCpuS.toFixed(1)} CPU s for the whole invocation)`);
        });
      }
    }
  } finally {
    await sim.stop();
  }
  sim = await startSimTracked(TRUTH_SIM);
  try {
    for (const clients of PEER_CLIENTS) {
      // As many measured requests as each JS loop makes over all its repeats.
      const requests = clients * CFG.truthPerClient[clients] * truthRepeats(clients);
      for (const [tool, run] of tools) {
        await guard(`peers truth ${tool} ${clients}`, async () => {
          const r = await run({ url: sim.url, tokenizer, dir: path.join(work, `${tool}-truth-${clients}`), clients, requests, warmup: clients, outputTokens: TRUTH_TOKENS, traceIds: true });
          const e = truthErrors(r.samples, await sim.requests());
          await sim.clear();
          Object.assign(rowFor(tool, clients), { truthRequests: e.n, ttftP50: e.ttftP50, ttftP99: e.ttftP99 });
          log(`peers truth ${tool} ${clients}: TTFT error p50 +${e.ttftP50.toFixed(2)} ms, p99 +${e.ttftP99.toFixed(2)} ms (${e.n} requests)`);
        });
      }
    }
  } finally {
    await sim.stop();
  }
}

/** The plain client's SSE splitter must give the same events however the bytes are cut. */
function checkSseSplitter() {
  const text = 'data: {"a":1}\r\n\r\n: comment\ndata:x\ndata: y\n\nevent: e\rdata: z\r\rdata: [DONE]\n\n';
  const want = JSON.stringify(['{"a":1}', "x\ny", "z", "[DONE]"]);
  const cuts = [...Array.from({ length: text.length + 1 }, (_, i) => [text.slice(0, i), text.slice(i)]), [...text]];
  for (const pieces of cuts) {
    const got = [];
    const feed = sseSplitter((d) => got.push(d));
    pieces.forEach(feed);
    if (JSON.stringify(got) !== want) throw new Error(`plain client SSE splitter: ${JSON.stringify(pieces)} gave ${JSON.stringify(got)}`);
  }
}

/** The lag section in a child process (see scripts/bench/lag.mjs); its log lines pass through. */
function lagInFreshProcess() {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, "scripts/bench/lag.mjs"), "--json", ...(QUICK ? ["--quick"] : [])], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`lag section exited with ${code}`))));
  });
}

checkSseSplitter();
if (runs("truth")) await guard("truth", truthSection);
if (runs("throughput")) await guard("throughput", throughputSection);
if (runs("processing")) await guard("processing", processingSection);
if (runs("perturbation")) await guard("perturbation", perturbationSection);
if (runs("peers")) await guard("peers", peersSection);
if (runs("workers")) await guard("workers", async () => { report.workers = await workersSection({ repeats: CFG.repeats, log, guard }); });
if (runs("probe")) await guard("probe", async () => { report.probe = await probeSection({ repeats: CFG.repeats, log, guard }); });
if (runs("lag")) await guard("lag", async () => { report.lag = await lagInFreshProcess(); });
report.loadAverageEnd = load();
report.seconds = (performance.now() - t0) / 1000;

// ---------- the tables ----------
const f = (x, d = 2) => (x === undefined || x === null || Number.isNaN(x) ? "–" : Number(x).toFixed(d));
const sp = (s, d = 2, unit = "") => (s ? `${f(s.median, d)}${unit} (${f(s.min, d)}–${f(s.max, d)})` : "–");
const signed = (x, d = 2) => `${x >= 0 ? "+" : ""}${f(x, d)}`;
// A median over repeats, with its 95% confidence interval where there are enough repeats, else its range.
const plus = (s, d = 2) => (s ? `${signed(s.median, d)} ${s.ci ? `[CI ${signed(s.ci.lo, d)}…${signed(s.ci.hi, d)}]` : `(${f(s.min, d)}…${f(s.max, d)})`}` : "–");
// A target on a median difference: met or not, and when not, whether the interval still reaches it.
const within = (s, limit) => `${mark(s.median <= limit)}${s.median > limit && s.ci && s.ci.lo <= limit ? " (within its CI)" : ""}`;
// A pooled difference (pooledDiff) with its bootstrap interval.
const plusPooled = (d) => `${signed(d.value)}${d.ci ? ` [CI ${signed(d.ci.lo)}…${signed(d.ci.hi)}]` : ""}`;
// The page thread's CPU per run (Chromium page): engine, plain client, floor, and engine − floor.
const threadCpu = (r) => (r.engineThreadCpuMs ? `; page thread CPU ms/run engine ${f(r.engineThreadCpuMs.median, 0)}, plain ${f(r.plainThreadCpuMs.median, 0)}, floor ${f(r.bareThreadCpuMs.median, 0)} (engine−floor ${plus(r.overheadThreadCpuMs, 1)})` : "");
const err2 = (a, b) => (a === undefined || b === undefined ? "–" : `+${f(a)} / +${f(b)}`);
const mark = (ok) => (ok ? "✓" : "✗");
const rows = [];
const add = (section, what, ours, plain, floor, peer, compare, target = "") => rows.push([section, what, ours, plain, floor, peer, compare, target]);
for (const r of report.truth.filter((r) => r.runtime !== "python llmeter")) {
  const py = report.truth.find((p) => p.runtime === "python llmeter" && p.clients === r.clients);
  const what = `${r.runtime}, ${r.clients} client${r.clients > 1 ? "s" : ""}${r.protocol && r.protocol !== "http/1.1" ? ` (${r.protocol})` : ""}`;
  const pyCell = (k1, k2) => (py && r.runtime === "node" ? err2(py[k1].median, py[k2].median) : "");
  const m = (k) => r[k]?.median;
  // Targets: engine − floor TTFT p50 ≤ +0.5 ms everywhere; at 64 clients also p99 ≤ +2 ms (Node,
  // workerd; for Chromium h2 "no worse than the floor" is held to the same tolerances).
  const targets = [`p50 Δ ≤ 0.5 ${within(r.overheadTtftP50, 0.5)}`];
  // The p99 target is judged as it was declared: the median of same-repeat differences of each
  // run's p99. The pooled p99 beside it is for reading: it follows single outliers less, but one
  // disturbed run (128 requests, 2.5% of the pool) sets it on its own.
  if (r.clients === 64) targets.push(`p99 Δ ≤ 2 ${within(r.overheadTtftP99, 2)}`);
  const pooled = r.overheadTtftP99Pooled?.ci ? `; pooled p99 engine−floor ${plusPooled(r.overheadTtftP99Pooled)}, engine−plain ${plusPooled(r.overPlainTtftP99Pooled)}` : "";
  add("truth TTFT err p50 / p99 ms", what, err2(m("engineTtftP50"), m("engineTtftP99")), err2(m("plainTtftP50"), m("plainTtftP99")), err2(m("bareTtftP50"), m("bareTtftP99")), pyCell("pythonTtftP50", "pythonTtftP99"),
    `engine−floor ${plus(r.overheadTtftP50)} / ${plus(r.overheadTtftP99)}; engine−plain ${plus(r.overPlainTtftP50)} / ${plus(r.overPlainTtftP99)}${pooled}${r.busyRuns ? `; busy-thread warning in ${r.busyRuns} of ${r.runs} runs` : ""}${threadCpu(r)}`, targets.join("; "));
  add("truth TTLT err p50 / p99 ms", what, err2(m("engineTtltP50"), m("engineTtltP99")), err2(m("plainTtltP50"), m("plainTtltP99")), err2(m("bareTtltP50"), m("bareTtltP99")), pyCell("pythonTtltP50", "pythonTtltP99"),
    `engine−floor ${plus(r.overheadTtltP50)}; engine−plain ${plus(r.overPlainTtltP50)}`);
}
for (const r of report.throughput) {
  const targeted = TARGET_CLIENTS.includes(r.clients);
  add("throughput req/s", `node, ${r.clients} clients`, sp(r.engineRps, 0), sp(r.plainRps, 0), sp(r.bareRps, 0), r.pythonRps ? `${sp(r.pythonRps, 0)}${r.nativeRps ? `; native ${r.nativeRps}` : ""}` : "",
    `engine/plain ${sp(r.ratioPlain, 3)}; engine/floor ${sp(r.ratio, 3)}; engine/python ${f(r.engineOverPython, 1)}×`,
    targeted ? `≥ 1.00 plain ${mark(r.ratioPlain.median >= 1)}; ≥ 0.90 floor ${mark(r.ratio.median >= 0.9)}` : "(for the side-by-side table)");
  add("CPU s / 1000 req", `node, ${r.clients} clients`, sp(r.engineCpuPer1000, 3), sp(r.plainCpuPer1000, 3), sp(r.bareCpuPer1000, 3), sp(r.pythonCpuPer1000, 3),
    `engine/plain ${sp(r.cpuRatioPlain, 2)}; engine/floor ${f(r.engineCpuPer1000.median / r.bareCpuPer1000.median, 2)}`, targeted ? `≤ plain ${mark(r.cpuRatioPlain.median <= 1)}` : "");
}
const pt = report.processing.tokenizer;
// Target: at least Python `tokenizers`' speed; tokenizerSpeed throws unless the counts are equal.
if (pt) add("tokenizer tokens/s", `llama3, ${Math.round(pt.chars / 1000)}k chars in ${pt.chunkChars}-char calls`, sp(pt.ours, 0), "", "", `${sp(pt.python, 0)} (tokenizers)`, `ours/python ${f(pt.ratio, 2)}; same count ${pt.tokens}`, `≥ 1.00 ${mark(pt.ratio >= 1)}`);
const ps = report.processing.stats;
if (ps) {
  add("stats for 100k responses", `load + stats, ${(ps.bytes / 2 ** 20).toFixed(1)} MB responses.jsonl`, sp(ps.ours.seconds, 2, " s"), "", "", sp(ps.python.seconds, 2, " s"), `python/ours ${f(ps.python.seconds.median / ps.ours.seconds.median, 1)}×`);
  add("memory (peak RSS growth)", "same", sp(ps.ours.rssGrowthMb, 0, " MB"), "", "", sp(ps.python.rssGrowthMb, 0, " MB"), `python/ours ${f(ps.python.rssGrowthMb.median / ps.ours.rssGrowthMb.median, 1)}×`);
}
const sl = report.processing.summaryLoad;
if (sl) add("summaries of a 100k-response test", "LoadTestResult.load(…, {loadResponses: false})", sp(sl, 1, " ms"), "", "", "", "", `< 50 ms ${mark(sl.median < 50)}`);
for (const s of report.processing.sizes ?? []) if (s.file.endsWith(".wasm")) {
  const core = s.file === "llmeter_wasm_bg.wasm";
  const limitKb = { "llmeter_wasm_bg.wasm": 200, "llmeter_tokenizers_bg.wasm": 900 }[s.file];
  // Limits in KB of 1,000 bytes, the stricter reading of "KB" (a KiB limit would allow 2.4% more).
  add("bundle size", `pkg/${s.file}${core ? " (core)" : ""}`, `${f(s.raw / 1000, 1)} KB raw, ${f(s.gzip / 1000, 1)} KB gz (${s.gzip.toLocaleString("en")} B)`, "", "", "", "", limitKb ? `≤ ${limitKb} KB gz ${mark(s.gzip <= limitKb * 1000)}` : "");
}
const pp = report.perturbation;
if (pp) add("perturbation TTFT err p50 / p99 ms", `node, 64 clients, HF counting on vs off`, `on +${f(pp.onTtftP50.median)} / +${f(pp.onTtftP99.median)}`, "", `+${f(pp.bareTtftP50.median)} / +${f(pp.bareTtftP99.median)}`, "", `off +${f(pp.offTtftP50.median)} / +${f(pp.offTtftP99.median)}; on−off ${plus(pp.deltaP50)} / ${plus(pp.deltaP99)}`, "must not move");

// Side by side with the peers at 1 / 8 / 64 clients (Node for the JS loops): throughput and CPU
// from the zero-delay server, TTFT error from the truth server.
const side = [];
const peerRow = (tool, clients) => report.peers.find((p) => p.tool === tool && p.clients === clients);
for (const clients of PEER_CLIENTS) {
  const tp = report.throughput.find((r) => r.clients === clients);
  const tr = report.truth.find((r) => r.runtime === "node" && r.clients === clients);
  const py = report.truth.find((r) => r.runtime === "python llmeter" && r.clients === clients);
  const a = peerRow("aiperf", clients), g = peerRow("guidellm", clients);
  side.push([`throughput req/s`, clients, f(tp?.engineRps.median, 0), f(tp?.plainRps.median, 0), f(tp?.bareRps.median, 0), f(a?.rps, 0), f(g?.rps, 0), f(tp?.pythonRps?.median, 0)]);
  side.push([`CPU ms / request`, clients, f(tp?.engineCpuPer1000.median, 3), f(tp?.plainCpuPer1000.median, 3), f(tp?.bareCpuPer1000.median, 3), f(a?.cpuPer1000, 3), f(g?.cpuPer1000, 3), f(tp?.pythonCpuPer1000?.median, 3)]);
  side.push([`TTFT err p50 / p99 ms`, clients, err2(tr?.engineTtftP50.median, tr?.engineTtftP99.median), err2(tr?.plainTtftP50.median, tr?.plainTtftP99.median), err2(tr?.bareTtftP50.median, tr?.bareTtftP99.median), err2(a?.ttftP50, a?.ttftP99), err2(g?.ttftP50, g?.ttftP99), err2(py?.pythonTtftP50.median, py?.pythonTtftP99.median)]);
}
side.sort((x, y) => ["throughput req/s", "CPU ms / request", "TTFT err p50 / p99 ms"].indexOf(x[0]) - ["throughput req/s", "CPU ms / request", "TTFT err p50 / p99 ms"].indexOf(y[0]) || x[1] - y[1]);

// Node's two HTTP clients: each loop on each client, so that the engine meets the plain client
// on the same one.
const transportRows = [];
for (const r of report.throughput) {
  transportRows.push([`throughput req/s`, r.clients, sp(r.engineRps, 0), sp(r.plainHttpRps, 0), `${f(r.ratioSameHttp?.median, 2)}×`, sp(r.engineFetchRps, 0), sp(r.plainRps, 0), `${f(r.ratioSameFetch?.median, 2)}×`, sp(r.bareRps, 0)]);
  transportRows.push([`CPU ms / request`, r.clients, sp(r.engineCpuPer1000, 3), sp(r.plainHttpCpuPer1000, 3), `${f(r.cpuRatioSameHttp?.median, 2)}×`, sp(r.engineFetchCpuPer1000, 3), sp(r.plainCpuPer1000, 3), `${f(r.cpuRatioSameFetch?.median, 2)}×`, sp(r.bareCpuPer1000, 3)]);
}
for (const r of report.truth.filter((r) => r.runtime === "node")) {
  transportRows.push([`TTFT err p50 / p99 ms`, r.clients, err2(r.engineTtftP50?.median, r.engineTtftP99?.median), err2(r.plainHttpTtftP50?.median, r.plainHttpTtftP99?.median), "", err2(r.engineFetchTtftP50?.median, r.engineFetchTtftP99?.median), err2(r.plainTtftP50?.median, r.plainTtftP99?.median), "", err2(r.bareTtftP50?.median, r.bareTtftP99?.median)]);
}
const transportHeader = ["", "clients", "engine, node:http (default)", "plain JS client, node:http", "engine / plain", "engine, fetch", "plain JS client, fetch", "engine / plain", "bare fetch (floor)"];

const header = ["section", "case", "llmeter-wasm", "plain JS client", "bare fetch (floor)", "Python llmeter", "comparison (median (min…max))", "target"];
const sideHeader = ["", "clients", "llmeter-wasm (Node: node:http)", "plain JS client (fetch)", "bare fetch (floor)", `AIPerf ${PEERS.aiperf.version}`, `GuideLLM ${PEERS.guidellm.version}`, "Python LLMeter 0.2.0"];
const table = (h, body) => [`| ${h.join(" | ")} |`, `|${h.map(() => "---").join("|")}|`, ...body.map((r) => `| ${r.join(" | ")} |`)];
const md = [
  benchHeader(report, { only: ONLY }),
  ...(rows.length ? [
  "",
  ...table(header, rows),
  "",
  `Truth: server TTFT 50 ms, ITL 5 ms, ${TRUTH_TOKENS} tokens, error = client − server ground truth (llm-sim \`first/last_token_sent_us − received_us\`); comparison = engine − floor and engine − plain client in the same repeat, median over repeats with its 95% confidence interval [CI lo…hi] (distribution-free, from 6 repeats; fewer: the range); "pooled p99" = the p99 of every request of the repeats (5,120 at 64 clients) against the other loop's, with a 95% bootstrap interval over the repeats, for reading beside the per-run figure (a run's own p99 is its second-worst of 128, but one disturbed run is 2.5% of the pool and sets a pooled p99 on its own); targets are judged on the per-run medians — ${CFG.repeats} repeats at 1 and 8 clients; at 64, ${CFG.truthRepeatsAt64.targeted} where the issue sets targets (Node, workerd, Chromium), ${CFG.truthRepeatsAt64.other} elsewhere. Throughput: zero delays, ${TP_TOKENS}-token streams, one Node process, CPU = its user+system time. Python llmeter 0.2.0 via its Runner + OpenAICompletionStreamEndpoint; "native" = llm-sim's Rust \`sim-load\`. Chromium runs with no DevTools attached, as users run it (a DevTools client such as Playwright makes the renderer report every body chunk on the thread that stamps it: every loop's TTFT error ~10 ms higher at 64 clients, the spread ~3× wider; docs/SCALE.md); Firefox and WebKit run under their WebDriver. Chromium page rows also give the page thread's CPU per run (Linux schedstat around each run, setup and result included): what its TTFT stamps wait behind. The load average (other work on the machine) inflates absolute figures and widens spreads; same-run comparisons hold up best.`,
  ] : []),
  "",
  ...(report.truth.length || report.throughput.length || report.peers.length ? [
  `Side by side (Node for the JS loops; medians; the same run):`,
  "",
  ...table(sideHeader, side),
  "",
  `Throughput and CPU: zero delays, ${TP_TOKENS}-token streams; AIPerf and GuideLLM report their own requests/s for a ${CFG.peerSeconds} s measured phase after a warm-up, and their CPU is the whole process tree's user+system time over that phase (children included, sampled from /proc) per completed request. TTFT error: the truth server above, each request matched to llm-sim's record by its id (AIPerf: the response's X-Request-ID in its per-request records with --export-http-trace; GuideLLM: the response id), one run of as many requests as a JS loop makes over its repeats.`,
  ] : []),
  ...(transportRows.length ? ["", "Node's two HTTP clients (the engine's default there is `node:http`; each loop on each client, medians (spread) of the same run; engine / plain = same-repeat ratio on the same client):", "", ...table(transportHeader, transportRows)] : []),
  ...fleetTables(report.workers, report.probe),
  ...lagTables(report.lag),
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
