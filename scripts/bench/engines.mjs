// Firefox ESR and WebKitGTK for the bench's truth rows, beside Chromium (browser.mjs): the bench
// page (main thread) and its dedicated module Web Worker in each, driven through
// tests/js/engines.js (Firefox over WebDriver BiDi with network events off, WebKit's MiniBrowser
// under Xvfb). h2 at 64 clients like Chromium's rows; WebKitGTK runs at most 6 requests per host
// even over h2, so its 64-client rows show that queue.
import { startStatic } from "../../tests/js/browser.js";
import { launchEngine } from "../../tests/js/engines.js";

/** Starts one engine on the bench page; `run(where, spec)` runs a loop in its page or worker. */
async function startEngine(engine, site) {
  const browser = await launchEngine(engine, { insecureCerts: true });
  try {
    const page = await browser.newPage(`${site.origin}/scripts/bench/pages/bench.html`);
    await page.waitFor(() => window.ready === true);
    return {
      version: browser.version,
      /** @param {"page"|"worker"} where */
      run: (where, spec) => page.evaluate(([w, s]) => (w === "page" ? window.benchPage(s) : window.benchWorker(s)), [where, spec]),
      stop: () => browser.close(),
    };
  } catch (e) {
    await browser.close();
    throw e;
  }
}

/**
 * Firefox and WebKit as bench runtimes (`{name, run, h2At64}` like bench.mjs's own), their
 * versions, and `stop()`. An engine that fails to start is left out and its error returned.
 */
export async function startOtherEngines() {
  const site = await startStatic();
  const started = [], errors = [];
  for (const engine of ["firefox", "webkit"]) {
    try {
      started.push([engine, await startEngine(engine, site)]);
    } catch (e) {
      errors.push({ label: `${engine} start`, error: String(e?.stack ?? e) });
    }
  }
  return {
    versions: Object.fromEntries(started.map(([engine, b]) => [engine, b.version])),
    runtimes: started.flatMap(([engine, b]) => ["page", "worker"].map((where) => ({ name: `${engine} ${where}`, run: (spec) => b.run(where, spec), h2At64: true }))),
    errors,
    async stop() {
      for (const [, b] of started) await b.stop();
      await site.close();
    },
  };
}
