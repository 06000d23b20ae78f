// @ts-check
/**
 * A result folder as a files map, the shape zip export and upload take: normalised paths and
 * secret-free contents.
 * @internal
 */
import { normalizePath, scrubFile } from "../llmeter_store.js";

/** @typedef {Record<string, string | Uint8Array>} Files A folder as `{ "path/inside/folder": content }`. */

const encoder = new TextEncoder();

/** @param {string | Uint8Array} c */
export const toBytes = (c) => (typeof c === "string" ? encoder.encode(c) : c);

/**
 * @param {Files | { toFiles(): Files }} filesOrResult
 * @returns {Files}
 */
export function filesOf(filesOrResult) {
  const any = /** @type {any} */ (filesOrResult);
  if (any && typeof any.toFiles === "function") return any.toFiles();
  if (!any || typeof any !== "object") throw new TypeError("files must be an object mapping paths to string or Uint8Array, or a result with toFiles()");
  return any;
}

/**
 * Normalised paths and secret-free contents (a `run_config.json` is scrubbed of keys that may
 * hold credentials, whoever wrote it). The store's wasm module must be initialised.
 * @param {Files} files
 * @returns {[string, string | Uint8Array][]}
 */
export function cleanEntries(files) {
  /** @type {[string, string | Uint8Array][]} */
  const out = [];
  for (const [rawPath, content] of Object.entries(files)) {
    if (typeof content !== "string" && !(content instanceof Uint8Array)) throw new TypeError(`files["${rawPath}"] must be a string or Uint8Array`);
    const path = normalizePath(rawPath);
    const scrubbed = typeof content === "string" ? scrubFile(path, content) : undefined;
    out.push([path, scrubbed ?? content]);
  }
  return out;
}
