// @ts-check
/**
 * llmeter-wasm/store.js — results that survive: a `ResultStore` on IndexedDB written during the
 * run, LLMeter-folder export/import as `.zip` or picked folders, and upload through presigned URLs.
 *
 * A separate module with its own small wasm file (`llmeter_store_bg.wasm`: zip, folder layout,
 * upload state machine, batching and schema rules), loaded on first use, so the core package
 * does not grow.
 *
 * ```js
 * import { Runner, OpenAIEndpoint } from "llmeter-wasm";
 * import { ResultStore, toZip, upload } from "llmeter-wasm/store.js";
 * const store = await ResultStore.open();
 * const result = await runner.run({ payload, clients: 4, nRequests: 10, store });
 * const runs = await store.list();               // newest first, with summaries
 * const zip = await toZip(result.toFiles(), { folder: "my-run" });
 * await upload(result, { presign: async (key, contentType) => myBackend.sign(key, contentType), prefix: "runs/a/" });
 * ```
 */
import wasmInit, {
  initSync as wasmInitSync, ZipBuilder, readZip, normalizePath, detectLayout, contentType,
  isTextFile, scrubFile, schemaUpgradeSteps, schemaVersion, Batcher, Uploads,
} from "./llmeter_store.js";
import { wasmLoader, besideModule } from "./loader.js";
import { Result } from "./index.js";

const module = wasmLoader(wasmInit, wasmInitSync, besideModule("./llmeter_store_bg.wasm", import.meta.url));

/**
 * Loads the store's wasm module (called by every function here that needs it).
 * @param {BufferSource | WebAssembly.Module | URL | string | Response} [source]
 */
export async function initStore(source) {
  await module.init(source);
}

/** @param {BufferSource | WebAssembly.Module} wasm */
export function initStoreSync(wasm) {
  module.initSync(wasm);
}

/** @typedef {Record<string, string | Uint8Array>} Files A folder as `{ "path/inside/folder": content }`. */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** @param {string | Uint8Array} c */
const toBytes = (c) => (typeof c === "string" ? encoder.encode(c) : c);

/**
 * @param {Files | { toFiles(): Files }} filesOrResult
 * @returns {Files}
 */
function filesOf(filesOrResult) {
  const any = /** @type {any} */ (filesOrResult);
  if (any && typeof any.toFiles === "function") return any.toFiles();
  if (!any || typeof any !== "object") throw new TypeError("files must be an object mapping paths to string or Uint8Array, or a result with toFiles()");
  return any;
}

/**
 * Normalised paths and secret-free contents (a `run_config.json` is scrubbed of keys that may
 * hold credentials, whoever wrote it).
 * @param {Files} files
 * @returns {[string, string | Uint8Array][]}
 */
function cleanEntries(files) {
  /** @type {[string, string | Uint8Array][]} */
  const out = [];
  for (const [rawPath, content] of Object.entries(files)) {
    if (typeof content !== "string" && !(content instanceof Uint8Array)) throw new TypeError(`files["${rawPath}"] must be a string or Uint8Array`);
    const path = normalizePath(rawPath);
    const text = typeof content === "string" ? content : null;
    const scrubbed = text !== null ? scrubFile(path, text) : undefined;
    out.push([path, scrubbed ?? content]);
  }
  return out;
}

// ───────────────────────────── zip export / import ─────────────────────────────

/**
 * A result folder (`Result.toFiles()`, `LoadTestResult.toFiles()`, or any files map) as a `.zip`.
 * @param {Files | { toFiles(): Files }} filesOrResult
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
 * @property {Files} files Paths relative to the root: `summary.json`, … for a run;
 *   `00004-clients/summary.json`, … for a load test. Text files as strings.
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
  /** @type {Files} */
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

// ───────────────────────────── upload ─────────────────────────────

/**
 * @typedef {Object} UploadProgress
 * @property {string} key The object key just finished (or failed, or being retried).
 * @property {"done" | "retry" | "failed"} event
 * @property {number} done Files uploaded so far (including those skipped as already uploaded).
 * @property {number} total
 * @property {number} bytes Bytes sent in this call so far.
 * @property {string} [error]
 */

