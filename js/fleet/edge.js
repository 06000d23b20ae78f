// @ts-check
/**
 * Edge fan-out: one shard per invocation of a worker (Cloudflare Workers, or workerd locally),
 * triggered by a driver with a concurrency limit. The driver presigns each invocation's upload
 * (an edge invocation holds no credentials) and hands it the plan; the worker runs its shard
 * with `runShard` and uploads it. The merge step then reads the prefix (`mergeFleet`).
 * @internal
 */
import { fleetShardFiles, fleetShardPrefix } from "../llmeter_fleet.js";
import { initFleet } from "./init.js";
import { fleetPlan } from "./plan.js";

/**
 * @typedef {Object} FanOutOptions
 * @property {string | ((body: Record<string, unknown>) => Promise<any>)} invoke the worker's URL
 *   (each invocation is a POST of its JSON body), or a function that invokes it
 * @property {Record<string, unknown>} plan the fleet's plan (from `fleetPlan`)
 * @property {number} invocations how many shards (`edge-000` …), each one invocation
 * @property {(key: string, contentType: string) => Promise<string> | string} presign PUT URLs for each invocation's files
 * @property {string} [prefix] the fleet's prefix in the store
 * @property {number} [concurrency] invocations in flight at once (default 4)
 * @property {Record<string, unknown>} [body] more fields for every invocation (e.g. the endpoint's base URL)
 * @property {number} [retries] times an invocation answered 503 (a busy isolate) or 429 is
 *   tried again, with backoff (default 30)
 * @property {(done: { shardId: string, ok: boolean }) => void} [onInvocation]
 */

/**
 * Presigned PUT URLs for every file of one shard: `{prefix, urls: {key: url}}`, to hand as is to
 * a participant that cannot sign (an edge invocation, a page) as `runShard`'s `upload`.
 * @param {{ testId: string, shardId: string, prefix?: string, presign: (key: string, contentType: string) => Promise<string> | string }} options
 * @returns {Promise<{ prefix: string, urls: Record<string, string> }>}
 */
export async function presignShard({ testId, shardId, prefix = "", presign }) {
  if (typeof presign !== "function") throw new TypeError("presignShard: presign(key, contentType) is required");
  await initFleet();
  const { initStore } = await import("../store/init.js");
  await initStore();
  const { contentType } = await import("../llmeter_store.js");
  const shardPrefix = fleetShardPrefix(prefix, testId, shardId);
  /** @type {Record<string, string>} */
  const urls = {};
  for (const f of fleetShardFiles()) urls[`${shardPrefix}${f}`] = await presign(`${shardPrefix}${f}`, contentType(f));
  return { prefix, urls };
}

/**
 * Triggers the invocations (at most `concurrency` at once) and reports how each ended; a failed
 * invocation is reported, not retried (its shard is then missing from the merge, and reported
 * there too).
 * @param {FanOutOptions} options
 * @returns {Promise<{ shardId: string, ok: boolean, status?: number, body?: any, error?: string }[]>}
 */
export async function fanOut(options) {
  if (!options || typeof options !== "object") throw new TypeError("fanOut options must be an object");
  const { invoke, invocations, presign, prefix = "", concurrency = 4, body = {}, onInvocation, retries = 30 } = options;
  if (!(Number.isInteger(invocations) && invocations >= 1)) throw new RangeError("fanOut: invocations must be a positive integer");
  if (!(Number.isInteger(concurrency) && concurrency >= 1)) throw new RangeError("fanOut: concurrency must be a positive integer");
  if (typeof presign !== "function") throw new TypeError("fanOut: presign(key, contentType) is required (the invocations hold no credentials)");
  if (typeof invoke !== "string" && typeof invoke !== "function") throw new TypeError("fanOut: invoke must be the worker's URL or a function");
  await initFleet();
  const plan = await fleetPlan(options.plan);
  const call = typeof invoke === "function" ? invoke : async (/** @type {Record<string, unknown>} */ b) => {
    const r = await fetch(invoke, { method: "POST", body: JSON.stringify(b), headers: { "content-type": "application/json" } });
    const text = await r.text();
    let parsed;
    try { parsed = JSON.parse(text); } catch { parsed = text; }
    if (!r.ok) throw Object.assign(new Error(`HTTP ${r.status}: ${typeof parsed === "string" ? parsed.slice(0, 300) : JSON.stringify(parsed).slice(0, 300)}`), { status: r.status, body: parsed });
    return { status: r.status, body: parsed };
  };
  const ids = Array.from({ length: invocations }, (_, i) => `edge-${String(i).padStart(3, "0")}`);
  /** @type {{ shardId: string, ok: boolean, status?: number, body?: any, error?: string }[]} */
  const out = new Array(ids.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, async () => {
    while (next < ids.length) {
      const i = next++;
      const shardId = ids[i];
      const upload = await presignShard({ testId: plan.test_id, shardId, prefix, presign });
      for (let attempt = 0; ; attempt++) {
        try {
          const r = await call({ ...body, plan, shardId, upload });
          out[i] = { shardId, ok: true, status: r?.status, body: r?.body ?? r };
          break;
        } catch (e) {
          const err = /** @type {any} */ (e);
          // A busy isolate (one shard at a time) or a rate limit: try again later.
          if ((err?.status === 503 || err?.status === 429) && attempt < retries) {
            await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
            continue;
          }
          out[i] = { shardId, ok: false, status: err?.status, body: err?.body, error: err?.message ?? String(e) };
          break;
        }
      }
      onInvocation?.({ shardId, ok: out[i].ok });
    }
  }));
  return out;
}
