// @ts-check
/**
 * The core wasm module, loaded once for the whole package: the engine every endpoint family
 * but the AWS ones runs in, and the home of the package's other rules (results, names, stats).
 * @internal
 */
import wasmInit, * as wasm from "./llmeter_wasm.js";
import { defineEngine, registerEngine } from "./engines.js";

// The URL is literal, so that bundlers emit the .wasm and rewrite it; in Node, server bundles
// without the file use the inlined copy (see loader.js).
export const coreEngine = defineEngine({
  name: "core",
  wasm,
  files: {
    init: wasmInit,
    initSync: wasm.initSync,
    syncName: "initSync",
    url: () => new URL("./llmeter_wasm_bg.wasm", import.meta.url),
    inlined: () => import("#inline/llmeter_wasm_bg.wasm"),
  },
  loadHint: "call `await init()` first (in workerd: `initSync(wasmModule)`)",
});
registerEngine(coreEngine);

export const core = coreEngine.loader;

/** Throws unless the module is ready (for the synchronous API). */
export function requireCore() {
  if (!core.initialized()) throw new Error("llmeter-wasm is not initialised: call `await init()` first (in workerd: `initSync(wasmModule)`)");
}
