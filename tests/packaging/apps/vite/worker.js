// The engine in a module worker (Vite bundles it on its own).
import { init } from "llmeter-wasm";
import { measure, TOKENIZER_JSON } from "./measure.js";

self.onmessage = async ({ data }) => {
  try {
    await init();
    const { json } = await measure(data.baseUrl);
    const { Tokenizer } = await import("llmeter-wasm/tokenizer.js");
    const tokenizer = await Tokenizer.fromJSON(TOKENIZER_JSON, "tiny");
    self.postMessage({ ...json, tokens: tokenizer.countTokens("hello world hello") });
  } catch (e) {
    self.postMessage({ error: `${e.name}: ${e.message}` });
  }
};
