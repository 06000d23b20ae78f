// The OpenAI Responses, Anthropic Messages and custom endpoint families in headless Chromium
// against a real llm-sim (cross-origin, CORS preflights with their headers): tokens and timings
// against the ground truth (streamed and not), reasoning with ttftVisibleTokensOnly, Anthropic's browser opt-in,
// and no secret in any file.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startSim } from "./sim.js";
import { startStatic, launchChromium } from "./browser.js";
import { simId, truthErrors, median } from "./families.js";

const KEY = "sk-browser-family-secret";
let sim, site, browser, page;
before(async () => {
  sim = await startSim(["--ttft-ms", "50", "--itl-ms", "5"]);
  site = await startStatic();
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(`${site.origin}/tests/js/pages/families.html`);
  await page.waitForFunction(() => window.ready === true);
});
after(async () => {
  await browser?.close();
  await site?.close();
  await sim?.stop();
});

const OPTIONS = {
  responses: () => ({ baseUrl: sim.base, model: "sim-model", apiKey: KEY }),
  anthropic: () => ({ baseUrl: sim.base, model: "sim-claude", apiKey: KEY }),
  custom: () => ({ url: `${sim.base}/generate`, headers: { authorization: `Bearer ${KEY}` } }),
};

const runInPage = (family, options, run, maxTokens = 16) => page.evaluate((a) => window.runFamily(a), { family, options, run, maxTokens });

// Timing: best of three rounds (as the OpenAI endpoint's Chromium tests); counts, causality
// and secrets are checked in every round.
for (const family of Object.keys(OPTIONS)) {
  test(`chromium ${family}: tokens and TTFT/TTLT against ground truth (p50 error < 10 ms, never negative), no secret in the files`, async () => {
    // Warm-up: pays the CORS preflight and connection set-up outside the measured runs.
    await runInPage(family, OPTIONS[family](), { clients: 2, nRequests: 1 });
    const best = { ttft: Infinity, ttlt: Infinity };
    let result;
    // While the best misses, more rounds, up to nine (as the OpenAI tests): a clock that is really
    // late stays late in all nine.
    let round = 0;
    for (; round < 3 || (round < 9 && !(best.ttft < 10 && best.ttlt < 10)); round++) {
      await sim.clear();
      result = await runInPage(family, OPTIONS[family](), { clients: 2, nRequests: 6 });
      assert.equal(result.responses.length, 12);
      assert.equal(result.stats.failed_requests, 0, JSON.stringify(result.responses.find((r) => r.error)?.error));
      const records = await sim.requests();
      const byId = new Map(records.map((r) => [r.id, r]));
      for (const r of result.responses) {
        const rec = byId.get(simId(r.id));
        assert.deepEqual([r.num_tokens_input, r.num_tokens_output], [rec.input_tokens, rec.output_tokens]);
        assert.equal(r.num_tokens_output, 16);
      }
      const err = truthErrors(result.responses, records);
      assert.ok(err.minTtft >= 0 && err.minTtlt >= 0, JSON.stringify(err));
      best.ttft = Math.min(best.ttft, err.ttft);
      best.ttlt = Math.min(best.ttlt, err.ttlt);
      assert.ok(!JSON.stringify(result.files).includes(KEY), "a secret leaked into the files");
    }
    console.log(`# chromium ${family}: TTFT error p50 (best of ${round}) ${best.ttft.toFixed(3)} ms, TTLT ${best.ttlt.toFixed(3)} ms; protocol ${result.info.protocol}`);
    assert.ok(best.ttft < 10 && best.ttlt < 10, JSON.stringify(best));
    assert.match(result.info.runtime, /Chrome/);
    assert.ok(!JSON.stringify(result.settings).includes(KEY));
    assert.equal(JSON.parse(result.files["run_config.json"]).endpoint.endpoint_type, result.endpointType);
  });
}

