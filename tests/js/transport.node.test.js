// The engine's HTTP client in Node: `node:http` by default, `fetch` on request. Both against a
// real llm-sim (and small real servers for what llm-sim does not do: redirects, gzip), with
// equal results: same counts and ids, the fetch-shaped errors, redirects followed with the
// credentials dropped across origins, compressed bodies decoded.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { gzipSync } from "node:zlib";
import { startSim } from "./sim.js";
import { OpenAIEndpoint, Runner } from "../../pkg/index.js";

let sim;
/** @type {import("node:http").Server[]} */
const servers = [];
before(async () => {
  sim = await startSim(["--ttft-ms", "20", "--itl-ms", "2", "--seed", "3"]);
});
after(async () => {
  for (const s of servers) s.close();
  await sim?.stop();
});

const payload = { messages: [{ role: "user", content: "Say something about clients" }], max_tokens: 8 };
const endpoint = (baseUrl = sim.base, extra = {}) => new OpenAIEndpoint({ baseUrl, model: "sim-model", ...extra });

/** A loopback server; resolves to its base URL. @param {import("node:http").RequestListener} handler */
async function serve(handler) {
  const s = createServer(handler);
  servers.push(s);
  await new Promise((r) => s.listen(0, "127.0.0.1", () => r(undefined)));
  return `http://127.0.0.1:${/** @type {any} */ (s.address()).port}`;
}

/** Forwards a request to llm-sim and returns its answer's status, headers and body. */
async function forward(req, path) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const r = await fetch(`${sim.base}${path}`, { method: req.method, headers: { "content-type": "application/json" }, body: req.method === "POST" ? Buffer.concat(chunks) : undefined });
  return { status: r.status, type: r.headers.get("content-type") ?? "text/plain", body: Buffer.from(await r.arrayBuffer()) };
}

test("Node runs go through node:http by default and through fetch on request, with equal results against llm-sim", async () => {
  const runs = {};
  for (const transport of [undefined, "fetch"]) {
    await sim.clear();
    const result = await new Runner({ endpoint: endpoint(), transport }).run({ clients: 3, nRequests: 4, payload });
    const truth = new Map((await sim.requests()).map((r) => [r.id, r]));
    assert.equal(result.stats.failed_requests, 0);
    assert.equal(result.responses.length, 12);
    for (const r of result.responses) {
      const rec = truth.get(r.id.replace(/^chatcmpl-/, ""));
      assert.ok(rec, `response ${r.id} is one llm-sim answered`);
      assert.equal(r.num_tokens_output, rec.output_tokens);
      assert.equal(r.num_tokens_input, rec.input_tokens);
      assert.ok(r.time_to_first_token >= 0.02 && r.time_to_first_token < 0.2, `TTFT ${r.time_to_first_token}`);
      assert.ok(r.time_to_last_token >= r.time_to_first_token); // equal when a loaded machine reads every token in one chunk
    }
    runs[transport ?? "default"] = result;
  }
  assert.equal(runs.default.info.transport, "node:http");
  assert.equal(runs.fetch.info.transport, "fetch");
  assert.equal(runs.default.stats.total_output_tokens, runs.fetch.stats.total_output_tokens);
  // The run's own option overrides the Runner's.
  const r = await new Runner({ endpoint: endpoint(), transport: "fetch" }).run({ clients: 1, nRequests: 1, payload, transport: "node:http" });
  assert.equal(r.info.transport, "node:http");
});

test("a wrong transport is a RangeError naming the option", async () => {
  assert.throws(() => new Runner({ endpoint: endpoint(), transport: /** @type {any} */ ("xhr") }), { name: "RangeError", message: /transport must be "fetch" or "node:http", got "xhr"/ });
  await assert.rejects(new Runner({ endpoint: endpoint() }).run({ clients: 1, nRequests: 1, payload, transport: /** @type {any} */ (42) }), { name: "RangeError", message: /transport/ });
});

