// llmeter-wasm/store.js in the three browser engines (Chromium, Firefox, WebKit; engines.js):
// the real IndexedDB written during a run, a reload mid-run recovered as an interrupted run,
// list/load/rename/delete, no secret of any family stored or exported, schema upgrade and blocked
// upgrade, storage quota errors (Chromium, which lets a test set an origin's quota), and uploads
// to a real S3 (SeaweedFS, CORS for this origin only) that Python llmeter then loads.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { startSim } from "./sim.js";
import { startStatic } from "./browser.js";
import { startS3, assertSameStats } from "./s3.js";
import { forEachEngine, launchEngine } from "./engines.js";

let site, s3;
before(async () => {
  site = await startStatic();
  s3 = await startS3(site.origin);
});
after(async () => {
  await s3?.stop();
  await site?.close();
});

const PAYLOAD = { messages: [{ role: "user", content: "Tell me about storage" }], max_tokens: 8 };

// The engines run side by side, each with its own simulator (the reload test counts what it served).
forEachEngine((engine) => {
let sim, browser;
before(async () => {
  sim = await startSim(["--ttft-ms", "20", "--itl-ms", "2", "--seed", "5"]);
  browser = await launchEngine(engine);
});
after(async () => {
  await browser?.close();
  await sim?.stop();
});
/** A fresh browsing context (its own storage) on a blank page of the static site. */
const newPage = () => browser.newPage(`${site.origin}/tests/js/pages/blank.html`);

test(`${engine}: responses are saved during the run; a reload mid-run leaves an interrupted run with its responses and stats`, async () => {
  await sim.clear(); // counted below: what the server served for this run alone
  const page = await newPage();
  await page.evaluate(({ base, payload }) => {
    (async () => {
      const { OpenAIEndpoint, Runner } = await import("/pkg/index.js");
      const { ResultStore } = await import("/pkg/store.js");
      const store = await ResultStore.open({ name: "reload-db", batchSize: 10, batchDelayMs: 100 });
      const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: base, model: "sim-model", apiKey: "sk-page-secret" }) });
      window.completed = 0;
      runner.run({ clients: 2, nRequests: 500, payload, runName: "long-run", store, onResponse: () => { window.completed++; } });
    })();
  }, { base: sim.base, payload: PAYLOAD });
  await page.waitFor(() => window.completed >= 40, null, { timeout: 30000 });
  // While it runs, another connection sees the saved responses grow (group commit, not at the end).
  const during = await page.evaluate(async () => {
    const { ResultStore } = await import("/pkg/store.js");
    const other = await ResultStore.open({ name: "reload-db" });
    await new Promise((r) => setTimeout(r, 300));
    const [run] = await other.list();
    other.close();
    return { run, recovered: other.recovered.length, completed: window.completed };
  });
  assert.equal(during.run.status, "running");
  assert.equal(during.recovered, 0, "a live run (lock held) is not taken for a crashed one");
  assert.ok(during.run.responses >= 30, `saved during the run: ${during.run.responses}`);
  await page.reload();
  const after = await page.evaluate(async () => {
    const { ResultStore } = await import("/pkg/store.js");
    const store = await ResultStore.open({ name: "reload-db" });
    const [run] = await store.list();
    const result = await store.load(run.id);
    const [listedAfterLoad] = await store.list();
    // Everything IndexedDB holds for the run, raw: no secret in any record.
    const raw = await new Promise((resolve) => {
      const req = indexedDB.open("reload-db");
      req.onsuccess = () => {
        const tx = req.result.transaction(["runs", "batches"]);
        const runs = tx.objectStore("runs").getAll(), batches = tx.objectStore("batches").getAll();
        tx.oncomplete = () => { resolve(JSON.stringify([runs.result, batches.result])); req.result.close(); };
      };
    });
    return { raw, recovered: store.recovered, run, listedAfterLoad, info: result.info, stats: result.stats, summary: result.summary, n: result.responses.length, files: JSON.stringify(await store.files(run.id)) };
  });
  assert.equal(after.recovered.length, 1);
  assert.equal(after.run.status, "interrupted");
  assert.equal(after.run.name, "long-run");
  assert.ok(after.n >= during.run.responses && after.n < 1000, `recovered ${after.n} responses`);
  assert.equal(after.n, after.run.responses);
  assert.equal(after.info.interrupted, true);
  assert.equal(after.stats.interrupted, true);
  assert.equal(after.stats.total_requests, after.n);
  assert.equal(after.stats.failed_requests, 0);
  assert.ok(after.stats["time_to_first_token-p50"] >= 0.02, JSON.stringify(after.stats["time_to_first_token-p50"]));
  assert.equal(after.summary.run_name, "long-run");
  assert.equal(after.summary.clients, 2);
  assert.equal(after.summary.total_test_time, null);
  assert.equal(after.run.stats, null, "stats are computed on first load, not on open");
  assert.equal(after.listedAfterLoad.stats.total_requests, after.n);
  assert.equal(after.listedAfterLoad.stats.interrupted, true);
  assert.ok(!after.files.includes("sk-page-secret"));
  assert.ok(after.raw.length > 10000 && !after.raw.includes("sk-page-secret") && !/authorization/i.test(after.raw), "no secret stored");
  // The simulator served at most a batch window more than was saved (plus those in flight).
  const served = (await sim.requests()).length;
  console.log(`# reload mid-run: ${after.n} responses recovered, ${served} requests served`);
  assert.ok(served - after.n <= 10 + 2, `lost ${served - after.n}: at most one batch (10) plus the requests in flight (2)`);
  await page.close();
});

