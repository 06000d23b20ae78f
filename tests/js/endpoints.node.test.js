// The OpenAI Responses, Anthropic Messages and custom endpoint families in Node against a real
// llm-sim: token counts and ids against its ground truth, TTFT/TTLT against the server's send
// times, reasoning with ttftVisibleTokensOnly, faults as per-request errors, secrets kept out
// of every file, and the files loaded by Python llmeter with equal stats.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { startSim, ROOT, assertMatchesTruth } from "./sim.js";
import { readGenerate, generatePayload, simId, truthErrors } from "./families.js";
import { OpenAIResponsesEndpoint, AnthropicEndpoint, CustomEndpoint, Runner, init } from "../../pkg/index.js";

const KEY = "sk-family-secret";
const HEADER_SECRET = "hdr-family-secret";
const PROMPT = "Measure the latency of this prompt please"; // 7 words

let sim;
before(async () => {
  sim = await startSim(["--ttft-ms", "50", "--itl-ms", "5", "--seed", "3"]);
  await init();
  // Warm-up: Node's fetch initialises lazily; measured runs start warm.
  for (const family of Object.keys(FAMILIES)) await new Runner({ endpoint: FAMILIES[family]() }).run({ clients: 2, nRequests: 1, payload: payloadFor(family, 16) });
});
after(async () => sim?.stop());

/** Each family's endpoint against the simulator; `extra` options on top. */
const FAMILIES = {
  responses: (extra = {}) => new OpenAIResponsesEndpoint({ baseUrl: sim.base, model: "sim-model", apiKey: KEY, headers: { "x-team": HEADER_SECRET }, ...extra }),
  anthropic: (extra = {}) => new AnthropicEndpoint({ baseUrl: sim.base, model: "sim-claude", apiKey: KEY, headers: { "anthropic-beta": HEADER_SECRET }, ...extra }),
  custom: (extra = {}) =>
    new CustomEndpoint({ url: `${sim.base}/generate`, model: "sim-gen", headers: { authorization: `Bearer ${KEY}`, "x-team": HEADER_SECRET }, read: readGenerate, createPayload: generatePayload, ...extra }),
};

/** A payload of `maxTokens` for a family, from its own createPayload. */
function payloadFor(family, maxTokens, extra) {
  return FAMILIES[family]().createPayload(PROMPT, maxTokens, extra);
}

const LLMETER_CLASS = {
  responses: ["OpenAIResponseStreamEndpoint", "OpenAIResponseEndpoint", "openai"],
  anthropic: ["AnthropicMessagesStream", "AnthropicMessages", "anthropic"],
  custom: ["CustomEndpoint", "CustomEndpoint", "custom"],
};

/** Runs, writes the files, checks no secret is in them and that llmeter loads equal stats. */
function checkFiles(result, name) {
  const files = result.toFiles();
  const all = Object.values(files).join("\n");
  assert.ok(!all.includes(KEY) && !all.includes(HEADER_SECRET), `${name}: a secret leaked into the files`);
  const dir = path.join(mkdtempSync(path.join(tmpdir(), "llmeter-families-")), name);
  mkdirSync(dir);
  for (const [file, content] of Object.entries(files)) writeFileSync(path.join(dir, file), content);
  const out = execFileSync(path.join(ROOT, ".venv/bin/python"), [path.join(ROOT, "tests/python/compare_stats.py"), dir], { encoding: "utf8" });
  assert.match(out, /stats equal: \d+ keys/, name);
  return JSON.parse(files["run_config.json"]);
}

