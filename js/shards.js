// @ts-check
/**
 * Shards merged into one result by the core (`Result.merge`, `workers: N`, fleets, probe
 * collectors): results and compact shard texts go in, one result comes out. The merge rules are
 * the core's (`result/merge.rs`); this file only hands the shards over.
 * @internal
 */
import { ShardMerger } from "./llmeter_wasm.js";

/**
 * @typedef {Object} MergeOptions
 * @property {string} [runName] The merged run's name (default: the test id, else the first shard's).
 * @property {string} [runDescription]
 * @property {Record<string, unknown>} [plan] The fleet's plan (`plan.json`): shards it lists but
 *   that did not come are reported missing, late starters late, shards of other tests refused.
 */

/**
 * @param {Iterable<unknown>} shards results (anything with the core handle) or compact shard texts
 * @param {MergeOptions} [options]
 * @returns {any} the core's merged result handle
 */
export function mergeHandles(shards, options = {}) {
  if (shards === null || typeof shards !== "object" || typeof (/** @type {any} */ (shards))[Symbol.iterator] !== "function") throw new TypeError("merge: shards must be an array of results or compact shard texts");
  if (options === null || typeof options !== "object") throw new TypeError("merge: options must be an object");
  const merger = new ShardMerger();
  try {
    let i = 0;
    for (const shard of shards) {
      const handle = /** @type {any} */ (shard)?._h;
      if (typeof shard === "string") {
        try { merger.addCompact(shard); } catch (e) { throw new Error(`merge: shard ${i}: ${/** @type {Error} */ (e).message}`); }
      } else if (handle && typeof handle.toFiles === "function") merger.add(handle);
      else throw new TypeError(`merge: shard ${i} is neither a Result nor a compact shard text`);
      i++;
    }
    return merger.finish(options);
  } finally {
    merger.free();
  }
}
