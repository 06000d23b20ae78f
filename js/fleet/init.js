// @ts-check
/**
 * The fleet's wasm module (`llmeter_fleet_bg.wasm`: exact merge of shards, plans, keys, loading
 * result folders), loaded on first use so the core package does not grow.
 * @internal
 */
import wasmInit, { initSync as wasmInitSync } from "../llmeter_fleet.js";
import { wasmLoader } from "../loader.js";

// The URL is literal, so that bundlers emit the .wasm and rewrite it; in Node, server bundles
// without the file use the inlined copy (see loader.js).
const module = wasmLoader({
  init: wasmInit,
  initSync: wasmInitSync,
  syncName: "initFleetSync",
  url: () => new URL("../llmeter_fleet_bg.wasm", import.meta.url),
  inlined: () => import("#inline/llmeter_fleet_bg.wasm"),
});

/**
 * Loads the fleet's wasm module (called by every function here that needs it).
 * @param {import("../types.js").WasmSource} [source]
 */
export async function initFleet(source) {
  await module.init(source);
}

/**
 * Synchronous initialisation from a compiled module or bytes (workerd: `import wasm from
 * "llmeter-wasm/llmeter_fleet_bg.wasm"; initFleetSync(wasm)`).
 * @param {import("../types.js").WasmBytes | import("../types.js").WasmModule} wasm
 */
export function initFleetSync(wasm) {
  module.initSync(wasm);
}
