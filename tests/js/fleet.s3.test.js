// A fleet over real S3 (SeaweedFS) in Node: the plan published and fetched with presigned URLs,
// participants waiting for its start, running their shards against llm-sim and uploading them
// (an interrupted upload resumed), the merge step reading the prefix: counts equal the
// simulator's ground truth, a missing shard is reported, Python llmeter loads the merged folder
// with equal stats.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startSim } from "./sim.js";
import { startS3, assertSameStats } from "./s3.js";
import { OpenAIEndpoint } from "../../pkg/index.js";
import { fleetPlan, publishPlan, runShard, uploadShard, mergeFleet, mergeFleetLink } from "../../pkg/fleet.js";
import { upload } from "../../pkg/store.js";

let sim, s3;
before(async () => {
  sim = await startSim(["--ttft-ms", "10", "--itl-ms", "1", "--seed", "9"]);
  s3 = await startS3("http://127.0.0.1:1");
});
after(async () => {
  await s3?.stop();
  await sim?.stop();
});

const presign = async (key, contentType) => (await s3.call("presign", { key, content_type: contentType })).url;
const presignGet = async (key) => (await s3.call("presign", { key, method: "get_object" })).url;
const list = async (prefix) => Object.keys((await s3.call("list", { prefix })).keys);
const get = async (key) => (await s3.call("get", { key })).text;

test("a fleet in Node over S3: plan, shards at the start time, uploads, merge; counts = ground truth; a missing shard reported; Python llmeter agrees", async () => {
  await sim.clear();
  const endpoint = new OpenAIEndpoint({ baseUrl: sim.base, model: "sim-model" });
  const startAt = Date.now() + 1500;
  const plan = await fleetPlan({
    testId: "fleet-s3", startAt, lateAfterS: 5,
    shards: [{ shardId: "eu-1", label: "eu", clients: 2, nRequests: 3 }, { shardId: "us-1", label: "us", clients: 3, nRequests: 2 }, { shardId: "ap-1", label: "ap", clients: 1, nRequests: 1 }],
    payload: [{ messages: [{ role: "user", content: "hello fleet" }], max_tokens: 5 }],
  });
  assert.equal(plan.test_id, "fleet-s3");
  assert.equal(plan.shards[1].n_requests, 2);
  const { key } = await publishPlan(plan, { presign, prefix: "fleets/" });
  assert.equal(key, "fleets/fleet-s3/plan.json");
  const planUrl = await presignGet(key);
  // Two participants (ap-1 never comes); each fetches the plan and waits for its start.
  const [eu, us] = await Promise.all(["eu-1", "us-1"].map((shardId) => runShard({ plan: planUrl, shardId, endpoint, upload: { presign, prefix: "fleets/" } })));
  for (const p of [eu, us]) {
    const first = Date.parse(p.result.summary.start_time);
    assert.ok(first >= startAt - 50, `started at the plan's start (${first - startAt} ms)`);
    assert.equal(p.upload.prefix, `fleets/fleet-s3/shards/${p.result.shard.shard_id}/`);
    assert.ok(p.upload.uploaded.includes(`${p.upload.prefix}shard.json`));
    assert.equal(p.result.info.clock_offset.source, "endpoint");
  }
  assert.equal(eu.result.shard.plan.n_requests, 3);
  assert.equal(eu.result.shard.label, "eu");
  // An upload that failed part-way resumes with only the missing files.
  const files = us.result.toFiles();
  const failing = async (k, t) => (k.endsWith("stats.json") ? "http://127.0.0.1:1/refused" : presign(k, t));
  const err = await uploadShard(us.result, { presign: failing, prefix: "fleets/", retries: 0 }).catch((e) => e);
  assert.equal(err.name, "UploadError");
  assert.equal(err.result, us.result);
  assert.deepEqual(err.state.pending, ["fleets/fleet-s3/shards/us-1/stats.json"]);
  const resumed = await uploadShard(us.result, { presign, prefix: "fleets/", resume: err.state });
  assert.equal(resumed.uploaded.length, Object.keys(files).length);
  // A half-uploaded shard of another participant: reported, not merged.
  await upload({ "summary.json": "{}" }, { presign, prefix: "fleets/fleet-s3/shards/xx-9/" });

  const merged = await mergeFleet({ testId: "fleet-s3", prefix: "fleets/", list, get });
  const records = (await sim.requests()).filter((r) => r.outcome === "completed");
  assert.equal(merged.summary.total_requests, 12);
  assert.equal(records.length, 12);
  assert.equal(merged.stats.total_output_tokens, records.reduce((a, r) => a + r.output_tokens, 0));
  assert.equal(merged.summary.clients, 5);
  assert.deepEqual(merged.info.fleet.missing, ["ap-1"]);
  assert.deepEqual(merged.info.fleet.late, []);
  assert.ok(merged.info.warnings.includes("shard ap-1 of the plan is missing"), merged.info.warnings.join("\n"));
  assert.ok(merged.info.warnings.some((w) => /shard xx-9: upload incomplete \(no shard.json, responses.jsonl\)/.test(w)), merged.info.warnings.join("\n"));
  assert.deepEqual(Object.keys(merged.stats.by_label), ["eu", "us"]);
  assert.equal(merged.stats.by_label.eu.total_requests, 6);
  // Each shard's window is on the endpoint's clock: the union is about the longer one (they ran together).
  const longest = Math.max(eu.result.summary.total_test_time, us.result.summary.total_test_time);
  assert.ok(merged.summary.total_test_time >= longest && merged.summary.total_test_time < longest + 0.2, `${merged.summary.total_test_time} vs ${longest}`);

  // The merged folder, uploaded beside the shards, loads in Python llmeter with equal stats.
  await upload(merged, { presign, prefix: "fleets/fleet-s3/merged/" });
  const py = await s3.call("llmeter_load_run", { prefix: "fleets/fleet-s3/merged/" });
  assert.equal(py.responses, 12);
  assertSameStats(assert, merged.stats, py.stats, "merged fleet");

  // A fleet link (presigned GETs of every object) merges the same without credentials.
  const keys = await list("fleets/fleet-s3/");
  const objects = Object.fromEntries(await Promise.all(keys.map(async (k) => [k, await presignGet(k)])));
  const viaLink = await mergeFleetLink({ test_id: "fleet-s3", prefix: "fleets/", objects });
  assert.deepEqual(viaLink.stats, merged.stats);
});
