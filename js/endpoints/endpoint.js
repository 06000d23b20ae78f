// @ts-check
/**
 * What every endpoint class shares. An endpoint is a `kind` and its settings, handed to the
 * engine as one config object; the engine's core reads and checks it, builds the requests,
 * parses the responses and names the LLMeter class. A JS endpoint class only gathers options:
 * adding a family means one core module and one small class here.
 */
import { readyEngine, engineLoaded } from "../engines.js";
import "../core.js"; // registers the core engine, which most families run in

/**
 * The endpoint families (`kind` of each endpoint class).
 * @typedef {"openai" | "openai-responses" | "anthropic" | "custom" | "bedrockConverse" | "bedrockInvoke" | "sagemaker"} EndpointKind
 */

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

/**
 * The interface every endpoint class implements; `Runner`, the experiments and the store take any
 * of them. Made only by those classes (`new OpenAIEndpoint({...})`, …; a user's own API is a
 * `CustomEndpoint`), never directly: its constructor takes the secrets apart from the settings.
 */
export class Endpoint {
  /**
   * @internal @protected the package's endpoint classes call it with their options split
   * @param {EndpointKind} kind which family (selects the engine's core module)
   * @param {Record<string, unknown>} settings public settings (in results and `toJSON()`)
   * @param {Record<string, unknown>} secrets keys, tokens and secret headers: sent, never saved
   * @param {string} [engine] the engine module it runs in (`core`, or `aws` for the AWS families)
   */
  constructor(kind, settings, secrets, engine = "core") {
    /** @readonly */ this.kind = kind;
    /** @private */ this._settings = Object.freeze({ ...settings });
    /** @private */ this._engine = engine;
    configs.set(this, { ...settings, ...secrets, kind });
    /** @private @type {EndpointInfo | undefined} */ this._info = undefined;
    // Checked by the engine now if it is loaded, else on first use (same rules either way).
    if (engineLoaded(engine)) void this.info;
  }

  /** LLMeter's identity of this endpoint (needs its engine loaded). @returns {EndpointInfo} */
  get info() {
    const engine = readyEngine(this._engine, this.constructor.name);
    return (this._info ??= /** @type {EndpointInfo} */ (engine.wasm.endpointInfo(configs.get(this))));
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
    return readyEngine(this._engine, this.constructor.name).wasm.createPayload(configs.get(this), message, maxTokens, extra);
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
 * The engine module an endpoint runs in (`core`, `aws`).
 * @internal
 * @param {Endpoint} endpoint
 * @returns {string}
 */
export function endpointEngine(endpoint) {
  return /** @type {any} */ (endpoint)._engine;
}

/**
 * An endpoint class's options, checked to be an object.
 * @internal
 * @param {unknown} options
 * @param {string} className
 * @returns {Record<string, any>}
 */
export function optionsObject(options, className) {
  if (!options || typeof options !== "object") throw new TypeError(`${className} options must be an object`);
  return /** @type {Record<string, any>} */ (options);
}
