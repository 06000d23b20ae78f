// The measurement every app runs, copied into each app when it is built (tests/packaging/harness.js):
// a warm-up, then 2 clients × 3 requests of 8 output tokens against llm-sim. The app loads the
// wasm first, in the way the package README gives for its bundler or runtime.
import { OpenAIEndpoint, Runner } from "llmeter-wasm";

export const CLIENTS = 2;
export const PER_CLIENT = 3;
export const OUTPUT_TOKENS = 8;

/** A tokenizer.json small enough to inline: whitespace words over a three-word vocabulary. */
export const TOKENIZER_JSON = JSON.stringify({
  version: "1.0", truncation: null, padding: null, added_tokens: [], normalizer: null,
  pre_tokenizer: { type: "Whitespace" }, post_processor: null, decoder: null,
  model: { type: "WordLevel", vocab: { hello: 0, world: 1, "[UNK]": 2 }, unk_token: "[UNK]" },
});

/**
 * @param {string} baseUrl llm-sim's `/v1` URL
 * @returns {Promise<{ result: import("llmeter-wasm").Result, json: { responses: unknown[], stats: unknown, info: unknown } }>}
 */
export async function measure(baseUrl) {
  const endpoint = new OpenAIEndpoint({ baseUrl, model: "sim-model", apiKey: "sk-packaging-test" });
  const runner = new Runner({ endpoint, timeout: 30 });
  // Not measured: connection set-up, CORS preflight, JIT.
  await runner.run({ clients: CLIENTS, nRequests: 1, payload: endpoint.createPayload("warm-up", 2) });
  const result = await runner.run({ clients: CLIENTS, nRequests: PER_CLIENT, payload: endpoint.createPayload("Hello from a bundle", OUTPUT_TOKENS) });
  return { result, json: { responses: result.responses, stats: result.stats, info: result.info } };
}
