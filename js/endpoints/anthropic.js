// @ts-check
import { Endpoint, optionsObject } from "./endpoint.js";

/**
 * @typedef {Object} AnthropicEndpointOptions
 * @property {string} model
 * @property {string} [baseUrl] API base including the version (default `https://api.anthropic.com/v1`).
 * @property {string} [apiKey] Sent as `x-api-key`; never saved in any result.
 * @property {string} [anthropicVersion] The `anthropic-version` header (default `2023-06-01`).
 * @property {boolean} [directBrowserAccess] Send `anthropic-dangerous-direct-browser-access: true`,
 *   Anthropic's opt-in to answer browser pages (CORS). Default: true in browsers (pages and
 *   workers), false elsewhere. It means the API key is in the page: any script running there
 *   can read it — use a key you can revoke, scoped to this use, and never one of a shared page.
 * @property {Record<string, string>} [headers] Extra request headers (e.g. `anthropic-beta`);
 *   treated as secrets (never saved).
 * @property {boolean} [stream] Stream the response (default true; TTFT needs streaming).
 * @property {boolean} [ttftVisibleTokensOnly] TTFT at the first visible text delta (default true);
 *   `false` also counts the first `thinking_delta` / `signature_delta`, as LLMeter's option.
 * @property {string} [endpointName] Recorded in results (default "anthropic-messages").
 * @property {string} [provider] Recorded in results (default "anthropic").
 */

/**
 * Anthropic's Messages API (`POST {baseUrl}/messages`), as LLMeter's `AnthropicMessagesStream` /
 * `AnthropicMessages`.
 */
export class AnthropicEndpoint extends Endpoint {
  /** @readonly @type {"anthropic"} */
  kind = "anthropic";

  /** @param {AnthropicEndpointOptions} options */
  constructor(options) {
    const { apiKey, headers, ...settings } = optionsObject(options, "AnthropicEndpoint");
    // Anthropic's CORS opt-in, by default where the code runs in a browser page or worker.
    settings.directBrowserAccess ??= typeof document !== "undefined" || typeof (/** @type {any} */ (globalThis).importScripts) === "function";
    super("anthropic", settings, { apiKey, headers });
    /** @readonly @type {string} */ this.baseUrl = settings.baseUrl ?? "https://api.anthropic.com/v1";
    /** @readonly @type {string} */ this.model = settings.model;
  }
}
