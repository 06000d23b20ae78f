// @ts-check
import { Endpoint, optionsObject } from "./endpoint.js";

/**
 * One message of a response, as `read` receives it.
 * @typedef {{type: "sse", event: string, data: string, id: string}
 *   | {type: "line", data: string}
 *   | {type: "bytes", bytes: Uint8Array}
 *   | {type: "body", data: string}} CustomEvent
 * - `sse`: one Server-Sent Event (`event` is "message" when the stream names none; `id` the last event id).
 * - `line`: one line of a JSON-lines body, without its terminator.
 * - `bytes`: one network chunk, as it arrived (`framing: "bytes"`).
 * - `body`: the whole body of a non-streaming response (`stream: false`).
 */

/**
 * What `read` makes of one event; every key is optional, and nothing (undefined) means
 * "nothing here". Unknown keys are errors (a typo must not pass silently).
 * @typedef {Object} CustomReading
 * @property {string} [text] Visible output: TTFT/TTLT points when non-empty; appended to the response text.
 * @property {boolean | string} [reasoning] Hidden output (reasoning): a TTFT point only with `ttftVisibleTokensOnly: false`.
 * @property {string} [id] The response id (the first one given is kept).
 * @property {{input?: number, output?: number, inputCached?: number, outputReasoning?: number}} [usage]
 *   Token counts the API reports (each one given replaces the previous value).
 * @property {string} [error] The request failed with this message (text kept so far stays).
 * @property {boolean} [done] The response is complete (see `requireDone`).
 */

/**
 * @typedef {Object} CustomEndpointOptions
 * @property {string} url Where requests go.
 * @property {(event: CustomEvent) => CustomReading | undefined | null} read Reads one event (or the
 *   whole body without streaming). Synchronous: it runs as each message arrives, after the
 *   engine stamped its arrival, so keep it light.
 * @property {(payload: any) => string | Uint8Array | object} [request] The body to send for a
 *   payload (an object is sent as JSON). Default: the payload as JSON. Called once per distinct payload.
 * @property {(message: string | string[], maxTokens: number, extra: Record<string, unknown>) => Record<string, unknown>} [createPayload]
 *   What `endpoint.createPayload` returns. Default: a Chat Completions payload. (The prompt
 *   recorded for input-token counts, when the API reports none, is the chat `messages` texts,
 *   else a `prompt`, `input` or `inputs` string of the payload.)
 * @property {"sse" | "json-lines" | "bytes"} [framing] How a stream is cut into events (default "sse").
 * @property {boolean} [stream] Whether responses stream (default true); `false` hands the whole body to `read` once.
 * @property {"POST" | "PUT" | "PATCH" | "GET"} [method] Default "POST".
 * @property {Record<string, string>} [headers] Request headers (e.g. an API key, `content-type`);
 *   all treated as secrets: sent, never saved. Put credentials here, never in `request`'s body.
 * @property {boolean} [ttftVisibleTokensOnly] Default true (readings with `reasoning` do not set TTFT).
 * @property {boolean} [requireDone] A stream is complete only once a reading said `done` (default:
 *   any stream that ends cleanly is complete).
 * @property {string} [model] Recorded in results.
 * @property {string} [endpointName] Recorded in results (default "custom").
 * @property {string} [provider] Recorded in results (default "custom").
 * @property {string} [endpointType] The class name recorded as LLMeter's `endpoint_type` (default "CustomEndpoint").
 */

/** @param {unknown} f @param {string} name @param {boolean} required */
function checkFunction(f, name, required) {
  if (f === undefined && !required) return;
  if (typeof f !== "function") throw new TypeError(`${name} ${required ? "is required (a function)" : "must be a function"}`);
}

/** @param {unknown} v */
const typeName = (v) => (v === null ? "null" : Array.isArray(v) ? "an array" : typeof v === "object" ? "an object" : `a ${typeof v}`);
/** @param {string} key @param {unknown} v @param {string} want */
const wrong = (key, v, want) => new TypeError(`returned ${key} as ${typeName(v)}: must be ${want}`);
const USAGE_SLOTS = { input: 5, output: 6, inputCached: 7, outputReasoning: 8 };

/**
 * The error for a hook that returned a promise; the promise's rejection is marked handled (the
 * error reports it) so it cannot end a Node process as an unhandled rejection.
 * @param {any} promise
 */
function asyncResult(promise) {
  promise.then(undefined, () => {});
  return new TypeError("must be synchronous (it returned a promise)");
}

/**
 * Checks a reading key by key (a typo must not pass silently) and packs it for the engine:
 * `[text, reasoning, id, error, done, input, output, inputCached, outputReasoning]`.
 * @param {unknown} reading
 */
