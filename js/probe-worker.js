// @ts-check
/**
 * A Probe's measurement off the page's main thread: this dedicated module worker spends the
 * daily budget (IndexedDB), loads the engine, runs the probe's requests and sends the compact
 * shard to the beacon URL itself, or hands it back for the page's presigned PUT. The page keeps
 * only the decisions it alone can make (sampling, visibility, the page view's budget).
 * @internal
 */
import { Runner, OpenAIEndpoint } from "./index.js";
import { toCompact } from "./llmeter_wasm.js";
import { spendFromIndexedDb, postBeacon } from "./probe-rules.js";

const controller = new AbortController();

/**
 * @typedef {Object} RunMessage
 * @property {"run"} type
 * @property {{ kind: string, [option: string]: unknown }} endpoint
 * @property {number} timeout
 * @property {boolean} keepText
 * @property {import("./index.js").RunOptions} run without `nRequests` when the worker keeps the budget
 * @property {{ testId: string, perDay: number, want: number } | null} budget kept here (IndexedDB), or null: granted already
 * @property {string | null} beaconUrl send the shard here from the worker, or null: hand it back
 */

/** @param {RunMessage} msg */
async function measure(msg) {
  let n = msg.run.nRequests ?? 0;
  if (msg.budget) {
    n = await spendFromIndexedDb(msg.budget.testId, msg.budget.perDay, msg.budget.want);
    if (n <= 0) return { type: "done", granted: 0, interrupted: false, text: null, sent: false };
  }
  const { kind, ...options } = msg.endpoint;
  if (kind !== "openai") throw new TypeError(`endpoint.kind ${JSON.stringify(kind)} is not known to the probe`);
  const run = { ...msg.run, nRequests: n };
  const result = await new Runner({ endpoint: new OpenAIEndpoint(/** @type {any} */ (options)), timeout: msg.timeout }).run({ ...run, signal: controller.signal });
  const interrupted = controller.signal.aborted || result.info.interrupted;
  const text = interrupted ? null : toCompact(/** @type {any} */ (result)._h, msg.keepText);
  if (text === null || msg.beaconUrl === null) return { type: "done", granted: n, interrupted, text, sent: false };
  await postBeacon(msg.beaconUrl, text);
  return { type: "done", granted: n, interrupted, text: null, bytes: text.length, sent: true };
}

self.addEventListener("message", async (e) => {
  const msg = e.data;
  if (msg?.type === "abort") return controller.abort();
  if (msg?.type !== "run") return;
  try {
    self.postMessage(await measure(msg));
  } catch (err) {
    const er = /** @type {any} */ (err);
    self.postMessage({ type: "error", name: er?.name ?? "Error", message: er?.message ?? String(err) });
  }
  // One run per worker: it ends itself (the page does not have to terminate it).
  self.close();
});
