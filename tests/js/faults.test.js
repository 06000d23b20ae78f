// The standing fault matrix: every llm-sim fault mode × {Node, Chromium} × {stream, non-stream}.
// Each request is recorded, errors are counted, and the run finishes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startSim } from "./sim.js";
import { startStatic, launchChromium } from "./browser.js";
import { OpenAIEndpoint, Runner } from "../../pkg/index.js";

const FAULTS = ["429", "500", "503", "reset", "disconnect", "stall", "malformed-sse", "non-json"];
const CLIENTS = 2;
const PER_CLIENT = 2;

/** What each fault must do to each request: fail it, or (malformed-sse without a stream) nothing. */
const expectedFailures = (fault, stream) => (fault === "malformed-sse" && !stream ? 0 : CLIENTS * PER_CLIENT);

let sim, site, browser, page;
before(async () => {
  sim = await startSim(["--ttft-ms", "2", "--itl-ms", "1", "--stall-ms", "30000", "--fault-after-tokens", "2"]);
  site = await startStatic();
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(`${site.origin}/tests/js/pages/runner.html`);
  await page.waitForFunction(() => window.ready === true);
});
after(async () => {
  await browser?.close();
  await site?.close();
  await sim?.stop();
});

/** The run's spec: faults chosen per request by header, a short timeout for `stall`. */
function spec(fault, stream) {
  return {
    endpoint: { baseUrl: sim.base, model: "sim-model", stream, headers: { "x-sim-fault": fault } },
    timeout: 1,
    run: { clients: CLIENTS, nRequests: PER_CLIENT, payload: { messages: [{ role: "user", content: "fault matrix" }], max_tokens: 6 } },
  };
}

function check(where, fault, stream, result) {
  const label = `${where} ${fault} ${stream ? "stream" : "non-stream"}`;
  assert.equal(result.responses.length, CLIENTS * PER_CLIENT, `${label}: every request recorded`);
  assert.equal(result.summary.total_requests, CLIENTS * PER_CLIENT, label);
  const failed = result.responses.filter((r) => r.error !== null);
  assert.equal(failed.length, expectedFailures(fault, stream), `${label}: ${JSON.stringify(result.responses.map((r) => r.error))}`);
  assert.equal(result.stats.failed_requests ?? 0, failed.length, `${label}: failures counted in stats`);
  for (const r of failed) assert.ok(typeof r.error === "string" && r.error.length > 0, label);
  assert.equal(result.info.interrupted, false, label);
}

for (const fault of FAULTS) {
  test(`fault ${fault}: each request recorded with its error, the run finishes (Node and Chromium, stream and not)`, async () => {
    for (const stream of [true, false]) {
      const s = spec(fault, stream);
      const node = await new Runner({ endpoint: new OpenAIEndpoint(s.endpoint), timeout: s.timeout }).run(s.run);
      check("node", fault, stream, node);
      const chromium = await page.evaluate((a) => window.runBench(a), s);
      check("chromium", fault, stream, chromium);
    }
  });
}
