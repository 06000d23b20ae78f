// @ts-check
/**
 * The engine modules an endpoint can run in. The core module runs every endpoint family but
 * the AWS ones; the AWS build (`llmeter_wasm_aws`: the same engine plus the Bedrock and
 * SageMaker endpoints) is a separate, optional module that `llmeter-wasm/aws.js` loads and
 * registers here, so the core stays small for everyone else. A run executes entirely inside its
 * endpoint's engine (requests, pump, parsing, result): nothing crosses between modules per
 * chunk. Each engine has its own loader, crash handler and pump (`defineEngine`).
 * @internal
 */
import { wasmLoader } from "./loader.js";
import { createCrashHandler } from "./crash.js";
import { createPump } from "./pump.js";

/**
 * The exports every engine module has (the same crate, built with other features).
 * @typedef {typeof import("./llmeter_wasm.js")} EngineExports
 */

/**
 * @typedef {Object} Engine
 * @property {string} name
 * @property {import("./loader.js").WasmLoader} loader
 * @property {EngineExports} wasm its exports (runBenchmark, createPayload, endpointInfo, …)
 * @property {import("./crash.js").CrashHandler} crash
 * @property {string} loadHint how to load it, for errors
 */

/**
 * An engine module: its loader, and on each fresh instance the platform side connected (crash
 * reporter, fetch pump and timer, the task queue's guard).
 * @param {{ name: string, wasm: EngineExports, files: import("./loader.js").WasmFiles, loadHint: string }} spec
 *   `files.init`/`files.initSync` are the module's wasm-bindgen initialisers
 * @returns {Engine}
 */
export function defineEngine({ name, wasm, files, loadHint }) {
  const crash = createCrashHandler(wasm.__wbg_reset_state);
  const pump = createPump(wasm, crash);
  const connect = () => {
    wasm.setCrashReporter((/** @type {string} */ message) => crash.crashed(message));
    wasm.setPlatform(pump);
    /** @type {any} */ (wasm).__llmeterSetGuard?.(crash.guard);
  };
  crash.afterReset(connect);
  const loader = wasmLoader({
    ...files,
    init: async (/** @type {any} */ input) => { await files.init(input); connect(); },
    initSync: (/** @type {any} */ input) => { files.initSync(input); connect(); },
  });
  return { name, loader, wasm, crash, loadHint };
}

/** @type {Map<string, Engine>} */
const engines = new Map();

/** How each optional engine is loaded (it registers itself when its module is imported). */
const LOAD_HINTS = /** @type {Record<string, string>} */ ({
  aws: "import { initAws } from \"llmeter-wasm/aws.js\" and `await initAws()` first (in workerd: `initAwsSync(wasmModule)`)",
});

/** Called by each engine's module when it is imported. @param {Engine} engine */
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
