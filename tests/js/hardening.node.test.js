// The engine against a hostile endpoint and a careless caller, in Node: secrets echoed back
// are never kept, endless or huge streams fail only their request, wrong options are named
// errors, an engine crash rejects the run instead of ending the process, and long timers work.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startSim } from "./sim.js";
import { CustomEndpoint, LatencyHeatmap, LoadTest, OpenAIEndpoint, Runner, init } from "../../pkg/index.js";
import { __crashForTests } from "../../pkg/llmeter_wasm.js";

const KEY = "sk-hostile-test-key-0123456789";
const HEADER_SECRET = "team-secret-abcdef-98765";

/** A real HTTP server on loopback whose answers are chosen by the request's prompt. */
let hostile;
let sim;
before(async () => {
  sim = await startSim(["--ttft-ms", "5", "--itl-ms", "2"]);
  hostile = http.createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    const prompt = JSON.parse(body).messages?.[0]?.content ?? "";
    const sse = (obj) => `data: ${JSON.stringify(obj)}\n\n`;
    switch (prompt) {
      case "echo-401": // a proxy quoting the key it refused
        res.writeHead(401, { "content-type": "application/json" });
        return res.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${KEY}. Header x-team: ${HEADER_SECRET}` } }));
      case "echo-event": // the key in an SSE error event, after some content
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(sse({ id: "c1", choices: [{ index: 0, delta: { content: "partial" } }] }));
        return res.end(`event: error\ndata: ${JSON.stringify({ error: { message: `rejected token ${HEADER_SECRET}` } })}\n\n`);
      case "echo-content": // the model itself says the key
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(sse({ id: "c2", choices: [{ index: 0, delta: { content: `the key is ${KEY}` } }] }));
        return res.end("data: [DONE]\n\n");
      case "endless-line": { // a line that never ends: 64 KiB pieces until the client leaves
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(sse({ id: "c3", choices: [{ index: 0, delta: { content: "before" } }] }));
        res.write("data: {\"choices\": [");
        const piece = "x".repeat(64 * 1024);
        const pump = () => { if (!res.destroyed && res.write(piece)) setImmediate(pump); };
        res.on("drain", pump);
        req.on("close", () => res.destroy());
        return pump();
      }
      case "many-chunks": { // 20,000 tiny chunks: every one a network read
        res.writeHead(200, { "content-type": "text/event-stream" });
        const event = sse({ id: "c4", choices: [{ index: 0, delta: { content: "t" } }] });
        let i = 0;
        const step = () => {
          while (i < 20000) {
            i++;
            if (!res.write(event)) return res.once("drain", step);
          }
          res.end("data: [DONE]\n\n");
        };
        return step();
      }
      default:
        res.writeHead(404);
        return res.end("no such case");
    }
  });
  await new Promise((resolve) => hostile.listen(0, "127.0.0.1", resolve));
  await init();
});
after(async () => {
  await sim?.stop();
  hostile?.closeAllConnections();
  await new Promise((resolve) => hostile?.close(resolve));
});

const hostileEndpoint = () => new OpenAIEndpoint({ baseUrl: `http://127.0.0.1:${hostile.address().port}/v1`, model: "m", apiKey: KEY, headers: { "x-team": HEADER_SECRET } });
const ask = (prompt) => ({ messages: [{ role: "user", content: prompt }] });

test("secrets echoed by the endpoint are redacted from errors and files; echoed in generated text they are flagged", async () => {
  const result = await new Runner({ endpoint: hostileEndpoint() }).run({ payload: ["echo-401", "echo-event", "echo-content"].map(ask), payloadAssignment: "eachOnce", clients: 3 });
  const byText = Object.fromEntries(result.responses.map((r) => [r.input_prompt, r]));
  assert.equal(byText["echo-401"].error, "HTTP 401 Unauthorized: Incorrect API key provided: [redacted]. Header x-team: [redacted]");
  assert.equal(byText["echo-event"].error, "API error mid-stream: rejected token [redacted]");
  assert.equal(byText["echo-event"].response_text, "partial");
  assert.match(result.info.warnings.join("\n"), /1 response\(s\) contain one of this run's secret values/);
  const files = Object.entries(result.toFiles());
  for (const [name, text] of files) {
    assert.ok(!text.includes(HEADER_SECRET), `${name} holds the header secret`);
    if (name !== "responses.jsonl") assert.ok(!text.includes(KEY), `${name} holds the key`);
  }
  // The only copy is the model's own text, kept as produced.
  assert.equal(result.toFiles()["responses.jsonl"].split(KEY).length - 1, 1);
});

// `undefined`: Node's default transport, node:http.
for (const transport of ["fetch", undefined]) {
  test(`a header value with a line break (transport ${transport ?? "default"}): the request fails, its error and files never hold the value`, async () => {
    const endpoint = new OpenAIEndpoint({ baseUrl: sim.base, model: "m", headers: { "x-team": `abc\n${HEADER_SECRET}` } });
    const result = await new Runner({ endpoint, transport }).run({ payload: ask("hi") });
    assert.equal(result.info.transport, transport ?? "node:http");
    const error = result.responses[0].error;
    assert.ok(error, "the request fails");
    assert.ok(!error.includes(HEADER_SECRET), error);
    // fetch's own error quotes the invalid value: what the result keeps is the redacted text.
    // (node:http's names the header only.)
    if (transport === "fetch") assert.match(error, /\[redacted\]/);
    assert.ok(!JSON.stringify(result.toFiles()).includes(HEADER_SECRET));
  });
}

test("a line that never ends fails its request naming the limit; the run goes on", async () => {
  const runner = new Runner({ endpoint: hostileEndpoint(), timeout: 30 });
  const t0 = performance.now();
  const result = await runner.run({ payload: ask("endless-line"), maxEventBytes: 1024 * 1024 });
  const r = result.responses[0];
  assert.equal(r.error, "stream message larger than the 1 MiB limit (maxEventBytes)");
  assert.equal(r.response_text, "before", "what arrived before is kept");
  assert.ok(performance.now() - t0 < 20000, "failed at the limit, not at the timeout");
  assert.ok(process.memoryUsage().rss < 1.5e9, "memory stayed bounded");
});

test("20,000 chunks in one response: every one read, counted and timed", async () => {
  const result = await new Runner({ endpoint: hostileEndpoint() }).run({ payload: ask("many-chunks") });
  const [r] = result.responses;
  assert.equal(r.error, null);
  assert.equal(r.response_text.length, 20000);
  assert.ok(result.timings[0].num_chunks >= 1 && result.timings[0].num_events === 20001, JSON.stringify(result.timings[0]));
});

test("payloads that cannot be JSON are TypeErrors naming them, before any request", async () => {
  await sim.clear();
  const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: sim.base, model: "m" }) });
  const circular = ask("x");
  circular.self = circular;
  await assert.rejects(runner.run({ payload: circular }), (e) => e instanceof TypeError && /payload is not JSON-serialisable/.test(e.message));
  const nested = (depth) => {
    const top = {};
    let at = top;
    for (let i = 0; i < depth; i++) at = at.next = {};
    return top;
  };
  // Deeper than the engine reads: its limit, named.
  await assert.rejects(runner.run({ payload: { ...ask("x"), top: nested(200) } }), (e) => e instanceof TypeError && /payload is nested more than 128 levels deep/.test(e.message));
  // Deeper than JS itself can serialise: JSON.stringify's own error, as the same TypeError.
  await assert.rejects(runner.run({ payload: { ...ask("x"), top: nested(20000) } }), (e) => e instanceof TypeError && /payload is not JSON-serialisable/.test(e.message));
  assert.equal((await sim.requests()).length, 0);
});

