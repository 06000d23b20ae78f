// The wasm package in headless Chromium against a real llm-sim: HTTP/1.1 with 1 and 6 clients,
// HTTP/2 over TLS with 32 clients, and the per-host connection-limit warning.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startSim } from "./sim.js";
import { groundTruthErrors, engineSamples } from "./bare.js";
import { startStatic, launchChromium } from "./browser.js";

let sim, site, browser, page;
before(async () => {
  sim = await startSim(["--ttft-ms", "50", "--itl-ms", "5", "--tls-port", "0"]);
  site = await startStatic();
  browser = await launchChromium(["--ignore-certificate-errors"]);
  page = await browser.newPage();
  await page.goto(`${site.origin}/tests/js/pages/runner.html`);
  await page.waitForFunction(() => window.ready === true);
});
after(async () => {
  await browser?.close();
  await site?.close();
  await sim?.stop();
});

const payload = { messages: [{ role: "user", content: "Tell me about browsers" }], max_tokens: 16 };

async function runInPage(base, run) {
  return page.evaluate((args) => window.runBench(args), { endpoint: { baseUrl: base, model: "sim-model", apiKey: "sk-browser" }, run });
}

// What this pins down is that the engine stamps chunks as they arrive, like a bare fetch loop
// does: a timestamp taken after parsing, after the whole body, or on a polling timer would put it
// 5–40 ms or more behind. The exact overhead is a measurement, not a test target: `npm run bench`
// reports it (about 0–0.5 ms at 1–6 clients on this 2-core machine). Chromium's own fetch path costs
// ~2.5 ms before a request reaches the server, and at 32 simultaneous h2 streams Chromium queues
// requests inside its network service for 10–30 ms (net-log evidence in crates/llm-sim/README.md) — under CPU
// contention much more, and unevenly between two loops that start requests differently — so both
// loops are compared against ground truth, alternately, best of three rounds: a busy machine slows
// a round of either loop, rarely all three.
const ROUNDS = 3;
for (const [label, clients, perClient, useH2, ENGINE_ALLOWANCE_MS] of [["HTTP/1.1, 1 client", 1, 12, false, 3], ["HTTP/1.1, 6 clients", 6, 4, false, 3], ["h2, 32 clients", 32, 3, true, 60]]) {
  test(`chromium ${label}: TTFT/TTLT at p50 within ${ENGINE_ALLOWANCE_MS} ms of a bare fetch loop against ground truth`, async () => {
    const base = useH2 ? sim.httpsBase : sim.base;
    // Warm-up: pays the CORS preflight and connection setup outside the measured runs.
    await runInPage(base, { clients, nRequests: 1, payload });
    await page.evaluate((a) => window.bareLoop(a), { base, clients, perClient: 1, maxTokens: 16 });
    let floor = { ttft: Infinity, ttlt: Infinity };
    let ours = { ttft: Infinity, ttlt: Infinity };
    let result;
    for (let round = 0; round < ROUNDS; round++) {
      await sim.clear();
      const bare = await page.evaluate((a) => window.bareLoop(a), { base, clients, perClient, maxTokens: 16 });
      const bareErr = await groundTruthErrors(sim, bare.samples);
      await sim.clear();
      result = await runInPage(base, { clients, nRequests: perClient, payload });
      assert.equal(result.responses.length, clients * perClient);
      assert.equal(result.stats.failed_requests, 0, JSON.stringify(result.responses.find((r) => r.error)?.error));
      for (const r of result.responses) assert.equal(r.num_tokens_output, 16);
      const engineErr = await groundTruthErrors(sim, engineSamples(result.responses));
      // Causality: no client sees a token before the server sent it.
      assert.ok(engineErr.ttft >= 0 && engineErr.ttlt >= 0, `negative error: ${JSON.stringify(engineErr)}`);
      floor = { ttft: Math.min(floor.ttft, bareErr.ttft), ttlt: Math.min(floor.ttlt, bareErr.ttlt) };
      ours = { ttft: Math.min(ours.ttft, engineErr.ttft), ttlt: Math.min(ours.ttlt, engineErr.ttlt) };
    }
    console.log(`# chromium ${label}: TTFT error p50 (best of ${ROUNDS}) engine ${ours.ttft.toFixed(3)} ms vs bare fetch ${floor.ttft.toFixed(3)} ms; TTLT ${ours.ttlt.toFixed(3)} vs ${floor.ttlt.toFixed(3)} ms; protocol ${result.info.protocol}`);
    assert.ok(ours.ttft - floor.ttft < ENGINE_ALLOWANCE_MS, `TTFT error p50 ${ours.ttft} ms, bare ${floor.ttft} ms`);
    assert.ok(ours.ttlt - floor.ttlt < ENGINE_ALLOWANCE_MS, `TTLT error p50 ${ours.ttlt} ms, bare ${floor.ttlt} ms`);
    assert.equal(result.info.protocol, useH2 ? "h2" : "http/1.1");
    assert.deepEqual(result.info.warnings.filter((w) => w.includes("connections per host")), []);
    assert.match(result.info.runtime, /Chrome/);
    assert.ok(!JSON.stringify(result.files).includes("sk-browser"));
  });
}

test("chromium warns when clients exceed the HTTP/1.1 per-host connection limit", async () => {
  const result = await runInPage(sim.base, { clients: 10, nRequests: 1, payload });
  assert.equal(result.responses.length, 10);
  const warning = result.info.warnings.find((w) => w.includes("connections per host"));
  assert.ok(warning, JSON.stringify(result.info.warnings));
  assert.match(warning, /10 clients over http\/1\.1/);
});

test("chromium records a warning when the page is hidden during a run", async () => {
  const result = await page.evaluate(async ({ base }) => {
    const { OpenAIEndpoint, Runner } = await import("/pkg/index.js");
    const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: base, model: "m" }) });
    const run = runner.run({ nRequests: 3, payload: { messages: [{ role: "user", content: "x" }], max_tokens: 4 } });
    // What a tab switch does: the document becomes hidden and says so.
    setTimeout(() => {
      Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
      document.dispatchEvent(new Event("visibilitychange"));
    }, 20);
    const r = await run;
    delete document.visibilityState;
    return r.info;
  }, { base: sim.base });
  assert.ok(result.warnings.some((w) => /hidden/.test(w) && /throttle/.test(w)), JSON.stringify(result.warnings));
});
