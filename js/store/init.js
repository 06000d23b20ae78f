// @ts-check
/**
 * The store's wasm module (`llmeter_store_bg.wasm`: zip, folder layout, upload state machine,
 * batching and schema rules), loaded on first use so the core package does not grow.
 * @internal
 */
import wasmInit, { initSync as wasmInitSync } from "../llmeter_store.js";
import { wasmLoader } from "../loader.js";

// The URL is literal, so that bundlers emit the .wasm and rewrite it; in Node, server bundles
// without the file use the inlined copy (see loader.js).
const module = wasmLoader({
  init: wasmInit,
  initSync: wasmInitSync,
  syncName: "initStoreSync",
  url: () => new URL("../llmeter_store_bg.wasm", import.meta.url),
  inlined: () => import("#inline/llmeter_store_bg.wasm"),
});

/**
 * Loads the store's wasm module (called by every function here that needs it).
 * @param {import("../types.js").WasmSource} [source]
 */
export async function initStore(source) {
  await module.init(source);
}

/**
 * Synchronous initialisation from a compiled module or bytes (workerd: `import wasm from
 * "llmeter-wasm/llmeter_store_bg.wasm"; initStoreSync(wasm)`).
 * @param {import("../types.js").WasmBytes | import("../types.js").WasmModule} wasm
 */
export function initStoreSync(wasm) {
  module.initSync(wasm);
}
