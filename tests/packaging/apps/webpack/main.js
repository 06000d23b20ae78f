// webpack 5, no loader or plugin for .wasm: `init()` finds the .wasm webpack emitted (an asset
// module, from the package's `new URL("….wasm", import.meta.url)`); store.js and tokenizer.js
// become their own chunks.
import { init } from "llmeter-wasm";
import { measure, TOKENIZER_JSON } from "./measure.js";

async function main() {
  await init();
  const { result, json } = await measure(new URLSearchParams(location.search).get("baseUrl"));
  const { toZip } = await import("llmeter-wasm/store.js");
  const zip = await toZip(result, { folder: "webpack-page" });
  const { Tokenizer } = await import("llmeter-wasm/tokenizer.js");
  const tokenizer = await Tokenizer.fromJSON(TOKENIZER_JSON, "tiny");
  const figures = await result.figures();
  return { ...json, zipBytes: zip.length, tokens: tokenizer.countTokens("hello world hello"), figures: Object.keys(figures) };
}

main().then(
  (page) => { window.__result = { page }; },
  (e) => { window.__result = { error: `${e.name}: ${e.message}` }; },
);
