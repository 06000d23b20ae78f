// @ts-check
/**
 * llmeter-wasm/tokenizer.js — Hugging Face tokenizers (`tokenizer.json`: BPE, WordPiece,
 * WordLevel, Unigram) compiled to WebAssembly, for exact token counts in benchmarks.
 *
 * It is a separate module with a separate wasm file (`llmeter_tokenizers_bg.wasm`), so the core
 * package (`index.js`) stays small: nothing here is loaded unless this file is imported, and the
 * wasm is fetched (browsers, Deno) or read (Node) on first use. In workerd, import the `.wasm`
 * as a module and call `initTokenizersSync(module)` first.
 *
 * ```js
 * import { Runner, OpenAIEndpoint } from "llmeter-wasm";
 * import { Tokenizer } from "llmeter-wasm/tokenizer.js";
 * const tokenizer = await Tokenizer.fromUrl("https://example.com/llama3/tokenizer.json", "llama3");
 * const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl, model }), tokenizer });
 * ```
 */
import wasmInit, { initSync as wasmInitSync, WasmTokenizer } from "./llmeter_tokenizers.js";

import { wasmLoader, isNode } from "./loader.js";

// The URL is literal, so that bundlers emit the .wasm and rewrite it; in Node, server bundles
// without the file use the inlined copy (see loader.js).
const module = wasmLoader({
  init: wasmInit,
  initSync: wasmInitSync,
  syncName: "initTokenizersSync",
  url: () => new URL("./llmeter_tokenizers_bg.wasm", import.meta.url),
  inlined: () => import("#inline/llmeter_tokenizers_bg.wasm"),
});

/**
 * Loads the tokenizer wasm module (about 0.7 MB gzipped). Called by every `Tokenizer.from*`, so
 * calling it yourself is only needed to choose the source or to start the download early.
 * Without an argument it finds `llmeter_tokenizers_bg.wasm` next to this file (by `fetch` in
 * browsers and Deno, by reading the file in Node). A failed load can be retried.
 * @param {import("./types.js").WasmSource} [source]
 * @returns {Promise<void>}
 */
export async function initTokenizers(source) {
  await module.init(source);
}

/**
 * Synchronous initialisation from a compiled module or bytes (workerd: `import wasm from
 * "llmeter-wasm/llmeter_tokenizers_bg.wasm"; initTokenizersSync(wasm)`).
 * @param {import("./types.js").WasmBytes | import("./types.js").WasmModule} wasm
 */
export function initTokenizersSync(wasm) {
  module.initSync(wasm);
}

/** Whether the tokenizer wasm has been instantiated (it is not until first use). */
export function tokenizersInitialized() {
  return module.initialized();
}

/** Guards the constructor: tokenizers come from the static `from*` loaders only. */
const CONSTRUCTION_KEY = Symbol("Tokenizer");

/**
 * A Hugging Face tokenizer loaded from a `tokenizer.json`. It fits the `tokenizer` option of
 * `Runner`: `encode(text).length` is the token count and `decode` turns a prefix back into text.
 *
 * Counts are those of Python `tokenizers` with `tokenizer.encode(text, add_special_tokens=False)`:
 * no BOS/CLS/SEP is added, as a benchmark counts the tokens of the text itself. Special tokens
 * written in the text (e.g. `<|begin_of_text|>`) are recognised and counted as one token each.
 */
export class Tokenizer {
  /** @type {WasmTokenizer} */
  #wasm;

  /**
   * @param {symbol} key
   * @param {WasmTokenizer} wasm
   * @param {string} name
   * @internal use `Tokenizer.fromJSON`, `fromBytes` or `fromUrl`
   */
  constructor(key, wasm, name) {
    if (key !== CONSTRUCTION_KEY) throw new TypeError("use Tokenizer.fromJSON, Tokenizer.fromBytes or Tokenizer.fromUrl");
    this.#wasm = wasm;
    /** Recorded in results as the tokenizer's name. @readonly */
    this.name = name;
    /** `"BPE"`, `"WordPiece"`, `"WordLevel"` or `"Unigram"`. @readonly @type {string} */
    this.modelType = wasm.modelType;
  }

  /**
   * Loads a `tokenizer.json` given as text.
   * @param {string} json
   * @param {string} [name] default `"tokenizer.json (<model type>)"`
   * @returns {Promise<Tokenizer>}
   */
  static async fromJSON(json, name) {
    if (typeof json !== "string") throw new TypeError("fromJSON expects the tokenizer.json text as a string");
    checkName(name);
    await initTokenizers();
    const wasm = WasmTokenizer.fromJson(json);
    return new Tokenizer(CONSTRUCTION_KEY, wasm, name ?? defaultName(wasm));
  }

