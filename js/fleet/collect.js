// @ts-check
/**
 * The merge step of a fleet: list the test's prefix, read the plan and every shard's folder,
 * merge exactly. Shards whose upload is incomplete are reported (in the result's warnings, and
 * as missing when the plan lists them), never silently dropped.
 * @internal
 */
import { fleetParseKey, fleetPlanKey } from "../llmeter_fleet.js";
import { initFleet } from "./init.js";
import { mergeShards } from "./merge.js";

/** Files a shard folder must have to be merged. */
const REQUIRED = ["shard.json", "summary.json", "responses.jsonl"];
/** Files of a shard folder that the merge reads (others are left in the store). */
const READ = ["shard.json", "summary.json", "stats.json", "responses.jsonl", "chunk_timings.jsonl", "run_info.json", "run_config.json", "payload.jsonl"];

/**
 * @typedef {Object} FleetSource How to read a store: list the keys under a prefix, get an object.
 * @property {(prefix: string) => Promise<string[]>} list
 * @property {(key: string) => Promise<string>} get
 */

/**
 * @param {FleetSource & { testId: string, prefix?: string, plan?: Record<string, unknown>, runName?: string, concurrency?: number }} options
 * @returns {Promise<import("../index.js").Result>}
 */
export async function mergeFleet(options) {
  if (!options || typeof options !== "object") throw new TypeError("mergeFleet options must be an object");
  const { testId, prefix = "", list, get, runName, concurrency = 8 } = options;
  if (typeof testId !== "string" || testId === "") throw new TypeError("mergeFleet: testId is required");
  if (typeof list !== "function" || typeof get !== "function") throw new TypeError("mergeFleet needs list(prefix) and get(key)");
  await initFleet();
  const keys = await list(`${prefix}${testId}/`);
  const planKey = fleetPlanKey(prefix, testId);
  let plan = options.plan;
  if (plan === undefined && keys.includes(planKey)) plan = JSON.parse(await get(planKey));
  /** @type {Map<string, Map<string, string>>} shard id → file → key */
  const folders = new Map();
  for (const key of keys) {
    const parsed = fleetParseKey(prefix, testId, key);
    if (!parsed) continue;
    const [shard, file] = parsed;
    if (!READ.includes(file)) continue;
    if (!folders.has(shard)) folders.set(shard, new Map());
    /** @type {Map<string, string>} */ (folders.get(shard)).set(file, key);
  }
  /** @type {string[]} */
  const notes = [];
  /** @type {[string, Map<string, string>][]} */
  const complete = [];
  for (const [shard, files] of [...folders].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const missing = REQUIRED.filter((f) => !files.has(f));
    if (missing.length) notes.push(`shard ${shard}: upload incomplete (no ${missing.join(", ")}); not merged`);
    else complete.push([shard, files]);
  }
  if (complete.length === 0) throw new Error(`mergeFleet: no complete shard under ${prefix}${testId}/shards/${notes.length ? ` (${notes.join("; ")})` : ""}`);
  // Read every file with a bounded number of requests in flight.
  const jobs = complete.flatMap(([shard, files]) => [...files].map(([file, key]) => ({ shard, file, key })));
  /** @type {Map<string, Record<string, string>>} */
  const contents = new Map(complete.map(([shard]) => [shard, {}]));
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      /** @type {Record<string, string>} */ (contents.get(job.shard))[job.file] = await get(job.key);
    }
  }));
  return mergeShards([...contents.values()], { plan, runName, notes });
}

/**
 * Makes a fleet link for a page without credentials (the playground): every object under the
 * test's prefix with a presigned GET URL (`presignGet(key)`, e.g. S3's with an expiry).
 * @param {{ testId: string, prefix?: string, list: (prefix: string) => Promise<string[]>, presignGet: (key: string) => Promise<string> | string }} options
 * @returns {Promise<{ test_id: string, prefix: string, objects: Record<string, string> }>}
 */
export async function fleetLink(options) {
  const { testId, prefix = "", list, presignGet } = options ?? {};
  if (typeof testId !== "string" || typeof list !== "function" || typeof presignGet !== "function") throw new TypeError("fleetLink needs testId, list(prefix) and presignGet(key)");
  /** @type {Record<string, string>} */
  const objects = {};
  for (const key of await list(`${prefix}${testId}/`)) if (!key.includes(`/merged/`)) objects[key] = await presignGet(key);
  return { test_id: testId, prefix, objects };
}

/**
 * A fleet link: a JSON document listing presigned GET URLs of a fleet's objects, which a page
 * without credentials (the playground) can open: `{test_id, prefix, objects: {key: url}}`.
 * @param {{ test_id: string, prefix?: string, objects: Record<string, string> }} link
 * @param {{ fetch?: typeof fetch, runName?: string }} [options]
 */
export async function mergeFleetLink(link, options = {}) {
  if (!link || typeof link !== "object" || typeof link.objects !== "object" || typeof link.test_id !== "string") throw new TypeError("a fleet link is {test_id, prefix, objects: {key: url}}");
  const doFetch = options.fetch ?? globalThis.fetch;
  return mergeFleet({
    testId: link.test_id,
    prefix: link.prefix ?? "",
    runName: options.runName,
    list: async () => Object.keys(link.objects),
    get: async (key) => {
      const r = await doFetch(link.objects[key], { credentials: "omit", cache: "no-store" });
      if (!r.ok) throw new Error(`mergeFleetLink: GET ${key} answered HTTP ${r.status}`);
      return r.text();
    },
  });
}
