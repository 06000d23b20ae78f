// The standing fault matrix: every llm-sim fault mode × {Node, Chromium} × {stream, non-stream}.
// Each request is recorded, errors are counted, and the run finishes. The modes come from
// llm-sim itself (GET /sim/faults), so a new one cannot be left out of the matrix.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startSim } from "./sim.js";
import { startStatic, launchChromium } from "./browser.js";
import { OpenAIEndpoint, Runner } from "../../pkg/index.js";

const CLIENTS = 2;
const PER_CLIENT = 2;

/**
 * What each fault does to each request, per mode: the error every request fails with, or `null`
 * when the fault is not injected at all (every request succeeds). A fault llm-sim reports that
 * is missing here fails the matrix.
 * @type {Record<string, {stream: RegExp | null, nonStream: RegExp | null}>}
 */
const EXPECTED = {
  "429": { stream: /^HTTP 429 Too Many Requests: Rate limit reached/, nonStream: /^HTTP 429 Too Many Requests: Rate limit reached/ },
  "500": { stream: /^HTTP 500 Internal Server Error: The server had an error/, nonStream: /^HTTP 500 Internal Server Error: The server had an error/ },
  "503": { stream: /^HTTP 503 Service Unavailable: The engine is currently overloaded/, nonStream: /^HTTP 503 Service Unavailable: The engine is currently overloaded/ },
  reset: { stream: /^network error: /, nonStream: /^network error: / },
  disconnect: { stream: /^stream interrupted: /, nonStream: /^stream interrupted: / },
  stall: { stream: /^timeout: no complete response after 1 s$/, nonStream: /^timeout: no complete response after 1 s$/ },
  "malformed-sse": {
    stream: /^malformed SSE event: /,
    // llm-sim never injects it without streaming (FaultKind::applies_to; `streams_only` in
    // /sim/faults): every non-streaming request succeeds.
    nonStream: null,
  },
  "non-json": { stream: /^invalid JSON response body: /, nonStream: /^invalid JSON response body: / },
  // Streaming: Chat Completions' mid-stream `data: {"error": …}` chunk; without streaming llm-sim
  // answers the chat request with HTTP 500 (crates/llm-sim/src/chat.rs).
  "error-event": { stream: /^API error mid-stream: The server had an error/, nonStream: /^HTTP 500 Internal Server Error: The server had an error/ },
};

// Started at load time: the tests are made from the simulator's own list of faults.
const sim = await startSim(["--ttft-ms", "2", "--itl-ms", "1", "--stall-ms", "30000", "--fault-after-tokens", "2"]);
/** @type {{name: string, streams_only: boolean}[]} */
const FAULTS = (await (await fetch(`${sim.url}/sim/faults`)).json()).faults;

let site, browser, page;
before(async () => {
  site = await startStatic();
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(`${site.origin}/tests/js/pages/runner.html`);
  await page.waitForFunction(() => window.ready === true);
});
after(async () => {
  await browser?.close();
  await site?.close();
  await sim.stop();
});

test("the matrix covers every fault llm-sim knows, and only those", () => {
  const reported = FAULTS.map((f) => f.name);
  assert.ok(reported.length >= 9 && reported.includes("error-event"), reported.join());
  assert.deepEqual(reported.filter((f) => !(f in EXPECTED)), [], "faults llm-sim reports that the table lacks");
  assert.deepEqual(Object.keys(EXPECTED).filter((f) => !reported.includes(f)), [], "table entries llm-sim no longer knows");
  // The table's "not injected" cells are exactly llm-sim's stream-only faults.
  assert.deepEqual(FAULTS.filter((f) => f.streams_only).map((f) => f.name), Object.keys(EXPECTED).filter((f) => EXPECTED[f].nonStream === null));
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
  const want = EXPECTED[fault][stream ? "stream" : "nonStream"];
  assert.equal(result.responses.length, CLIENTS * PER_CLIENT, `${label}: every request recorded`);
  assert.equal(result.summary.total_requests, CLIENTS * PER_CLIENT, label);
  const errors = result.responses.map((r) => r.error);
  const failed = errors.filter((e) => e !== null);
  assert.equal(failed.length, want === null ? 0 : CLIENTS * PER_CLIENT, `${label}: ${JSON.stringify(errors)}`);
  assert.equal(result.stats.failed_requests ?? 0, failed.length, `${label}: failures counted in stats`);
  for (const e of failed) assert.match(e, want, label);
  assert.equal(result.info.interrupted, false, label);
}

for (const { name: fault } of FAULTS) {
  test(`fault ${fault}: each request recorded with its error, the run finishes (Node and Chromium, stream and not)`, async () => {
    assert.ok(EXPECTED[fault], `llm-sim reports fault "${fault}", which the matrix's table lacks: add what it must do`);
    for (const stream of [true, false]) {
      const s = spec(fault, stream);
      const node = await new Runner({ endpoint: new OpenAIEndpoint(s.endpoint), timeout: s.timeout }).run(s.run);
      check("node", fault, stream, node);
      const chromium = await page.evaluate((a) => window.runBench(a), s);
      check("chromium", fault, stream, chromium);
    }
  });
}
