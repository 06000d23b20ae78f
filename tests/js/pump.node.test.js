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

/**
 * A pump as browsers get it (`scheduler.postTask` there): chunks are stamped on arrival and
 * handed to the engine stand-in in batches, read back from the arrivals table and scratch
 * buffer the pump wrote into its memory. `runTasks` false holds every posted task, so that only
 * ends, failures and the timer hand chunks over.
 * @param {{ runTasks: boolean }} o
 */
function batchingPump({ runTasks }) {
  const memory = new WebAssembly.Memory({ initial: 4 });
  const TABLE_AT = 3 * 65536; // bytes of a batch from 0, its arrivals table above them
  /** @type {{ call: string, id: number, at?: number, text?: string, batch?: number }[]} */
  const log = [];
  let batches = 0;
  let timerAt = 0;
  const wasm = {
    exchangeSendsAtTurnEnd: () => false,
    exchangeScratch: () => 0,
    exchangeArrivals: () => TABLE_AT,
    exchangeMemory: () => memory,
    exchangeHead: (id, _status, _values, _sentMs, at) => log.push({ call: "head", id, at }),
    exchangeChunk: () => assert.fail("a chunk handed over on its own where tasks can be posted"),
    exchangeChunks: (count) => {
      const table = new Float64Array(memory.buffer, TABLE_AT, count * 3);
      const bytes = new Uint8Array(memory.buffer);
      batches++;
      let offset = 0;
      for (let i = 0; i < count; i++) {
        const [id, len, at] = table.subarray(i * 3, i * 3 + 3);
        log.push({ call: "chunk", id, at, text: new TextDecoder().decode(bytes.subarray(offset, offset + len)), batch: batches });
        offset += len;
      }
    },
    exchangeEnd: (id, at) => log.push({ call: "end", id, at }),
    exchangeFail: (id, _inBody, name, message) => assert.fail(`exchange ${id} failed: ${name}: ${message}`),
    timerFired: () => log.push({ call: "timer", id: 0, at: (timerAt = performance.now()) }),
  };
  const saved = Object.getOwnPropertyDescriptor(globalThis, "scheduler");
  let posted = 0;
  globalThis.scheduler = {
    postTask: (f) => {
      posted++;
      return runTasks ? new Promise((resolve) => setTimeout(() => resolve(f()), 0)) : new Promise(() => {});
    },
  };
  let pump;
  try {
    pump = createPump(/** @type {any} */ (wasm), createCrashHandler(() => {}));
  } finally {
    if (saved) Object.defineProperty(globalThis, "scheduler", saved);
    else delete globalThis.scheduler;
  }
  return {
    pump,
    log,
    posted: () => posted,
    timerAt: () => timerAt,
    /** @param {number} id @param {number} maxTokens */
    send(id, maxTokens) {
      const body = JSON.stringify({ model: "sim-model", messages: [{ role: "user", content: "hi" }], max_tokens: maxTokens, stream: true });
      pump.send(id, `${sim.base}/chat/completions`, "POST", [["content-type", "application/json"]], body, "", true);
    },
    /** Resolves once `ids` have all ended. @param {number[]} ids */
    async ended(ids) {
      while (!ids.every((id) => log.some((e) => e.call === "end" && e.id === id))) await new Promise((r) => setTimeout(r, 2));
    },
  };
}

/** Each exchange's chunks in the order the engine got them, checked against its head and end. @param {any[]} log */
function chunksByExchange(log) {
  const byId = new Map();
  for (const [i, e] of log.entries()) {
    if (e.call !== "chunk") continue;
    const head = log.findIndex((h) => h.call === "head" && h.id === e.id);
    const end = log.findIndex((h) => h.call === "end" && h.id === e.id);
    assert.ok(head >= 0 && head < i, `exchange ${e.id}: a chunk before its head`);
    if (end >= 0) assert.ok(i < end, `exchange ${e.id}: a chunk handed over after its end`);
    if (end >= 0) assert.ok(e.at <= log[end].at, `exchange ${e.id}: a chunk stamped after its end`);
    const list = byId.get(e.id) ?? [];
    if (list.length) assert.ok(e.at >= list[list.length - 1].at, `exchange ${e.id}: stamps out of order`);
    list.push(e);
    byId.set(e.id, list);
  }
  return byId;
}

test("where tasks can be posted (browsers), chunks are stamped on arrival and reach the engine in batches of several", async () => {
  const p = batchingPump({ runTasks: true });
  for (let id = 1; id <= 8; id++) p.send(id, 12);
  await p.ended([1, 2, 3, 4, 5, 6, 7, 8]);
  const byId = chunksByExchange(p.log);
  let chunks = 0;
  for (let id = 1; id <= 8; id++) {
    const list = byId.get(id);
    const text = list.map((c) => c.text).join("");
    assert.match(text, /^data: \{/, `exchange ${id}: the body from its start`);
    assert.match(text, /data: \[DONE\]\s*$/, `exchange ${id}: the body to its end`);
    chunks += list.length;
  }
  const batches = new Set(p.log.filter((e) => e.call === "chunk").map((e) => e.batch)).size;
  assert.ok(p.posted() > 0, "batches go to a posted task");
  assert.ok(batches < chunks, `${chunks} chunks in ${batches} calls: not one call per chunk`);
});

test("with the posted task held, an end hands over its exchange's chunks first, and the timer what arrived before it", async () => {
  const p = batchingPump({ runTasks: false });
  p.send(1, 60); // ~65 ms of stream at 1 ms per token
  p.send(2, 2);
  p.pump.armTimer(25);
  await p.ended([1, 2]);
  const byId = chunksByExchange(p.log);
  const timer = p.log.findIndex((e) => e.call === "timer");
  assert.ok(timer > 0, "the timer fired");
  const beforeTimer = p.log.slice(0, timer).filter((e) => e.call === "chunk" && e.id === 1);
  assert.ok(beforeTimer.length > 0, "the timer handed over exchange 1's chunks so far");
  for (const c of beforeTimer) assert.ok(c.at <= p.timerAt(), "only chunks stamped before the timer");
  assert.ok(p.log.slice(timer).some((e) => e.call === "chunk" && e.id === 1), "the rest at exchange 1's end");
  assert.match(byId.get(1).map((c) => c.text).join(""), /data: \[DONE\]\s*$/);
  assert.match(byId.get(2).map((c) => c.text).join(""), /data: \[DONE\]\s*$/);
});

test("with the posted task held, chunks of an exchange the engine aborted never reach it", async () => {
  const p = batchingPump({ runTasks: false });
  p.send(1, 60);
  p.send(2, 60);
  await new Promise((r) => setTimeout(r, 20)); // both streaming, their chunks held
  p.pump.abort(1);
  await p.ended([2]);
  assert.equal(p.log.filter((e) => e.call === "chunk" && e.id === 1).length, 0);
  assert.match(chunksByExchange(p.log).get(2).map((c) => c.text).join(""), /data: \[DONE\]\s*$/);
});
