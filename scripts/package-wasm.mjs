// Package entries for one wasm module in pkg/ (run by scripts/build-module.sh after wasm-bindgen):
//   node scripts/package-wasm.mjs <out name>       e.g. llmeter_wasm
// writes
//   pkg/<out>_bg.wasm.d.ts        types of the `llmeter-wasm/<out>_bg.wasm` subpath (replacing
//                                 wasm-bindgen's, which lists the raw exports: internal, and
//                                 wrong for `import wasm from "…wasm"` in workerd and bundlers)
//   pkg/<out>_bg.wasm.base64.js   the same bytes inlined as base64, decoded on import: for
//   pkg/<out>_bg.wasm.base64.d.ts bundlers and set-ups with no support for .wasm files at all
import path from "node:path";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const PKG = path.join(path.dirname(fileURLToPath(import.meta.url)), "../pkg");

/** Per module: the entry module that loads it and its initialisers. */
const MODULES = {
  llmeter_wasm: { what: "The core engine's WebAssembly module", from: "llmeter-wasm", init: "init", initSync: "initSync" },
  llmeter_tokenizers: { what: "The tokenizer WebAssembly module (`llmeter-wasm/tokenizer.js`)", from: "llmeter-wasm/tokenizer.js", init: "initTokenizers", initSync: "initTokenizersSync" },
  llmeter_wasm_aws: { what: "The AWS engine's WebAssembly module (`llmeter-wasm/aws.js`: Bedrock and SageMaker)", from: "llmeter-wasm/aws.js", init: "initAws", initSync: "initAwsSync" },
  llmeter_store: { what: "The result store's WebAssembly module (`llmeter-wasm/store.js`)", from: "llmeter-wasm/store.js", init: "initStore", initSync: "initStoreSync" },
  llmeter_fleet: { what: "The fleet's WebAssembly module (`llmeter-wasm/fleet.js`: merges, plans)", from: "llmeter-wasm/fleet.js", init: "initFleet", initSync: "initFleetSync" },
};

const out = process.argv[2];
const m = MODULES[out];
if (!m) throw new Error(`unknown module ${out}: one of ${Object.keys(MODULES).join(", ")}`);
const wasmFile = `${out}_bg.wasm`;
const bytes = readFileSync(path.join(PKG, wasmFile));

writeFileSync(path.join(PKG, `${wasmFile}.d.ts`), `/**
 * ${m.what}, for runtimes and bundlers that import \`.wasm\` files as compiled modules
 * (workerd, wrangler and other Cloudflare Workers tooling):
 *
 * \`\`\`js
 * import { ${m.initSync} } from "${m.from}";
 * import wasm from "llmeter-wasm/${wasmFile}";
 * ${m.initSync}(wasm);
 * \`\`\`
 *
 * Bundlers set up to import files as URLs (esbuild's \`file\` loader, Rollup's url plugin) give
 * the emitted file's URL instead: pass it to \`await ${m.init}(wasm)\`, which takes either.
 */
declare const wasm: import("./types.js").WasmModule;
export default wasm;
`);

writeFileSync(path.join(PKG, `${wasmFile}.base64.d.ts`), `/**
 * ${m.what} as bytes, inlined in JavaScript (base64, about a third larger than the \`.wasm\`):
 * for bundlers and set-ups with no support for \`.wasm\` files.
 *
 * \`\`\`js
 * import { ${m.init} } from "${m.from}";
 * import wasm from "llmeter-wasm/${wasmFile}.base64.js";
 * await ${m.init}(wasm);
 * \`\`\`
 */
declare const wasm: Uint8Array;
export default wasm;
`);

writeFileSync(path.join(PKG, `${wasmFile}.base64.js`), `// ${wasmFile} (${bytes.length} bytes) as base64, decoded on import; see ${wasmFile}.base64.d.ts.
const base64 = "${bytes.toString("base64")}";
const text = atob(base64);
const wasm = new Uint8Array(text.length);
for (let i = 0; i < text.length; i++) wasm[i] = text.charCodeAt(i);
export default wasm;
`);
console.log(`[package-wasm] pkg/${wasmFile}.d.ts, pkg/${wasmFile}.base64.js (+ .d.ts)`);
