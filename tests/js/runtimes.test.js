// Each example in examples/ run in its real runtime — Node, Deno, workerd, a page and a Web
// Worker in headless Chromium — against a real llm-sim: requests completed, the runtime facts
// recorded, and TTFT/TTLT within the runtime's measured accuracy of the server's ground truth.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startSim } from "./sim.js";
import { startStatic, launchChromium } from "./browser.js";
import { runNodeExample, runDenoExample, startWorkerd, runPageExample } from "./runtimes.js";

// Client-measured minus server ground truth (ms), p50 and worst of 8 requests at 2 clients,
// 50 ms server TTFT, 5 ms between tokens, loopback. Measured on this 2-core machine with other
// jobs running (see README "Runtimes"): Node and Deno ~1–2 ms, Chromium ~2.5–4 ms (its
// renderer → network-service hop), workerd ~1–3 ms. The bounds add room for CI noise; a
// broken clock or a queued request would be off by tens of ms.
const ACCURACY_MS = {
  node: { p50: 4, max: 15, clock: "fine", runtime: /^node \d+\.\d+/ },
  deno: { p50: 4, max: 15, clock: "fine", runtime: /^deno \d+\.\d+/ },
  workerd: { p50: 5, max: 15, clock: "coarsened", runtime: /^workerd/ },
  "browser-page": { p50: 6, max: 20, clock: "coarsened", runtime: /Chrome\/\d+/ },
  "web-worker": { p50: 6, max: 20, clock: "coarsened", runtime: /Chrome\/\d+.*\(worker\)/ },
};
const CLIENTS = 2;
const PER_CLIENT = 4;

let sim, site, browser, workerd;
before(async () => {
  sim = await startSim(["--ttft-ms", "50", "--itl-ms", "5", "--seed", "3"]);
  site = await startStatic();
  browser = await launchChromium();
  workerd = await startWorkerd("examples/workerd/config.capnp");
});
after(async () => {
  await browser?.close();
  await site?.close();
  await workerd?.stop();
  await sim?.stop();
});

const runners = {
  node: () => runNodeExample(sim.base, CLIENTS, PER_CLIENT),
  deno: () => runDenoExample(sim.base, CLIENTS, PER_CLIENT),
  workerd: async () => (await fetch(`${workerd.origin}/?${new URLSearchParams({ baseUrl: sim.base, model: "sim-model", clients: CLIENTS, nRequests: PER_CLIENT })}`)).json(),
  "browser-page": () => runPageExample(browser, site.origin, "examples/browser-page/index.html", { baseUrl: sim.base, model: "sim-model", clients: CLIENTS, nRequests: PER_CLIENT }),
  "web-worker": () => runPageExample(browser, site.origin, "examples/web-worker/index.html", { baseUrl: sim.base, model: "sim-model", clients: CLIENTS, nRequests: PER_CLIENT }),
};

/** Per-response client-minus-server errors (ms), sorted. */
async function errorsAgainstGroundTruth(responses) {
  const recs = new Map((await sim.requests()).map((r) => [r.id, r]));
  const ttft = [], ttlt = [];
  for (const r of responses) {
    const rec = recs.get(r.id.replace(/^chatcmpl-/, ""));
    assert.ok(rec, `no ground truth for ${r.id}`);
    assert.equal(r.num_tokens_output, rec.output_tokens);
    ttft.push(r.time_to_first_token * 1000 - (rec.first_token_sent_us - rec.received_us) / 1000);
    ttlt.push(r.time_to_last_token * 1000 - (rec.last_token_sent_us - rec.received_us) / 1000);
  }
  const sort = (xs) => xs.sort((a, b) => a - b);
  return { ttft: sort(ttft), ttlt: sort(ttlt) };
}
const p50 = (s) => (s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2);

for (const [name, bound] of Object.entries(ACCURACY_MS)) {
  test(`example ${name}: ${CLIENTS}×${PER_CLIENT} requests complete; TTFT/TTLT within ${bound.p50} ms (p50) of ground truth; runtime and clock recorded`, async () => {
    await sim.clear();
    const result = await runners[name]();
    assert.equal(result.error, undefined, result.error);
    assert.equal(result.responses.length, CLIENTS * PER_CLIENT);
    assert.equal(result.stats.failed_requests, 0, JSON.stringify(result.responses.find((r) => r.error)?.error));
    for (const r of result.responses) assert.equal(r.num_tokens_output, 16);
    assert.match(result.info.runtime, bound.runtime);
    assert.equal(result.info.clock, bound.clock);
    const e = await errorsAgainstGroundTruth(result.responses);
    console.log(`# ${name} (${result.info.runtime}, clock ${result.info.clock}, step ${result.info.timer_resolution_ms ?? "none"} ms): TTFT error p50 ${p50(e.ttft).toFixed(3)} ms, max ${e.ttft.at(-1).toFixed(3)}; TTLT error p50 ${p50(e.ttlt).toFixed(3)} ms, max ${e.ttlt.at(-1).toFixed(3)}`);
    // A client can't see the first token before the server sent it (allow one coarse step).
    const step = result.info.timer_resolution_ms ?? 0;
    assert.ok(e.ttft[0] >= -step - 0.01 && e.ttlt[0] >= -step - 0.01, `negative error: ${e.ttft[0]} / ${e.ttlt[0]}`);
    assert.ok(p50(e.ttft) < bound.p50, `TTFT error p50 ${p50(e.ttft)} ms`);
    assert.ok(p50(e.ttlt) < bound.p50, `TTLT error p50 ${p50(e.ttlt)} ms`);
    assert.ok(e.ttft.at(-1) < bound.max, `TTFT error max ${e.ttft.at(-1)} ms`);
    // The time between tokens is what the simulator was told (5 ms).
    assert.ok(Math.abs(result.stats["time_per_output_token-p50"] - 0.005) < 0.0015, `TPOT p50 ${result.stats["time_per_output_token-p50"]}`);
  });
}

test("workerd: a run over the subrequest limit is a RangeError before any request; more than 6 clients warns", async () => {
  await sim.clear();
  const q = (o) => `${workerd.origin}/?${new URLSearchParams({ baseUrl: sim.base, model: "sim-model", ...o })}`;
  // The example's warm-up sends 6 (one per client); 6 + 6 × 8 = 54 is over the Free plan's 50.
  const over = await fetch(q({ clients: 6, nRequests: 8 }));
  assert.equal(over.status, 400);
  const body = await over.json();
  assert.match(body.error, /^RangeError: subrequestLimit: this run would send 48 requests \(6 clients × 8\) after 6 already sent, but workerd allows 50 subrequests/);
  assert.equal((await sim.requests()).length, 6, "only the warm-up reached the server");
  // Raised for a Paid plan, the same run goes through.
  const paid = await (await fetch(q({ clients: 6, nRequests: 8, subrequestLimit: 10000 }))).json();
  assert.equal(paid.responses.length, 48);
  assert.deepEqual(paid.info.warnings.filter((w) => w.includes("in workerd")), []);
  const wide = await (await fetch(q({ clients: 8, nRequests: 1 }))).json();
  assert.equal(wide.responses.length, 8);
  const warning = wide.info.warnings.find((w) => w.includes("in workerd"));
  assert.match(warning ?? "", /^8 clients in workerd: .* at most 6 outgoing requests/);
});
