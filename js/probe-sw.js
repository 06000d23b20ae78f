// @ts-check
/**
 * Probes measured in the app's own service worker: the cheapest place for a page view's probe,
 * since the page then starts no worker (a dedicated worker's start and end alone cost a Chromium
 * page ~2 ms of its main thread; `npm run bench`, probe section). The page's thread sends one
 * message and handles two.
 *
 * ```js
 * // in the app's service worker (registered with `{ type: "module" }`, or bundled by the app)
 * import { serveProbes } from "llmeter-wasm/probe-sw.js";
 * serveProbes();
 * // on the page
 * new Probe({ ...options, serviceWorker: true }).start();
 * ```
 *
 * The service worker must control the page; until it does (a first visit), the Probe measures
 * in a dedicated worker instead. Each probe is one `ExtendableMessageEvent` kept alive by
 * `waitUntil` until its shard is sent.
 */
import { measure, errorMessage } from "./probe-measure.js";
import { PROBE_MESSAGE } from "./probe-rules.js";

/**
 * Serves the Probes of the pages this service worker controls: measures each one's requests
 * (the daily budget, the engine, the beacon, as in a dedicated worker) and answers on the port
 * the page sent. Other messages are left to the app's own listeners.
 * @param {any} [scope] the service worker's global scope (default `self`)
 */
export function serveProbes(scope = globalThis) {
  scope.addEventListener("message", (/** @type {any} */ e) => {
    const msg = e.data;
    const port = e.ports?.[0];
    if (msg?.type !== PROBE_MESSAGE || !port) return;
    // One answer, when done: each message costs the page's thread (a page whose service worker
    // lacks this handler finds out from its silence).
    const controller = new AbortController();
    port.onmessage = (/** @type {MessageEvent} */ m) => { if (m.data?.type === "abort") controller.abort(); };
    e.waitUntil(measure(msg, controller.signal)
      .then((reply) => port.postMessage(reply), (err) => port.postMessage(errorMessage(err)))
      .finally(() => port.close()));
  });
}
