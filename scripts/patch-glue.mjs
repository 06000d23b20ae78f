// Guards the places where wasm-bindgen's glue enters the engine from the event loop on its
// own: the `queueMicrotask` callbacks — the task queue's, where runs are polled, and the
// engine's own microtask wake-ups (src/web/clock.rs). A trap there would
// otherwise escape as an uncaught error (ending a Node process or a worker); guarded, it
// rejects the pending run and restarts the engine (js/crash.js). The guard is set per module
// (`__llmeterSetGuard`, called by js/engines.js): each engine module has its own crash handler.
//   node scripts/patch-glue.mjs pkg/llmeter_wasm.js
import { readFileSync, writeFileSync } from "node:fs";

const file = process.argv[2];
const text = readFileSync(file, "utf8");
const site = "queueMicrotask(arg0);";
const count = text.split(site).length - 1;
if (count < 1 || count > 2) {
  console.error(`[patch-glue] expected one or two "${site}" in ${file}, found ${count}: wasm-bindgen's glue changed; update scripts/patch-glue.mjs`);
  process.exit(1);
}
const hook = "/** @type {(f: any) => any} */\nlet __llmeterGuard = (f) => f;\n/** Wraps the engine's task-queue callbacks (llmeter-wasm's crash recovery). @param {(f: any) => any} guard */\nexport function __llmeterSetGuard(guard) { __llmeterGuard = guard; }\n";
const patched = `${hook}${text.replaceAll(site, "queueMicrotask(__llmeterGuard(arg0));")}`;
writeFileSync(file, patched);
console.log(`[patch-glue] ${file}: the engine's ${count} microtask entries are guarded`);
