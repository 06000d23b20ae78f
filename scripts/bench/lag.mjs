// Bench section "lag" (issue 14): how late open-loop requests leave against their schedule, in
// Node, below the server's capacity — the engine (`rate`, Poisson arrivals) beside two JavaScript
// schedulers that replay the engine's own schedule in the same process: one as the engine waits
// (a timer to 2 ms before, then event-loop turns) and a naive one (a timer to the due time). GC
// pauses during each run are counted (PerformanceObserver "gc"): in Node they set the p99.
// Run by scripts/bench.mjs (`--only=lag`) or alone: `node scripts/bench/lag.mjs [--quick]`.
import { PerformanceObserver } from "node:perf_hooks";
import { startSim } from "../../tests/js/sim.js";
import { summarize } from "./stats.mjs";

const SIM = ["--ttft-ms", "5", "--itl-ms", "1"];
const PAYLOAD = { messages: [{ role: "user", content: "hello there" }], max_tokens: 4 };

/** Quantile (nearest rank) of sorted `xs`. */
const q = (xs, p) => xs[Math.min(xs.length - 1, Math.max(0, Math.ceil(p * xs.length) - 1))];
const lagStats = (lags) => {
  const s = [...lags].sort((a, b) => a - b);
  return { p50: q(s, 0.5), p90: q(s, 0.9), p99: q(s, 0.99), max: s.at(-1) };
};

/** GC pauses (ms) while `f` runs. */
async function withGc(f) {
  const pauses = [];
  const obs = new PerformanceObserver((list) => { for (const e of list.getEntries()) pauses.push(e.duration); });
  obs.observe({ entryTypes: ["gc"] });
  try {
    const out = await f();
    await new Promise((r) => setTimeout(r, 50)); // deliver the last entries
    return { out, gc: { n: pauses.length, max: pauses.length ? Math.max(...pauses) : 0, over2ms: pauses.filter((p) => p > 2).length } };
  } finally {
    obs.disconnect();
  }
}

const turn = () => new Promise((resolve) => {
  const { port1, port2 } = new MessageChannel();
  port1.onmessage = () => { port1.close(); port2.close(); resolve(undefined); };
  port2.postMessage(undefined);
});

/**
 * Replays `dueMs` (ms after start) in JavaScript: each request leaves at its time, whatever is in
 * flight. `precise`: a timer to 2 ms before, then event-loop turns (what the engine does).
 */
async function jsSchedule(base, dueMs, precise) {
  const body = JSON.stringify({ model: "sim", ...PAYLOAD, stream: true, stream_options: { include_usage: true } });
  const init = { method: "POST", headers: { "content-type": "application/json" }, body };
  const lags = [], inFlight = [];
  const t0 = performance.now() + 5;
  for (const d of dueMs) {
    const due = t0 + d;
    const wait = due - performance.now() - (precise ? 2 : 0);
    if (wait > 0) await new Promise((r) => setTimeout(r, precise ? Math.ceil(wait) : wait));
    if (precise) while (performance.now() < due) await turn();
    lags.push(performance.now() - due);
    inFlight.push(fetch(`${base}/chat/completions`, init).then((r) => r.text()));
  }
  await Promise.all(inFlight);
  return lags;
}