test(`${engine}: a recording worker terminated mid-run: recoverUnfinished waits for its lock to go and closes the run; a live run's lock is waited for, then left alone`, async () => {
  const page = await newPage();
  const worker = await page.worker();
  await worker.evaluate(async ({ base, payload }) => {
    const { OpenAIEndpoint, Runner } = await import("/pkg/index.js");
    const { ResultStore } = await import("/pkg/store.js");
    const store = await ResultStore.open({ name: "terminated-db", batchSize: 5, batchDelayMs: 50 });
    const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: base, model: "sim-model" }) });
    self.completed = 0;
    runner.run({ clients: 2, nRequests: 500, payload, runName: "in-worker", store, onResponse: () => { self.completed++; } });
  }, { base: sim.base, payload: PAYLOAD });
  for (let i = 0; i < 300 && (await worker.evaluate(() => self.completed)) < 20; i++) await new Promise((r) => setTimeout(r, 50));
  await worker.terminate();
  const out = await page.evaluate(async ({ base, payload }) => {
    const { OpenAIEndpoint, Runner } = await import("/pkg/index.js");
    const { ResultStore } = await import("/pkg/store.js");
    const store = await ResultStore.open({ name: "terminated-db" });
    // Opening closes it if its lock is already gone; else the wait does.
    const closed = [...store.recovered, ...(await store.recoverUnfinished({ settleMs: 5000 }))];
    const [run] = await store.list();
    // A run live in this page holds its lock: a short wait for it runs out and the run is kept.
    const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: base, model: "sim-model" }) });
    let n = 0;
    let live;
    const started = new Promise((resolve) => { live = runner.run({ clients: 1, nRequests: 40, payload, runName: "live", store, onResponse: () => { if (++n === 2) resolve(undefined); } }); });
    await started;
    const t0 = performance.now();
    const whileLive = await store.recoverUnfinished({ settleMs: 300 });
    const waited = performance.now() - t0;
    await live;
    const statuses = (await store.list()).map((r) => `${r.name}:${r.status}`);
    let refused = "";
    try { await store.recoverUnfinished({ settleMs: -1 }); } catch (e) { refused = `${e.name}: ${e.message}`; }
    store.close();
    return { closed: closed.map((r) => r.name), status: run.status, stored: run.responses, whileLive: whileLive.length, waited, statuses, refused };
  }, { base: sim.base, payload: PAYLOAD });
  assert.deepEqual(out.closed, ["in-worker"]);
  assert.equal(out.status, "interrupted");
  assert.ok(out.stored >= 10, `responses saved before the worker ended: ${out.stored}`);
  assert.equal(out.whileLive, 0, "a run whose lock is held past the wait is live elsewhere");
  assert.ok(out.waited >= 250, `waited ${out.waited} ms for the live run's lock`);
  assert.deepEqual(out.statuses, ["live:complete", "in-worker:interrupted"]);
  assert.match(out.refused, /^RangeError: settleMs must be/);
  await page.close();
});

test(`${engine}: a navigation that does not happen (beforeunload, then the page stays) loses no response`, async () => {
  const page = await newPage();
  const out = await page.evaluate(async ({ base, payload }) => {
    const { OpenAIEndpoint, Runner } = await import("/pkg/index.js");
    const { ResultStore } = await import("/pkg/store.js");
    const store = await ResultStore.open({ name: "stay-db", batchSize: 4 });
    const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: base, model: "sim-model" }) });
    let n = 0;
    // What a cancelled "Leave page?" looks like to the page: beforeunload, and nothing after.
    const onResponse = () => { if (++n === 5) dispatchEvent(new Event("beforeunload")); };
    const result = await runner.run({ clients: 2, nRequests: 10, payload, runName: "stay", store, onResponse });
    const [run] = await store.list();
    const batches = await new Promise((resolve) => {
      const req = indexedDB.open("stay-db");
      req.onsuccess = () => { const g = req.result.transaction("batches").objectStore("batches").getAll(); g.onsuccess = () => { resolve(g.result.reduce((k, b) => k + b.n, 0)); req.result.close(); }; };
    });
    return { n: result.responses.length, stored: run.responses, batches };
  }, { base: sim.base, payload: PAYLOAD });
  assert.deepEqual(out, { n: 20, stored: 20, batches: 20 });
  await page.close();
});

