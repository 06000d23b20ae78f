// LoadTest and LatencyHeatmap in Node against a real llm-sim: time-bound levels, cancellation
// between and inside levels, option errors, prompts measured with a real HF tokenizer (Llama 3),
// and the report functions outside a browser.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { startSim } from "./sim.js";
import { LLAMA3_TOKENIZER_PATH, bertBaseUncasedTokenizerJson } from "./tokenizer-fixtures.js";
import { OpenAIEndpoint, Runner, LoadTest, LoadTestResult, LatencyHeatmap, runFigures, runHTML } from "../../pkg/index.js";
import { Tokenizer } from "../../pkg/tokenizer.js";

let sim;
before(async () => {
  sim = await startSim(["--ttft-ms", "5", "--itl-ms", "2", "--seed", "3"]);
  // Warm-up: Node's fetch initialises lazily; the time-bound test measures a warm client.
  await new Runner({ endpoint: endpoint() }).run({ clients: 3, nRequests: 2, payload });
});
after(async () => sim?.stop());

const endpoint = () => new OpenAIEndpoint({ baseUrl: sim.base, model: "sim" });
const payload = { messages: [{ role: "user", content: "hello there" }], max_tokens: 4 };

test("time-bound levels: each runs for runDuration, n_requests = total // clients", async () => {
  const result = await new LoadTest({ endpoint: endpoint(), payload, sequenceOfClients: [1, 3], runDuration: 0.3, testName: "timed" }).run();
  assert.deepEqual(result.clients, [1, 3]);
  for (const [c, r] of result.results) {
    assert.ok(r.responses.length >= c * 3, `${c} clients sent ${r.responses.length}`);
    assert.equal(r.summary.n_requests, Math.floor(r.summary.total_requests / c));
    assert.equal(r.runConfig.run_duration, 0.3);
    assert.equal(r.runConfig.n_requests, 0);
    assert.ok(r.summary.total_test_time >= 0.3);
  }
});

test("abort during a level: its partial result is kept, later levels do not run", async () => {
  const controller = new AbortController();
  const result = await new LoadTest({
    endpoint: endpoint(), payload, sequenceOfClients: [1, 2, 4], minRequestsPerRun: 40, signal: controller.signal, progressIntervalMs: 0,
    onProgress: (p) => { if (p.level === 1 && p.run.completed >= 3) controller.abort(); },
  }).run();
  assert.deepEqual(result.clients, [1, 2]);
  assert.equal(result.results.get(1).info.interrupted, false);
  assert.equal(result.results.get(1).responses.length, 40);
  const cut = result.results.get(2);
  assert.equal(cut.info.interrupted, true);
  assert.ok(cut.responses.length < 40);
  assert.equal(cut.stats.interrupted, true);
});

