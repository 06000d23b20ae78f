// The playground page: wires its parts. Each lives in its own module: the configuration form
// (form.js), the run in the engine worker (run.js, engine.js, worker.js), the results
// (results-view.js), the history (history-view.js over history.js), share links (share.js),
// cross-origin isolation for a fine clock (isolation.js, sw.js), fleets merged (fleet-view.js).
import { $ } from "./dom.js";
import { decodeShare } from "./share.js";
import { initForm } from "./form.js";
import { initRun } from "./run.js";
import { initHistory } from "./history-view.js";
import { initFleet } from "./fleet-view.js";
import { shownRecords, exportZip, exportHtml } from "./results-view.js";
import { ensureIsolation } from "./isolation.js";

async function init() {
  // Before anything else: this may reload the page once to become cross-origin isolated.
  await ensureIsolation();
  initForm(decodeShare(location.hash.slice(1)));
  initRun();
  initFleet();
  $("export-zip").addEventListener("click", () => shownRecords().length === 1 && exportZip(shownRecords()[0]));
  $("export-html").addEventListener("click", exportHtml);
  await initHistory().finally(() => (window.playground = { ready: true, isolated: globalThis.crossOriginIsolated === true }));
}

init();
