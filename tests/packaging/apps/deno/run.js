// Deno with `npm:` specifiers (deno.json maps the bare name, which measure.js uses, to the same
// package): `init()` fetches the .wasm from Deno's npm cache.
//   deno run --allow-net=127.0.0.1 --allow-read run.js <llm-sim /v1 URL>
import { init } from "npm:llmeter-wasm@0.1.0";
import { Tokenizer } from "npm:llmeter-wasm@0.1.0/tokenizer.js";
import { measure, TOKENIZER_JSON } from "./measure.js";

await init();
const { json } = await measure(Deno.args[0]);
const tokenizer = await Tokenizer.fromJSON(TOKENIZER_JSON, "tiny");
console.log(JSON.stringify({ ...json, tokens: tokenizer.countTokens("hello world hello") }));