test(`${engine}: after beforeunload, a success sent before it lets no later failure in; one sent after it shows the page stayed`, async () => {
  const page = await newPage();
  const out = await page.evaluate(async () => {
    const { ResultStore } = await import("/pkg/store.js");
    const store = await ResultStore.open({ name: "leave-db", batchSize: 1 });
    const rec = await store.recorder({ endpoint: { endpoint_name: "test", model_id: "m", provider: "test" }, options: { clients: 2, runName: "leave" } });
    const at = (ms) => new Date(ms).toISOString();
    const response = (id, sentMs, error = null) => [{ id, request_time: at(sentMs), error, response_text: error ? null : "ok", time_to_first_token: error ? null : 0.05, time_to_last_token: error ? null : 0.06 }, { id }];
    const before = Date.now() - 50;
    rec.onResponse(...response("ok-1", before));
    dispatchEvent(new Event("beforeunload"));
    rec.onResponse(...response("aborted-1", before, "TypeError: NetworkError when attempting to fetch resource."));
    rec.onResponse(...response("ok-2", before)); // sent before the event: finished in the page's last ms
    rec.onResponse(...response("aborted-2", before, "TypeError: NetworkError when attempting to fetch resource."));
    rec.onResponse(...response("ok-3", Date.now() + 5)); // sent after it: the page stayed
    rec.onResponse(...response("failed-3", Date.now() + 5, "HTTP 500"));
    await rec.abort();
    const saved = await store.responses(rec.id, { offset: 0, limit: 10 });
    return saved.map((r) => r.id);
  });
  assert.deepEqual(out, ["ok-1", "ok-2", "ok-3", "failed-3"]);
  await page.close();
});

test(`${engine}: a finished run is stored; list (newest first) / load (same stats) / rename / delete; load test grouped by testName`, async () => {
  const page = await newPage();
  const out = await page.evaluate(async ({ base, payload }) => {
    const { OpenAIEndpoint, Runner } = await import("/pkg/index.js");
    const { ResultStore } = await import("/pkg/store.js");
    const store = await ResultStore.open({ name: "crud-db", batchSize: 2 });
    const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: base, model: "sim-model" }) });
    const first = await runner.run({ clients: 1, nRequests: 3, payload, runName: "first", store });
    await new Promise((r) => setTimeout(r, 5));
    const levels = [];
    for (const clients of [1, 2]) levels.push(await runner.run({ clients, nRequests: 2, payload, runName: `${String(clients).padStart(5, "0")}-clients`, testName: "lt-a", store }));
    const list = await store.list();
    const loaded = await store.load(list.find((r) => r.name === "first").id);
    const firstId = list.find((r) => r.name === "first").id;
    const storedStats = await store.stats(firstId);
    const page = await store.responses(firstId, { offset: 1, limit: 5 });
    const tail = await store.responses(firstId, { offset: 2, limit: 1 });
    const group = await store.groupFiles("lt-a");
    await store.rename(list[0].id, "renamed");
    const renamed = await store.load(list[0].id);
    await store.delete(list.find((r) => r.name === "first").id);
    const rejected = await runner.run({ clients: 0, payload, store }).then(() => "ran", (e) => e.name);
    const afterDelete = await store.list();
    const grouped = await store.list({ group: "lt-a" });
    return { tail, storedStats, page, firstResponses: first.responses, rejected, list, firstStats: first.stats, loadedStats: loaded.stats, loadedInfo: loaded.info, groupKeys: Object.keys(group).sort(), renamed: renamed.summary.run_name, afterDelete: afterDelete.map((r) => r.name), grouped: grouped.map((r) => r.name), levelStats: levels.map((l) => l.stats) };
  }, { base: sim.base, payload: PAYLOAD });
  assert.deepEqual(out.list.map((r) => r.name), ["00002-clients", "00001-clients", "first"]);
  assert.deepEqual(out.list.map((r) => r.status), ["complete", "complete", "complete"]);
  assert.deepEqual(out.list.map((r) => r.group), ["lt-a", "lt-a", ""]);
  assert.equal(out.list[2].stats.total_requests, 3);
  assert.equal(out.list[2].stats["time_to_first_token-p50"], out.firstStats["time_to_first_token-p50"]);
  assert.equal(out.list[2].summary.run_name, "first");
  assert.deepEqual(out.loadedStats, out.firstStats);
  assert.deepEqual(out.storedStats, out.firstStats);
  assert.deepEqual(out.page, out.firstResponses.slice(1, 3));
  assert.deepEqual(out.tail, out.firstResponses.slice(2, 3));
  assert.equal(out.loadedInfo.interrupted, false);
  assert.ok(out.groupKeys.includes("00001-clients/summary.json") && out.groupKeys.includes("00002-clients/responses.jsonl"), out.groupKeys.join());
  assert.equal(out.renamed, "renamed");
  assert.equal(out.rejected, "RangeError");
  assert.deepEqual(out.afterDelete, ["renamed", "00001-clients"], "a run rejected before it started leaves no record");
  assert.deepEqual(out.grouped, ["renamed", "00001-clients"]);
  await page.close();
});