for (const family of Object.keys(FAMILIES)) {
  // Timing: best of three rounds (as the OpenAI endpoint's tests): a busy machine slows a
  // round, rarely all three. Causality and every count are checked in every round.
  test(`${family}: streamed tokens, ids and timings match llm-sim's ground truth (TTFT/TTLT error p50 < 10 ms, never negative)`, async () => {
    const endpoint = FAMILIES[family]();
    const runner = new Runner({ endpoint });
    const best = { ttft: Infinity, ttlt: Infinity, tpot: Infinity };
    let result;
    for (let round = 0; round < 3; round++) {
      await sim.clear();
      result = await runner.run({ clients: 3, nRequests: 5, payload: payloadFor(family, 16), runName: `${family}-stream` });
      const records = assertMatchesTruth(result, await sim.requests(), { count: 15, outputTokens: 16, inputTokens: 7 });
      for (const r of result.responses) assert.ok(r.time_to_first_token >= 0.05, `TTFT ${r.time_to_first_token} below the simulated 50 ms`);
      const err = truthErrors(result.responses, [...records.values()]);
      assert.ok(err.minTtft >= 0 && err.minTtlt >= 0, `a token seen before it was sent: ${JSON.stringify(err)}`);
      best.ttft = Math.min(best.ttft, err.ttft);
      best.ttlt = Math.min(best.ttlt, err.ttlt);
      best.tpot = Math.min(best.tpot, Math.abs(result.stats["time_per_output_token-p50"] - 0.005));
    }
    console.log(`# node ${family}: TTFT error p50 (best of 3) ${best.ttft.toFixed(3)} ms, TTLT ${best.ttlt.toFixed(3)} ms`);
    assert.ok(best.ttft < 10 && best.ttlt < 10, JSON.stringify(best));
    assert.ok(best.tpot < 0.0015, `TPOT p50 off the simulated 5 ms by ${best.tpot} s`);
    const [streamClass, , provider] = LLMETER_CLASS[family];
    assert.deepEqual([result.summary.provider, endpoint.info.endpoint_type], [provider, streamClass]);
    const config = checkFiles(result, `${family}-stream`);
    assert.equal(config.endpoint.endpoint_type, streamClass);
    assert.equal(config.endpoint.provider, provider);
    assert.ok(!JSON.stringify(endpoint).includes(KEY) && !JSON.stringify(endpoint).includes(HEADER_SECRET));
  });

  test(`${family}: without streaming, TTFT is null and TTLT covers the whole answer`, async () => {
    await sim.clear();
    const endpoint = FAMILIES[family]({ stream: false });
    // 16: the Responses API's smallest max_output_tokens.
    const payload = family === "custom" ? { ...payloadFor(family, 16), stream: false } : payloadFor(family, 16);
    const result = await new Runner({ endpoint }).run({ nRequests: 3, payload });
    assert.equal(result.stats.failed_requests, 0, result.responses.find((r) => r.error)?.error);
    const records = new Map((await sim.requests()).map((r) => [r.id, r]));
    for (const r of result.responses) {
      const rec = records.get(simId(r.id));
      assert.equal(rec.stream, false);
      assert.equal(r.time_to_first_token, null);
      assert.ok(r.time_to_last_token * 1e6 >= rec.done_us - rec.received_us, "TTLT covers the generation");
      assert.deepEqual([r.num_tokens_input, r.num_tokens_output], [rec.input_tokens, rec.output_tokens]);
      assert.equal(r.response_text.trim().split(/\s+/).length, 16);
    }
    assert.equal(endpoint.info.endpoint_type, LLMETER_CLASS[family][1]);
    checkFiles(result, `${family}-whole`);
  });

  // Best of three rounds, each with a warm-up request: a busy machine slows a round, rarely all.
  test(`${family}: reasoning tokens set TTFT only with ttftVisibleTokensOnly: false`, async () => {
    const headers = { "x-sim-reasoning-tokens": "6", "x-sim-itl-ms": "10" };
    const err = { true: Infinity, false: Infinity };
    for (let round = 0; round < 3; round++) {
      for (const visibleOnly of [true, false]) {
        const runner = new Runner({ endpoint: FAMILIES[family]({ ttftVisibleTokensOnly: visibleOnly, headers: { ...headers } }) });
        await runner.run({ nRequests: 1, payload: payloadFor(family, 16) });
        await sim.clear();
        const result = await runner.run({ nRequests: 4, payload: payloadFor(family, 16) });
        assert.equal(result.stats.failed_requests, 0, result.responses.find((r) => r.error)?.error);
        // Ground truth marks the first output token, reasoning included; visible text starts
        // six inter-token latencies later.
        err[visibleOnly] = Math.min(err[visibleOnly], truthErrors(result.responses, await sim.requests()).ttft);
        for (const r of result.responses) {
          assert.equal(r.num_tokens_output, 16, "reasoning counts as output");
          assert.equal(r.response_text.trim().split(/\s+/).length, 10, "reasoning is not text");
          if (family !== "anthropic") assert.equal(r.num_tokens_output_reasoning, 6);
          else assert.equal(r.num_tokens_output_reasoning, null, "Anthropic reports no reasoning count");
        }
      }
    }
    assert.ok(err[false] >= 0 && err[false] < 10, `counting reasoning: TTFT error ${err[false]} ms`);
    assert.ok(err[true] >= 55 && err[true] < 70, `visible only: TTFT ${err[true]} ms after the first (reasoning) token`);
  });

  test(`${family}: faults are per-request errors with the API's message, partial data kept`, async () => {
    const run = async (headers, maxTokens = 16) => {
      const endpoint = FAMILIES[family]({ headers: { ...headers } });
      return (await new Runner({ endpoint, timeout: 5 }).run({ nRequests: 1, payload: payloadFor(family, maxTokens) })).responses[0];
    };
    const limited = await run({ "x-sim-fault": "429" });
    assert.match(limited.error, /^HTTP 429 Too Many Requests: .+ \(retry-after: 1\)$/);
    const failed = await run({ "x-sim-fault": "error-event", "x-sim-fault-after-tokens": "3" });
    const expected = {
      responses: "server_error: The model failed to generate a response (mid-stream failure simulated by llm-sim).",
      anthropic: "API error mid-stream: overloaded_error: Overloaded (mid-stream failure simulated by llm-sim)",
      custom: "generation failed (mid-stream failure simulated by llm-sim)",
    }[family];
    assert.equal(failed.error, expected);
    assert.equal(failed.response_text.trim().split(/\s+/).length, 3, "text before the error is kept");
    assert.ok(failed.time_to_first_token > 0);
    if (family === "responses") assert.ok(failed.time_to_last_token > failed.time_to_first_token, "response.failed is LLMeter's TTLT point");
    const cut = await run({ "x-sim-fault": "disconnect", "x-sim-fault-after-tokens": "4", "x-sim-itl-ms": "2" });
    assert.match(cut.error, /stream interrupted|terminated|socket|network/i, cut.error);
    assert.equal(cut.response_text.trim().split(/\s+/).length, 4);
    const garbled = await run({ "x-sim-fault": "malformed-sse", "x-sim-fault-after-tokens": "2" });
    assert.match(garbled.error, family === "custom" ? /^custom endpoint read\(\): SyntaxError/ : /^malformed SSE event: /);
    const html = await run({ "x-sim-fault": "non-json" });
    assert.match(html.error, /no SSE events in response body: <html>|invalid JSON/);
  });
}

