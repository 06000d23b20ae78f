// @ts-check
import { Endpoint, optionsObject } from "./endpoint.js";

/**
 * @typedef {Object} OpenAIResponsesEndpointOptions
 * @property {string} baseUrl API base including the version, e.g. `https://api.openai.com/v1`.
 * @property {string} model
 * @property {string} [apiKey] Sent as `Authorization: Bearer …`; never saved in any result.
 * @property {Record<string, string>} [headers] Extra request headers; treated as secrets (never saved).
 * @property {boolean} [stream] Stream the response (default true; TTFT needs streaming).
 * @property {boolean} [ttftVisibleTokensOnly] TTFT at the first visible text delta (default true);
 *   `false` also counts the first reasoning delta, as LLMeter's option.
 * @property {string} [endpointName] Recorded in results (default LLMeter's: "openai-response-stream",
 *   or "openai-response" without streaming).
 * @property {string} [provider] Recorded in results (default "openai").
 */

/**
 * The OpenAI Responses API (`POST {baseUrl}/responses`), as LLMeter's
 * `OpenAIResponseStreamEndpoint` / `OpenAIResponseEndpoint`.
 */
export class OpenAIResponsesEndpoint extends Endpoint {
  /** @readonly @type {"openai-responses"} */
  kind = "openai-responses";

  /** @param {OpenAIResponsesEndpointOptions} options */
  constructor(options) {
    const { apiKey, headers, ...settings } = optionsObject(options, "OpenAIResponsesEndpoint");
    super("openai-responses", settings, { apiKey, headers });
    /** @readonly @type {string} */ this.baseUrl = settings.baseUrl;
    /** @readonly @type {string} */ this.model = settings.model;
  }
}
