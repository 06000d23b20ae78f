// Prints what the built package's `createPayload` returns for each case, for
// test_create_payload.py, which compares them with Python LLMeter's own `create_payload`:
//   node tests/python/create_payloads.mjs '<cases JSON>'
// A case is {kind, options, message, maxTokens?, extra?} (`maxTokens` absent: the default);
// each result is {payload} or {error: {name, message}}.
import { init, OpenAIEndpoint, OpenAIResponsesEndpoint, AnthropicEndpoint, BedrockConverseEndpoint, BedrockInvokeEndpoint, SageMakerEndpoint } from "../../pkg/index.js";
import { initAws } from "../../pkg/aws.js";

const CLASSES = {
  openai: OpenAIEndpoint,
  "openai-responses": OpenAIResponsesEndpoint,
  anthropic: AnthropicEndpoint,
  bedrockConverse: BedrockConverseEndpoint,
  bedrockInvoke: BedrockInvokeEndpoint,
  sagemaker: SageMakerEndpoint,
};

await init();
await initAws();
const results = JSON.parse(process.argv[2]).map((/** @type {any} */ c) => {
  try {
    const endpoint = new CLASSES[c.kind](c.options);
    const payload = "maxTokens" in c ? endpoint.createPayload(c.message, c.maxTokens, c.extra) : endpoint.createPayload(c.message, undefined, c.extra);
    return { payload };
  } catch (e) {
    return { error: { name: e.name, message: e.message } };
  }
});
console.log(JSON.stringify(results));