test("options are checked before any request, naming the option", async () => {
  await sim.clear();
  const e = endpoint();
  await assert.rejects(new LoadTest({ endpoint: e, payload, sequenceOfClients: [2, 2] }).run(), (err) => err instanceof RangeError && /sequenceOfClients/.test(err.message));
  await assert.rejects(new LoadTest({ endpoint: e, payload, sequenceOfClients: [] }).run(), (err) => err instanceof RangeError && /sequenceOfClients/.test(err.message));
  await assert.rejects(new LoadTest({ endpoint: e, payload, sequenceOfClients: [1.5] }).run(), (err) => err instanceof RangeError && /sequenceOfClients/.test(err.message));
  await assert.rejects(new LoadTest({ endpoint: e, payload, sequenceOfClients: [1], minRequestsPerClient: 0 }).run(), RangeError);
  await assert.rejects(new LoadTest({ endpoint: e, payload: '{"a": 1}\nnot json\n', sequenceOfClients: [1] }).run(), (err) => err instanceof TypeError && /payload line 2/.test(err.message));
  // A test name names a folder: the core's folder-name rule (as for run names).
  for (const bad of ["a/b", "..", ".", " ", "x\\y"]) {
    assert.throws(() => new LoadTest({ endpoint: e, payload, sequenceOfClients: [1], testName: bad }), (err) => err instanceof RangeError && /testName/.test(err.message), bad);
    assert.throws(() => new LatencyHeatmap({ endpoint: e, sourceText: "a b c", inputLengths: [2], testName: bad }), (err) => err instanceof RangeError && /testName/.test(err.message), bad);
  }
  assert.throws(() => new LoadTest({ endpoint: e, payload, sequenceOfClients: [1], testName: 7 }), TypeError);
  assert.throws(() => new LatencyHeatmap({ endpoint: e, sourceText: 42 }), /sourceText/);
  await assert.rejects(new LatencyHeatmap({ endpoint: e, sourceText: "a b c", inputLengths: [2], requestsPerCombination: 0 }).run(), (err) => err instanceof RangeError && /requestsPerCombination/.test(err.message));
  // An input length the text cannot give is an error, not a shorter prompt (the defaults go up to 500 tokens).
  await assert.rejects(new LatencyHeatmap({ endpoint: e, sourceText: "a b c" }).run(), (err) => err instanceof RangeError && /inputLengths: 500 tokens is longer than sourceText \(3 tokens/.test(err.message));
  await assert.rejects(new LatencyHeatmap({ endpoint: e, sourceText: "a b c", inputLengths: [0] }).run(), (err) => err instanceof RangeError && /inputLengths/.test(err.message));
  await assert.rejects(new LatencyHeatmap({ endpoint: e, sourceText: "a b c", inputLengths: [2], createPayload: () => "nope" }).run(), (err) => err instanceof TypeError && /createPayload/.test(err.message));
  assert.deepEqual(await sim.requests(), []);
});

test("heatmap prompts measured with Llama 3 (HF tokenizer in wasm): exactly the target lengths; custom createPayload", async () => {
  const tokenizer = await Tokenizer.fromJSON(readFileSync(LLAMA3_TOKENIZER_PATH, "utf8"), "llama3");
  const source = "It was the best of times, it was the worst of times; Grüße aus München, 東京は日本の首都です 🎉. ".repeat(30);
  const hm = new LatencyHeatmap({
    endpoint: endpoint(), sourceText: new Blob([source]), clients: 5, inputLengths: [16, 64, 256], outputLengths: [2, 8], requestsPerCombination: 1, tokenizer,
    createPayload: (prompt, maxTokens, extra) => ({ messages: [{ role: "user", content: prompt }], max_completion_tokens: maxTokens, ...extra }),
    createPayloadArgs: { user: "bench" },
  });
  const plan = await hm.plan();
  assert.deepEqual(plan.prompts.map((p) => p.tokens), [16, 64, 256]);
  for (const p of plan.prompts) {
    assert.equal(tokenizer.countTokens(p.text), p.target_tokens);
    assert.ok(source.startsWith(p.text));
  }
  const result = await hm.run();
  const counts = result.cells().map((row) => row.map((rs) => rs.length));
  assert.deepEqual(counts, [[1, 1], [1, 1], [1, 1]]);
  for (const [i, row] of result.cells().entries()) for (const [j, [r]] of row.entries()) {
    assert.equal(r.input_payload.max_completion_tokens, [2, 8][j]);
    assert.equal(r.input_payload.user, "bench");
    assert.equal(r.input_payload.messages[0].content, plan.prompts[i].text);
    assert.equal(r.num_tokens_output, [2, 8][j]);
  }
  // run_config.json names only tokenizers LLMeter can load; a JS one is described in run_info.json.
  assert.equal(result.result.runConfig.tokenizer, null);
  assert.equal(result.result.info.tokenizer.name, "llama3");
  tokenizer.free();
});

test("heatmap prompts measured with BERT (WordPiece, lowercasing normalizer): exactly the target lengths, text kept as written", async () => {
  const tokenizer = await Tokenizer.fromJSON(bertBaseUncasedTokenizerJson(), "bert-base-uncased");
  const source = "It was the best of times, it was the worst of times; Grüße aus München, naïve café, unbelievably tokenizable words. ".repeat(40);
  const hm = new LatencyHeatmap({ endpoint: endpoint(), sourceText: source, inputLengths: [1, 7, 33, 128, 400], outputLengths: [4], requestsPerCombination: 1, tokenizer });
  const plan = await hm.plan();
  assert.deepEqual(plan.prompts.map((p) => p.tokens), [1, 7, 33, 128, 400]);
  for (const p of plan.prompts) {
    assert.equal(tokenizer.countTokens(p.text), p.target_tokens);
    assert.ok(source.startsWith(p.text), "a contiguous prefix of the source, not re-joined or lowercased");
  }
  tokenizer.free();
});

test("report functions work outside a browser: figures and a self-contained page", async () => {
  const lt = await new LoadTest({ endpoint: endpoint(), payload, sequenceOfClients: [1, 2], minRequestsPerRun: 4, testName: "node" }).run();
  const figs = await lt.figures();
  assert.deepEqual(figs.time_to_first_token.data.map((t) => t.name), ["p50", "p90", "p99", "average"]);
  assert.deepEqual(figs.time_to_first_token.data[0].x, [1, 2]);
  assert.deepEqual(figs.time_to_first_token.data[1].y, [1, 2].map((c) => lt.results.get(c).stats["time_to_first_token-p90"]));
  assert.deepEqual(figs.error_rate.data[0].y, [0, 0]);
  const html = await lt.toHTML();
  assert.match(html, /^<!doctype html>/);
  assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  assert.equal((html.match(/<svg /g) ?? []).length, 6);
  const run = lt.results.get(2);
  const rf = await runFigures(run);
  assert.deepEqual(Object.keys(rf), ["time_to_first_token_histogram", "time_to_last_token_histogram", "time_per_output_token_histogram", "latency_box"]);
  assert.equal(rf.time_to_first_token_histogram.data[0].x.length, run.responses.length);
  assert.match(await runHTML(run), /<svg /);
  const back = await LoadTestResult.fromFiles(lt.toFiles());
  assert.deepEqual(back.clients, [1, 2]);
});
