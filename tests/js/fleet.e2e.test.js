// The whole fleet, end to end: Node, a Chromium page, a Chromium module worker and a workerd
// invocation run the shards of one plan against llm-sim at the plan's start time, upload them to
// SeaweedFS (S3) with presigned URLs, and the merge step reads the prefix. The counts equal the
// simulator's ground truth, every runtime and label is broken down, and Python llmeter loads the
// merged folder with equal stats.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import path from "node:path";
import { startSim, ROOT } from "./sim.js";
import { startS3, assertSameStats } from "./s3.js";
import { startStatic, launchChromium } from "./browser.js";
import { OpenAIEndpoint } from "../../pkg/index.js";
import { fleetPlan, publishPlan, runShard, fanOut, mergeFleet, presignShard } from "../../pkg/fleet.js";
import { upload } from "../../pkg/store.js";
import { stopProcess } from "./process.js";

let sim, s3, site, browser, page, workerd;
before(async () => {
  sim = await startSim(["--ttft-ms", "15", "--itl-ms", "2", "--seed", "16"]);
  site = await startStatic();
  s3 = await startS3(site.origin);
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(`${site.origin}/tests/js/pages/blank.html`);
  const bin = createRequire(import.meta.url)("workerd").default;
  const proc = spawn(bin, ["serve", path.join(ROOT, "examples/workerd-fleet/config.capnp"), "--socket-addr", "http=127.0.0.1:0", "--control-fd", "3"], { stdio: ["ignore", "ignore", "inherit", "pipe"] });
  const port = await new Promise((resolve, reject) => {
    proc.once("exit", (code) => reject(new Error(`workerd exited with ${code}`)));
    createInterface({ input: proc.stdio[3] }).on("line", (l) => { const ev = JSON.parse(l); if (ev.event === "listen") resolve(ev.port); });
  });
  workerd = { url: `http://127.0.0.1:${port}/`, stop: () => stopProcess(proc) };
});
after(async () => {
  await workerd?.stop();
  await browser?.close();
  await s3?.stop();
  await site?.close();
  await sim?.stop();
});

