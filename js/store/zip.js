// @ts-check
/**
 * LLMeter run and load-test folders as `.zip` files, and picked folders, in and out. The zip
 * format and the folder layout rules are the store's wasm module's.
 */
import { ZipBuilder, readZip, normalizePath, detectLayout, isTextFile, scrubFile } from "../llmeter_store.js";
import { Result } from "../index.js";
import { initStore } from "./init.js";
import { filesOf, cleanEntries, toBytes } from "./files.js";

const decoder = new TextDecoder();

/**
 * A result folder (`Result.toFiles()`, `LoadTestResult.toFiles()`, or any files map) as a `.zip`.
 * @param {import("./files.js").Files | { toFiles(): import("./files.js").Files }} filesOrResult
 * @param {{ folder?: string, level?: number, date?: Date }} [options] `folder`: top folder inside
 *   the zip (LLMeter's run or test folder name); `level`: DEFLATE 0–10 (default 6).
 * @returns {Promise<Uint8Array>}
 */
export async function toZip(filesOrResult, options = {}) {
  await initStore();
  const files = filesOf(filesOrResult);
  const { folder, level = 6, date = new Date() } = options;
  if (!(Number.isInteger(level) && level >= 0 && level <= 10)) throw new RangeError("level must be an integer 0–10");
  const prefix = folder ? normalizePath(folder) + "/" : "";
  const zip = new ZipBuilder(date.getTime(), level);
  try {
    for (const [path, content] of cleanEntries(files)) zip.add(prefix + path, toBytes(content));
    return zip.finish();
  } finally {
    zip.free();
  }
}

/**
 * @typedef {Object} ImportedFolder
 * @property {"run" | "loadTest"} kind One run folder, or a load test (one run folder per level).
 * @property {string} name The folder's name (zip top folder or picked folder), or "".
 * @property {string[]} runs Run folders relative to the root (`[""]` for a run).
 * @property {import("./files.js").Files} files Paths relative to the root: `summary.json`, … for
 *   a run; `00004-clients/summary.json`, … for a load test. Text files as strings.
 */

/**
 * @param {[string, Uint8Array | string][]} entries
 * @returns {ImportedFolder}
 */
function importEntries(entries) {
  /** @type {[string, Uint8Array | string][]} */
  const norm = [];
  for (const [p, c] of entries) {
    let path;
    try { path = normalizePath(p); } catch { continue; } // e.g. a `..` entry: never written anywhere
    norm.push([path, c]);
  }
  const layout = detectLayout(norm.map(([p]) => p));
  /** @type {import("./files.js").Files} */
  const files = {};
  norm.forEach(([, content], i) => {
    const rel = layout.paths[i];
    if (rel === null || rel.split("/").some((/** @type {string} */ s) => s.startsWith("."))) return; // outside, or hidden (.DS_Store)
    const text = typeof content === "string" ? content : isTextFile(rel) ? decoder.decode(content) : content;
    files[rel] = typeof text === "string" ? scrubFile(rel, text) ?? text : text;
  });
  const name = layout.root.split("/").pop() ?? "";
  return { kind: layout.kind, name, runs: layout.runs, files };
}

/**
 * Reads a `.zip` of a run or load-test folder (ours or zipped from Python LLMeter's output).
 * @param {Uint8Array | ArrayBuffer | Blob} zip
 * @returns {Promise<ImportedFolder>}
 */
export async function fromZip(zip) {
  await initStore();
  const bytes = zip instanceof Uint8Array ? zip : zip instanceof ArrayBuffer ? new Uint8Array(zip) : new Uint8Array(await zip.arrayBuffer());
  return importEntries(readZip(bytes));
}

/**
 * Reads a picked folder (`<input type=file webkitdirectory>`: each File's `webkitRelativePath`)
 * or any list of `File`s / `{ path, file }` pairs.
 * @param {Iterable<File | { path: string, file: Blob }> | ArrayLike<File>} list
 * @returns {Promise<ImportedFolder>}
 */
export async function fromFileList(list) {
  await initStore();
  /** @type {[string, Uint8Array][]} */
  const entries = [];
  for (const item of Array.from(/** @type {any} */ (list))) {
    const blob = item.file ?? item;
    const path = item.path ?? (item.webkitRelativePath || item.name);
    if (typeof path !== "string") throw new TypeError("each entry needs a webkitRelativePath, name or path");
    entries.push([path, new Uint8Array(await blob.arrayBuffer())]);
  }
  return importEntries(entries);
}

/**
 * Loads an imported single run as a `Result` (a load test: use `LoadTestResult.fromFiles`).
 * @param {ImportedFolder} folder
 */
export async function resultFromFolder(folder) {
  if (folder.kind !== "run") throw new TypeError(`this folder is a load test (${folder.runs.length} runs); load it with LoadTestResult.fromFiles`);
  /** @type {Record<string, string>} */
  const text = {};
  for (const [k, v] of Object.entries(folder.files)) if (typeof v === "string") text[k] = v;
  return Result.fromFiles(text);
}