test("out-of-range sizes and durations are RangeErrors naming the limit and why", async () => {
  const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: sim.base, model: "m" }) });
  const p = ask("x");
  await assert.rejects(runner.run({ payload: p, clients: 4294967295 }), (e) => e instanceof RangeError && /clients: at most 10000/.test(e.message));
  await assert.rejects(runner.run({ payload: p, clients: 100, nRequests: 1e6 }), (e) => e instanceof RangeError && /at most 10000000/.test(e.message));
  await assert.rejects(runner.run({ payload: p, timeout: 3e6 }), (e) => e instanceof RangeError && /timeout: at most 604800 seconds \(a week\)/.test(e.message));
  await assert.rejects(runner.run({ payload: p, startJitterMs: 1e12 }), (e) => e instanceof RangeError && /startJitterMs: at most/.test(e.message));
  await assert.rejects(runner.run({ payload: p, runName: ".." }), (e) => e instanceof RangeError && /runName/.test(e.message));
  await assert.rejects(runner.run({ payload: p, maxEventBytes: 10 }), (e) => e instanceof RangeError && /maxEventBytes/.test(e.message));
  // MAX_RATE: a Runner's open loop and a LoadTest's rate levels.
  await assert.rejects(runner.run({ payload: p, rate: 2e6, nRequests: 10 }), (e) => e instanceof RangeError && e.message === "rate: at most 1000000 requests per second, got 2000000");
  const loadTest = new LoadTest({ endpoint: new OpenAIEndpoint({ baseUrl: sim.base, model: "m" }), payload: p, sequenceOfRates: [10, 2e6] });
  await assert.rejects(loadTest.run(), (e) => e instanceof RangeError && e.message === "sequenceOfRates: rates must be positive requests per second (at most 1000000), got 2000000");
});

