// Plain Node ESM, no bundler: `init()` reads the .wasm from the installed package.
//   node run.mjs <llm-sim /v1 URL>   → the measurement as JSON on stdout
import { init } from "llmeter-wasm";
import { Tokenizer } from "llmeter-wasm/tokenizer.js";
import { toZip } from "llmeter-wasm/store.js";
import pkg from "llmeter-wasm/package.json" with { type: "json" };
import { measure, TOKENIZER_JSON } from "./measure.js";

await init();
const { result, json } = await measure(process.argv[2]);
const zip = await toZip(result, { folder: "node" });
const tokenizer = await Tokenizer.fromJSON(TOKENIZER_JSON, "tiny");
console.log(JSON.stringify({ ...json, zipBytes: zip.length, tokens: tokenizer.countTokens("hello world hello"), version: pkg.version }));
