// @ts-check
import { Endpoint, optionsObject } from "./endpoint.js";

/**
 * Where and as whom AWS requests go. Credentials are sent (signed with SigV4, or as a bearer
 * token) and never saved in any result, store, export or share link.
 * @typedef {Object} AwsOptions
 * @property {string} region e.g. `us-east-1` (also the SigV4 signing region).
 * @property {string} [endpointUrl] Replaces the regional endpoint (e.g. llm-sim's
 *   `http://127.0.0.1:8000`, a VPC endpoint or a proxy).
 * @property {string} [accessKeyId] SigV4 access key id (with `secretAccessKey`).
 * @property {string} [secretAccessKey]
 * @property {string} [sessionToken] For temporary credentials (sent as `x-amz-security-token`).
 * @property {Record<string, string>} [headers] Extra request headers (signed too); treated as secrets.
 */

/**
 * Splits options into public settings and secrets (credentials and headers never reach a result).
 * @internal
 * @param {Record<string, any>} options
 */
export function awsOptions(options) {
  const { accessKeyId, secretAccessKey, sessionToken, apiKey, headers, ...settings } = options;
  return { settings, secrets: { accessKeyId, secretAccessKey, sessionToken, apiKey, headers } };
}

/**
 * @typedef {AwsOptions & {
 *   model: string,
 *   apiKey?: string,
 *   stream?: boolean,
 *   inferenceConfig?: Record<string, unknown>,
 *   ttftVisibleTokensOnly?: boolean,
 *   endpointName?: string,
 * }} BedrockConverseEndpointOptions
 * `model`: model id, inference profile or ARN. `apiKey`: a Bedrock API key (`Authorization:
 * Bearer`) instead of SigV4 credentials. `stream` (default true): ConverseStream, else Converse.
 * `inferenceConfig`: used when a payload has none. `ttftVisibleTokensOnly` (default true):
 * reasoning deltas do not count as the first token. `endpointName`: recorded (default
 * "amazon bedrock").
 */

/**
 * Amazon Bedrock Converse / ConverseStream (`POST /model/{model}/converse[-stream]`), as LLMeter's
 * `BedrockConverse` / `BedrockConverseStream`. Runs in the AWS engine: `await initAws()` from
 * `llmeter-wasm/aws.js` first.
 */
export class BedrockConverseEndpoint extends Endpoint {
  /** @readonly @type {"bedrockConverse"} */
  kind = "bedrockConverse";

  /** @param {BedrockConverseEndpointOptions} options */
  constructor(options) {
    const { settings, secrets } = awsOptions(optionsObject(options, "BedrockConverseEndpoint"));
    super("bedrockConverse", settings, secrets, "aws");
    /** @readonly @type {string} */ this.model = settings.model;
    /** @readonly @type {string} */ this.region = settings.region;
  }
}

/**
 * @typedef {AwsOptions & {
 *   model: string,
 *   apiKey?: string,
 *   stream?: boolean,
 *   bodyFormat?: "openai" | "anthropic" | "llama" | "nova" | "titan",
 *   generatedTextPath?: string,
 *   inputTextPath?: string,
 *   generatedTokenCountPath?: string,
 *   inputTokenCountPath?: string,
 *   reasoningTextPath?: string,
 *   ttftVisibleTokensOnly?: boolean,
 *   endpointName?: string,
 * }} BedrockInvokeEndpointOptions
 * `bodyFormat` picks the default paths and `createPayload`'s body: `openai` (LLMeter's defaults),
 * `anthropic`, `llama`, `nova` or `titan`. The paths (a JMESPath subset: `a.b`, `"quoted-key"`,
 * `[0]`, `[-1]`, `[]`; see docs/AWS.md) say where the text and token counts are in each body or
 * stream chunk (LLMeter's `*_jmespath` options); `""` switches a token path off.
 */

/**
 * Amazon Bedrock InvokeModel / InvokeModelWithResponseStream (`POST
 * /model/{model}/invoke[-with-response-stream]`), as LLMeter's `BedrockInvoke` /
 * `BedrockInvokeStream`. Runs in the AWS engine: `await initAws()` from `llmeter-wasm/aws.js`
 * first.
 */
export class BedrockInvokeEndpoint extends Endpoint {
  /** @readonly @type {"bedrockInvoke"} */
  kind = "bedrockInvoke";

  /** @param {BedrockInvokeEndpointOptions} options */
  constructor(options) {
    const { settings, secrets } = awsOptions(optionsObject(options, "BedrockInvokeEndpoint"));
    super("bedrockInvoke", settings, secrets, "aws");
    /** @readonly @type {string} */ this.model = settings.model;
    /** @readonly @type {string} */ this.region = settings.region;
  }
}
