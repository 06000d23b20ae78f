// @ts-check
/**
 * Shards merged into one result (`Result.merge`, `workers: N`, fleet merges, probe collectors).
 * Each shard crosses to the fleet module as its run folder (results) or as text (compact probe
 * shards); the core merges them there (`result/merge.rs`) and the merged folder comes back into
 * the core module as a `Result`.
 * @internal
 */
import { FleetMerger } from "../llmeter_fleet.js";
import { initFleet } from "./init.js";
import { Result } from "../index.js";

/**
 * @typedef {Object} MergeOptions
 * @property {string} [runName] The merged run's name (default: the test id, else the first shard's).
 * @property {string} [runDescription]
 * @property {Record<string, unknown>} [plan] The fleet's plan (`plan.json`): shards it lists but
 *   that did not come are reported missing, late starters late, shards of other tests refused.
 * @property {string[]} [notes] What the caller found before merging (an incomplete upload),
 *   kept in the merged result's warnings.
 */

/**
 * A shard as the merge takes it: a `Result`, a run folder `{fileName: text}` (e.g. read back
 * from a store), or a compact shard text (a probe's beacon).
 * @typedef {Result | Record<string, string> | string} Shard
 */

/**
 * @param {Iterable<Shard>} shards
 * @param {MergeOptions} [options]
 * @returns {Promise<Result>}
 */
export async function mergeShards(shards, options = {}) {
  if (shards === null || typeof shards !== "object" || typeof (/** @type {any} */ (shards))[Symbol.iterator] !== "function") throw new TypeError("merge: shards must be an array of results, run folders or compact shard texts");
  if (options === null || typeof options !== "object") throw new TypeError("merge: options must be an object");
  await initFleet();
  const merger = new FleetMerger();
  let files;
  try {
    let i = 0;
    for (const shard of shards) {
      try {
        if (typeof shard === "string") merger.addCompact(shard);
        else if (shard instanceof Result) merger.addFiles(shard.toFiles());
        else if (shard && typeof shard === "object") merger.addFiles(shard);
        else throw new TypeError("it is neither a Result, a run folder nor a compact shard text");
      } catch (e) {
        const err = /** @type {Error} */ (e);
        throw new (err instanceof TypeError ? TypeError : Error)(`merge: shard ${i}: ${err.message}`);
      }
      i++;
    }
    files = merger.finish(options);
  } finally {
    merger.free();
  }
  return Result.fromFiles(files);
}
