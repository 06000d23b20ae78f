// Edge fan-out in a real workerd (the example, examples/workerd-fleet/, as it ships): a driver
// triggers 8 invocations (4 at a time) of the shard worker, each running 4 clients against
// llm-sim and uploading its shard to SeaweedFS with URLs the driver presigned; the merge step
// reads the prefix. One merged result whose request count and token totals equal the
// simulator's ground truth. (Local workerd is one isolate: it runs one shard at a time and
// answers the others 503, which the driver retries — see the example's worker.js.)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import path from "node:path";
import { startSim, ROOT } from "./sim.js";
import { startS3 } from "./s3.js";
import { fleetPlan, fanOut, mergeFleet } from "../../pkg/fleet.js";
import { stopProcess } from "./process.js";

let sim, s3, workerd;

/** The example's own config, on a free port. */
async function startExampleWorkerd() {
  const bin = createRequire(import.meta.url)("workerd").default;
  const proc = spawn(bin, ["serve", path.join(ROOT, "examples/workerd-fleet/config.capnp"), "--socket-addr", "http=127.0.0.1:0", "--control-fd", "3"], { stdio: ["ignore", "ignore", "inherit", "pipe"] });
  const lines = createInterface({ input: proc.stdio[3] });
  const port = await new Promise((resolve, reject) => {
    proc.once("exit", (code) => reject(new Error(`workerd exited with ${code}`)));
    lines.on("line", (l) => {
      const ev = JSON.parse(l);
      if (ev.event === "listen" && ev.socket === "http") resolve(ev.port);
    });
  });
  return {
    url: `http://127.0.0.1:${port}/`,
    stop: () => stopProcess(proc),
  };
}

before(async () => {
  sim = await startSim(["--ttft-ms", "10", "--itl-ms", "1", "--seed", "4"]);
  s3 = await startS3("http://127.0.0.1:1");
  workerd = await startExampleWorkerd();
});
after(async () => {
  await workerd?.stop();
  await s3?.stop();
  await sim?.stop();
});

test("workerd fan-out: 8 invocations × 4 clients → one merged result equal to the simulator's ground truth", async () => {
  await sim.clear();
  const presign = async (key, contentType) => (await s3.call("presign", { key, content_type: contentType })).url;
  const plan = await fleetPlan({
    testId: "edge-8x4",
    open: { clients: 4, nRequests: 2, label: "edge" },
    payload: [{ messages: [{ role: "user", content: "hello from the edge" }], max_tokens: 6 }, { messages: [{ role: "user", content: "and again" }], max_tokens: 3 }],
  });
  let inFlight = 0, maxInFlight = 0, served = 0;
  const invocations = await fanOut({
    invoke: async (body) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        const r = await fetch(workerd.url, { method: "POST", body: JSON.stringify(body) });
        const json = await r.json();
        if (!r.ok) throw Object.assign(new Error(json.error), { status: r.status });
        if (r.status === 200) served++;
        return json;
      } finally {
        inFlight--;
      }
    },
    plan, invocations: 8, concurrency: 4, presign, prefix: "edge/", body: { baseUrl: sim.base, model: "sim-model" },
  });
  assert.deepEqual(invocations.filter((i) => !i.ok), [], JSON.stringify(invocations.filter((i) => !i.ok)));
  assert.equal(maxInFlight, 4, "the concurrency limit held");
  assert.equal(served, 8);
  for (const i of invocations) {
    assert.equal(i.body.requests, 8);
    assert.equal(i.body.uploaded, 8);
    assert.equal(i.body.clockOffset.source, "endpoint");
  }
  const merged = await mergeFleet({
    testId: "edge-8x4", prefix: "edge/",
    list: async (prefix) => Object.keys((await s3.call("list", { prefix })).keys),
    get: async (key) => (await s3.call("get", { key })).text,
  });
  const records = (await sim.requests()).filter((r) => r.outcome === "completed");
  assert.equal(records.length, 64);
  assert.equal(merged.summary.total_requests, 64);
  assert.equal(merged.summary.clients, 32);
  assert.equal(merged.stats.failed_requests, 0);
  assert.equal(merged.stats.total_output_tokens, records.reduce((a, r) => a + r.output_tokens, 0));
  assert.equal(merged.stats.total_input_tokens, records.reduce((a, r) => a + r.input_tokens, 0));
  assert.equal(merged.info.fleet.shards.length, 8);
  assert.ok(merged.info.fleet.shards.every((s) => s.runtime === "workerd" && s.label === "edge"));
  assert.equal(merged.stats.by_label.edge.total_requests, 64);
});

test("workerd fan-out: a shard too big for the invocation's subrequest budget fails before its first request, and the merge reports it", async () => {
  const presign = async (key, contentType) => (await s3.call("presign", { key, content_type: contentType })).url;
  // 4 × 11 = 44 requests + 8 uploads > 50 (the Free plan's budget, workerd's default).
  const plan = await fleetPlan({ testId: "edge-budget", shards: [{ shardId: "edge-000", clients: 4, nRequests: 11 }, { shardId: "edge-001", clients: 1, nRequests: 1 }], payload: { messages: [{ role: "user", content: "x" }], max_tokens: 2 } });
  const invocations = await fanOut({ invoke: workerd.url, plan, invocations: 2, presign, prefix: "edge/", body: { baseUrl: sim.base, model: "sim-model" } });
  assert.equal(invocations[0].ok, false);
  assert.equal(invocations[0].status, 400);
  assert.match(invocations[0].error, /subrequest/i);
  assert.equal(invocations[1].ok, true);
  const merged = await mergeFleet({
    testId: "edge-budget", prefix: "edge/", plan,
    list: async (prefix) => Object.keys((await s3.call("list", { prefix })).keys),
    get: async (key) => (await s3.call("get", { key })).text,
  });
  assert.deepEqual(merged.info.fleet.missing, ["edge-000"]);
  assert.equal(merged.summary.total_requests, 1);
});
