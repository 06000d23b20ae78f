// @ts-check
/**
 * The store's wasm module (`llmeter_store_bg.wasm`: zip, folder layout, upload state machine,
 * batching and schema rules), loaded on first use so the core package does not grow.
 * @internal
 */
import wasmInit, { initSync as wasmInitSync } from "../llmeter_store.js";
import { wasmLoader, besideModule } from "../loader.js";

const module = wasmLoader(wasmInit, wasmInitSync, besideModule("../llmeter_store_bg.wasm", import.meta.url));

/**
 * Loads the store's wasm module (called by every function here that needs it).
 * @param {BufferSource | WebAssembly.Module | URL | string | Response} [source]
 */
export async function initStore(source) {
  await module.init(source);
}

/** @param {BufferSource | WebAssembly.Module} wasm */
export function initStoreSync(wasm) {
  module.initSync(wasm);
}