/**
 * @typedef {Object} UploadOptions
 * @property {(key: string, contentType: string) => Promise<string> | string} [presign] Returns a
 *   presigned PUT URL for the key and content type (your backend signs; no credentials here).
 * @property {Record<string, string>} [urls] Or: a ready map key → presigned PUT URL.
 * @property {string} [prefix] Prepended to each file path to form the key (e.g. `"team/run-7/"`).
 * @property {number} [concurrency] Parallel PUTs (default 4).
 * @property {number} [retries] Retries per file on network errors and 5xx (default 3; 4xx never).
 * @property {number} [retryDelayMs] First backoff (default 250 ms; doubles, capped at 8 s).
 * @property {string[] | UploadState} [resume] Keys already uploaded (from a failed upload's
 *   `error.state`): only the others are sent.
 * @property {(p: UploadProgress) => void} [onProgress]
 * @property {AbortSignal} [signal]
 * @property {typeof fetch} [fetch] Defaults to the global fetch.
 */

/** @typedef {{ uploaded: string[], pending: string[] }} UploadState */

/** A failed upload: `failures` name each file and HTTP status; pass `state` as `resume` to retry. */
export class UploadError extends Error {
  /**
   * @param {string} message @param {[string, string][]} failures @param {UploadState} state
   */
  constructor(message, failures, state) {
    super(message);
    this.name = "UploadError";
    /** @type {{ key: string, message: string }[]} */
    this.failures = failures.map(([key, m]) => ({ key, message: m }));
    /** @type {UploadState} */
    this.state = state;
  }
}

/**
 * Uploads a result folder with HTTP PUTs to presigned URLs, each with the content type it was
 * signed for. Runs in browsers, workers, Node, Deno and workerd (global `fetch`). No credentials
 * of any kind are sent (no cookies, no Authorization; URLs with user:password are refused).
 * @param {Files | { toFiles(): Files }} filesOrResult
 * @param {UploadOptions} options
 * @returns {Promise<UploadState & { bytes: number }>}
 */
export async function upload(filesOrResult, options) {
  if (!options || typeof options !== "object") throw new TypeError("upload options must be an object");
  const { presign, urls, prefix = "", concurrency = 4, retries = 3, retryDelayMs = 250, resume, onProgress, signal } = options;
  const doFetch = options.fetch ?? globalThis.fetch;
  if (typeof presign !== "function" && (typeof urls !== "object" || urls === null)) throw new TypeError("upload needs presign(key, contentType) or urls");
  if (!(Number.isInteger(concurrency) && concurrency >= 1)) throw new RangeError("concurrency must be a positive integer");
  if (!(Number.isInteger(retries) && retries >= 0)) throw new RangeError("retries must be a non-negative integer");
  if (typeof prefix !== "string") throw new TypeError("prefix must be a string");
  await initStore();
  const entries = cleanEntries(filesOf(filesOrResult)).map(([path, content]) => ({ key: prefix + path, type: contentType(path), body: toBytes(content) }));
  const done = Array.isArray(resume) ? resume : resume?.uploaded ?? [];
  const plan = new Uploads(entries.map((e) => e.key), done, retries + 1, retryDelayMs, 8000);
  const total = entries.length;
  let bytes = 0;
  const doneCount = () => plan.doneKeys().length;
  /** @type {(() => void)[]} */
  let wakers = [];
  const wake = () => { const w = wakers; wakers = []; w.forEach((f) => f()); };

  /** @param {number} i */
  async function put(i) {
    const e = entries[i];
    let status = 0, detail = "";
    try {
      const url = urls ? urls[e.key] : await presign?.(e.key, e.type);
      if (typeof url !== "string") throw new TypeError(`no URL for ${e.key}`);
      const parsed = new URL(url);
      if (parsed.username || parsed.password) throw new TypeError(`the URL for ${e.key} carries credentials; use a presigned URL`);
      const res = await doFetch(url, {
        method: "PUT", body: /** @type {BodyInit} */ (/** @type {unknown} */ (e.body)), headers: { "content-type": e.type },
        credentials: "omit", mode: "cors", cache: "no-store", redirect: "error", signal,
      });
      status = res.status;
      detail = res.ok ? "" : await res.text().catch(() => res.statusText);
      if (res.ok) bytes += e.body.byteLength;
      if (!res.ok && !detail) detail = res.statusText;
    } catch (err) {
      if (signal?.aborted) throw err;
      const er = /** @type {any} */ (err);
      if (er instanceof TypeError && /carries credentials|no URL/.test(er.message)) { status = 400; detail = er.message; }
      else detail = `${er?.name ?? "Error"}: ${er?.message ?? er}`;
    }
    const retryIn = plan.report(i, status, detail, performance.now());
    const failure = retryIn < 0 && !(status >= 200 && status < 300) ? plan.failures().find(([k]) => k === e.key)?.[1] : undefined;
    onProgress?.({ key: e.key, event: retryIn >= 0 ? "retry" : failure ? "failed" : "done", done: doneCount(), total, bytes, error: failure ?? (retryIn >= 0 ? detail : undefined) });
    if (retryIn >= 0) setTimeout(wake, retryIn);
  }

  /** @type {Promise<void>[]} */
  const running = [];
  let active = 0;
  while (true) {
    if (signal?.aborted) throw signal.reason ?? new Error("upload aborted");
    const next = active < concurrency ? plan.next(performance.now()) : { idle: true };
    if (next.finished) break;
    if (next.start !== undefined) {
      active++;
      running.push(put(next.start).finally(() => { active--; wake(); }));
      continue;
    }
    await new Promise((resolve) => {
      wakers.push(() => resolve(undefined));
      if (next.wait !== undefined) setTimeout(wake, Math.max(0, next.wait));
    });
  }
  await Promise.all(running);
  const state = { uploaded: plan.doneKeys(), pending: plan.pendingKeys() };
  const failures = plan.failures();
  plan.free();
  if (failures.length) {
    throw new UploadError(`upload failed for ${failures.length} of ${total} files: ${failures.map(([, m]) => m).join("; ")}`, failures, state);
  }
  return { ...state, bytes };
}

