// llmeter-wasm/store.js in Node: zip export/import round trips, a real Python llmeter folder
// imports, secrets never written, and uploads to a real S3 (SeaweedFS) through presigned URLs:
// retries on network errors and 5xx only, expired and tampered URLs reported, resume.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { startSim, ROOT } from "./sim.js";
import { startS3, assertSameStats } from "./s3.js";
import { OpenAIEndpoint, Runner, Result } from "../../pkg/index.js";
import { toZip, fromZip, fromFileList, resultFromFolder, upload, UploadError, ResultStore, StoreError } from "../../pkg/store.js";

const PY = path.join(ROOT, ".venv/bin/python");
let sim, s3, result;
before(async () => {
  sim = await startSim(["--ttft-ms", "5", "--itl-ms", "1", "--seed", "3"]);
  s3 = await startS3("http://127.0.0.1:1");
  const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: sim.base, model: "sim-model", apiKey: "sk-node-secret", headers: { "x-api-key": "hdr-secret" } }) });
  const payload = [1, 2, 3].map((i) => ({ messages: [{ role: "user", content: `question ${i} é 😀` }], max_tokens: 4 + i }));
  result = await runner.run({ clients: 2, nRequests: 3, payload, runName: "node-run" });
});
after(async () => {
  await s3?.stop();
  await sim?.stop();
});

test("zip export → import gives identical stats; Python's zipfile reads the archive", async () => {
  const zip = await toZip(result, { folder: "node-run" });
  const dir = mkdtempSync(path.join(tmpdir(), "store-zip-"));
  const file = path.join(dir, "r.zip");
  (await import("node:fs")).writeFileSync(file, zip);
  const names = JSON.parse(execFileSync(PY, ["-c", "import zipfile,sys,json; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(json.dumps(sorted(z.namelist())))", file], { encoding: "utf8" }));
  assert.deepEqual(names, Object.keys(result.toFiles()).map((n) => `node-run/${n}`).sort());
  // Unzipped, Python llmeter loads the folder with our stats.
  execFileSync(PY, ["-c", "import zipfile,sys; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])", file, dir]);
  assert.match(execFileSync(PY, [path.join(ROOT, "tests/python/compare_stats.py"), path.join(dir, "node-run")], { encoding: "utf8" }), /stats equal: \d+ keys/);
  const folder = await fromZip(zip);
  assert.equal(folder.kind, "run");
  assert.equal(folder.name, "node-run");
  assert.deepEqual(Object.keys(folder.files).sort(), Object.keys(result.toFiles()).sort());
  const back = await resultFromFolder(folder);
  assert.deepEqual(back.stats, result.stats);
  assert.deepEqual(back.responses, result.responses);
  assert.equal(back.responses.length, 6);
});

test("secrets are never written: API key and headers absent from files, zip and a scrubbed run_config", async () => {
  const files = result.toFiles();
  const zip = await toZip(files);
  for (const s of ["sk-node-secret", "hdr-secret"]) {
    assert.ok(!JSON.stringify(files).includes(s), s);
    assert.ok(!Buffer.from(zip).includes(s), s);
  }
  // A run_config written by someone else with credentials: scrubbed on export and import.
  const aws = { aws_access_key_id: "AKIDDIRTY", aws_secret_access_key: "aws-dirty-secret", aws_session_token: "aws-dirty-token", accessKeyId: "AKIDCAMEL", secretAccessKey: "camel-secret", sessionToken: "camel-token" };
  const dirty = { ...files, "run_config.json": JSON.stringify({ endpoint: { model_id: "m", api_key: "sk-dirty", default_headers: { Authorization: "Bearer b" }, ...aws }, clients: 2 }) };
  const zip2 = await toZip(dirty, { level: 0 });
  for (const s of ["sk-dirty", "Bearer b", ...Object.values(aws)]) assert.ok(!Buffer.from(zip2).includes(s), s);
  const back = await fromZip(zip2);
  assert.equal(JSON.parse(back.files["run_config.json"]).endpoint.model_id, "m");
});

