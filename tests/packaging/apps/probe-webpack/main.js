// A production page sampling its users' latency with the Probe (options in the URL's fragment,
// JSON, given by tests/packaging/probe.test.js). webpack 5 bundles the Probe's dedicated worker
// with no loader or plugin (the package writes `new Worker(new URL("./probe-worker.js",
// import.meta.url), { type: "module" })`): a chunk of its own, with the core .wasm as an asset.
// Without `output.module`, webpack emits its workers as classic scripts and rewrites their
// `type` to match.
import { Probe } from "llmeter-wasm/probe.js";

const options = JSON.parse(decodeURIComponent(location.hash.slice(1)));

async function main() {
  if (options.serviceWorker) {
    // The app's service worker (sw.js), bundled by webpack itself: it recognises
    // `navigator.serviceWorker.register(new URL(…, import.meta.url))` as it does `new Worker`,
    // and emits a classic script that loads its chunks with importScripts as it starts. It lands
    // in the output folder, next to index.html: its scope covers the page.
    await navigator.serviceWorker.register(new URL("./sw.js", import.meta.url));
    // A service worker controls the pages opened after it is active: the next page view probes.
    if (!navigator.serviceWorker.controller) {
      await navigator.serviceWorker.ready;
      return { controlled: false };
    }
  }
  return { controlled: navigator.serviceWorker?.controller?.scriptURL ?? null, outcome: await new Probe(options).start() };
}

main().then(
  (r) => { window.__result = r; },
  (e) => { window.__result = { error: `${e.name}: ${e.message}` }; },
);
