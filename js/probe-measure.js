// @ts-check
/**
 * A Probe's measurement where it runs off the page's main thread (its dedicated worker,
 * probe-worker.js, or the app's service worker, probe-sw.js): spends the daily budget
 * (IndexedDB), runs the probe's requests in the engine and sends the compact shard to the
 * beacon URL itself, or hands it back for the page's presigned PUT.
 * @internal
 */
import { Runner, OpenAIEndpoint } from "./index.js";
import { toCompact } from "./llmeter_wasm.js";
import { spendFromIndexedDb, postBeacon, randomId } from "./probe-rules.js";

/**
 * What the page asks for.
 * @typedef {Object} RunMessage
 * @property {{ kind: string, [option: string]: unknown }} endpoint
 * @property {number} timeout
 * @property {boolean} keepText
 * @property {import("./index.js").RunOptions} run without `nRequests` when the budget is kept here
 * @property {{ testId: string, perDay: number, want: number } | null} budget kept here (IndexedDB), or null: granted already
 * @property {string | null} beaconUrl send the shard here, or null: hand it back
 */

/**
 * What the page gets back (probe.js's `WorkerReply`).
 * @typedef {{ type: "done", granted: number, interrupted: boolean, text: string | null, sent: boolean, bytes?: number }} DoneMessage
 */

/**
 * @param {RunMessage} msg @param {AbortSignal} signal the page's abort (its tab was hidden)
 * @returns {Promise<DoneMessage>}
 */
export async function measure(msg, signal) {
  const nothing = /** @type {DoneMessage} */ ({ type: "done", granted: 0, interrupted: signal.aborted, text: null, sent: false });
  // Aborted before it began (the page gave up waiting): nothing spent, nothing sent.
  if (signal.aborted) return nothing;
  let n = msg.run.nRequests ?? 0;
  if (msg.budget) {
    n = await spendFromIndexedDb(msg.budget.testId, msg.budget.perDay, msg.budget.want);
    if (n <= 0) return nothing;
  }
  const { kind, ...options } = msg.endpoint;
  if (kind !== "openai") throw new TypeError(`endpoint.kind ${JSON.stringify(kind)} is not known to the probe`);
  // The shard id is drawn here, not on the page (a page's first `crypto` call costs its thread).
  const shard = msg.run.shard && { ...msg.run.shard, shardId: msg.run.shard.shardId ?? randomId() };
  const run = { ...msg.run, nRequests: n, shard };
  const result = await new Runner({ endpoint: new OpenAIEndpoint(/** @type {any} */ (options)), timeout: msg.timeout }).run({ ...run, signal });
  const interrupted = signal.aborted || result.info.interrupted;
  const text = interrupted ? null : toCompact(/** @type {any} */ (result)._h, msg.keepText);
  if (text === null || msg.beaconUrl === null) return { type: "done", granted: n, interrupted, text, sent: false };
  await postBeacon(msg.beaconUrl, text);
  return { type: "done", granted: n, interrupted, text: null, bytes: text.length, sent: true };
}

/** An error as the page rebuilds it. @param {unknown} err */
export function errorMessage(err) {
  const er = /** @type {any} */ (err);
  return { type: "error", name: er?.name ?? "Error", message: er?.message ?? String(err) };
}
