// @ts-check
import { Endpoint, optionsObject } from "./endpoint.js";

/**
 * @typedef {Object} OpenAIEndpointOptions
 * @property {string} baseUrl API base including the version, e.g. `https://api.openai.com/v1`.
 * @property {string} model
 * @property {string} [apiKey] Sent as `Authorization: Bearer …`; never saved in any result.
 * @property {Record<string, string>} [headers] Extra request headers; treated as secrets (never saved).
 * @property {boolean} [stream] Stream the response (default true; TTFT needs streaming).
 * @property {string} [endpointName] Recorded in results (default "openai").
 * @property {string} [provider] Recorded in results (default "openai").
 */

/** An OpenAI-compatible Chat Completions endpoint (`POST {baseUrl}/chat/completions`). */
export class OpenAIEndpoint extends Endpoint {
  /** @readonly @type {"openai"} */
  kind = "openai";

  /** @param {OpenAIEndpointOptions} options */
  constructor(options) {
    const { apiKey, headers, ...settings } = optionsObject(options, "OpenAIEndpoint");
    super("openai", settings, { apiKey, headers });
    /** @readonly @type {string} */ this.baseUrl = settings.baseUrl;
    /** @readonly @type {string} */ this.model = settings.model;
  }
}
