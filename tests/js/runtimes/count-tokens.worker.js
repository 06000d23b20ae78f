// workerd: the tokenizer module with its .wasm imported as a module (initTokenizersSync) and a
// tokenizer.json bundled as a data module; POST a JSON array of texts → their token counts.
import { initTokenizersSync, Tokenizer } from "llmeter-wasm/tokenizer.js";
import wasm from "llmeter-wasm/llmeter_tokenizers_bg.wasm";
import tokenizerJson from "tokenizer.json";

initTokenizersSync(wasm);
let tokenizer;

export default {
  async fetch(request) {
    tokenizer ??= await Tokenizer.fromBytes(tokenizerJson, "llama3");
    const texts = await request.json();
    return Response.json(texts.map((t) => tokenizer.countTokens(t)));
  },
};
