// @ts-check
/**
 * The engine modules an endpoint can run in. The core module runs every endpoint family but
 * the AWS ones; the AWS build (`llmeter_wasm_aws`: the same engine plus the Bedrock and
 * SageMaker endpoints) is a separate, optional module that `llmeter-wasm/aws.js` loads and
 * registers here, so the core stays small for everyone else. A run executes entirely inside its
 * endpoint's engine (requests, pump, parsing, result): nothing crosses between modules per
 * chunk.
 * @internal
 */
import { createPayload, endpointInfo, runBenchmark } from "./llmeter_wasm.js";
import { core } from "./core.js";
import * as corePump from "./pump.js";

/**
 * @typedef {Object} Engine
 * @property {string} name
 * @property {import("./loader.js").WasmLoader} loader
 * @property {typeof createPayload} createPayload
 * @property {typeof endpointInfo} endpointInfo
 * @property {typeof runBenchmark} runBenchmark
 * @property {{ send: Function, abort: Function }} pump
 * @property {string} loadHint how to load it, for errors
 */

/** @type {Map<string, Engine>} */
const engines = new Map([
  ["core", { name: "core", loader: core, createPayload, endpointInfo, runBenchmark, pump: corePump, loadHint: "call `await init()` first (in workerd: `initSync(wasmModule)`)" }],
]);

/** How each optional engine is loaded (it registers itself when its module is imported). */
const LOAD_HINTS = /** @type {Record<string, string>} */ ({
  aws: "import { initAws } from \"llmeter-wasm/aws.js\" and `await initAws()` first (in workerd: `initAwsSync(wasmModule)`)",
});

/** Called by an optional engine's module when it is imported. @param {Engine} engine */
export function registerEngine(engine) {
  engines.set(engine.name, engine);
}

/**
 * The engine `name`, ready to use.
 * @param {string} name
 * @param {string} who what needs it, for the error (e.g. `BedrockConverseEndpoint`)
 * @returns {Engine}
 */
export function readyEngine(name, who) {
  const engine = engines.get(name);
  if (!engine || !engine.loader.initialized()) {
    const hint = engine?.loadHint ?? LOAD_HINTS[name] ?? `load the ${name} engine first`;
    throw new Error(`${who} runs in llmeter-wasm's ${name} engine, which is not loaded: ${hint}`);
  }
  return engine;
}

/**
 * The engine `name`, loaded now if its module was imported (a run loads it by itself).
 * @param {string} name
 * @param {string} who
 * @returns {Promise<Engine>}
 */
export async function loadEngine(name, who) {
  const engine = engines.get(name);
  if (engine) await engine.loader.init();
  return readyEngine(name, who);
}

/** Whether the engine `name` is loaded. @param {string} name */
export function engineLoaded(name) {
  return engines.get(name)?.loader.initialized() ?? false;
}
