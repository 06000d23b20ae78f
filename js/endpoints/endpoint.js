// @ts-check
/**
 * What every endpoint class shares. An endpoint is a `kind` and its settings, handed to the
 * engine as one config object; the engine's core reads and checks it, builds the requests,
 * parses the responses and names the LLMeter class. A JS endpoint class only gathers options:
 * adding a family means one core module and one small class here.
 */
import { createPayload as wasmCreatePayload, endpointInfo } from "../llmeter_wasm.js";
import { core, requireCore } from "../core.js";

/** The endpoint families (`kind` of each endpoint class). @typedef {"openai" | "openai-responses" | "anthropic" | "custom"} EndpointKind */

/** Full configs including secrets, reachable only from inside the package. */
const configs = new WeakMap();

/**
 * LLMeter's identity of an endpoint, as recorded in results.
 * @typedef {Object} EndpointInfo
 * @property {string | null} endpoint_name
 * @property {string | null} model_id
 * @property {string | null} provider
 * @property {string} endpoint_type LLMeter's class name, e.g. `OpenAICompletionStreamEndpoint`.
 */

/** The interface every endpoint class implements; `Runner`, the experiments and the store take any of them. */
export class Endpoint {
  /**
   * @param {EndpointKind} kind which family (selects the engine's core module)
   * @param {Record<string, unknown>} settings public settings (in results and `toJSON()`)
   * @param {Record<string, unknown>} secrets keys, tokens and secret headers: sent, never saved
   */
  constructor(kind, settings, secrets) {
    /** @readonly */ this.kind = kind;
    /** @private */ this._settings = Object.freeze({ ...settings });
    configs.set(this, { ...settings, ...secrets, kind });
    /** @private @type {EndpointInfo | undefined} */ this._info = undefined;
    // Checked by the core now if it is loaded, else on first use (same rules either way).
    if (core.initialized()) void this.info;
  }

  /** LLMeter's identity of this endpoint (needs the module loaded). @returns {EndpointInfo} */
  get info() {
    requireCore();
    return (this._info ??= /** @type {EndpointInfo} */ (endpointInfo(configs.get(this))));
  }

  /**
   * LLMeter's `create_payload` for this endpoint: a payload for `message` (a string, or a list
   * of strings that become text blocks) and an output-token limit, with `extra` merged in.
   * @param {string | string[]} message
   * @param {number} [maxTokens]
   * @param {Record<string, unknown>} [extra]
   * @returns {Record<string, unknown>}
   */
  createPayload(message, maxTokens = 256, extra = {}) {
    requireCore();
    return wasmCreatePayload(configs.get(this), message, maxTokens, extra);
  }

  /** Public description without secrets. @returns {Record<string, unknown>} */
  toJSON() {
    return { kind: this.kind, ...this._settings };
  }
}

/**
 * The engine's config of an endpoint, secrets included (never exported from the package).
 * @internal
 * @param {unknown} endpoint
 */
export function endpointConfig(endpoint) {
  const config = endpoint instanceof Endpoint ? configs.get(endpoint) : undefined;
  if (!config) throw new TypeError("endpoint must be an llmeter-wasm endpoint (e.g. new OpenAIEndpoint({...}))");
  return config;
}

/**
 * @param {unknown} options
 * @param {string} className
 * @returns {Record<string, any>}
 */
export function optionsObject(options, className) {
  if (!options || typeof options !== "object") throw new TypeError(`${className} options must be an object`);
  return /** @type {Record<string, any>} */ (options);
}
