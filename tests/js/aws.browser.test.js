// The AWS engine (llmeter-wasm/aws.js) in headless Chromium against a real llm-sim that checks
// SigV4 signatures: the page signs requests with its own clock, the preflight lets the x-amz-*
// headers through, the request id header is exposed, and TTFT/TTLT per family (streamed and not)
// are checked against the simulator's ground truth.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startSim } from "./sim.js";
import { groundTruthErrors } from "./bare.js";
import { median } from "./families.js";
import { startStatic, launchChromium } from "./browser.js";

const KEY_ID = "AKIDBROWSERTEST";
const SECRET = "browser-test-secret-key";
const TOKEN = "browser-test-session-token";
const PROMPT = "Tell me about browsers";

let sim, site, browser, page;
before(async () => {
  sim = await startSim(["--aws-access-key-id", KEY_ID, "--aws-secret-access-key", SECRET, "--aws-session-token", TOKEN, "--ttft-ms", "50", "--itl-ms", "5", "--seed", "4"]);
  site = await startStatic();
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(`${site.origin}/tests/js/pages/aws.html`);
  await page.waitForFunction(() => window.ready === true);
});
after(async () => {
  await browser?.close();
  await site?.close();
  await sim?.stop();
});

const credentials = () => ({ region: "eu-central-1", endpointUrl: sim.url, accessKeyId: KEY_ID, secretAccessKey: SECRET, sessionToken: TOKEN });
const runAws = (args) => page.evaluate((a) => window.runAws(a), args);

test("chromium: before llmeter-wasm/aws.js is loaded, an AWS endpoint says how to load its engine", async () => {
  const message = await page.evaluate(() => window.beforeLoad());
  assert.equal(message, "BedrockConverseEndpoint runs in llmeter-wasm's aws engine, which is not loaded: import { initAws } from \"llmeter-wasm/aws.js\" and `await initAws()` first (in workerd: `initAwsSync(wasmModule)`)");
});

for (const [name, kind, options] of [
  ["ConverseStream", "bedrockConverse", { model: "anthropic.claude-3-haiku-20240307-v1:0" }],
  ["InvokeModelWithResponseStream (Nova body)", "bedrockInvoke", { model: "amazon.nova-micro-v1:0", bodyFormat: "nova" }],
  ["InvokeEndpointWithResponseStream (TGI lines)", "sagemaker", { endpointName: "tgi-endpoint" }],
]) {
  test(`chromium ${name}: signed in the page, TTFT/TTLT within 10 ms of ground truth at p50 (best of 3–9 rounds)`, async () => {
    const args = { kind, options: { ...credentials(), ...options }, prompt: PROMPT, maxTokens: 12 };
    // Warm-up: the preflight and connection setup, outside the measured run.
    await runAws({ ...args, run: { clients: 3, nRequests: 1 } });
    // Best of three rounds, as the OpenAI tests: a busy machine slows a round, rarely all three;
    // while the best misses, more rounds, up to nine (a full-suite run on 2 cores once saw 11.9 ms
    // TTLT in all three). A clock that is really late stays late in all nine.
    let best = { ttft: Infinity, ttlt: Infinity };
    let result;
    let round = 0;
    for (; round < 3 || (round < 9 && !(best.ttft < 10 && best.ttlt < 10)); round++) {
      await sim.clear();
      result = await runAws({ ...args, run: { clients: 3, nRequests: 4 } });
      assert.equal(result.stats.failed_requests, 0, JSON.stringify(result.responses.find((r) => r.error)?.error));
      const records = new Map((await sim.requests()).map((r) => [r.id, r]));
      for (const r of result.responses) {
        const rec = records.get(r.id);
        assert.ok(rec, `the id ${r.id} is the exposed x-amzn-requestid`);
        assert.equal(r.num_tokens_output, rec.output_tokens);
        assert.equal(r.num_tokens_output, 12);
        assert.equal(r.num_tokens_input, rec.input_tokens);
      }
      const err = await groundTruthErrors(sim, result.responses.map((r) => ({ id: r.id, ttft: r.time_to_first_token * 1000, ttlt: r.time_to_last_token * 1000 })));
      assert.ok(err.ttft >= 0 && err.ttlt >= 0, `causality: ${JSON.stringify(err)}`);
      best = { ttft: Math.min(best.ttft, err.ttft), ttlt: Math.min(best.ttlt, err.ttlt) };
    }
    console.log(`# chromium ${name}: TTFT error p50 (best of ${round}) ${best.ttft.toFixed(3)} ms, TTLT ${best.ttlt.toFixed(3)} ms`);
    assert.ok(best.ttft < 10 && best.ttlt < 10, JSON.stringify(best));
    const files = JSON.stringify(result.files);
    for (const secret of [SECRET, TOKEN, KEY_ID]) assert.ok(!files.includes(secret), `${secret} leaked into the files`);
  });
}