  /**
   * Loads a `tokenizer.json` given as UTF-8 bytes (e.g. a file read in Node or an upload).
   * @param {Uint8Array | ArrayBuffer | ArrayBufferView} bytes
   * @param {string} [name] default `"tokenizer.json (<model type>)"`
   * @returns {Promise<Tokenizer>}
   */
  static async fromBytes(bytes, name) {
    const view = asUint8Array(bytes);
    checkName(name);
    await initTokenizers();
    const wasm = WasmTokenizer.fromBytes(view);
    return new Tokenizer(CONSTRUCTION_KEY, wasm, name ?? defaultName(wasm));
  }

  /**
   * Downloads a `tokenizer.json` with `fetch` (in Node, `file:` URLs are read from disk) while
   * the wasm loads.
   * @param {string | URL} url
   * @param {string} [name] default: the URL
   * @returns {Promise<Tokenizer>}
   */
  static async fromUrl(url, name) {
    if (typeof url !== "string" && !(url instanceof URL)) throw new TypeError("fromUrl expects a URL or a string");
    checkName(name);
    const [bytes] = await Promise.all([fetchBytes(url), initTokenizers()]);
    const wasm = WasmTokenizer.fromBytes(bytes);
    return new Tokenizer(CONSTRUCTION_KEY, wasm, name ?? String(url));
  }

  /**
   * Token ids of `text`, without special tokens added (Python `encode(text,
   * add_special_tokens=False).ids`).
   * @param {string} text
   * @returns {Uint32Array}
   */
  encode(text) {
    if (typeof text !== "string") throw new TypeError("encode expects a string");
    return this.#wasm.encode(text);
  }

  /**
   * Number of tokens in `text` (the length of `encode(text)`).
   * @param {string} text
   * @returns {number}
   */
  countTokens(text) {
    if (typeof text !== "string") throw new TypeError("countTokens expects a string");
    return this.#wasm.countTokens(text);
  }

  /**
   * Text of token ids, special tokens kept (Python `decode(ids, skip_special_tokens=False)`), so
   * `decode(encode(text).slice(0, n))` is the text of the first `n` tokens. Ids outside the
   * vocabulary are skipped. A prefix that ends inside a character (byte-level BPE splits emoji
   * and CJK into bytes) ends in U+FFFD; `truncate` avoids that.
   * @param {ArrayLike<unknown>} ids token ids: a `Uint32Array` or numbers
   * @returns {string}
   */
  decode(ids) {
    return this.#wasm.decode(asTokenIds(ids));
  }

  /**
   * The first `maxTokens` tokens of `text` as text; `text` itself if it is no longer. Never ends
   * in half a character: the cut moves back to the previous character boundary.
   * @param {string} text
   * @param {number} maxTokens
   * @returns {string}
   */
  truncate(text, maxTokens) {
    if (typeof text !== "string") throw new TypeError("truncate expects a string");
    if (!Number.isInteger(maxTokens) || maxTokens < 0 || maxTokens > 0xffffffff) throw new RangeError("maxTokens must be a non-negative integer");
    return this.#wasm.truncate(text, maxTokens);
  }

  /** Frees the wasm memory now rather than when garbage-collected; the tokenizer is unusable after. */
  free() {
    this.#wasm.free();
  }

  toJSON() {
    return { name: this.name, modelType: this.modelType };
  }
}

/** @param {unknown} name */
function checkName(name) {
  if (name !== undefined && typeof name !== "string") throw new TypeError("name must be a string");
}

/** @param {WasmTokenizer} wasm */
function defaultName(wasm) {
  return `tokenizer.json (${wasm.modelType})`;
}

/**
 * @param {unknown} bytes
 * @returns {Uint8Array}
 */
function asUint8Array(bytes) {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  if (ArrayBuffer.isView(bytes)) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  throw new TypeError("fromBytes expects a Uint8Array, an ArrayBuffer or an ArrayBufferView");
}

/**
 * @param {ArrayLike<unknown>} ids
 * @returns {Uint32Array}
 */
function asTokenIds(ids) {
  if (ids instanceof Uint32Array) return ids;
  if (ids === null || typeof ids !== "object" || typeof ids.length !== "number") throw new TypeError("decode expects an array of token ids");
  const out = new Uint32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id > 0xffffffff) {
      throw new RangeError(`token id at index ${i} is not an integer from 0 to 2^32-1: ${String(id)}`);
    }
    out[i] = id;
  }
  return out;
}

/**
 * @param {string | URL} url
 * @returns {Promise<Uint8Array>}
 */
async function fetchBytes(url) {
  const href = String(url);
  if (isNode() && href.startsWith("file:")) {
    const fsModule = "node:fs/promises";
    const { readFile } = await import(/* @vite-ignore */ /* webpackIgnore: true */ fsModule);
    return new Uint8Array(await readFile(new URL(href)));
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`fetching ${href} failed: HTTP ${response.status} ${response.statusText}`.trimEnd());
  return new Uint8Array(await response.arrayBuffer());
}