test("a load test folder written by Python llmeter imports (picked files and zip) with LLMeter's stats", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "pylt-"));
  const testDir = path.join(dir, "py-load-test");
  const theirs = JSON.parse(execFileSync(PY, [path.join(ROOT, "tests/python/llmeter_write_load_test.py"), sim.base, testDir], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
  // What <input webkitdirectory> gives: Files with webkitRelativePath "py-load-test/…".
  const picked = [];
  for (const level of readdirSync(testDir)) {
    for (const name of readdirSync(path.join(testDir, level))) {
      const full = path.join(testDir, level, name);
      if (statSync(full).isFile()) picked.push({ path: `py-load-test/${level}/${name}`, file: new Blob([readFileSync(full)]) });
    }
  }
  const folder = await fromFileList(picked);
  assert.equal(folder.kind, "loadTest");
  assert.equal(folder.name, "py-load-test");
  assert.deepEqual(folder.runs, ["00001-clients", "00002-clients"]);
  const zipPath = path.join(dir, "lt.zip");
  execFileSync(PY, ["-c", "import shutil,sys; shutil.make_archive(sys.argv[1][:-4], 'zip', sys.argv[2], 'py-load-test')", zipPath, dir]);
  const fromPyZip = await fromZip(readFileSync(zipPath));
  assert.deepEqual(Object.keys(fromPyZip.files).sort(), Object.keys(folder.files).sort());
  for (const run of folder.runs) {
    const runFiles = Object.fromEntries(Object.entries(folder.files).filter(([k]) => k.startsWith(run + "/")));
    const ours = await Result.fromFiles(/** @type {any} */ (runFiles));
    const clients = String(Number(run.slice(0, 5)));
    assertSameStats(assert, ours.stats, theirs[clients], run);
    assert.equal(ours.responses.length, Number(clients) * 3);
  }
});

test("ResultStore needs IndexedDB: a clear error in Node", async () => {
  await assert.rejects(ResultStore.open(), (e) => e instanceof StoreError && /IndexedDB is not available/.test(e.message));
});

test("upload to S3 (SeaweedFS) from Node: content types, llmeter loads it, nothing re-sent on resume", async () => {
  const prefix = "node/run-1/";
  const events = [];
  const presign = async (key, contentType) => (await s3.call("presign", { key, content_type: contentType })).url;
  const out = await upload(result, { presign, prefix, onProgress: (p) => events.push(p) });
  const files = result.toFiles();
  assert.equal(out.uploaded.length, Object.keys(files).length);
  const listed = (await s3.call("list", { prefix })).keys;
  for (const [name, content] of Object.entries(files)) assert.equal(listed[prefix + name], Buffer.byteLength(content), name);
  assert.equal((await s3.call("get", { key: prefix + "stats.json" })).content_type, "application/json");
  assert.equal(events.at(-1).done, Object.keys(files).length);
  const py = await s3.call("llmeter_load_run", { prefix });
  assert.equal(py.responses, 6);
  assertSameStats(assert, result.stats, py.stats, "node upload");
  // Everything already there: a resumed upload sends nothing.
  let puts = 0;
  const again = await upload(result, { presign, prefix, resume: out, fetch: (...a) => { puts++; return fetch(...a); } });
  assert.equal(puts, 0);
  assert.equal(again.uploaded.length, out.uploaded.length);
});

