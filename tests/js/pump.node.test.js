// The byte path's platform side (pkg/pump.js) on its own: the engine's exports replaced by a
// recorder of what the pump calls them with, the real `fetch` against a real llm-sim. It checks
// the send stamps: before each `fetch` call where requests leave as they are called, and after
// the turn's last call where they leave only when the turn ends (workerd, the engine's rule).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startSim } from "./sim.js";
import { createPump } from "../../pkg/pump.js";
import { createCrashHandler } from "../../pkg/crash.js";

let sim;
before(async () => {
  sim = await startSim(["--ttft-ms", "5", "--itl-ms", "1", "--seed", "3"]);
});
after(async () => sim?.stop());

/**
 * A pump over an engine stand-in that records heads, chunks and ends, with the real `fetch`
 * wrapped to note when each call is made.
 * @param {boolean} sendsAtTurnEnd what the engine says of this runtime
 */
function recordingPump(sendsAtTurnEnd) {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const heads = new Map(), ends = new Map(), bytes = new Map();
  let settle;
  const allEnded = new Promise((r) => (settle = r));
  let expected = 0;
  const wasm = {
    exchangeSendsAtTurnEnd: () => sendsAtTurnEnd,
    exchangeScratch: () => 0,
    exchangeMemory: () => memory,
    exchangeHead: (id, status, _values, sentMs, at) => heads.set(id, { status, sentMs, at }),
    exchangeChunk: (id, len) => bytes.set(id, (bytes.get(id) ?? 0) + len),
    exchangeEnd: (id, at) => {
      ends.set(id, at);
      if (ends.size === expected) settle();
    },
    exchangeFail: (id, _inBody, name, message) => assert.fail(`exchange ${id} failed: ${name}: ${message}`),
    timerFired: () => {},
  };
  const pump = createPump(/** @type {any} */ (wasm), createCrashHandler(() => {}));
  /** @type {number[]} */
  const fetchCalls = [];
  const realFetch = globalThis.fetch;
  const body = JSON.stringify({ model: "sim-model", messages: [{ role: "user", content: "hi" }], max_tokens: 4, stream: true });
  return {
    /** Sends `n` exchanges in one turn, as the engine does from one call; resolves when all ended. */
    async sendBurst(n) {
      expected = n;
      globalThis.fetch = (...args) => {
        fetchCalls.push(performance.now());
        return realFetch(...args);
      };
      try {
        const headers = [["content-type", "application/json"]];
        for (let id = 1; id <= n; id++) pump.send(id, `${sim.base}/chat/completions`, "POST", headers, body, "", true);
        await allEnded;
      } finally {
        globalThis.fetch = realFetch;
      }
      return { heads, ends, bytes, fetchCalls };
    },
    pump,
  };
}

test("each request is stamped just before its own fetch call where requests leave as they are called", async () => {
  const { heads, bytes, fetchCalls } = await recordingPump(false).sendBurst(8);
  assert.equal(fetchCalls.length, 8);
  for (let id = 1; id <= 8; id++) {
    const h = heads.get(id);
    assert.equal(h.status, 200);
    assert.ok(bytes.get(id) > 0, `exchange ${id} streamed its body`);
    // Stamped before its own call and after the previous one.
    assert.ok(h.sentMs <= fetchCalls[id - 1], `exchange ${id}: stamp ${h.sentMs} after its call ${fetchCalls[id - 1]}`);
    if (id > 1) assert.ok(h.sentMs >= fetchCalls[id - 2], `exchange ${id} stamped before the previous call`);
  }
});

test("where requests leave only when the turn ends (workerd), a burst is stamped after its last fetch call", async () => {
  const { heads, fetchCalls } = await recordingPump(true).sendBurst(8);
  assert.equal(fetchCalls.length, 8);
  const stamps = new Set([...heads.values()].map((h) => h.sentMs));
  assert.equal(stamps.size, 1, "one stamp for the turn's sends");
  const [sentMs] = stamps;
  assert.ok(sentMs >= fetchCalls[7], `stamp ${sentMs} before the last call ${fetchCalls[7]}`);
  for (const h of heads.values()) assert.ok(h.at >= sentMs, "a head arrives after its send");
});

/** Wraps the real `fetch` to push "fetch" into `order` at each call; returns the undo. @param {string[]} order */
function noteFetchCalls(order) {
  const realFetch = globalThis.fetch;
  globalThis.fetch = (...args) => {
    order.push("fetch");
    return realFetch(...args);
  };
  return () => {
    globalThis.fetch = realFetch;
  };
}

test("laterTurn (where sends leave at the turn's end): after the turn's fetch calls, in a later macrotask", async () => {
  const { pump } = recordingPump(true);
  const order = [];
  const restoreFetch = noteFetchCalls(order);
  try {
    const body = JSON.stringify({ model: "sim-model", messages: [{ role: "user", content: "hi" }], max_tokens: 2, stream: true });
    setTimeout(() => order.push("earlier timer"), 0);
    // As the engine does in one call: send, then ask for the turn to record in.
    pump.send(1, `${sim.base}/chat/completions`, "POST", [["content-type", "application/json"]], body, "", true);
    const later = pump.laterTurn().then(() => order.push("laterTurn"));
    queueMicrotask(() => order.push("microtask"));
    await later;
  } finally {
    restoreFetch();
  }
  assert.deepEqual(order, ["fetch", "microtask", "earlier timer", "laterTurn"]);
});

test("elsewhere the engine records a response after the next request's fetch call (its own microtask, no JS promise)", async () => {
  const { init, OpenAIEndpoint, Runner } = await import("../../pkg/index.js");
  await init();
  const order = [];
  const restoreFetch = noteFetchCalls(order);
  try {
    const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: sim.base, model: "sim-model" }), transport: "fetch" });
    const result = await runner.run({
      clients: 1,
      nRequests: 3,
      payload: { messages: [{ role: "user", content: "hi" }], max_tokens: 2 },
      onResponse: () => order.push("record"),
    });
    assert.equal(result.stats.failed_requests, 0);
  } finally {
    restoreFetch();
  }
  // One client: each response is recorded once the request after it has been sent.
  assert.deepEqual(order, ["fetch", "fetch", "record", "fetch", "record", "record"]);
});