test("anthropic: no browser opt-in header outside browsers; options are checked by the core", () => {
  assert.equal(FAMILIES.anthropic().toJSON().directBrowserAccess, false);
  assert.equal(FAMILIES.anthropic({ directBrowserAccess: true }).toJSON().directBrowserAccess, true);
  assert.equal(new AnthropicEndpoint({ model: "c" }).baseUrl, "https://api.anthropic.com/v1");
  assert.throws(() => new AnthropicEndpoint({ model: "c", ttftVisibleTokensOnly: "no" }), (e) => e instanceof TypeError && /ttftVisibleTokensOnly/.test(e.message));
  assert.throws(() => new OpenAIResponsesEndpoint({ baseUrl: "ftp://x", model: "m" }), (e) => e instanceof TypeError && /baseUrl/.test(e.message));
  assert.throws(() => new CustomEndpoint({ url: "http://x" }), (e) => e instanceof TypeError && /read is required/.test(e.message));
  assert.throws(() => new CustomEndpoint({ url: "http://x", read: () => {}, framing: "xml" }), (e) => e instanceof RangeError && /framing/.test(e.message));
});

test("createPayload follows LLMeter's builders; a list of strings becomes text blocks", () => {
  assert.deepEqual(FAMILIES.responses().createPayload("hi", 64, { instructions: "be brief" }), { input: "hi", max_output_tokens: 64, instructions: "be brief" });
  assert.deepEqual(FAMILIES.responses().createPayload(["a", "b"], 8), { input: [{ role: "user", content: "a" }, { role: "user", content: "b" }], max_output_tokens: 8 });
  assert.deepEqual(FAMILIES.anthropic().createPayload("hi", 32, { thinking: { type: "enabled", budget_tokens: 16 } }), {
    messages: [{ role: "user", content: "hi" }],
    max_tokens: 32,
    thinking: { type: "enabled", budget_tokens: 16 },
  });
  assert.deepEqual(FAMILIES.anthropic().createPayload(["a", "b"], 8).messages[0].content, [{ type: "text", text: "a" }, { type: "text", text: "b" }]);
  assert.deepEqual(FAMILIES.custom().createPayload(["a", "b"], 8), { prompt: "a\nb", max_new_tokens: 8, stream: true });
  assert.deepEqual(new CustomEndpoint({ url: "http://x/", read: () => {} }).createPayload("hi", 4), { messages: [{ role: "user", content: "hi" }], max_tokens: 4 });
  assert.throws(() => new CustomEndpoint({ url: "http://x/", read: () => {}, createPayload: () => "no" }).createPayload("hi"), /createPayload must return a payload object, got a string/);
});

