// A production page sampling its users' latency with the Probe (options in the URL's fragment,
// JSON, given by tests/packaging/probe.test.js). Vite bundles the Probe's dedicated worker with
// no configuration (the package writes `new Worker(new URL("./probe-worker.js",
// import.meta.url), { type: "module" })`): an asset of its own in the build, and served from
// node_modules/llmeter-wasm by the dev server.
import { Probe } from "llmeter-wasm/probe.js";

const options = JSON.parse(decodeURIComponent(location.hash.slice(1)));

async function main() {
  if (options.serviceWorker) {
    // The app's service worker (sw.js): /sw.js in the build (vite.config.js) and on the dev
    // server alike. An ES module that imports the chunks it shares with the page, so a module
    // service worker.
    await navigator.serviceWorker.register("/sw.js", { type: "module" });
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