test("a 6-day timeout (options allow at most a week, under setTimeout's 2^31-1 ms) does not fire early", async () => {
  const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: sim.base, model: "m" }), timeout: 30 * 24 * 3600 / 5 });
  const result = await runner.run({ payload: ask("x"), clients: 2, nRequests: 2 });
  assert.deepEqual(result.responses.map((r) => r.error), [null, null, null, null]);
});

test("a sleep past setTimeout's 2^31-1 ms limit is armed in steps: an open loop at 1e-7 requests/s waits 1e10 ms for its second request without an overflowing timer", async () => {
  await sim.clear();
  // Node clamps a longer setTimeout to 1 ms and says so with a TimeoutOverflowWarning.
  const warnings = [];
  const onWarning = (w) => warnings.push(`${w.name}: ${w.message}`);
  process.on("warning", onWarning);
  try {
    const controller = new AbortController();
    let answered = 0;
    const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: sim.base, model: "m" }) });
    const run = runner.run({ payload: ask("x"), rate: 1e-7, nRequests: 2, signal: controller.signal, onResponse: () => { answered++; } });
    for (let i = 0; i < 200 && answered === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(answered, 1, "the first arrival is at the start");
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await sim.requests()).length, 1, "the second arrival, 1e10 ms away, is still waiting");
    controller.abort();
    const result = await run;
    assert.equal(result.responses.length, 1);
    assert.equal(result.info.interrupted, true);
  } finally {
    process.off("warning", onWarning);
  }
  assert.deepEqual(warnings.filter((w) => /TimeoutOverflow/.test(w)), []);
});

test("a custom tokenizer that throws or returns no array: counts stay empty and a warning says why", async () => {
  const endpoint = new OpenAIEndpoint({ baseUrl: sim.base, model: "m" });
  for (const [tokenizer, why] of [[{ encode() { throw new Error("boom"); } }, /encode\(\) threw Error: boom/], [{ encode: () => 42 }, /encode\(\) returned 42, not an array of tokens/]]) {
    // No usage in the stream: the tokenizer is asked after the run.
    const result = await new Runner({ endpoint, tokenizer }).run({ payload: { ...ask("x"), stream_options: { include_usage: false } } });
    assert.equal(result.responses[0].num_tokens_output, null);
    assert.match(result.info.warnings.join("\n"), why);
  }
});