test(`${engine}: a LoadTest with { store } saves each level in its test group; groupFiles loads back as the same LoadTestResult`, async () => {
  const page = await newPage();
  const out = await page.evaluate(async ({ base, payload }) => {
    const { OpenAIEndpoint, LoadTest, LoadTestResult } = await import("/pkg/index.js");
    const { ResultStore } = await import("/pkg/store.js");
    const store = await ResultStore.open({ name: "loadtest-db" });
    const endpoint = new OpenAIEndpoint({ baseUrl: base, model: "sim-model", apiKey: "sk-lt-secret" });
    const test = new LoadTest({ endpoint, payload, sequenceOfClients: [1, 3], minRequestsPerClient: 2, testName: "lt-store", store });
    const result = await test.run();
    const grouped = await store.list({ group: "lt-store" });
    const files = await store.groupFiles("lt-store");
    const back = await LoadTestResult.fromFiles(files);
    const stats = (r) => [...r.results].map(([c, run]) => [c, run.stats["time_to_first_token-p50"], run.stats.total_requests]);
    return { grouped: grouped.map((r) => [r.name, r.status]), ours: stats(result), back: stats(back), leaked: JSON.stringify(files).includes("sk-lt-secret") };
  }, { base: sim.base, payload: PAYLOAD });
  assert.deepEqual(out.grouped, [["00003-clients", "complete"], ["00001-clients", "complete"]]);
  assert.deepEqual(out.back, out.ours);
  // LLMeter's rule with its default minRequestsPerRun 10: max(2, ceil(10 / clients)) per client.
  assert.deepEqual(out.ours.map(([c, , n]) => [c, n]), [[1, 10], [3, 12]]);
  assert.equal(out.leaked, false);
  await page.close();
});

test(`${engine}: schema v1 databases are upgraded; a blocked upgrade and a newer database give clear errors`, async () => {
  const page = await newPage();
  const out = await page.evaluate(async () => {
    const { ResultStore } = await import("/pkg/store.js");
    const openRaw = (name, version, upgrade) => new Promise((resolve, reject) => {
      const req = indexedDB.open(name, version);
      req.onupgradeneeded = () => upgrade?.(req.result);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    const v1 = (db) => { db.createObjectStore("runs", { keyPath: "id" }).createIndex("startedAt", "startedAt"); db.createObjectStore("batches", { keyPath: ["runId", "seq"] }); };
    // A v1 database with one run (no `group` field), closed: upgraded on open.
    const old = await openRaw("v1-db", 1, v1);
    await new Promise((r) => { const tx = old.transaction("runs", "readwrite"); tx.objectStore("runs").put({ id: "r1", name: "old-run", status: "complete", startedAt: 1, responses: 0 }); tx.oncomplete = r; });
    old.close();
    const store = await ResultStore.open({ name: "v1-db" });
    const upgraded = await store.list({ group: "" });
    store.close();
    // An old connection that stays open (another tab on an older version) blocks the upgrade.
    const blocker = await openRaw("blocked-db", 1, v1);
    const blocked = await ResultStore.open({ name: "blocked-db" }).then(() => "opened", (e) => ({ name: e.name, code: e.code, message: e.message }));
    blocker.close();
    // A database written by a newer schema.
    (await openRaw("newer-db", 9)).close();
    const newer = await ResultStore.open({ name: "newer-db" }).then(() => "opened", (e) => ({ name: e.name, code: e.code, message: e.message }));
    return { upgraded, blocked, newer };
  });
  assert.deepEqual(out.upgraded.map((r) => [r.name, r.group]), [["old-run", ""]]);
  assert.equal(out.blocked.code, "blocked");
  assert.match(out.blocked.message, /another tab or window still has it open/);
  assert.equal(out.newer.code, "version");
  assert.match(out.newer.message, /newer version of llmeter-wasm/);
  await page.close();
});

// Only Chromium lets a test give an origin a small quota (DevTools Storage.overrideQuotaForOrigin);
// Firefox and WebKit have no per-origin quota a driver can set.
if (engine === "chromium") test(`${engine}: storage full (QuotaExceededError) is reported; the run completes and says what was not saved`, async () => {
  const page = await newPage();
  const cdp = await page.raw.context().newCDPSession(page.raw);
  // Room for the run record, not for the responses (each carries a 64 KB prompt).
  await cdp.send("Storage.overrideQuotaForOrigin", { origin: site.origin, quotaSize: 200 * 1024 });
  const out = await page.evaluate(async ({ base }) => {
    const { OpenAIEndpoint, Runner } = await import("/pkg/index.js");
    const { ResultStore } = await import("/pkg/store.js");
    const store = await ResultStore.open({ name: "quota-db", batchSize: 4 });
    const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: base, model: "sim-model" }) });
    const payload = { messages: [{ role: "user", content: "x".repeat(64 * 1024) }], max_tokens: 4 };
    const result = await runner.run({ clients: 2, nRequests: 8, payload, runName: "big", store });
    const [run] = await store.list();
    return { n: result.responses.length, failed: result.stats.failed_requests, info: result.info, run };
  }, { base: sim.base });
  assert.equal(out.n, 16, "the run itself completed");
  assert.equal(out.failed, 0);
  assert.match(out.info.unsaved, /responses were not saved during the run: .*storage for this site is full \(QuotaExceededError\)/);
  assert.ok(out.info.warnings.some((w) => w.startsWith("Result store: ")), JSON.stringify(out.info.warnings));
  assert.match(out.run.unsaved ?? "", /QuotaExceededError/);
  // The record is closed, not left "running" until the next page load.
  assert.equal(out.run.status, "interrupted");
  assert.ok(out.run.endedAt >= out.run.startedAt, JSON.stringify(out.run));
  await page.close();
});

