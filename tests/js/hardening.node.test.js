// The engine against a hostile endpoint and a careless caller, in Node: secrets echoed back
// are never kept, endless or huge streams fail only their request, wrong options are named
// errors, an engine crash rejects the run instead of ending the process, and long timers work.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startSim } from "./sim.js";
import { OpenAIEndpoint, Runner, init } from "../../pkg/index.js";
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

test("a header value with a line break: Node's error quotes it, the result does not", async () => {
  const endpoint = new OpenAIEndpoint({ baseUrl: sim.base, model: "m", headers: { "x-team": `abc\n${HEADER_SECRET}` } });
  const result = await new Runner({ endpoint }).run({ payload: ask("hi") });
  const error = result.responses[0].error;
  assert.ok(error, "the request fails");
  assert.ok(!error.includes(HEADER_SECRET), error);
  assert.ok(!JSON.stringify(result.toFiles()).includes(HEADER_SECRET));
});

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
});

test("a timeout above setTimeout's 2^31-1 ms limit does not fire at once", async () => {
  const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: sim.base, model: "m" }), timeout: 30 * 24 * 3600 / 5 });
  const result = await runner.run({ payload: ask("x"), clients: 2, nRequests: 2 });
  assert.deepEqual(result.responses.map((r) => r.error), [null, null, null, null]);
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