// Without streaming the answer is one body: TTLT is checked against the moment llm-sim handed
// it over (its last_token_sent_us); best of three rounds, as above.
for (const [name, kind, options] of [
  ["Converse", "bedrockConverse", { model: "amazon.nova-micro-v1:0", stream: false }],
  ["InvokeEndpoint", "sagemaker", { endpointName: "tgi-endpoint", stream: false }],
]) {
  test(`chromium ${name} (not streamed): TTFT null, TTLT within 25 ms of ground truth at p50 (best of 3 rounds), tokens and request ids as the simulator's`, async () => {
    const args = { kind, options: { ...credentials(), ...options }, prompt: PROMPT, maxTokens: 12 };
    await runAws({ ...args, run: { clients: 2, nRequests: 1 } });
    let best = Infinity;
    let result;
    for (let round = 0; round < 3; round++) {
      await sim.clear();
      result = await runAws({ ...args, run: { clients: 2, nRequests: 3 } });
      assert.equal(result.responses.length, 6);
      assert.equal(result.stats.failed_requests, 0, JSON.stringify(result.responses.find((r) => r.error)?.error));
      const records = new Map((await sim.requests()).map((r) => [r.id, r]));
      const ttlt = result.responses.map((r) => {
        const rec = records.get(r.id);
        assert.ok(rec, `the id ${r.id} is the exposed x-amzn-requestid`);
        assert.equal(rec.stream, false);
        assert.equal(r.time_to_first_token, null);
        assert.equal(r.num_tokens_output, rec.output_tokens);
        assert.equal(r.num_tokens_output, 12);
        assert.equal(r.num_tokens_input, rec.input_tokens);
        return r.time_to_last_token * 1000 - (rec.last_token_sent_us - rec.received_us) / 1000;
      });
      assert.ok(Math.min(...ttlt) >= 0, `causality: ${ttlt}`);
      best = Math.min(best, median(ttlt));
    }
    console.log(`# chromium ${name} (not streamed): TTLT error p50 (best of 3) ${best.toFixed(3)} ms`);
    // A whole body in Chromium measured 5.5–12 ms at p50 on the loaded 2-core machine (streams
    // 2–4 ms): the bound catches a wrong clock (LLMeter's raw clock value is off by hours), not
    // the figure, which the log line above prints.
    assert.ok(best < 25, `TTLT error ${best} ms`);
    const files = JSON.stringify(result.files);
    for (const secret of [SECRET, TOKEN, KEY_ID]) assert.ok(!files.includes(secret), `${secret} leaked into the files`);
  });
}

test("chromium: non-streaming InvokeModel and a wrong secret, worded as botocore", async () => {
  const ok = await runAws({ kind: "bedrockInvoke", options: { ...credentials(), model: "amazon.titan-text-lite-v1", bodyFormat: "titan", stream: false }, prompt: PROMPT, maxTokens: 5, run: { nRequests: 2 } });
  assert.equal(ok.stats.failed_requests, 0, ok.responses[0].error);
  assert.equal(ok.responses[0].num_tokens_output, 5);
  assert.equal(ok.responses[0].time_to_first_token, null);
  const bad = await runAws({ kind: "sagemaker", options: { ...credentials(), endpointName: "e", secretAccessKey: "wrong" }, prompt: PROMPT, maxTokens: 5, run: { nRequests: 1 } });
  assert.equal(bad.responses[0].error, "An error occurred (InvalidSignatureException) when calling the InvokeEndpointWithResponseStream operation: The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.");
});
