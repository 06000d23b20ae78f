// The wasm package in headless Chromium against a real llm-sim: HTTP/1.1 with 1 and 6 clients,
// HTTP/2 over TLS with 32 clients, and the per-host connection-limit warning.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startSim, median } from "./sim.js";
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

async function groundTruthErrors(result) {
  const errs = [];
  for (const r of result.responses) {
    const [rec] = await sim.requests(r.id.replace(/^chatcmpl-/, ""));
    assert.ok(rec, `ground truth for ${r.id}`);
    errs.push({
      ttft: r.time_to_first_token * 1000 - (rec.first_token_sent_us - rec.received_us) / 1000,
      ttlt: r.time_to_last_token * 1000 - (rec.last_token_sent_us - rec.received_us) / 1000,
    });
  }
  return { ttft: median(errs.map((e) => e.ttft)), ttlt: median(errs.map((e) => e.ttlt)) };
}

for (const [label, clients, useH2] of [["HTTP/1.1, 1 client", 1, false], ["HTTP/1.1, 6 clients", 6, false], ["h2, 32 clients", 32, true]]) {
  test(`chromium ${label}: TTFT/TTLT within 2 ms of ground truth at p50`, async () => {
    const base = useH2 ? sim.httpsBase : sim.base;
    // Warm-up run: pays the CORS preflight and connection setup outside the measured run.
    await runInPage(base, { clients, nRequests: 1, payload });
    const result = await runInPage(base, { clients, nRequests: 4, payload });
    assert.equal(result.responses.length, clients * 4);
    assert.equal(result.stats.failed_requests, 0, JSON.stringify(result.responses.find((r) => r.error)?.error));
    for (const r of result.responses) assert.equal(r.num_tokens_output, 16);
    const p50 = await groundTruthErrors(result);
    console.log(`# chromium ${label}: TTFT error p50 ${p50.ttft.toFixed(3)} ms, TTLT error p50 ${p50.ttlt.toFixed(3)} ms, protocol ${result.info.protocol}`);
    assert.ok(p50.ttft >= 0 && p50.ttft < 2, `TTFT error p50 ${p50.ttft}`);
    assert.ok(p50.ttlt >= 0 && p50.ttlt < 2, `TTLT error p50 ${p50.ttlt}`);
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
