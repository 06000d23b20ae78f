// @ts-check
import { Endpoint, optionsObject } from "./endpoint.js";

/**
 * One message of a response, as `read` receives it.
 * @typedef {{type: "sse", event: string, data: string, id: string}
 *   | {type: "line", data: string}
 *   | {type: "event", eventType: string, messageType: string, bytes: Uint8Array, readonly data: string}
 *   | {type: "bytes", bytes: Uint8Array}
 *   | {type: "body", data: string}} CustomEvent
 * - `sse`: one Server-Sent Event (`event` is "message" when the stream names none; `id` the last event id).
 * - `line`: one line of a JSON-lines body, without its terminator.
 * - `event`: one AWS event-stream message (`framing: "event-stream"`): its `:event-type` and
 *   `:message-type` headers and its payload (`bytes`; `data` decodes it as UTF-8 text when read).
 *   Exception and error messages never reach `read`: they fail the request as for the AWS
 *   endpoints (`"<:exception-type>: <message>"`).
 * - `bytes`: one network chunk, as it arrived (`framing: "bytes"`).
 * - `body`: the whole body of a non-streaming response (`stream: false`).
 */

/**
 * Where one field of a declarative reading is found: a path into the event's JSON data (the
 * JMESPath subset of `BedrockInvokeEndpoint`'s paths: `a.b`, `"quoted key"`, `[0]`, `[-1]`, `[]`),
 * or `{event, path}` to read it from events of that type only (the SSE `event`, or an
 * event-stream message's `:event-type`); `{event}` alone stands for the event's raw data (e.g.
 * `done: {event: "end"}`). `""` leaves the field out.
 * @typedef {string | {event?: string, path?: string}} CustomPath
 */

/**
 * Read paths: the declarative form of `read`, for pages that cannot run code of their own (the
 * playground) and settings that travel as JSON. Each field is read from every event its
 * `CustomPath` selects: `text` (required) and `reasoning` take a string (or strings, joined);
 * `id` a string or number; `inputTokens`, `outputTokens` a non-negative integer; `error`
 * fails the request with any value but `null`, `false` and `""`; `done` marks the response
 * complete with any value but `null` and `false`. Data that is not JSON fails the request,
 * except `[DONE]`, which marks it complete. JSON lines have no event type (only paths without
 * an `event` read them); a whole body (`stream: false`) is read by every path.
 * Read paths run in the AWS engine module: `import { initAws } from "llmeter-wasm/aws.js"` and
 * `await initAws()` first (the core module has no room for the path language).
 * @typedef {Object} CustomReadPaths
 * @property {CustomPath} text
 * @property {CustomPath} [reasoning]
 * @property {CustomPath} [id]
 * @property {CustomPath} [inputTokens]
 * @property {CustomPath} [outputTokens]
 * @property {CustomPath} [error]
 * @property {CustomPath} [done]
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
 * @property {((event: CustomEvent) => CustomReading | undefined | null) | CustomReadPaths} read Reads
 *   one event (or the whole body without streaming): a function, or read paths
 *   ({@link CustomReadPaths}). A function is synchronous: it runs as each message arrives, after
 *   the engine stamped its arrival, so keep it light.
 * @property {(payload: any) => string | Uint8Array | object} [request] The body to send for a
 *   payload (an object is sent as JSON). Default: the payload as JSON. Called once per distinct payload.
 * @property {(message: string | string[], maxTokens: number, extra: Record<string, unknown>) => Record<string, unknown>} [createPayload]
 *   What `endpoint.createPayload` returns. Default: `payloadTemplate` filled in, else a Chat
 *   Completions payload. (The prompt recorded for input-token counts, when the API reports none,
 *   is the chat `messages` texts, else a `prompt`, `input` or `inputs` string of the payload.)
 * @property {Record<string, unknown>} [payloadTemplate] The declarative `createPayload`: a JSON
 *   object in which every string that is exactly `"{{prompt}}"` becomes the prompt (a list of
 *   strings joined by newlines) and every `"{{maxTokens}}"` the number, e.g.
 *   `{prompt: "{{prompt}}", max_new_tokens: "{{maxTokens}}", stream: true}`.
 * @property {"sse" | "json-lines" | "event-stream" | "bytes"} [framing] How a stream is cut into
 *   events (default "sse"; "event-stream": AWS's binary event stream, read in the AWS engine
 *   module: `await initAws()` first).
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
 * type and id; an event-stream message's payload, event type and message type; or the bytes of
 * a line, chunk or body); it builds the event object for the user's function and hands its
 * checked reading back.
 * @param {Function} read
 * @param {unknown} framing
 * @param {unknown} stream
 */
function wrapRead(read, framing, stream) {
  const decoder = new TextDecoder();
  // What a message given as bytes is: the whole body without streaming, else the framing's.
  const name = String(framing ?? "sse").toLowerCase();
  const type = stream === false ? "body" : name === "bytes" ? "bytes" : name === "event-stream" ? "event" : "line";
  /** @param {string | Uint8Array} data @param {string} [event] @param {string} [id] */
  return (data, event, id) => {
    const ev =
      typeof data === "string"
        ? { type: "sse", event, data, id }
        : type === "bytes"
          ? { type, bytes: data }
          : type === "event"
            ? { type, eventType: event, messageType: id, bytes: data, get data() { return decoder.decode(data); } }
            : { type, data: decoder.decode(data) };
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
 * streamed event carries — with functions, or declaratively (`payloadTemplate` and read paths,
 * which run in the AWS engine module); the engine does the rest — it stamps every arrival before
 * your code runs, times TTFT/TTLT per network chunk, handles HTTP errors, timeouts and limits,
 * and writes LLMeter's files.
 */
export class CustomEndpoint extends Endpoint {
  /** @readonly @type {"custom"} */
  kind = "custom";

  /** @param {CustomEndpointOptions} options */
  constructor(options) {
    const { headers, read, request, createPayload, ...settings } = optionsObject(options, "CustomEndpoint");
    // Read paths are settings (plain data, checked by the engine, which reads events with them).
    const paths = read !== null && typeof read === "object";
    if (!paths && typeof read !== "function") throw new TypeError("read is required (a function, or an object of read paths)");
    checkFunction(request, "request", false);
    checkFunction(createPayload, "createPayload", false);
    if (createPayload && settings.payloadTemplate !== undefined) throw new TypeError("give createPayload or payloadTemplate, not both");
    const hooks = { read: paths ? undefined : wrapRead(read, settings.framing, settings.stream), request: request && wrapRequest(request) };
    // Read paths and the AWS event-stream decoder live in the AWS engine module (core size).
    const engine = paths || settings.framing === "event-stream" ? "aws" : "core";
    super("custom", paths ? { ...settings, read } : settings, { headers, hooks }, engine);
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