test("Node, Chromium page, Chromium worker and workerd shards of one plan merge into one result equal to the ground truth; Python llmeter agrees", async () => {
  await sim.clear();
  const presign = async (key, contentType) => (await s3.call("presign", { key, content_type: contentType })).url;
  const presignGet = async (key) => (await s3.call("presign", { key, method: "get_object" })).url;
  // The browser participants cannot sign: the coordinator presigns their shards' files.
  const shardUrls = (shardId) => presignShard({ testId: "fleet-e2e", shardId, prefix: "e2e/", presign });
  const plan = await fleetPlan({
    testId: "fleet-e2e", startAt: Date.now() + 4000, lateAfterS: 10,
    shards: [
      { shardId: "node-1", label: "node", clients: 3, nRequests: 3 },
      { shardId: "page-1", label: "chromium-page", clients: 2, nRequests: 4 },
      { shardId: "worker-1", label: "chromium-worker", clients: 2, nRequests: 3 },
      { shardId: "edge-000", label: "edge", clients: 4, nRequests: 2 },
    ],
    payload: [{ messages: [{ role: "user", content: "one plan, four runtimes" }], max_tokens: 6 }],
  });
  const { key } = await publishPlan(plan, { presign, prefix: "e2e/" });
  const planUrl = await presignGet(key);
  const [pageUrls, workerUrls] = [await shardUrls("page-1"), await shardUrls("worker-1")];

  const node = runShard({ plan: planUrl, shardId: "node-1", endpoint: new OpenAIEndpoint({ baseUrl: sim.base, model: "sim-model" }), upload: { presign, prefix: "e2e/" } });
  const inPage = page.evaluate(async ({ planUrl, base, upload }) => {
    const { OpenAIEndpoint } = await import("/pkg/index.js");
    const { runShard } = await import("/pkg/fleet.js");
    const r = await runShard({ plan: planUrl, shardId: "page-1", endpoint: new OpenAIEndpoint({ baseUrl: base, model: "sim-model" }), upload });
    return { requests: r.result.summary.total_requests, runtime: r.result.shard.runtime, offset: r.result.info.clock_offset, uploaded: r.upload.uploaded.length };
  }, { planUrl, base: sim.base, upload: pageUrls });
  const inWorker = page.evaluate(({ planUrl, base, upload }) => new Promise((resolve) => {
    const w = new Worker("/tests/js/pages/fleet-shard-worker.js", { type: "module" });
    w.onmessage = (e) => { w.terminate(); resolve(e.data); };
    w.postMessage({ planUrl, base, upload, shardId: "worker-1" });
  }), { planUrl, base: sim.base, upload: workerUrls });
  const edge = fanOut({ invoke: workerd.url, plan, invocations: 1, presign, prefix: "e2e/", body: { baseUrl: sim.base, model: "sim-model" } });
  const [n, p, w, [e]] = await Promise.all([node, inPage, inWorker, edge]);

  assert.equal(n.result.summary.total_requests, 9);
  assert.deepEqual([p.requests, p.uploaded], [8, 8]);
  assert.match(p.runtime, /Chrome/);
  assert.ok(!p.runtime.includes("worker"));
  assert.equal(w.ok, true, w.error);
  assert.deepEqual([w.requests, w.uploaded], [6, 8]);
  assert.match(w.runtime, /\(worker\)$/);
  assert.equal(e.ok, true, e.error);
  assert.equal(e.body.requests, 8);
  // Every shard placed its clock on the endpoint's (one machine here: the offset is 0 within its bound).
  for (const o of [n.result.info.clock_offset, p.offset, w.offset, e.body.clockOffset]) {
    assert.equal(o.source, "endpoint");
    assert.ok(Math.abs(o.offset_ms) <= o.uncertainty_ms + 1, JSON.stringify(o));
  }

  const merged = await mergeFleet({
    testId: "fleet-e2e", prefix: "e2e/",
    list: async (prefix) => Object.keys((await s3.call("list", { prefix })).keys),
    get: async (k) => (await s3.call("get", { key: k })).text,
  });
  const records = (await sim.requests()).filter((r) => r.outcome === "completed");
  assert.equal(records.length, 9 + 8 + 6 + 8);
  assert.equal(merged.summary.total_requests, records.length);
  assert.equal(merged.summary.clients, 3 + 2 + 2 + 4);
  assert.equal(merged.stats.failed_requests, 0);
  assert.equal(merged.stats.total_output_tokens, records.reduce((a, r) => a + r.output_tokens, 0));
  assert.equal(merged.stats.total_input_tokens, records.reduce((a, r) => a + r.input_tokens, 0));
  assert.deepEqual(merged.info.fleet.missing, []);
  assert.deepEqual(merged.info.fleet.late, [], merged.info.warnings.join("\n"));
  assert.deepEqual(Object.keys(merged.stats.by_label), ["chromium-page", "chromium-worker", "edge", "node"]);
  assert.deepEqual(Object.keys(merged.stats.by_runtime), ["chromium", "node", "workerd"]);
  assert.equal(merged.stats.by_runtime.chromium.total_requests, 14);
  // All four started together at the plan's start, so the union of their windows is about the
  // longest one, not their sum.
  const longest = Math.max(...merged.info.fleet.shards.map((s) => (Date.parse(s.end_time) - Date.parse(s.start_time)) / 1000));
  assert.ok(merged.summary.total_test_time < longest + 0.5, `${merged.summary.total_test_time} vs ${longest}`);

  await upload(merged, { presign, prefix: "e2e/fleet-e2e/merged/" });
  const py = await s3.call("llmeter_load_run", { prefix: "e2e/fleet-e2e/merged/" });
  assert.equal(py.responses, records.length);
  assertSameStats(assert, merged.stats, py.stats, "merged e2e fleet");
});
