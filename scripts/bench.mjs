// Engine vs bare fetch loop, side by side in one Node process against one llm-sim:
//  - throughput: requests/s for zero-delay 16-token streams at several client counts;
//  - truth: client TTFT/TTLT minus the simulator's ground truth (p50, p99), 50 ms TTFT, 5 ms ITL.
// Every figure is the median of REPEATS runs, with the spread (min…max).
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startSim, ROOT } from "../tests/js/sim.js";
import { OpenAIEndpoint, Runner, init } from "../pkg/index.js";
import { bareLoop as sharedBareLoop } from "../tests/js/bare.js";

const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const THROUGHPUT_CLIENTS = (process.env.BENCH_CLIENTS ?? "1,8,32,64").split(",").map(Number);
const THROUGHPUT_REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const TRUTH_CLIENTS = [1, 6, 64];

await init();
const payload = (maxTokens) => ({ messages: [{ role: "user", content: "benchmark me" }], max_tokens: maxTokens });

async function bareLoop(base, clients, perClient, maxTokens) {
  return sharedBareLoop({ base, clients, perClient, maxTokens });
}

async function engine(base, clients, perClient, maxTokens) {
  const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: base, model: "sim-model" }) });
  const start = performance.now();
  const result = await runner.run({ clients, nRequests: perClient, payload: payload(maxTokens), startJitterMs: 0 });
  const seconds = (performance.now() - start) / 1000;
  if (result.stats.failed_requests) throw new Error(`engine: ${result.stats.failed_requests} failed: ${result.responses.find((r) => r.error).error}`);
  return { seconds, samples: result.responses.map((r) => ({ id: r.id.replace(/^chatcmpl-/, ""), ttft: r.time_to_first_token * 1000, ttlt: r.time_to_last_token * 1000 })) };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };
const spread = (xs) => `${Math.min(...xs).toFixed(2)}…${Math.max(...xs).toFixed(2)}`;

async function truthErrors(sim, samples) {
  const recs = new Map((await sim.requests()).map((r) => [r.id, r]));
  const e = samples.map((s) => {
    const rec = recs.get(s.id);
    return { ttft: s.ttft - (rec.first_token_sent_us - rec.received_us) / 1000, ttlt: s.ttlt - (rec.last_token_sent_us - rec.received_us) / 1000 };
  });
  return { ttftP50: median(e.map((x) => x.ttft)), ttftP99: pct(e.map((x) => x.ttft), 99), ttltP50: median(e.map((x) => x.ttlt)), ttltP99: pct(e.map((x) => x.ttlt), 99) };
}

const report = { date: new Date().toISOString(), machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`, runtime: `node ${process.versions.node}`, repeats: REPEATS, throughput: [], truth: [] };

// Throughput, zero delays.
let sim = await startSim(["--ttft-ms", "0", "--itl-ms", "0"]);
try {
  for (const clients of THROUGHPUT_CLIENTS) {
    const perClient = Math.max(1, Math.round(THROUGHPUT_REQUESTS / clients));
    const rows = { bare: [], engine: [] };
    await bareLoop(sim.base, clients, Math.min(perClient, 20), 16); // warm connections and JIT
    await engine(sim.base, clients, Math.min(perClient, 20), 16);
    for (let i = 0; i < REPEATS; i++) {
      await sim.clear();
      const b = await bareLoop(sim.base, clients, perClient, 16);
      rows.bare.push((clients * perClient) / b.seconds);
      await sim.clear();
      const e = await engine(sim.base, clients, perClient, 16);
      rows.engine.push((clients * perClient) / e.seconds);
    }
    const ratio = median(rows.engine.map((e, i) => e / rows.bare[i]));
    report.throughput.push({ clients, requests: clients * perClient, bareRps: median(rows.bare), engineRps: median(rows.engine), ratio, bareSpread: spread(rows.bare), engineSpread: spread(rows.engine) });
  }
} finally {
  await sim.stop();
}

// Truth: 50 ms TTFT, 5 ms ITL, 32 tokens.
sim = await startSim(["--ttft-ms", "50", "--itl-ms", "5"]);
try {
  for (const clients of TRUTH_CLIENTS) {
    const perClient = Math.max(2, Math.round(128 / clients));
    const acc = { bare: [], engine: [] };
    await bareLoop(sim.base, clients, 1, 32);
    for (let i = 0; i < REPEATS; i++) {
      await sim.clear();
      acc.bare.push(await truthErrors(sim, (await bareLoop(sim.base, clients, perClient, 32)).samples));
      await sim.clear();
      acc.engine.push(await truthErrors(sim, (await engine(sim.base, clients, perClient, 32)).samples));
    }
    const m = (rows, k) => median(rows.map((r) => r[k]));
    report.truth.push({
      clients,
      bareTtftP50: m(acc.bare, "ttftP50"), engineTtftP50: m(acc.engine, "ttftP50"),
      bareTtftP99: m(acc.bare, "ttftP99"), engineTtftP99: m(acc.engine, "ttftP99"),
      bareTtltP50: m(acc.bare, "ttltP50"), engineTtltP50: m(acc.engine, "ttltP50"),
      overheadP50: m(acc.engine, "ttftP50") - m(acc.bare, "ttftP50"),
      engineTtftP50Spread: spread(acc.engine.map((r) => r.ttftP50)),
    });
  }
} finally {
  await sim.stop();
}

console.log(`\n${report.date} — ${report.machine} — ${report.runtime} — median of ${REPEATS}\n`);
console.log("Throughput (zero-delay 16-token streams, requests/s):");
console.table(report.throughput.map((r) => ({ clients: r.clients, requests: r.requests, "bare fetch": r.bareRps.toFixed(0), engine: r.engineRps.toFixed(0), "engine/bare": r.ratio.toFixed(3), "engine spread": r.engineSpread })));
console.log("Truth (client minus server ground truth, ms; server TTFT 50 ms, ITL 5 ms, 32 tokens):");
console.table(report.truth.map((r) => ({ clients: r.clients, "bare TTFT p50": r.bareTtftP50.toFixed(3), "engine TTFT p50": r.engineTtftP50.toFixed(3), "overhead p50": r.overheadP50.toFixed(3), "bare TTFT p99": r.bareTtftP99.toFixed(3), "engine TTFT p99": r.engineTtftP99.toFixed(3), "engine TTLT p50": r.engineTtltP50.toFixed(3) })));
const out = path.join(ROOT, "out/bench");
mkdirSync(out, { recursive: true });
writeFileSync(path.join(out, "latest.json"), JSON.stringify(report, null, 2));
console.log(`raw data: ${path.relative(process.cwd(), path.join(out, "latest.json"))}`);
