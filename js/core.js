// @ts-check
/**
 * The core wasm module, loaded once for the whole package.
 * @internal
 */
import wasmInit, { initSync as wasmInitSync } from "./llmeter_wasm.js";
import { wasmLoader, besideModule } from "./loader.js";

export const core = wasmLoader(wasmInit, wasmInitSync, besideModule("./llmeter_wasm_bg.wasm", import.meta.url));

/** Throws unless the module is ready (for the synchronous API). */
export function requireCore() {
  if (!core.initialized()) throw new Error("llmeter-wasm is not initialised: call `await init()` first (in workerd: `initSync(wasmModule)`)");
}
