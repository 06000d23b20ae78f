// @ts-check
/**
 * The core wasm module, loaded once for the whole package.
 * @internal
 */
import wasmInit, { initSync as wasmInitSync, setCrashReporter, setPlatform } from "./llmeter_wasm.js";
import { wasmLoader } from "./loader.js";
import { afterReset, crashed } from "./crash.js";
import * as pump from "./pump.js";

/** What each fresh instance is told: where crashes are reported, and the platform side. */
const connect = () => {
  setCrashReporter((/** @type {string} */ message) => crashed(message));
  setPlatform(pump);
};
afterReset(connect);

// The URL is literal, so that bundlers emit the .wasm and rewrite it; in Node, server bundles
// without the file use the inlined copy (see loader.js).
export const core = wasmLoader({
  init: async (/** @type {any} */ input) => { await wasmInit(input); connect(); },
  initSync: (/** @type {any} */ input) => { wasmInitSync(input); connect(); },
  syncName: "initSync",
  url: () => new URL("./llmeter_wasm_bg.wasm", import.meta.url),
  inlined: () => import("#inline/llmeter_wasm_bg.wasm"),
});

/** Throws unless the module is ready (for the synchronous API). */
export function requireCore() {
  if (!core.initialized()) throw new Error("llmeter-wasm is not initialised: call `await init()` first (in workerd: `initSync(wasmModule)`)");
}
