// @ts-check
/**
 * A Probe's measurement off the page's main thread: this dedicated module worker loads the
 * engine, runs the probe's requests and sends back the compact shard. The page keeps only the
 * decisions (sampling, visibility, budgets) and the beacon.
 * @internal
 */
import { Runner, OpenAIEndpoint } from "./index.js";
import { toCompact } from "./llmeter_wasm.js";

const controller = new AbortController();

self.addEventListener("message", async (e) => {
  const msg = e.data;
  if (msg?.type === "abort") return controller.abort();
  if (msg?.type !== "run") return;
  try {
    const { kind, ...options } = msg.endpoint;
    if (kind !== "openai") throw new TypeError(`endpoint.kind ${JSON.stringify(kind)} is not known to the probe`);
    const result = await new Runner({ endpoint: new OpenAIEndpoint(/** @type {any} */ (options)), timeout: msg.timeout }).run({ ...msg.run, signal: controller.signal });
    const interrupted = controller.signal.aborted || result.info.interrupted;
    self.postMessage({ type: "done", interrupted, text: interrupted ? null : toCompact(/** @type {any} */ (result)._h, msg.keepText) });
  } catch (err) {
    const er = /** @type {any} */ (err);
    self.postMessage({ type: "error", name: er?.name ?? "Error", message: er?.message ?? String(err) });
  }
});
self.postMessage({ type: "ready" });
