// @ts-check
/**
 * A participant of a fleet: fetch the plan, wait for its start on the reference clock, run this
 * shard, upload it under the test's prefix with presigned URLs (resumable like any upload).
 * @internal
 */
import { fleetShardLoad, fleetShardPrefix, fleetShardFiles, clockOffset, untilStartMs } from "../llmeter_fleet.js";
import { initFleet } from "./init.js";
import { fetchPlan, fleetPlan } from "./plan.js";
import { Runner } from "../index.js";

/**
 * @typedef {Object} ShardUploadOptions Where and how the shard's files go (the store's upload).
 * @property {(key: string, contentType: string) => Promise<string> | string} [presign]
 * @property {Record<string, string>} [urls]
 * @property {string} [prefix] the fleet's prefix; files go to `{prefix}{testId}/shards/{shardId}/`
 * @property {string[] | { uploaded: string[], pending: string[] }} [resume] keys already uploaded (a failed upload's `error.state`)
 * @property {number} [concurrency]
 * @property {number} [retries]
 * @property {number} [timeoutMs]
 * @property {AbortSignal} [signal]
 * @property {typeof fetch} [fetch]
 */

/**
 * @typedef {Object} RunShardOptions
 * @property {string | Record<string, unknown>} plan the plan's URL (presigned GET or public), or the plan itself
 * @property {string} shardId this participant's shard (listed in the plan, or any id when it has an open load)
 * @property {import("../endpoints/endpoint.js").Endpoint} endpoint
 * @property {import("../index.js").Tokenizer} [tokenizer]
 * @property {number} [timeout] per-request seconds
 * @property {Record<string, unknown> | Record<string, unknown>[]} [payload] when the plan carries none
 * @property {ShardUploadOptions} [upload] uploads the shard when given
 * @property {boolean} [waitForStart] wait for the plan's start (default true)
 * @property {AbortSignal} [signal]
 * @property {(p: import("../types.js").Progress) => void} [onProgress]
 * @property {(r: import("../types.js").InvocationResponse, t: import("../types.js").ResponseTimings) => void} [onResponse]
 * @property {typeof fetch} [fetch] for the plan's download
 * @property {Omit<import("../index.js").RunOptions, "clients" | "nRequests" | "runDuration" | "payload" | "shard" | "workers" | "store">} [runOptions]
 *   other run options (`seed`, `startJitterMs`, `subrequestLimit`, `subrequestsSent`, …)
 */

/**
 * @param {number} ms @param {AbortSignal | undefined} signal
 * @returns {Promise<void>}
 */
function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => { signal?.removeEventListener("abort", onAbort); resolve(); }, ms);
    const onAbort = () => { clearTimeout(t); reject(signal?.reason); };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Runs one shard of a fleet: see `RunShardOptions`. Resolves with the result and, when it was
 * uploaded, where and what (`uploaded` keys). An upload that fails after retries throws an
 * `UploadError` whose `result` is the run and whose `state` resumes it with `uploadShard`.
 * @param {RunShardOptions} options
 * @returns {Promise<{ result: import("../index.js").Result, startedLateMs: number, upload?: { prefix: string, uploaded: string[], bytes: number } }>}
 */
export async function runShard(options) {
  if (!options || typeof options !== "object") throw new TypeError("runShard options must be an object");
  const { plan: planOrUrl, shardId, endpoint, tokenizer, timeout, payload, upload, waitForStart = true, signal, onProgress, onResponse, fetch: doFetch, runOptions = {} } = options;
  await initFleet();
  /** @type {import("./plan.js").DateSample[]} */
  const samples = [];
  let plan;
  if (typeof planOrUrl === "string") {
    const fetched = await fetchPlan(planOrUrl, doFetch);
    plan = fetched.plan;
    if (fetched.sample) samples.push(fetched.sample);
  } else plan = await fleetPlan(/** @type {any} */ (planOrUrl));
  const load = fleetShardLoad(plan, shardId);
  // The start is on the reference clock; the plan's download says how far ours is from it.
  let startedLateMs = 0;
  const storeOffset = clockOffset(samples, "store");
  if (load.startUnixMs !== undefined) {
    const wait = untilStartMs(load.startUnixMs, Date.now(), storeOffset);
    if (wait > 0 && waitForStart) await sleep(wait, signal);
    else startedLateMs = Math.max(0, -wait);
  }
  const runner = new Runner({ endpoint, tokenizer, timeout });
  // Where an invocation has a subrequest budget (workerd), the plan's download and the upload's
  // PUTs count against it too: the run gets what is left.
  const ownSubrequests = (typeof planOrUrl === "string" ? 1 : 0) + (upload ? fleetShardFiles().length : 0);
  const runPayload = payload ?? load.payload;
  if (runPayload === undefined) throw new TypeError("runShard: the plan carries no payload; pass payload");
  const result = await runner.run({
    ...runOptions,
    subrequestsSent: (/** @type {number | undefined} */ (runOptions.subrequestsSent) ?? 0) + ownSubrequests,
    clients: load.clients,
    nRequests: load.nRequests,
    runDuration: load.runDuration,
    payload: runPayload,
    // The endpoint's Date places the shard on its clock; the plan's download is the fallback.
    shard: { testId: load.testId, shardId, label: load.label, plan: load.plan, clockOffset: storeOffset },
    signal, onProgress, onResponse,
  });
  if (!upload) return { result, startedLateMs };
  return { result, startedLateMs, upload: await uploadShard(result, upload) };
}

/**
 * Uploads a shard's files under `{prefix}{testId}/shards/{shardId}/` (again with `resume` after
 * a failure: only the missing files are sent).
 * @param {import("../index.js").Result} result a shard's result (run with `shard`)
 * @param {ShardUploadOptions} options
 * @returns {Promise<{ prefix: string, uploaded: string[], bytes: number }>}
 */
export async function uploadShard(result, options) {
  const shard = result.shard;
  if (!shard) throw new TypeError("uploadShard: this result is not a shard (run it with the shard option)");
  await initFleet();
  const prefix = fleetShardPrefix(options?.prefix ?? "", shard.test_id, shard.shard_id);
  const { upload, UploadError } = await import("../store/upload.js");
  try {
    const state = await upload(result, { ...options, prefix });
    return { prefix, uploaded: state.uploaded, bytes: state.bytes };
  } catch (e) {
    if (e instanceof UploadError) /** @type {any} */ (e).result = result;
    throw e;
  }
}