test("values user code throws or rejects with (0, undefined, {code: 7}, Promise.reject(0)) are named in messages, never JsValue(…); no rejection is left unhandled", async () => {
  const unhandled = [];
  const onUnhandled = (e) => unhandled.push(e);
  process.on("unhandledRejection", onUnhandled);
  try {
    const endpoint = new OpenAIEndpoint({ baseUrl: sim.base, model: "m" });
    const noUsage = { ...ask("x"), stream_options: { include_usage: false } };
    const custom = (hooks) => new CustomEndpoint({ url: `${sim.base}/chat/completions`, read: () => undefined, ...hooks });
    const chat = { model: "m", stream: true, ...ask("x") };
    const cases = [
      // [what, how it fails, the message (thrown 0, undefined, {code: 7}, then Promise.reject(0))]
      ["custom tokenizer", (f) => new Runner({ endpoint, tokenizer: { encode: f } }).run({ payload: noUsage }).then((r) => r.info.warnings.join("\n")),
        ["encode() threw 0", "encode() threw undefined", "encode() threw an object", "encode() returned a promise: it must be synchronous"]],
      ["beforeInvoke callback", (f) => new Runner({ endpoint, callbacks: [{ beforeInvoke: f }] }).run({ payload: ask("x") }).then((r) => r.responses[0].error),
        ["threw 0", "threw undefined", "threw an object", "threw 0"]],
      ["afterInvoke callback", (f) => new Runner({ endpoint, callbacks: [{ afterInvoke: f }] }).run({ payload: ask("x") }).then((r) => r.info.warnings.join("\n")),
        ["afterInvoke failed for 1 responses: threw 0", "afterInvoke failed for 1 responses: threw undefined", "afterInvoke failed for 1 responses: threw an object", "afterInvoke failed for 1 responses: threw 0"]],
      ["afterRun callback", (f) => new Runner({ endpoint, callbacks: [{ afterRun: f }] }).run({ payload: ask("x") }).then((r) => r.info.warnings.join("\n")),
        ["afterRun failed: threw 0", "afterRun failed: threw undefined", "afterRun failed: threw an object", "afterRun failed: threw 0"]],
      ["custom endpoint read", (f) => new Runner({ endpoint: custom({ read: f }) }).run({ payload: chat }).then((r) => r.responses[0].error),
        ["custom endpoint read(): 0", "custom endpoint read(): undefined", "custom endpoint read(): an object", "custom endpoint read(): TypeError: must be synchronous (it returned a promise)"]],
      ["custom endpoint request", (f) => new Runner({ endpoint: custom({ request: f }) }).run({ payload: chat }).then((r) => r.responses[0].error),
        ["custom endpoint request(): 0", "custom endpoint request(): undefined", "custom endpoint request(): an object", "custom endpoint request(): TypeError: must be synchronous (it returned a promise)"]],
      // A throwing or rejecting onResponse (or onProgress) is ignored: the run goes on, untouched.
      ["onResponse", (f) => new Runner({ endpoint }).run({ payload: ask("x"), nRequests: 2, onResponse: f, onProgress: f, progressIntervalMs: 0 }).then((r) => JSON.stringify(r.responses.map((x) => x.error))),
        Array(4).fill("[null,null]")],
    ];
    const throwers = [() => { throw 0; }, () => { throw undefined; }, () => { throw { code: 7 }; }, () => Promise.reject(0)];
    for (const [what, run, messages] of cases) {
      for (const [i, f] of throwers.entries()) {
        const text = await run(f);
        assert.ok(text.includes(messages[i]), `${what}, case ${i}: ${text}`);
        assert.ok(!text.includes("JsValue"), `${what}, case ${i}: ${text}`);
      }
    }
    // createPayload runs in JS, before the engine: a heatmap fails with the value as thrown, and
    // a promise is refused by name.
    const fails = [(e) => e === 0, (e) => e === undefined, (e) => e?.code === 7, (e) => e instanceof TypeError && /^createPayload must be synchronous \(it returned a promise; request 0\)$/.test(e.message)];
    for (const [i, f] of throwers.entries()) {
      const heatmap = new LatencyHeatmap({ endpoint, sourceText: "one two three four five six seven eight nine ten ".repeat(20), inputLengths: [10], outputLengths: [4], clients: 1, createPayload: f });
      await assert.rejects(heatmap.run(), fails[i]);
    }
    const customPayload = new CustomEndpoint({ url: sim.base, read: () => undefined, createPayload: throwers[3] });
    assert.throws(() => customPayload.createPayload("hi"), /must be synchronous \(it returned a promise\)/);
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
  assert.deepEqual(unhandled, [], "no rejection left unhandled");
});

test("an engine crash rejects the pending run with its reason; the process lives and the next run works", async () => {
  const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: sim.base, model: "m" }) });
  const outcome = runner.run({ payload: { ...ask("x"), max_tokens: 200 }, clients: 2, nRequests: 5 }).then(() => null, (e) => e);
  await new Promise((r) => setTimeout(r, 50));
  // The deliberate panic happens in the engine's task queue, as a run's work does; its own
  // promise dies with the instance, the run's is rejected.
  void __crashForTests("later").catch(() => {});
  const error = await outcome;
  assert.match(error?.message ?? "", /engine panicked: .*deliberate panic .*later.*engine restarted/s);
  await new Promise((r) => setTimeout(r, 50));
  const after = await runner.run({ payload: ask("x"), clients: 2, nRequests: 2 });
  assert.deepEqual(after.responses.map((r) => r.error), [null, null, null, null]);
  // And again: every crash is recovered from.
  const second = runner.run({ payload: { ...ask("x"), max_tokens: 200 }, clients: 2, nRequests: 5 }).then(() => null, (e) => e);
  await new Promise((r) => setTimeout(r, 50));
  void __crashForTests("now").catch(() => {});
  assert.match((await second)?.message ?? "", /deliberate panic .*now/s);
  await new Promise((r) => setTimeout(r, 10));
  const again = await runner.run({ payload: ask("x") });
  assert.equal(again.responses[0].error, null);
});
