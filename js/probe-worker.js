// @ts-check
/**
 * A Probe's dedicated module worker: one page view's measurement (probe-measure.js), then it
 * ends itself. The page keeps only the decisions it alone can make (sampling, visibility, the
 * page view's budget).
 * @internal
 */
import { measure, errorMessage } from "./probe-measure.js";

const controller = new AbortController();

self.addEventListener("message", async (e) => {
  const msg = e.data;
  if (msg?.type === "abort") return controller.abort();
  if (msg?.type !== "run") return;
  try {
    self.postMessage(await measure(msg, controller.signal));
  } catch (err) {
    self.postMessage(errorMessage(err));
  }
  // One run per worker: it ends itself (the page does not have to terminate it).
  self.close();
});