export function packReading(reading) {
  if (typeof reading !== "object" || reading === null || Array.isArray(reading)) {
    throw new TypeError(`must return an object like {text, usage, id, error, done} or nothing, got ${typeName(reading)}`);
  }
  if (typeof (/** @type {any} */ (reading).then) === "function") throw asyncResult(reading);
  /** @type {unknown[]} */
  const out = [undefined, false, undefined, undefined, false, undefined, undefined, undefined, undefined];
  for (const [key, v] of Object.entries(reading)) {
    if (v === undefined || v === null) continue;
    switch (key) {
      case "text":
        if (typeof v !== "string") throw wrong(key, v, "a string");
        out[0] = v;
        break;
      case "reasoning":
        if (typeof v !== "boolean" && typeof v !== "string") throw wrong(key, v, "a boolean or the reasoning text");
        out[1] = v === true || (typeof v === "string" && v !== "");
        break;
      case "id":
        if (typeof v !== "string" && typeof v !== "number") throw wrong(key, v, "a string");
        out[2] = String(v);
        break;
      case "error":
        if (v !== false) out[3] = typeof v === "string" ? v || "(empty error)" : JSON.stringify(v);
        break;
      case "done":
        if (typeof v !== "boolean") throw wrong(key, v, "a boolean");
        out[4] = v;
        break;
      case "usage":
        if (typeof v !== "object" || Array.isArray(v)) throw wrong(key, v, "an object like {input, output}");
        for (const [name, n] of Object.entries(v)) {
          const slot = /** @type {Record<string, number>} */ (USAGE_SLOTS)[name];
          if (slot === undefined) throw new TypeError(`returned an unknown usage key ${JSON.stringify(name)} (known: ${Object.keys(USAGE_SLOTS).join(", ")})`);
          if (n === undefined || n === null) continue;
          if (typeof n !== "number") throw wrong(`usage.${name}`, n, "a non-negative integer");
          if (!Number.isSafeInteger(n) || n < 0) throw new TypeError(`returned usage.${name} = ${n}: must be a non-negative integer`);
          out[slot] = n;
        }
        break;
      default:
        throw new TypeError(`returned an unknown key ${JSON.stringify(key)} (known: text, reasoning, id, usage, error, done)`);
    }
  }
  return out;
}

/**
 * The engine calls this wrapper with plain values (one call per event: an SSE event's data,
 * type and id, or the bytes of a line, chunk or body); it builds the event object for the
 * user's function and hands its checked reading back.
 * @param {Function} read
 * @param {unknown} framing
 * @param {unknown} stream
 */
function wrapRead(read, framing, stream) {
  const decoder = new TextDecoder();
  // What a message given as bytes is: the whole body without streaming, else the framing's.
  const type = stream === false ? "body" : String(framing ?? "sse").toLowerCase() === "bytes" ? "bytes" : "line";
  /** @param {string | Uint8Array} data @param {string} [event] @param {string} [id] */
  return (data, event, id) => {
    const ev =
      typeof data === "string" ? { type: "sse", event, data, id } : type === "bytes" ? { type, bytes: data } : { type, data: decoder.decode(data) };
    const reading = read(ev);
    return reading === undefined || reading === null ? undefined : packReading(reading);
  };
}

const encoder = new TextEncoder();

/** @param {Function} request */
function wrapRequest(request) {
  /** @param {unknown} payload */
  return (payload) => {
    const body = request(payload);
    if (typeof body === "string") return encoder.encode(body);
    if (typeof body?.then === "function") throw asyncResult(body);
    if (body instanceof Uint8Array) return body;
    if (body instanceof ArrayBuffer) return new Uint8Array(body);
    if (body !== null && typeof body === "object") return encoder.encode(JSON.stringify(body));
    throw new TypeError(`must return the body (a string, an object or bytes), got ${body === null ? "null" : typeof body}`);
  };
}

/**
 * An endpoint for your own API: you say how a payload becomes a request body and what each
 * streamed event carries; the engine does the rest — it stamps every arrival before your code
 * runs, times TTFT/TTLT per network chunk, handles HTTP errors, timeouts and limits, and
 * writes LLMeter's files.
 */
export class CustomEndpoint extends Endpoint {
  /** @readonly @type {"custom"} */
  kind = "custom";

  /** @param {CustomEndpointOptions} options */
  constructor(options) {
    const { headers, read, request, createPayload, ...settings } = optionsObject(options, "CustomEndpoint");
    checkFunction(read, "read", true);
    checkFunction(request, "request", false);
    checkFunction(createPayload, "createPayload", false);
    const hooks = { read: wrapRead(read, settings.framing, settings.stream), request: request && wrapRequest(request) };
    super("custom", settings, { headers, hooks });
    /** @readonly @type {string} */ this.url = settings.url;
    /** @private */ this._createPayload = createPayload;
  }

  /**
   * Your `createPayload` when given, else a Chat Completions payload (as the engine builds it).
   * @param {string | string[]} message
   * @param {number} [maxTokens]
   * @param {Record<string, unknown>} [extra]
   * @returns {Record<string, unknown>}
   */
  createPayload(message, maxTokens = 256, extra = {}) {
    if (!this._createPayload) return super.createPayload(message, maxTokens, extra);
    const payload = this._createPayload(message, maxTokens, extra);
    if (typeof payload?.then === "function") throw asyncResult(payload);
    if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
      throw new TypeError(`createPayload must return a payload object, got ${typeName(payload)}`);
    }
    return payload;
  }
}