test(`${engine}: an endpoint echoing the key and a secret header (401 body, response id, mid-stream error): the store, its zip export and an S3 upload hold [redacted], never the secrets`, async () => {
  const KEY = `sk-echo-${engine}-0123456789`;
  const TEAM = `team-echo-${engine}-98765`;
  // A real endpoint on loopback that quotes back what it was sent, by the request's prompt.
  const echo = createServer(async (req, res) => {
    const cors = { "access-control-allow-origin": site.origin, "access-control-allow-headers": "authorization, content-type, x-team", "access-control-allow-methods": "POST" };
    let body = "";
    for await (const c of req) body += c;
    if (req.method === "OPTIONS") return res.writeHead(204, cors).end();
    const key = (req.headers.authorization ?? "").replace(/^Bearer /, "");
    const sse = (o) => `data: ${JSON.stringify(o)}\n\n`;
    switch (JSON.parse(body).messages[0].content) {
      case "echo-401":
        return res.writeHead(401, { ...cors, "content-type": "application/json" }).end(JSON.stringify({ error: { message: `Incorrect API key provided: ${key}. x-team: ${req.headers["x-team"]}` } }));
      case "echo-id": // the key as the request id, in the header and as the response id
        res.writeHead(200, { ...cors, "content-type": "text/event-stream", "x-request-id": key });
        res.write(sse({ id: `chatcmpl-${key}`, choices: [{ index: 0, delta: { content: "fine" } }] }));
        return res.end("data: [DONE]\n\n");
      default: // echo-event: after some text, an error event quoting the header
        res.writeHead(200, { ...cors, "content-type": "text/event-stream" });
        res.write(sse({ id: "c1", choices: [{ index: 0, delta: { content: "partial" } }] }));
        return res.end(sse({ error: { message: `rejected token ${req.headers["x-team"]}` } }));
    }
  });
  await new Promise((r) => echo.listen(0, "127.0.0.1", r));
  const prefix = `echo/${engine}/run/`;
  const names = ["summary.json", "stats.json", "responses.jsonl", "run_config.json", "payload.jsonl", "chunk_timings.jsonl", "run_info.json"];
  const urls = {};
  for (const name of names) urls[prefix + name] = (await s3.call("presign", { key: prefix + name, content_type: name.endsWith(".jsonl") ? "application/x-ndjson" : "application/json" })).url;
  const page = await newPage();
  try {
    const out = await page.evaluate(async ({ base, key, team, urls, prefix }) => {
      const { OpenAIEndpoint, Runner } = await import("/pkg/index.js");
      const { ResultStore, toZip, upload } = await import("/pkg/store.js");
      const store = await ResultStore.open({ name: "echo-db" });
      const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: base, model: "m", apiKey: key, headers: { "x-team": team } }) });
      const payload = ["echo-401", "echo-id", "echo-event"].map((content) => ({ messages: [{ role: "user", content }] }));
      await runner.run({ payload, payloadAssignment: "eachOnce", clients: 1, runName: "echo", store });
      const [run] = await store.list();
      const loaded = await store.load(run.id);
      const files = await store.files(run.id);
      // Stored, not deflated: a secret in any file would be in these bytes as it is.
      const zip = await toZip(files, { folder: "echo", level: 0 });
      const up = await upload(files, { urls, prefix });
      const raw = await new Promise((resolve) => {
        const req = indexedDB.open("echo-db");
        req.onsuccess = () => {
          const tx = req.result.transaction(["runs", "batches"]);
          const runs = tx.objectStore("runs").getAll(), batches = tx.objectStore("batches").getAll();
          tx.oncomplete = () => { resolve(JSON.stringify([runs.result, batches.result])); req.result.close(); };
        };
      });
      return { responses: loaded.responses.map((r) => ({ prompt: r.input_prompt, error: r.error, id: r.id, text: r.response_text })), raw, files: JSON.stringify(files), zip: new TextDecoder("latin1").decode(zip), uploaded: up.uploaded.length };
    }, { base: `http://127.0.0.1:${echo.address().port}/v1`, key: KEY, team: TEAM, urls, prefix });
    const byPrompt = Object.fromEntries(out.responses.map((r) => [r.prompt, r]));
    assert.equal(byPrompt["echo-401"].error, "HTTP 401 Unauthorized: Incorrect API key provided: [redacted]. x-team: [redacted]");
    assert.equal(byPrompt["echo-id"].error, null);
    assert.equal(byPrompt["echo-id"].id, "chatcmpl-[redacted]");
    assert.equal(byPrompt["echo-event"].error, "API error mid-stream: rejected token [redacted]");
    assert.equal(byPrompt["echo-event"].text, "partial");
    assert.equal(out.uploaded, names.length);
    const objects = {};
    for (const key of Object.keys((await s3.call("list", { prefix })).keys)) objects[key] = (await s3.call("get", { key })).text;
    assert.deepEqual(Object.keys(objects).sort(), Object.keys(urls).sort());
    for (const [where, text] of [["IndexedDB", out.raw], ["store files", out.files], ["zip export", out.zip], ["S3 upload", JSON.stringify(objects)]]) {
      assert.ok(text.includes("echo-401") && text.includes("[redacted]"), `${where} holds the run and its redacted errors`);
      assert.ok(!text.includes(KEY), `${where} holds the key`);
      assert.ok(!text.includes(TEAM), `${where} holds the header secret`);
    }
  } finally {
    echo.closeAllConnections();
    await new Promise((r) => echo.close(r));
    await page.close();
  }
});

