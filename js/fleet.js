// @ts-check
/**
 * llmeter-wasm/fleet.js — beyond one machine. A test is run as shards (`Runner.run({shard})`) on
 * many machines, browsers, workers and edge invocations; each shard is uploaded under a shared
 * prefix with presigned URLs; a merge step combines them exactly into one result, with every
 * metric broken down per label and per runtime. See docs/SCALE.md.
 *
 * A separate module with its own small wasm file (`llmeter_fleet_bg.wasm`: the exact merge,
 * plans, keys), loaded on first use, so the core package does not grow.
 *
 * ```js
 * import { fleetPlan, publishPlan, runShard, mergeFleet } from "llmeter-wasm/fleet.js";
 * // coordinator
 * const plan = await fleetPlan({ testId: "eu-us-1", startAt: Date.now() + 60_000, payload,
 *   shards: [{ shardId: "eu-1", label: "eu", clients: 8, nRequests: 20 }, { shardId: "us-1", label: "us", clients: 8, nRequests: 20 }] });
 * await publishPlan(plan, { presign, prefix: "fleets/" });
 * // each participant
 * await runShard({ plan: planUrl, shardId: "eu-1", endpoint, upload: { presign, prefix: "fleets/" } });
 * // the merge step (Node: mergeFleetS3 lists the prefix with your credentials)
 * const merged = await mergeFleet({ testId: "eu-us-1", prefix: "fleets/", list, get });
 * merged.stats.by_label.eu["time_to_first_token-p50"];
 * ```
 */
export { initFleet, initFleetSync } from "./fleet/init.js";
export { fleetPlan, publishPlan, fetchPlan, planKey } from "./fleet/plan.js";
export { runShard, uploadShard } from "./fleet/shard.js";
export { mergeFleet, mergeFleetLink, fleetLink } from "./fleet/collect.js";
export { mergeShards } from "./fleet/merge.js";
export { fanOut, presignShard } from "./fleet/edge.js";

/** @typedef {import("./fleet/plan.js").FleetPlanOptions} FleetPlanOptions */
/** @typedef {import("./fleet/plan.js").ShardLoadOptions} ShardLoadOptions */
/** @typedef {import("./fleet/shard.js").RunShardOptions} RunShardOptions */
/** @typedef {import("./fleet/shard.js").ShardUploadOptions} ShardUploadOptions */
/** @typedef {import("./fleet/collect.js").FleetSource} FleetSource */
/** @typedef {import("./fleet/merge.js").MergeOptions} MergeOptions */
/** @typedef {import("./fleet/merge.js").Shard} Shard */
/** @typedef {import("./fleet/edge.js").FanOutOptions} FanOutOptions */