test("connection refused and a body cut short read the same through node:http as through fetch", async () => {
  const closed = await serve(() => {});
  servers.at(-1).close();
  await new Promise((r) => setTimeout(r, 50));
  // A server that sends the head and two events, then drops the connection.
  const cut = await serve((req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write(`data: ${JSON.stringify({ id: "cut-1", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: "Hello" } }] })}\n\n`);
    setTimeout(() => res.socket?.destroy(), 20);
  });
  const errors = {};
  for (const transport of ["node:http", "fetch"]) {
    const refused = await new Runner({ endpoint: endpoint(`${closed}/v1`), transport, timeout: 5 }).run({ clients: 1, nRequests: 1, payload });
    const broken = await new Runner({ endpoint: endpoint(`${cut}/v1`), transport, timeout: 5 }).run({ clients: 1, nRequests: 1, payload });
    assert.equal(refused.stats.failed_requests, 1);
    assert.equal(broken.stats.failed_requests, 1);
    errors[transport] = { refused: refused.responses[0].error, broken: broken.responses[0].error, brokenTtft: broken.responses[0].time_to_first_token };
  }
  for (const e of Object.values(errors)) {
    assert.match(e.refused, /fetch failed/);
    assert.match(e.refused, /ECONNREFUSED/);
    assert.match(e.broken, /terminated/);
    assert.ok(e.brokenTtft > 0, "the first token before the cut was timed");
  }
});

test("redirects are followed (307 keeps the POST) and credentials are dropped across origins, as fetch does", async () => {
  /** @type {Record<string, (string | undefined)[]>} */
  const seen = { sameOrigin: [], otherOrigin: [] };
  const target = await serve(async (req, res) => {
    seen.otherOrigin.push(req.headers.authorization);
    const a = await forward(req, "/chat/completions");
    res.writeHead(a.status, { "content-type": a.type }).end(a.body);
  });
  const front = await serve(async (req, res) => {
    if (req.url === "/v1/chat/completions") {
      seen.sameOrigin.push(req.headers.authorization);
      req.resume();
      return res.writeHead(307, { location: "/moved/chat/completions" }).end();
    }
    if (req.url === "/moved/chat/completions") {
      seen.sameOrigin.push(req.headers.authorization);
      req.resume();
      return res.writeHead(307, { location: `${target}/v1/chat/completions` }).end();
    }
    res.writeHead(404).end();
  });
  for (const transport of ["node:http", "fetch"]) {
    seen.sameOrigin.length = seen.otherOrigin.length = 0;
    const r = await new Runner({ endpoint: endpoint(`${front}/v1`, { apiKey: "sk-redirect-secret" }), transport }).run({ clients: 1, nRequests: 2, payload });
    assert.equal(r.stats.failed_requests, 0, `${transport}: ${r.responses[0].error}`);
    assert.equal(r.responses[0].num_tokens_output, 8);
    assert.deepEqual(seen.sameOrigin, Array(4).fill("Bearer sk-redirect-secret"), transport);
    assert.deepEqual(seen.otherOrigin, [undefined, undefined], `${transport}: no key sent to another origin`);
  }
});

test("the same request header fields reach the server over both clients (a name given twice in two cases: the last)", async () => {
  /** @type {Record<string, Record<string, string | string[] | undefined>>} */
  const seen = {};
  let transport = "";
  const server = await serve(async (req, res) => {
    const { "x-trace": trace, authorization, "x-team": team, "content-type": type } = req.headers;
    seen[transport] = { trace, authorization, team, type };
    const a = await forward(req, "/chat/completions");
    res.writeHead(a.status, { "content-type": a.type }).end(a.body);
  });
  for (transport of ["node:http", "fetch"]) {
    const headers = { "X-Trace": "a", "x-trace": "b", "x-team": "bench" };
    const r = await new Runner({ endpoint: endpoint(`${server}/v1`, { apiKey: "sk-h", headers }), transport }).run({ clients: 2, nRequests: 2, payload });
    assert.equal(r.stats.failed_requests, 0, `${transport}: ${r.responses[0].error}`);
  }
  assert.deepEqual(seen.fetch, { trace: "b", authorization: "Bearer sk-h", team: "bench", type: "application/json" });
  assert.deepEqual(seen["node:http"], seen.fetch);
});

test("a gzip-compressed stream is decoded: the same tokens as uncompressed", async () => {
  const gz = await serve(async (req, res) => {
    const a = await forward(req, "/chat/completions");
    res.writeHead(a.status, { "content-type": a.type, "content-encoding": "gzip" }).end(gzipSync(a.body));
  });
  for (const transport of ["node:http", "fetch"]) {
    const r = await new Runner({ endpoint: endpoint(`${gz}/v1`), transport }).run({ clients: 2, nRequests: 2, payload });
    assert.equal(r.stats.failed_requests, 0, `${transport}: ${r.responses[0].error}`);
    for (const x of r.responses) assert.equal(x.num_tokens_output, 8);
  }
});