// Without streaming the answer is one body: TTLT is checked against the moment llm-sim handed
// it over (its last_token_sent_us), best of three rounds as above.
test("chromium responses and anthropic without streaming: TTFT null, TTLT against ground truth (p50 error < 25 ms, never negative), tokens as the simulator's", async () => {
  for (const [family, endpointType] of [["responses", "OpenAIResponseEndpoint"], ["anthropic", "AnthropicMessages"]]) {
    const options = { ...OPTIONS[family](), stream: false };
    await runInPage(family, options, { clients: 2, nRequests: 1 });
    let best = Infinity;
    let result;
    for (let round = 0; round < 3; round++) {
      await sim.clear();
      result = await runInPage(family, options, { clients: 2, nRequests: 3 });
      assert.equal(result.responses.length, 6);
      assert.equal(result.stats.failed_requests, 0, JSON.stringify(result.responses.find((r) => r.error)?.error));
      const byId = new Map((await sim.requests()).map((r) => [r.id, r]));
      const ttlt = result.responses.map((r) => {
        const rec = byId.get(simId(r.id));
        assert.ok(rec, `${family}: no record for ${r.id}`);
        assert.equal(rec.stream, false);
        assert.equal(r.time_to_first_token, null);
        assert.deepEqual([r.num_tokens_input, r.num_tokens_output], [rec.input_tokens, rec.output_tokens]);
        assert.equal(r.num_tokens_output, 16);
        return r.time_to_last_token * 1000 - (rec.last_token_sent_us - rec.received_us) / 1000;
      });
      assert.ok(Math.min(...ttlt) >= 0, `${family}: an answer seen before it was sent: ${ttlt}`);
      best = Math.min(best, median(ttlt));
      assert.ok(!JSON.stringify(result.files).includes(KEY), "a secret leaked into the files");
    }
    console.log(`# chromium ${family} (not streamed): TTLT error p50 (best of 3) ${best.toFixed(3)} ms`);
    // A whole body in Chromium measured 5.5–12 ms at p50 on the loaded 2-core machine (streams
    // 2–4 ms): the bound catches a wrong clock (LLMeter's raw clock value is off by hours), not
    // the figure, which the log line above prints.
    assert.ok(best < 25, `${family}: TTLT error ${best} ms`);
    assert.equal(result.endpointType, endpointType);
  }
});

test("chromium anthropic: a page sends the key, the version and the browser opt-in header by default", async () => {
  const sent = [];
  const listen = (request) => request.url().endsWith("/v1/messages") && request.method() === "POST" && sent.push(request.headers());
  page.on("request", listen);
  const result = await runInPage("anthropic", OPTIONS.anthropic(), { nRequests: 1 });
  page.off("request", listen);
  assert.equal(result.stats.failed_requests, 0);
  assert.equal(result.settings.directBrowserAccess, true);
  assert.equal(sent.length, 1);
  assert.equal(sent[0]["anthropic-dangerous-direct-browser-access"], "true");
  assert.equal(sent[0]["anthropic-version"], "2023-06-01");
  assert.equal(sent[0]["x-api-key"], KEY);
});

// Best of three rounds (as the other Chromium timing tests): a busy 2-core machine slows a round,
// rarely all three; each round's first request is a warm-up.
test("chromium: reasoning sets TTFT only with ttftVisibleTokensOnly: false", async () => {
  for (const family of Object.keys(OPTIONS)) {
    const errors = { true: Infinity, false: Infinity };
    for (let round = 0; round < 3; round++) {
      for (const visibleOnly of [true, false]) {
        const options = { ...OPTIONS[family](), ttftVisibleTokensOnly: visibleOnly, headers: { ...(OPTIONS[family]().headers ?? {}), "x-sim-reasoning-tokens": "6", "x-sim-itl-ms": "10" } };
        await runInPage(family, options, { nRequests: 1 });
        await sim.clear();
        const result = await runInPage(family, options, { nRequests: 5 });
        assert.equal(result.stats.failed_requests, 0, JSON.stringify(result.responses[0].error));
        errors[visibleOnly] = Math.min(errors[visibleOnly], truthErrors(result.responses, await sim.requests()).ttft);
      }
    }
    assert.ok(errors[false] >= 0 && errors[false] < 10, `${family}: counting reasoning, TTFT error ${errors[false]} ms`);
    assert.ok(errors[true] >= 55 && errors[true] < 75, `${family}: visible only, TTFT ${errors[true]} ms after the first reasoning token`);
  }
});
