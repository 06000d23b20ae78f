// Dedicated Web Worker side of the bench page: runs a loop per message, answers with its samples.
import { runLoop } from "/scripts/bench/pages/loops.js";

self.onmessage = async ({ data: { id, spec } }) => {
  try {
    self.postMessage({ id, ok: true, value: await runLoop(spec) });
  } catch (e) {
    self.postMessage({ id, ok: false, error: String(e?.stack ?? e) });
  }
};