/** @param {{ repeats: number, quick?: boolean, log: (...m: any[]) => void }} ctx */
export async function lagSection({ repeats, quick = false, log }) {
  const { OpenAIEndpoint, Runner } = await import("../../pkg/index.js");
  const sim = await startSim(SIM);
  const rows = [];
  try {
    const endpoint = new OpenAIEndpoint({ baseUrl: sim.base, model: "sim" });
    const runner = new Runner({ endpoint });
    await runner.run({ clients: 2, nRequests: 20, payload: PAYLOAD }); // warm: JIT, connections
    await jsSchedule(sim.base, [0, 1, 2, 3], true);
    for (const rate of [50, 200]) {
      // At least 500 arrivals (10 s at 50/s): with 250 the p99 was the third-worst of a run.
      const n = quick ? rate * 2 : Math.max(rate * 5, 500);
      const acc = { engine: [], precise: [], naive: [] };
      const gc = { engine: [], precise: [], naive: [] };
      for (let i = 0; i < repeats; i++) {
        const e = await withGc(() => runner.run({ rate, arrival: "poisson", seed: 100 + i, nRequests: n, payload: PAYLOAD, maxConcurrency: 64 }));
        const timings = e.out.timings;
        const lags = timings.map((t) => (t.sent_at - t.scheduled_at) * 1000);
        acc.engine.push(lagStats(lags));
        gc.engine.push(e.gc);
        const due = timings.map((t) => t.scheduled_at * 1000).sort((a, b) => a - b);
        for (const kind of i % 2 ? ["naive", "precise"] : ["precise", "naive"]) {
          const j = await withGc(() => jsSchedule(sim.base, due, kind === "precise"));
          acc[kind].push(lagStats(j.out));
          gc[kind].push(j.gc);
        }
        await sim.clear();
      }
      const pick = (kind, k) => summarize(acc[kind].map((s) => s[k]));
      const row = { rate, requests: n, arrival: "poisson" };
      for (const kind of ["engine", "precise", "naive"]) {
        row[kind] = { p50: pick(kind, "p50"), p90: pick(kind, "p90"), p99: pick(kind, "p99"), max: pick(kind, "max"), gcPauses: summarize(gc[kind].map((g) => g.n)), gcMaxMs: summarize(gc[kind].map((g) => g.max)), gcOver2ms: summarize(gc[kind].map((g) => g.over2ms)) };
      }
      rows.push(row);
      log(`lag ${rate}/s: p99 engine ${row.engine.p99.median.toFixed(2)} ms, JS timer+turns ${row.precise.p99.median.toFixed(2)} ms, naive timer ${row.naive.p99.median.toFixed(2)} ms; GC pauses > 2 ms per run: ${row.engine.gcOver2ms.median}`);
    }
  } finally {
    await sim.stop();
  }
  return rows;
}

/** Markdown for the lag rows. */
export function lagTables(rows) {
  if (!rows?.length) return [];
  const f = (x, d = 2) => (x === undefined || x === null ? "–" : Number(x).toFixed(d));
  const three = (r) => `${f(r.p50.median, 3)} / ${f(r.p90.median)} / ${f(r.p99.median)}`;
  const md = ["", "Schedule lag (Node, open loop below capacity, Poisson arrivals; ms late against the schedule, p50 / p90 / p99, median over repeats; a fresh Node process, in which the JS schedulers replay the engine's own schedule; target p99 < 2 ms):", "",
    "| rate | requests | llmeter-wasm | JS: timer + event-loop turns | JS: naive timer | GC pauses per run (> 2 ms; longest ms) |", "|---|---|---|---|---|---|"];
  for (const r of rows) md.push(`| ${r.rate}/s | ${r.requests} | ${three(r.engine)} ${r.engine.p99.median < 2 ? "✓" : "✗"} | ${three(r.precise)} | ${three(r.naive)} | engine ${f(r.engine.gcPauses.median, 0)} (${f(r.engine.gcOver2ms.median, 0)}; ${f(r.engine.gcMaxMs.median, 1)}), JS ${f(r.precise.gcPauses.median, 0)} (${f(r.precise.gcOver2ms.median, 0)}; ${f(r.precise.gcMaxMs.median, 1)}) |`);
  return md;
}

// Alone: node scripts/bench/lag.mjs [--quick] [--json]. scripts/bench.mjs runs it so, in a
// fresh process (--json: the rows on stdout): after the other sections the bench's own heap is
// large, and its major GCs would land in these runs as lag that is not the scheduler's.
if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes("--quick");
  const rows = await lagSection({ repeats: quick ? 2 : 3, quick, log: (...m) => console.error(...m) });
  console.log(process.argv.includes("--json") ? JSON.stringify(rows) : lagTables(rows).join("\n"));
}
