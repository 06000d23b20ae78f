// @ts-check
/**
 * llmeter-wasm/aws.js — the AWS engine: Amazon Bedrock (Converse, InvokeModel) and SageMaker
 * endpoints, with SigV4 signing and the AWS event-stream framing.
 *
 * It is the same engine as the core plus the AWS endpoints, built as its own wasm file
 * (`llmeter_wasm_aws_bg.wasm`), so the core module stays small for everyone who does not
 * measure AWS: nothing here is loaded unless this file is imported, and the wasm is fetched
 * (browsers, Deno) or read (Node) on `initAws()`. A run with an AWS endpoint then executes
 * entirely in this module. In workerd, import the `.wasm` as a module and call
 * `initAwsSync(module)`.
 *
 * ```js
 * import { Runner, BedrockConverseEndpoint } from "llmeter-wasm";
 * import { initAws } from "llmeter-wasm/aws.js";
 * await initAws();
 * const endpoint = new BedrockConverseEndpoint({ region: "us-east-1", model: "amazon.nova-micro-v1:0", accessKeyId, secretAccessKey });
 * const result = await new Runner({ endpoint }).run({ payload: endpoint.createPayload("Hello", 64), nRequests: 10 });
 * ```
 */
import wasmInit, * as awsWasm from "./llmeter_wasm_aws.js";
import { defineEngine, registerEngine } from "./engines.js";
import "./core.js"; // the core engine, which the package's other rules run in
export { BedrockConverseEndpoint, BedrockInvokeEndpoint } from "./endpoints/bedrock.js";
export { SageMakerEndpoint } from "./endpoints/sagemaker.js";

// The URL is literal, so that bundlers emit the .wasm and rewrite it; in Node, server bundles
// without the file use the inlined copy (see loader.js).
const engine = defineEngine({
  name: "aws",
  wasm: /** @type {import("./engines.js").EngineExports} */ (/** @type {unknown} */ (awsWasm)),
  files: {
    init: wasmInit,
    initSync: awsWasm.initSync,
    syncName: "initAwsSync",
    url: () => new URL("./llmeter_wasm_aws_bg.wasm", import.meta.url),
    inlined: () => import("#inline/llmeter_wasm_aws_bg.wasm"),
  },
  loadHint: "`await initAws()` first (in workerd: `initAwsSync(wasmModule)`)",
});
registerEngine(engine);
const module = engine.loader;

/**
 * Loads the AWS engine's wasm module (about 230 KB gzipped). Without an argument it finds
 * `llmeter_wasm_aws_bg.wasm` next to this file (by `fetch` in browsers and Deno, by reading the
 * file in Node). Concurrent and repeated calls share one load; a failed load can be retried.
 * @param {import("./types.js").WasmSource} [source]
 * @returns {Promise<void>}
 */
export async function initAws(source) {
  await module.init(source);
}

/**
 * Synchronous initialisation from a compiled module or bytes (workerd: `import wasm from
 * "llmeter-wasm/llmeter_wasm_aws_bg.wasm"; initAwsSync(wasm)`).
 * @param {import("./types.js").WasmBytes | import("./types.js").WasmModule} wasm
 */
export function initAwsSync(wasm) {
  module.initSync(wasm);
}

/** Whether the AWS engine has been instantiated. */
export function awsInitialized() {
  return module.initialized();
}
