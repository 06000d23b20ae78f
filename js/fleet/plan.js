// @ts-check
/**
 * A fleet's shared plan (`plan.json` under `{prefix}{testId}/`): made and checked by the core,
 * published with a presigned PUT, fetched by participants — whose download also gives a `Date`
 * header, a first estimate of their clock's offset.
 * @internal
 */
import { fleetPlan as corePlan, fleetPlanKey } from "../llmeter_fleet.js";
import { initFleet } from "./init.js";

/**
 * @typedef {Object} ShardLoadOptions
 * @property {string} shardId
 * @property {string} [label] region, network, cohort: every metric is broken down by it
 * @property {number} [clients] default 1
 * @property {number} [nRequests] requests per client, or
 * @property {number} [runDuration] seconds each client keeps sending
 */

/**
 * @typedef {Object} FleetPlanOptions
 * @property {string} testId names the test's folder under the prefix
 * @property {number | string | Date} [startAt] when every shard starts (Unix ms, ISO-8601 UTC,
 *   or a Date), on the reference clock; default: as soon as each can
 * @property {number} [lateAfterS] shards starting later than this after `startAt` are reported
 *   late (default 30)
 * @property {ShardLoadOptions[]} [shards] the shards expected (missing ones are reported)
 * @property {Omit<ShardLoadOptions, "shardId">} [open] the load of any shard not listed (real
 *   users, edge invocations numbered on the fly)
 * @property {Record<string, unknown> | Record<string, unknown>[]} [payload] what every shard sends
 */

/**
 * The plan as `plan.json` holds it (snake_case), checked: errors name the field.
 * @param {FleetPlanOptions | Record<string, unknown>} options camelCase options, or a `plan.json` object
 * @returns {Promise<Record<string, any>>}
 */
export async function fleetPlan(options) {
  if (!options || typeof options !== "object") throw new TypeError("plan must be an object");
  await initFleet();
  const o = /** @type {any} */ (options);
  const startAt = o.startAt instanceof Date ? o.startAt.getTime() : o.startAt;
  return corePlan({ ...o, ...(startAt !== undefined ? { startAt } : {}) });
}

/**
 * The key of the plan under a prefix: `{prefix}{testId}/plan.json`.
 * @param {string} prefix @param {string} testId
 */
export async function planKey(prefix, testId) {
  await initFleet();
  return fleetPlanKey(prefix, testId);
}

/** @typedef {{ sentUnixMs: number, receivedUnixMs: number, date: string }} DateSample */

/**
 * One HTTP exchange, with the `Date` header of its answer as a clock sample.
 * @param {typeof fetch} doFetch @param {string} url @param {RequestInit} init
 * @returns {Promise<{ response: Response, sample: DateSample | null }>}
 */
export async function fetchWithDate(doFetch, url, init) {
  const sentUnixMs = Date.now();
  const response = await doFetch(url, init);
  const receivedUnixMs = Date.now();
  const date = response.headers.get("date");
  return { response, sample: date ? { sentUnixMs, receivedUnixMs, date } : null };
}

/**
 * Publishes the plan with a presigned PUT (`url`, or `presign(key, "application/json")`).
 * @param {Record<string, any>} plan from `fleetPlan`
 * @param {{ url?: string, presign?: (key: string, contentType: string) => Promise<string> | string, prefix?: string, fetch?: typeof fetch }} options
 * @returns {Promise<{ key: string }>}
 */
export async function publishPlan(plan, options) {
  const checked = await fleetPlan(plan);
  const { prefix = "", presign, fetch: doFetch = globalThis.fetch } = options ?? {};
  const key = fleetPlanKey(prefix, checked.test_id);
  const url = options?.url ?? (typeof presign === "function" ? await presign(key, "application/json") : undefined);
  if (typeof url !== "string") throw new TypeError("publishPlan needs url or presign(key, contentType)");
  const r = await doFetch(url, { method: "PUT", body: JSON.stringify(checked, null, 4), headers: { "content-type": "application/json" }, credentials: "omit", redirect: "manual" });
  if (!r.ok) throw new Error(`publishPlan: PUT ${key} answered HTTP ${r.status}: ${(await r.text().catch(() => "")).slice(0, 300)}`);
  return { key };
}

/**
 * Downloads a published plan (a presigned GET or a public URL).
 * @param {string} url
 * @param {typeof fetch} [doFetch]
 * @returns {Promise<{ plan: Record<string, any>, sample: DateSample | null }>}
 */
export async function fetchPlan(url, doFetch = globalThis.fetch) {
  const { response, sample } = await fetchWithDate(doFetch, url, { method: "GET", credentials: "omit", cache: "no-store" });
  if (!response.ok) throw new Error(`fetchPlan: GET answered HTTP ${response.status}: ${(await response.text().catch(() => "")).slice(0, 300)}`);
  return { plan: await fleetPlan(await response.json()), sample };
}