// ───────────────────────────── ResultStore (IndexedDB) ─────────────────────────────

/**
 * @typedef {Object} StoredRun A run as listed (no responses loaded).
 * @property {string} id
 * @property {string} name Run name (LLMeter's `run_name`).
 * @property {string} group Load test name (`testName`) the run belongs to, or "".
 * @property {"running" | "complete" | "interrupted"} status `interrupted`: aborted, or found
 *   unfinished after the page closed, reloaded or crashed.
 * @property {number} startedAt Unix ms.
 * @property {number | null} endedAt
 * @property {number} responses Responses saved.
 * @property {Record<string, any> | null} summary LLMeter's summary.json (finished runs).
 * @property {Record<string, any> | null} stats Headline stats (finished runs): requests,
 *   failures, TTFT/TTLT p50/p90, requests per minute.
 * @property {Record<string, any>} endpoint Endpoint description (no secrets).
 * @property {string | null} unsaved What could not be saved, if anything.
 */

const LIST_STATS = ["total_requests", "failed_requests", "failed_requests_rate", "requests_per_minute", "time_to_first_token-p50", "time_to_first_token-p90", "time_to_last_token-p50", "time_to_last_token-p90", "num_tokens_output-average", "interrupted"];

/** Upgrade steps by schema version (the order and the refusal of newer databases: wasm `schema`). */
const UPGRADES = {
  /** @param {IDBDatabase} db */
  1(db) {
    db.createObjectStore("runs", { keyPath: "id" }).createIndex("startedAt", "startedAt");
    db.createObjectStore("batches", { keyPath: ["runId", "seq"] });
  },
  /** @param {IDBDatabase} _db @param {IDBTransaction} tx */
  2(_db, tx) {
    const runs = tx.objectStore("runs");
    runs.createIndex("group", "group");
    runs.openCursor().onsuccess = (e) => {
      const cursor = /** @type {IDBRequest<IDBCursorWithValue | null>} */ (e.target).result;
      if (!cursor) return;
      if (cursor.value.group === undefined) cursor.update({ ...cursor.value, group: "" });
      cursor.continue();
    };
  },
};

/** @template T @param {IDBRequest<T>} req @returns {Promise<T>} */
const request = (req) => new Promise((resolve, reject) => { req.onsuccess = () => resolve(req.result); req.onerror = () => reject(req.error); });
/** @param {IDBTransaction} tx @returns {Promise<void>} */
const committed = (tx) => new Promise((resolve, reject) => { tx.oncomplete = () => resolve(); tx.onerror = () => reject(tx.error); tx.onabort = () => reject(tx.error ?? new Error("transaction aborted")); });
const yieldToEventLoop = () => new Promise((r) => setTimeout(r, 0));

/**
 * A storage error with a plain explanation (`code`: "quota", "blocked", "version", "other").
 */
export class StoreError extends Error {
  /** @param {string} message @param {string} code @param {unknown} [cause] */
  constructor(message, code, cause) {
    super(message, { cause });
    this.name = "StoreError";
    this.code = code;
  }
}

/** @param {unknown} err @param {string} what */
function storeError(err, what) {
  const e = /** @type {any} */ (err);
  if (e instanceof StoreError) return e;
  if (e?.name === "QuotaExceededError") return new StoreError(`${what}: the browser's storage for this site is full (QuotaExceededError). Free space by deleting or exporting old runs.`, "quota", err);
  return new StoreError(`${what}: ${e?.name ?? "Error"}: ${e?.message ?? e}`, "other", err);
}