test(`${engine}: an upload answered with a redirect is refused (not followed, not retried)`, async () => {
  const page = await newPage();
  let hits = 0, followed = 0;
  const target = createServer((req, res) => { followed++; req.resume(); res.writeHead(200, { "access-control-allow-origin": "*" }).end(); });
  await new Promise((r) => target.listen(0, "127.0.0.1", r));
  const server = createServer((req, res) => {
    const cors = { "access-control-allow-origin": site.origin, "access-control-allow-methods": "PUT", "access-control-allow-headers": "content-type" };
    if (req.method === "OPTIONS") return res.writeHead(204, cors).end();
    hits++;
    req.resume();
    res.writeHead(307, { ...cors, location: `http://127.0.0.1:${target.address().port}/elsewhere` }).end();
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  try {
    const out = await page.evaluate(async (url) => {
      const { upload } = await import("/pkg/store.js");
      return upload({ "r.json": "{}" }, { urls: { "r.json": url }, retryDelayMs: 10 }).then(() => "uploaded", (e) => e.failures?.map((f) => f.message) ?? String(e));
    }, `http://127.0.0.1:${server.address().port}/r`);
    assert.deepEqual(out, ["r.json: redirect refused (the server answered with a redirect): a presigned URL must accept the PUT itself"]);
    assert.equal(hits, 1);
    assert.equal(followed, 0);
  } finally {
    await new Promise((r) => server.close(r));
    await new Promise((r) => target.close(r));
    await page.close();
  }
});

/** A presign service for the page (a user's backend): POST {key, contentType} → {url}, signed by the S3 helper. */
async function startPresigner(sign) {
  const calls = [];
  const server = createServer(async (req, res) => {
    const cors = { "access-control-allow-origin": site.origin };
    if (req.method !== "POST") return res.writeHead(405, cors).end();
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const { key, contentType } = JSON.parse(Buffer.concat(chunks).toString());
    calls.push(key);
    const url = await sign(key, contentType);
    res.writeHead(200, { ...cors, "content-type": "application/json" }).end(JSON.stringify({ url }));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}/presign`, calls, close: () => new Promise((r) => server.close(r)) };
}

test(`${engine}: upload a stored load test to S3 via presigned URLs; expired and tampered URLs rejected; Python llmeter loads it with equal stats`, async () => {
  const page = await newPage();
  // Chromium (playwright) shows the PUTs themselves: no cookie or Authorization may go out.
  const puts = [];
  if (engine === "chromium") page.raw.on("request", (r) => { if (r.url().startsWith(s3.endpoint) && r.method() === "PUT") puts.push(r); });
  let mode = "ok";
  const presigner = await startPresigner(async (key, contentType) => {
    if (mode === "expired" && key.endsWith("00001-clients/summary.json")) {
      const { url } = await s3.call("presign", { key, content_type: contentType, expires: 1 });
      await new Promise((r) => setTimeout(r, 2100));
      return url;
    }
    const { url } = await s3.call("presign", { key, content_type: contentType });
    if (mode === "tampered" && key.endsWith("00003-clients/stats.json")) return url.replace(/X-Amz-Signature=(.)/, (_, c) => `X-Amz-Signature=${c === "0" ? "1" : "0"}`);
    return url;
  });
  try {
    await page.evaluate(async ({ base, payload, presignUrl }) => {
      const { OpenAIEndpoint, Runner } = await import("/pkg/index.js");
      const { ResultStore } = await import("/pkg/store.js");
      document.cookie = "session=cookie-secret; path=/";
      window.presign = async (key, contentType) => (await (await fetch(presignUrl, { method: "POST", body: JSON.stringify({ key, contentType }) })).json()).url;
      window.store = await ResultStore.open({ name: "upload-db" });
      const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: base, model: "sim-model", apiKey: "sk-upload-secret" }) });
      window.levels = {};
      for (const clients of [1, 3]) {
        const r = await runner.run({ clients, nRequests: 3, payload, runName: `${String(clients).padStart(5, "0")}-clients`, testName: "lt-up", store: window.store });
        window.levels[clients] = r.stats;
      }
    }, { base: sim.base, payload: PAYLOAD, presignUrl: presigner.url });
    // Each engine uploads under its own prefix of the one bucket.
    const prefix = `browser/${engine}/lt-up/`;
    const attempt = (m) => { mode = m; return page.evaluate(async ({ prefix }) => {
      const { upload } = await import("/pkg/store.js");
      const files = await window.store.groupFiles("lt-up");
      const events = [];
      try {
        const out = await upload(files, { prefix, presign: window.presign, resume: window.uploadState, onProgress: (p) => events.push(p) });
        window.uploadState = out;
        return { ok: true, out, events, n: Object.keys(files).length };
      } catch (e) {
        window.uploadState = e.state;
        return { ok: false, name: e.name, message: e.message, failures: e.failures, state: e.state, events, n: Object.keys(files).length };
      }
    }, { prefix }); };

    const expired = await attempt("expired");
    assert.equal(expired.ok, false);
    assert.equal(expired.name, "UploadError");
    assert.deepEqual(expired.failures.map((f) => f.key), [`${prefix}00001-clients/summary.json`]);
    assert.match(expired.failures[0].message, /00001-clients\/summary\.json: HTTP 403/);
    assert.equal(expired.state.uploaded.length, expired.n - 1);

    const before = presigner.calls.length;
    const tampered = await attempt("tampered");
    assert.deepEqual(presigner.calls.slice(before), [`${prefix}00001-clients/summary.json`], "resume sends only the missing file");
    assert.equal(tampered.ok, true, JSON.stringify(tampered.failures));
    // Tamper a file that is not yet uploaded: a fresh prefix.
    const tamperedFresh = await page.evaluate(async ({ prefix }) => {
      const { upload } = await import("/pkg/store.js");
      const files = await window.store.groupFiles("lt-up");
      return upload(files, { prefix, presign: window.presign }).then(() => null, (e) => e.failures);
    }, { prefix: `browser/${engine}/tampered/` });
    assert.equal(tamperedFresh.length, 1);
    assert.equal(tamperedFresh[0].key, `browser/${engine}/tampered/00003-clients/stats.json`);
    assert.match(tamperedFresh[0].message, /: HTTP 403 \(SignatureDoesNotMatch/);

    if (engine === "chromium") {
      assert.ok(puts.length > 0);
      for (const r of puts) {
        const h = await r.allHeaders();
        assert.equal(h.cookie, undefined, "no cookies sent");
        assert.equal(h.authorization, undefined, "no Authorization sent");
        assert.ok(!r.postData()?.includes("sk-upload-secret"));
      }
    }
    const py = await s3.call("llmeter_load_test", { prefix });
    const ours = await page.evaluate(() => window.levels);
    assert.deepEqual(Object.keys(py.results).sort(), ["1", "3"]);
    for (const clients of ["1", "3"]) assertSameStats(assert, ours[clients], py.results[clients], `${clients} clients`);
  } finally {
    await presigner.close();
    await page.close();
  }
});

test(`${engine} Web Worker: a run stored in IndexedDB from a worker, then uploaded from the worker with a key → URL map`, async () => {
  const page = await newPage();
  const prefix = `worker/${engine}/run/`;
  const urls = {};
  for (const name of ["summary.json", "stats.json", "responses.jsonl", "run_config.json", "payload.jsonl", "chunk_timings.jsonl", "run_info.json"]) {
    urls[prefix + name] = (await s3.call("presign", { key: prefix + name, content_type: name.endsWith(".jsonl") ? "application/x-ndjson" : "application/json" })).url;
  }
  const worker = await page.worker();
  const out = await worker.evaluate(async ({ base, payload, urls, prefix }) => {
    const { OpenAIEndpoint, Runner } = await import("/pkg/index.js");
    const { ResultStore, upload } = await import("/pkg/store.js");
    const store = await ResultStore.open({ name: "worker-db" });
    const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: base, model: "sim-model" }) });
    const result = await runner.run({ clients: 2, nRequests: 2, payload, runName: "in-worker", store });
    const [run] = await store.list();
    const up = await upload(await store.files(run.id), { urls, prefix });
    return { inWorker: typeof document === "undefined", run, uploaded: up.uploaded.length, stats: result.stats };
  }, { base: sim.base, payload: PAYLOAD, urls, prefix });
  assert.equal(out.inWorker, true);
  assert.equal(out.run.status, "complete");
  assert.equal(out.run.responses, 4);
  assert.equal(out.uploaded, 7);
  const py = await s3.call("llmeter_load_run", { prefix });
  assert.equal(py.responses, 4);
  assertSameStats(assert, out.stats, py.stats, "worker upload");
  await page.close();
});

test(`${engine}: Anthropic (x-api-key) and Bedrock SigV4 runs recorded in the store: no key, token or secret header in IndexedDB, the stored files or their zip export`, async () => {
  const secrets = { apiKey: "sk-ant-store-secret", keyId: "AKIDSTORECHECK", secret: "store-check-aws-secret", token: "store-check-session-token", header: "store-check-header-value" };
  // A simulator that checks the signatures: the credentials were really used.
  const awsSim = await startSim(["--aws-access-key-id", secrets.keyId, "--aws-secret-access-key", secrets.secret, "--aws-session-token", secrets.token, "--ttft-ms", "5", "--itl-ms", "1"]);
  const page = await newPage();
  try {
    const out = await page.evaluate(async ({ base, awsUrl, secrets }) => {
      const { init, AnthropicEndpoint, BedrockConverseEndpoint, Runner } = await import("/pkg/index.js");
      const { initAws } = await import("/pkg/aws.js");
      const { ResultStore, toZip, fromZip } = await import("/pkg/store.js");
      await init();
      await initAws();
      const store = await ResultStore.open({ name: "secrets-db", batchSize: 2 });
      const endpoints = [
        new AnthropicEndpoint({ baseUrl: base, model: "sim-claude", apiKey: secrets.apiKey, headers: { "anthropic-beta": secrets.header } }),
        new BedrockConverseEndpoint({ region: "us-east-1", endpointUrl: awsUrl, model: "m", accessKeyId: secrets.keyId, secretAccessKey: secrets.secret, sessionToken: secrets.token, headers: { "x-team-token": secrets.header } }),
      ];
      const latin1 = (/** @type {Uint8Array} */ z) => Array.from(z, (b) => String.fromCharCode(b)).join("");
      const runs = [];
      for (const endpoint of endpoints) {
        const result = await new Runner({ endpoint }).run({ clients: 2, nRequests: 3, payload: endpoint.createPayload("Tell me about storage", 6), runName: endpoint.kind, store });
        const [run] = await store.list();
        const files = await store.files(run.id);
        const loaded = await store.load(run.id);
        // Stored zips (no compression: the bytes are the files' text) and a compressed one read back.
        const zips = [await toZip(files, { level: 0 }), await toZip(loaded, { folder: run.name, level: 0 })].map(latin1);
        const reimported = await fromZip(await toZip(loaded, { folder: run.name }));
        runs.push({ run, failed: result.stats.failed_requests, error: result.responses.find((r) => r.error)?.error, endpointType: JSON.parse(files["run_config.json"]).endpoint.endpoint_type, zips, reimported: JSON.stringify(reimported.files), loaded: JSON.stringify(loaded.toJSON()) });
      }
      // Everything IndexedDB holds, raw.
      const raw = await new Promise((resolve) => {
        const req = indexedDB.open("secrets-db");
        req.onsuccess = () => {
          const tx = req.result.transaction(["runs", "batches"]);
          const all = [tx.objectStore("runs").getAll(), tx.objectStore("batches").getAll()];
          tx.oncomplete = () => { resolve(JSON.stringify(all.map((r) => r.result))); req.result.close(); };
        };
      });
      store.close();
      return { runs, raw };
    }, { base: sim.base, awsUrl: awsSim.url, secrets });
    assert.deepEqual(out.runs.map((r) => [r.run.name, r.run.status, r.run.responses, r.failed, r.endpointType]), [
      ["anthropic", "complete", 6, 0, "AnthropicMessagesStream"],
      ["bedrockConverse", "complete", 6, 0, "BedrockConverseStream"],
    ], JSON.stringify(out.runs.map((r) => r.error)));
    assert.ok(out.raw.length > 5000, "IndexedDB holds the runs");
    for (const s of Object.values(secrets)) {
      assert.ok(!out.raw.includes(s), `${s} in IndexedDB`);
      for (const r of out.runs) {
        assert.ok(r.zips.every((z) => z.length > 5000 && !z.includes(s)), `${r.run.name}: ${s} in a zip export`);
        assert.ok(!r.reimported.includes(s) && !r.loaded.includes(s), `${r.run.name}: ${s} in the stored files`);
      }
    }
  } finally {
    await page.close();
    await awsSim.stop();
  }
});

test(`${engine}: an aborted run is stored as interrupted with its partial responses and stats`, async () => {
  const page = await newPage();
  const out = await page.evaluate(async ({ base, payload }) => {
    const { OpenAIEndpoint, Runner } = await import("/pkg/index.js");
    const { ResultStore } = await import("/pkg/store.js");
    const store = await ResultStore.open({ name: "abort-db", batchSize: 5 });
    const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: base, model: "sim-model" }) });
    const controller = new AbortController();
    let n = 0;
    const result = await runner.run({ clients: 2, nRequests: 200, payload, runName: "aborted", store, signal: controller.signal, onResponse: () => { if (++n === 12) controller.abort(); } });
    const [run] = await store.list();
    const loaded = await store.load(run.id);
    return { run, n: result.responses.length, stats: result.stats, loadedStats: loaded.stats, loadedInfo: loaded.info };
  }, { base: sim.base, payload: PAYLOAD });
  assert.ok(out.n >= 12 && out.n < 400, `${out.n} responses`);
  assert.equal(out.run.status, "interrupted");
  assert.equal(out.run.responses, out.n);
  assert.equal(out.run.stats.interrupted, true);
  assert.equal(out.loadedInfo.interrupted, true);
  assert.deepEqual(out.loadedStats, out.stats);
  await page.close();
});
}, { parallel: true });