test("custom: JSON lines and raw bytes framings, a request function, and readings checked by key", async () => {
  await sim.clear();
  const lines = FAMILIES.custom({ framing: "json-lines", requireDone: true });
  const viaLines = await new Runner({ endpoint: lines }).run({ nRequests: 2, payload: payloadFor("custom", 16, { format: "ndjson" }) });
  assert.equal(viaLines.stats.failed_requests, 0, viaLines.responses[0].error);
  const records = await sim.requests();
  assert.deepEqual(viaLines.responses.map((r) => r.num_tokens_output), [16, 16]);
  assert.ok(truthErrors(viaLines.responses, records).ttft < 10);

  // Raw bytes: every network chunk is one event; here the reader counts the token lines itself.
  let tokens = 0;
  const bytes = FAMILIES.custom({
    framing: "bytes",
    read: (e) => {
      const text = new TextDecoder().decode(e.bytes);
      const n = (text.match(/"type":"token"/g) ?? []).length;
      tokens += n;
      return n ? { text: " x".repeat(n) } : undefined;
    },
    request: (p) => JSON.stringify({ ...p, format: "ndjson" }),
  });
  const viaBytes = await new Runner({ endpoint: bytes }).run({ nRequests: 1, payload: payloadFor("custom", 16) });
  assert.equal(viaBytes.stats.failed_requests, 0, viaBytes.responses[0].error);
  assert.equal(tokens, 16);
  assert.equal(viaBytes.responses[0].response_text.trim().split(/\s+/).length, 16);
  assert.equal(viaBytes.responses[0].num_tokens_output, 16, "no usage read: the run's tokenizer counts the text");

  const bad = async (read) => (await new Runner({ endpoint: FAMILIES.custom({ read }) }).run({ nRequests: 1, payload: payloadFor("custom", 16) })).responses[0].error;
  assert.equal(await bad(() => ({ txt: "x" })), 'custom endpoint read(): TypeError: returned an unknown key "txt" (known: text, reasoning, id, usage, error, done)');
  assert.equal(await bad(() => ({ usage: { output: -1 } })), "custom endpoint read(): TypeError: returned usage.output = -1: must be a non-negative integer");
  assert.equal(await bad(() => ({ usage: { out: 1 } })), 'custom endpoint read(): TypeError: returned an unknown usage key "out" (known: input, output, inputCached, outputReasoning)');
  assert.equal(await bad(() => ({ text: 5 })), "custom endpoint read(): TypeError: returned text as a number: must be a string");
  assert.equal(await bad(() => Promise.resolve({})), "custom endpoint read(): TypeError: must be synchronous (it returned a promise)");
  assert.equal(await bad(() => ["x"]), "custom endpoint read(): TypeError: must return an object like {text, usage, id, error, done} or nothing, got an array");
  const throwing = await bad(() => {
    throw new RangeError("my parser broke");
  });
  assert.equal(throwing, "custom endpoint read(): RangeError: my parser broke");
  const noBody = (await new Runner({ endpoint: FAMILIES.custom({ request: () => 42 }) }).run({ nRequests: 1, payload: payloadFor("custom", 4) })).responses[0];
  assert.equal(noBody.error, "custom endpoint request(): TypeError: must return the body (a string, an object or bytes), got number");
});