const newId = () => (globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`);
const lockName = (/** @type {string} */ id) => `llmeter-run:${id}`;

/** Results in IndexedDB: listed newest first, written during runs, found again after a crash. */
export class ResultStore {
  /** @param {IDBDatabase} db @param {string} name @param {{ batchSize: number, batchDelayMs: number }} opts @internal */
  constructor(db, name, opts) {
    /** @private */ this._db = db;
    /** @readonly */ this.name = name;
    /** @private */ this._opts = opts;
    /** Runs found unfinished when the store was opened (their page closed or crashed mid-run). @type {StoredRun[]} */
    this.recovered = [];
  }

  /**
   * Opens (creating or upgrading) the database and marks runs left unfinished by a closed or
   * crashed page as interrupted (`store.recovered` lists them).
   * @param {{ name?: string, batchSize?: number, batchDelayMs?: number }} [options]
   *   `batchSize`/`batchDelayMs`: group commit during runs (default 100 responses or 250 ms).
   * @returns {Promise<ResultStore>}
   */
  static async open(options = {}) {
    const { name = "llmeter-results", batchSize = 100, batchDelayMs = 250 } = options;
    if (typeof indexedDB === "undefined") throw new StoreError("IndexedDB is not available in this runtime (browsers and workers have it); use toZip/upload to keep results here", "other");
    if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new RangeError("batchSize must be a positive integer");
    await initStore();
    const version = schemaVersion();
    let settled = false;
    const db = await new Promise((resolve, rejectOpen) => {
      /** @param {unknown} e */
      const reject = (e) => { settled = true; rejectOpen(e); };
      const req = indexedDB.open(name, version);
      req.onupgradeneeded = (e) => {
        try {
          for (const step of schemaUpgradeSteps(e.oldVersion, version)) /** @type {any} */ (UPGRADES)[step](req.result, req.transaction);
        } catch (err) {
          req.transaction?.abort();
          reject(new StoreError(String(/** @type {any} */ (err)?.message ?? err), "version", err));
        }
      };
      req.onblocked = () => reject(new StoreError(`the result database "${name}" needs an upgrade to schema v${version}, but another tab or window still has it open with an older version: close or reload the other llmeter tabs, then retry`, "blocked"));
      req.onerror = () => {
        const err = req.error;
        if (err?.name === "VersionError") reject(new StoreError(`the result database "${name}" was written by a newer version of llmeter-wasm (schema newer than v${version}); update the page or package`, "version", err));
        else reject(storeError(err, `opening "${name}"`));
      };
      // After a blocked upgrade was reported, the request may still succeed later: close it.
      req.onsuccess = () => (settled ? req.result.close() : resolve(req.result));
    });
    // Never block another tab's upgrade: close and let it proceed.
    db.onversionchange = () => db.close();
    const store = new ResultStore(db, name, { batchSize, batchDelayMs });
    store.recovered = await store._recoverUnfinished();
    return store;
  }

  close() {
    this._db.close();
  }

  /** @private */
  async _recoverUnfinished() {
    const held = new Set();
    const locks = /** @type {any} */ (globalThis.navigator)?.locks;
    if (locks?.query) for (const l of (await locks.query()).held ?? []) held.add(l.name);
    const tx = this._db.transaction("runs", "readwrite");
    const runs = tx.objectStore("runs");
    /** @type {StoredRun[]} */
    const found = [];
    const all = /** @type {any[]} */ (await request(runs.getAll()));
    for (const rec of all) {
      if (rec.status !== "running" || held.has(lockName(rec.id))) continue;
      rec.status = "interrupted";
      rec.recovered = true;
      runs.put(rec);
      found.push(listed(rec));
    }
    await committed(tx);
    return found;
  }

  /**
   * Runs, newest first, with their summaries; responses are not read.
   * @param {{ group?: string, limit?: number, offset?: number }} [options]
   * @returns {Promise<StoredRun[]>}
   */
  async list(options = {}) {
    const { group, limit = Infinity, offset = 0 } = options;
    const tx = this._db.transaction("runs", "readonly");
    const index = tx.objectStore("runs").index("startedAt");
    /** @type {StoredRun[]} */
    const out = [];
    let skipped = 0;
    await new Promise((resolve, reject) => {
      const req = index.openCursor(null, "prev");
      req.onerror = () => reject(req.error);
      req.onsuccess = () => {
        const c = req.result;
        if (!c || out.length >= limit) return resolve(undefined);
        const rec = c.value;
        if (group === undefined || rec.group === group) {
          if (skipped < offset) skipped++;
          else out.push(listed(rec));
        }
        c.continue();
      };
    });
    return out;
  }

  /** @param {string} id @returns {Promise<StoredRun | null>} */
  async get(id) {
    const rec = await request(this._db.transaction("runs").objectStore("runs").get(id));
    return rec ? listed(rec) : null;
  }

  /**
   * The run's folder as files (LLMeter's layout). Responses are read in pages, yielding to the
   * event loop between pages. An unfinished run's folder has no summary.json: it loads as
   * interrupted, like LLMeter's recovery of a run folder without one.
   * @param {string} id
   * @returns {Promise<Record<string, string>>}
   */
  async files(id) {
    const { files, recovered, batches } = await this._folder(id);
    /** @type {string[]} */ const responses = [];
    /** @type {string[]} */ const timings = [];
    for await (const b of batches) { responses.push(b.responses); timings.push(b.timings); }
    files["responses.jsonl"] = responses.join("");
    if (timings.some((t) => t)) files["chunk_timings.jsonl"] = timings.join("");
    return { ...files, ...recovered };
  }

  /**
   * A run's small files, the files LLMeter's recovery needs for an unfinished run, and its
   * response batches in saved order, read in pages with a yield between pages.
   * @private @param {string} id
   */
  async _folder(id) {
    const rec = await request(this._db.transaction("runs").objectStore("runs").get(id));
    if (!rec) throw new StoreError(`no stored run ${id}`, "other");
    /** @type {Record<string, string>} */
    const files = { ...(rec.files ?? {}) };
    /** @type {Record<string, string>} */
    const recovered = {};
    if (rec.status !== "complete" && !rec.files) {
      // Found unfinished: LLMeter's interrupted-run layout (no summary.json).
      recovered["run_config.json"] = JSON.stringify(rec.runConfig, null, 4);
      recovered["stats.json"] = JSON.stringify({ interrupted: true });
      recovered["run_info.json"] = JSON.stringify({ interrupted: true, warnings: [`Recovered from the result store: the run stopped (page closed, reloaded or crashed) after ${rec.responses} saved responses; requests in flight then are lost.`], unsaved: rec.unsaved ?? null });
    }
    const db = this._db;
    async function* pages() {
      const PAGE = 64;
      let seq = 0;
      while (true) {
        const range = IDBKeyRange.bound([id, seq], [id, Infinity]);
        const page = /** @type {any[]} */ (await request(db.transaction("batches").objectStore("batches").getAll(range, PAGE)));
        yield* page;
        if (page.length < PAGE) break;
        seq = page[page.length - 1].seq + 1;
        await yieldToEventLoop();
      }
    }
    return { files, recovered, batches: pages() };
  }

  /**
   * All of a run's stats without reading its responses (finished runs, and recovered runs after
   * their first `load`); `null` otherwise.
   * @param {string} id
   * @returns {Promise<Record<string, any> | null>}
   */
  async stats(id) {
    const rec = await request(this._db.transaction("runs").objectStore("runs").get(id));
    return rec?.fullStats ?? null;
  }

  /**
   * A page of a run's responses (LLMeter InvocationResponse objects, in saved order), reading only
   * the batches that hold it: for browsing large runs without loading them.
   * @param {string} id
   * @param {{ offset?: number, limit?: number }} [options] default: the first 100
   * @returns {Promise<Record<string, any>[]>}
   */
  async responses(id, options = {}) {
    const { offset = 0, limit = 100 } = options;
    if (!(Number.isInteger(offset) && offset >= 0)) throw new RangeError("offset must be a non-negative integer");
    if (!(Number.isInteger(limit) && limit >= 0)) throw new RangeError("limit must be a non-negative integer");
    /** @type {Record<string, any>[]} */
    const out = [];
    if (limit === 0) return out;
    const tx = this._db.transaction(["runs", "batches"]);
    const rec = await request(tx.objectStore("runs").get(id));
    const first = rec?.batchSize ? Math.floor(offset / rec.batchSize) : 0;
    let skipped = first * (rec?.batchSize ?? 0);
    await new Promise((resolve, reject) => {
      const req = tx.objectStore("batches").openCursor(IDBKeyRange.bound([id, first], [id, Infinity]));
      req.onerror = () => reject(req.error);
      req.onsuccess = () => {
        const c = req.result;
        if (!c || out.length >= limit) return resolve(undefined);
        const b = c.value;
        if (skipped + b.n <= offset) { skipped += b.n; return c.continue(); }
        const lines = splitLines(b.responses);
        for (let i = Math.max(0, offset - skipped); i < lines.length && out.length < limit; i++) out.push(JSON.parse(lines[i]));
        skipped += b.n;
        c.continue();
      };
    });
    return out;
  }

  /**
   * Loads a run as a `Result` (an unfinished one as interrupted, with its stats).
   * @param {string} id
   */
  async load(id) {
    // The batches go to the parser as they are read (no joined copy of the whole run), which
    // yields to the event loop every 2,000 lines, so a large run loads without freezing the page.
    const { files, recovered, batches } = await this._folder(id);
    /** @type {string[]} */ const timings = [];
    const result = await Result.fromFiles({
      ...files,
      "responses.jsonl": (async function* () {
        for await (const b of batches) { if (b.timings) timings.push(b.timings); yield b.responses; }
      })(),
      // Read after responses.jsonl, so every batch's timings are collected by then.
      "chunk_timings.jsonl": (function* () { yield* timings; })(),
      ...recovered,
    });
    // A recovered run gets its stats computed once; keep them so the list can show them.
    const tx = this._db.transaction("runs", "readwrite");
    const runs = tx.objectStore("runs");
    const rec = await request(runs.get(id));
    if (rec && !rec.stats) {
      const stats = result.stats;
      rec.stats = Object.fromEntries(LIST_STATS.filter((k) => k in stats).map((k) => [k, stats[k]]));
      rec.fullStats = stats;
      rec.summary = result.summary;
      runs.put(rec);
    }
    await committed(tx);
    return result;
  }

  /**
   * A load test (all runs stored with `testName: group`) as files keyed
   * `{runName}/{file}` (`00004-clients/summary.json`, …), for `LoadTestResult.fromFiles`.
   * @param {string} group
   * @returns {Promise<Record<string, string>>}
   */
  async groupFiles(group) {
    const runs = await this.list({ group });
    if (!runs.length) throw new StoreError(`no stored runs in group "${group}"`, "other");
    /** @type {Record<string, string>} */
    const out = {};
    for (const r of runs.reverse()) {
      const files = await this.files(r.id);
      for (const [k, v] of Object.entries(files)) out[`${r.name}/${k}`] = v;
    }
    return out;
  }

  /** Deletes a run and its responses. @param {string} id */
  async delete(id) {
    const tx = this._db.transaction(["runs", "batches"], "readwrite");
    tx.objectStore("runs").delete(id);
    tx.objectStore("batches").delete(IDBKeyRange.bound([id, -Infinity], [id, Infinity]));
    await committed(tx);
  }

  /** Deletes every run of a load test. @param {string} group */
  async deleteGroup(group) {
    for (const r of await this.list({ group })) await this.delete(r.id);
  }

  /** Renames a run (its LLMeter `run_name` too). @param {string} id @param {string} name */
  async rename(id, name) {
    if (typeof name !== "string" || name === "") throw new TypeError("name must be a non-empty string");
    const tx = this._db.transaction("runs", "readwrite");
    const runs = tx.objectStore("runs");
    const rec = await request(runs.get(id));
    if (!rec) throw new StoreError(`no stored run ${id}`, "other");
    rec.name = name;
    if (rec.runConfig) rec.runConfig.run_name = name;
    for (const f of ["summary.json", "stats.json"]) {
      if (!rec.files?.[f]) continue;
      const obj = JSON.parse(rec.files[f]);
      obj.run_name = name;
      rec.files[f] = JSON.stringify(obj, null, 4);
    }
    if (rec.summary) rec.summary.run_name = name;
    runs.put(rec);
    await committed(tx);
  }

  /**
   * Runs `runner.run(options)` and saves it as it goes (`runner.run({ store })` calls this):
   * responses are appended in batches during the run; at the end the finished result replaces
   * them. Storage errors never stop the run: the result's `info.unsaved` says what was not saved.
   * @param {{ endpoint: { toJSON(): any }, run(o: any): Promise<Result> }} runner
   * @param {Record<string, any>} options run options; `testName` (or `group`) groups runs of a load test
   * @returns {Promise<Result>}
   */
  async record(runner, options) {
    const { store: _store, group: groupOpt, onResponse, ...runOptions } = options;
    const group = typeof options.testName === "string" ? options.testName : typeof groupOpt === "string" ? groupOpt : "";
    const id = newId();
    const ep = runner.endpoint.toJSON();
    const payloads = Array.isArray(options.payload) ? options.payload.length : 1;
    const runName = typeof options.runName === "string" ? options.runName : defaultRunName();
    const rec = {
      id, group, name: runName, status: "running", startedAt: Date.now(), endedAt: null, responses: 0, unsaved: null,
      endpoint: ep, summary: null, stats: null, files: null,
      runConfig: {
        endpoint: { endpoint_name: ep.endpointName ?? null, model_id: ep.model ?? null, provider: ep.provider ?? null, endpoint_type: "OpenAICompletionStreamEndpoint" },
        clients: options.clients ?? 1, n_requests: options.runDuration ? null : options.nRequests ?? payloads,
        run_duration: options.runDuration ?? null, run_name: runName, run_description: options.runDescription ?? null,
      },
    };
    /** @type {StoreError | null} */
    let failure = null;
    let unsavedCount = 0;
    try {
      const tx = this._db.transaction("runs", "readwrite");
      tx.objectStore("runs").put(rec);
      await committed(tx);
    } catch (err) {
      failure = storeError(err, "saving the run");
    }
    const saving = !failure;

    // Hold a lock while the run is live, so another tab opening the store does not take it for
    // a crashed run.
    /** @type {() => void} */
    let releaseLock = () => {};
    const locks = /** @type {any} */ (globalThis.navigator)?.locks;
    if (saving && locks?.request) {
      await new Promise((held) => {
        locks.request(lockName(id), () => { held(undefined); return new Promise((r) => { releaseLock = () => r(undefined); }); });
      });
    }

    const batcher = new Batcher(this._opts.batchSize, this._opts.batchDelayMs);
    /** @type {any[]} */ let buf = [];
    /** @type {any[]} */ let tbuf = [];
    let seq = 0;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let timer;
    let writes = Promise.resolve();
    const flush = () => {
      clearTimeout(timer);
      timer = undefined;
      batcher.flushed();
      if (!buf.length) return;
      const responses = buf, timings = tbuf;
      buf = []; tbuf = [];
      const batchSeq = seq++;
      writes = writes.then(async () => {
        if (!saving) { unsavedCount += responses.length; return; }
        try {
          const tx = this._db.transaction(["batches", "runs"], "readwrite");
          tx.objectStore("batches").put({ runId: id, seq: batchSeq, n: responses.length, responses: jsonl(responses), timings: jsonl(timings) });
          const runs = tx.objectStore("runs");
          const r = await request(runs.get(id));
          if (r) { r.responses += responses.length; r.lastWriteAt = Date.now(); runs.put(r); }
          await committed(tx);
        } catch (err) {
          unsavedCount += responses.length;
          failure ??= storeError(err, "saving responses");
        }
      });
    };
    // A page going away (reload, navigation, closed tab) aborts its requests in flight before
    // `pagehide` — Firefox and WebKit then hand the engine those failures, and WebKit failures of
    // the next requests too, within ms of `beforeunload`: failures of the page, not of the
    // endpoint, so failed responses are not saved once `beforeunload` fired, until a successful
    // one shows the page stayed (a cancelled navigation).
    let leaving = false;
    const onLeave = (/** @type {any} */ e) => { if (!e?.persisted) leaving = true; };
    globalThis.addEventListener?.("beforeunload", onLeave);
    globalThis.addEventListener?.("pagehide", onLeave);
    /** @param {any} r @param {any} t */
    const collect = (r, t) => {
      if (leaving) {
        if (r?.error) { if (onResponse) onResponse(r, t); return; }
        leaving = false;
      }
      buf.push(r); tbuf.push(t);
      const due = batcher.append(performance.now());
      if (due < 0) flush();
      else if (due > 0) timer = setTimeout(flush, Math.max(0, due - performance.now()));
      if (onResponse) onResponse(r, t);
    };

    try {
      let result;
      try {
        result = await runner.run({ ...runOptions, runName, onResponse: collect });
      } catch (err) {
        // Rejected options (nothing ran) leave no record; otherwise what was saved stays, interrupted.
        flush();
        await writes;
        if (saving) await this._abandon(id).catch(() => {});
        throw err;
      }
      flush();
      await writes;
      if (saving) await this._saveFinal(id, result).catch((err) => { failure ??= storeError(err, "saving the finished run"); });
      const total = result.responses.length;
      if (failure) {
        const what = unsavedCount ? `${unsavedCount} of ${total} responses were not saved during the run` : "the run was not saved completely";
        const msg = `${what}: ${failure.message}`;
        const info = /** @type {any} */ (result.info);
        info.unsaved = msg;
        info.warnings.push(`Result store: ${msg}`);
        await this._markUnsaved(id, msg).catch(() => {});
      }
      return result;
    } finally {
      globalThis.removeEventListener?.("beforeunload", onLeave);
      globalThis.removeEventListener?.("pagehide", onLeave);
      clearTimeout(timer);
      batcher.free();
      releaseLock();
    }
  }

  /**
   * Saves a finished or imported result (e.g. from `resultFromFolder`).
   * @param {Result} result
   * @param {{ group?: string }} [options]
   * @returns {Promise<string>} the stored run's id
   */
  async save(result, options = {}) {
    const id = newId();
    const summary = result.summary;
    const rec = { id, group: options.group ?? "", name: summary.run_name ?? id, status: "running", startedAt: Date.now(), endedAt: null, responses: 0, unsaved: null, endpoint: {}, summary: null, stats: null, files: null, runConfig: result.runConfig };
    const tx = this._db.transaction("runs", "readwrite");
    tx.objectStore("runs").put(rec);
    try {
      await committed(tx);
      await this._saveFinal(id, result);
    } catch (err) {
      throw storeError(err, "saving the result");
    }
    return id;
  }

  /** @private @param {string} id @param {Result} result */
  async _saveFinal(id, result) {
    const files = result.toFiles();
    const responses = splitLines(files["responses.jsonl"] ?? "");
    const timings = splitLines(files["chunk_timings.jsonl"] ?? "");
    const rest = { ...files };
    delete rest["responses.jsonl"];
    delete rest["chunk_timings.jsonl"];
    const n = this._opts.batchSize;
    const tx = this._db.transaction(["runs", "batches"], "readwrite");
    const batches = tx.objectStore("batches");
    batches.delete(IDBKeyRange.bound([id, -Infinity], [id, Infinity]));
    for (let i = 0, seq = 0; i < responses.length; i += n, seq++) {
      batches.put({ runId: id, seq, n: Math.min(n, responses.length - i), responses: responses.slice(i, i + n).join(""), timings: timings.slice(i, i + n).join("") });
    }
    const runs = tx.objectStore("runs");
    const rec = await request(runs.get(id));
    if (rec) {
      const stats = result.stats;
      rec.status = result.info.interrupted ? "interrupted" : "complete";
      rec.endedAt = Date.now();
      rec.responses = responses.length;
      rec.summary = result.summary;
      rec.name = result.summary.run_name ?? rec.name;
      rec.stats = Object.fromEntries(LIST_STATS.filter((k) => k in stats).map((k) => [k, stats[k]]));
      rec.fullStats = stats;
      rec.batchSize = n; // every batch but the last holds n: pages start at the right batch
      rec.files = rest;
      runs.put(rec);
    }
    await committed(tx);
  }

  /** @private @param {string} id */
  async _abandon(id) {
    const tx = this._db.transaction("runs", "readwrite");
    const runs = tx.objectStore("runs");
    const rec = await request(runs.get(id));
    if (rec && rec.responses === 0) runs.delete(id);
    else if (rec) { rec.status = "interrupted"; runs.put(rec); }
    await committed(tx);
  }

  /** @private @param {string} id @param {string} msg */
  async _markUnsaved(id, msg) {
    const tx = this._db.transaction("runs", "readwrite");
    const runs = tx.objectStore("runs");
    const rec = await request(runs.get(id));
    if (rec) { rec.unsaved = msg; runs.put(rec); }
    await committed(tx);
  }
}

/** @param {any} rec @returns {StoredRun} */
function listed(rec) {
  return { id: rec.id, name: rec.name, group: rec.group ?? "", status: rec.status, startedAt: rec.startedAt, endedAt: rec.endedAt ?? null, responses: rec.responses, summary: rec.summary ?? null, stats: rec.stats ?? null, endpoint: rec.endpoint ?? {}, unsaved: rec.unsaved ?? null };
}

/** @param {any[]} items */
function jsonl(items) {
  let s = "";
  for (const it of items) s += JSON.stringify(it) + "\n";
  return s;
}

/** Lines with their `\n` (the last one gets one if missing). @param {string} text */
function splitLines(text) {
  if (!text) return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines.map((l) => l + "\n");
}

/** LLMeter's default run name `YYYYMMDD-HHMM` (UTC, as the core writes it). */
function defaultRunName() {
  const d = new Date();
  const p = (/** @type {number} */ n) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}`;
}