test("upload: expired and tampered URLs fail with the file and status; 4xx is not retried; resume sends only what is missing", async () => {
  const prefix = "node/bad/";
  const files = result.toFiles();
  const expired = (await s3.call("presign", { key: prefix + "summary.json", content_type: "application/json", expires: 1 })).url;
  await new Promise((r) => setTimeout(r, 2100));
  const urls = {};
  for (const name of Object.keys(files)) {
    const ct = name.endsWith(".jsonl") ? "application/x-ndjson" : "application/json";
    urls[prefix + name] = (await s3.call("presign", { key: prefix + name, content_type: ct })).url;
  }
  urls[prefix + "summary.json"] = expired;
  urls[prefix + "stats.json"] = urls[prefix + "stats.json"].replace(/X-Amz-Signature=(.)/, (_, c) => `X-Amz-Signature=${c === "0" ? "1" : "0"}`);
  let puts = 0;
  const counting = (...a) => { puts++; return fetch(...a); };
  const err = await upload(files, { urls, prefix, fetch: counting }).catch((e) => e);
  assert.ok(err instanceof UploadError, String(err));
  assert.equal(puts, Object.keys(files).length, "4xx is not retried");
  const byKey = Object.fromEntries(err.failures.map((f) => [f.key, f.message]));
  assert.deepEqual(Object.keys(byKey).sort(), [prefix + "stats.json", prefix + "summary.json"]);
  assert.match(byKey[prefix + "summary.json"], /^node\/bad\/summary\.json: HTTP 403 \(AccessDenied|expired/i);
  assert.match(byKey[prefix + "stats.json"], /^node\/bad\/stats\.json: HTTP 403 \(SignatureDoesNotMatch/);
  assert.match(err.message, /2 of 7 files/);
  assert.equal(err.state.uploaded.length, Object.keys(files).length - 2);
  // Fresh URLs for the two: only they are sent.
  urls[prefix + "summary.json"] = (await s3.call("presign", { key: prefix + "summary.json", content_type: "application/json" })).url;
  urls[prefix + "stats.json"] = (await s3.call("presign", { key: prefix + "stats.json", content_type: "application/json" })).url;
  puts = 0;
  const done = await upload(files, { urls, prefix, fetch: counting, resume: err.state });
  assert.equal(puts, 2);
  assert.equal(done.uploaded.length, Object.keys(files).length);
  assert.equal(Object.keys((await s3.call("list", { prefix })).keys).length, Object.keys(files).length);
});

test("upload retries 5xx and network errors with backoff, then reports them", async () => {
  // A real HTTP server that answers 503 twice, then 200.
  let hits = 0;
  const server = createServer((req, res) => { req.resume(); req.on("end", () => { hits++; res.writeHead(hits <= 2 ? 503 : 200, { "content-type": "text/plain" }).end(hits <= 2 ? "busy" : ""); }); });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${server.address().port}`;
  const events = [];
  const t0 = performance.now();
  const ok = await upload({ "a.json": "{}" }, { urls: { "a.json": `${base}/a` }, retryDelayMs: 50, onProgress: (p) => events.push(p.event) });
  const took = performance.now() - t0;
  assert.deepEqual(events, ["retry", "retry", "done"]);
  assert.equal(hits, 3);
  assert.ok(took >= 150, `backoff 50 + 100 ms, took ${took}`);
  assert.deepEqual(ok.uploaded, ["a.json"]);
  server.close();
  // Nothing listens on this port any more: network errors, retried, then reported.
  const err = await upload({ "b.json": "{}" }, { urls: { "b.json": `${base}/b` }, retries: 2, retryDelayMs: 10 }).catch((e) => e);
  assert.ok(err instanceof UploadError);
  assert.match(err.failures[0].message, /^b\.json: network error .*\(after 3 attempts\)$/);
  // Credentials in URLs are refused, not sent.
  const cred = await upload({ "c.json": "{}" }, { urls: { "c.json": "http://user:pw@127.0.0.1:1/c" } }).catch((e) => e);
  assert.match(cred.failures[0].message, /carries credentials/);
});

/** A real HTTP server that reads each PUT and then never answers (sockets closed at the end). */
async function silentServer() {
  const sockets = new Set();
  let hits = 0;
  const server = createServer((req) => { hits++; req.resume(); });
  server.on("connection", (s) => { sockets.add(s); s.on("close", () => sockets.delete(s)); });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: (p) => `http://127.0.0.1:${server.address().port}/${p}`,
    hits: () => hits,
    close: () => { for (const s of sockets) s.destroy(); return new Promise((r) => server.close(r)); },
  };
}

/** Settles like `p`, or rejects after `ms` with "still pending" (a hang fails the test, not the suite). */
const within = (p, ms) => Promise.race([p, new Promise((_, reject) => setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms).unref())]);

test("upload: a PUT that never gets an answer fails after timeoutMs per attempt, retried, then reported", async () => {
  const silent = await silentServer();
  try {
    const t0 = performance.now();
    const err = await within(upload({ "a.json": "{}" }, { urls: { "a.json": silent.url("a") }, timeoutMs: 300, retries: 1, retryDelayMs: 10 }), 10_000).catch((e) => e);
    const took = performance.now() - t0;
    assert.ok(err instanceof UploadError, String(err));
    assert.equal(err.failures[0].message, "a.json: no answer within 300 ms (timeout) (after 2 attempts)");
    assert.equal(silent.hits(), 2);
    assert.ok(took >= 600 && took < 5000, `two attempts of 300 ms, took ${took}`);
    assert.deepEqual(err.state, { uploaded: [], pending: ["a.json"] });
  } finally {
    await silent.close();
  }
});

test("upload: the overall signal ends a hanging upload at once, in flight or backing off, with no stray rejection", async () => {
  const stray = [];
  const onStray = (e) => stray.push(e);
  process.on("unhandledRejection", onStray);
  const silent = await silentServer();
  // A server that answers 503 (retried after a long backoff).
  const busy = createServer((req, res) => { req.resume(); req.on("end", () => res.writeHead(503).end("busy")); });
  await new Promise((r) => busy.listen(0, "127.0.0.1", r));
  try {
    const inFlight = new AbortController();
    const t0 = performance.now();
    const pending = upload({ "a.json": "{}", "b.json": "{}" }, { urls: { "a.json": silent.url("a"), "b.json": silent.url("b") }, signal: inFlight.signal });
    setTimeout(() => inFlight.abort(new Error("user cancelled")), 200);
    const err = await within(pending, 5000).catch((e) => e);
    assert.equal(err.message, "user cancelled");
    assert.ok(performance.now() - t0 < 1500, `ended ${performance.now() - t0} ms after start`);
    const backingOff = new AbortController();
    const t1 = performance.now();
    const waiting = upload({ "c.json": "{}" }, { urls: { "c.json": `http://127.0.0.1:${busy.address().port}/c` }, retryDelayMs: 8000, signal: backingOff.signal, onProgress: (p) => p.event === "retry" && backingOff.abort() });
    const err2 = await within(waiting, 5000).catch((e) => e);
    assert.equal(err2.name, "AbortError");
    assert.ok(performance.now() - t1 < 2000, `a backoff of 8 s was not waited out: ${performance.now() - t1} ms`);
    // An already-aborted signal sends nothing.
    const hits = silent.hits();
    await assert.rejects(upload({ "d.json": "{}" }, { urls: { "d.json": silent.url("d") }, signal: AbortSignal.abort() }), { name: "AbortError" });
    assert.equal(silent.hits(), hits);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(stray.map(String), [], "no unhandled rejection");
  } finally {
    process.off("unhandledRejection", onStray);
    await silent.close();
    await new Promise((r) => busy.close(r));
  }
});

test("upload: a redirect is reported as refused, never followed or retried", async () => {
  // The redirect target would accept the PUT: it must not receive it.
  let targetHits = 0;
  const target = createServer((req, res) => { targetHits++; req.resume(); res.writeHead(200).end(); });
  await new Promise((r) => target.listen(0, "127.0.0.1", r));
  let hits = 0;
  const redirecting = createServer((req, res) => { hits++; req.resume(); res.writeHead(307, { location: `http://localhost:${target.address().port}/elsewhere?X-Amz-Signature=s` }).end(); });
  await new Promise((r) => redirecting.listen(0, "127.0.0.1", r));
  try {
    const events = [];
    const err = await within(upload({ "r.json": "{}" }, { urls: { "r.json": `http://127.0.0.1:${redirecting.address().port}/r` }, retryDelayMs: 10, onProgress: (p) => events.push(p.event) }), 10_000).catch((e) => e);
    assert.ok(err instanceof UploadError, String(err));
    assert.equal(err.failures[0].message, `r.json: redirect refused (HTTP 307 to http://localhost:${target.address().port}): a presigned URL must accept the PUT itself`);
    assert.equal(hits, 1, "not retried");
    assert.equal(targetHits, 0, "not followed");
    assert.deepEqual(events, ["failed"]);
  } finally {
    await new Promise((r) => redirecting.close(r));
    await new Promise((r) => target.close(r));
  }
});
