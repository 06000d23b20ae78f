// @ts-check
/**
 * IndexedDB plumbing of the result store: promises over requests and transactions, the schema
 * upgrade steps (their order and the refusal of newer databases are the wasm module's
 * `schemaUpgradeSteps`), storage errors in plain words, and the record shapes.
 * @internal
 */
import { schemaUpgradeSteps, schemaVersion } from "../llmeter_store.js";

/** @template T @param {{ onsuccess: unknown, onerror: unknown, result: T, error: unknown }} req an IDBRequest @returns {Promise<T>} */
export const request = (req) => new Promise((resolve, reject) => { req.onsuccess = () => resolve(req.result); req.onerror = () => reject(req.error); });
/** @param {{ oncomplete: unknown, onerror: unknown, onabort: unknown, error: unknown }} tx an IDBTransaction @returns {Promise<void>} */
export const committed = (tx) => new Promise((resolve, reject) => { tx.oncomplete = () => resolve(); tx.onerror = () => reject(tx.error); tx.onabort = () => reject(tx.error ?? new Error("transaction aborted")); });

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

/** @param {unknown} err @param {string} what @returns {StoreError} */
export function storeError(err, what) {
  const e = /** @type {any} */ (err);
  if (e instanceof StoreError) return e;
  if (e?.name === "QuotaExceededError") return new StoreError(`${what}: the browser's storage for this site is full (QuotaExceededError). Free space by deleting or exporting old runs.`, "quota", err);
  return new StoreError(`${what}: ${e?.name ?? "Error"}: ${e?.message ?? e}`, "other", err);
}

export const newId = () => (globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`);
/** The Web Lock a live run holds, so that no other tab takes it for a crashed one. @param {string} id */
export const lockName = (id) => `llmeter-run:${id}`;

/** Upgrade steps by schema version. */
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

/**
 * Opens (creating or upgrading) the database; errors name what to do.
 * @param {string} name
 * @returns {Promise<any>} the IDBDatabase (typed loosely: the package's declarations must not need the DOM lib)
 */
export async function openDatabase(name) {
  const version = schemaVersion();
  let settled = false;
  /** @type {IDBDatabase} */
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
  return db;
}

/**
 * @typedef {Object} StoredRun A run as listed (no responses loaded).
 * @property {string} id
 * @property {string} name Run name (LLMeter's `run_name`).
 * @property {string} group Load test name (`testName`) the run belongs to, or "".
 * @property {"running" | "complete" | "interrupted"} status `interrupted`: aborted, found
 *   unfinished after the page closed, reloaded or crashed, or not stored completely (`unsaved`).
 * @property {number} startedAt Unix ms.
 * @property {number | null} endedAt
 * @property {number} responses Responses saved.
 * @property {import("../types.js").Summary | null} summary LLMeter's summary.json (finished runs).
 * @property {import("../types.js").ListStats | null} stats Headline stats (finished runs): requests,
 *   failures, TTFT/TTLT p50/p90, requests per minute.
 * @property {{ [key: string]: unknown }} endpoint Endpoint description (`endpoint.toJSON()`: no secrets).
 * @property {string | null} unsaved What could not be saved, if anything.
 */

/** The stats a listed run carries. */
/** @type {(keyof import("../types.js").ListStats)[]} */
export const LIST_STATS = ["total_requests", "failed_requests", "failed_requests_rate", "requests_per_minute", "time_to_first_token-p50", "time_to_first_token-p90", "time_to_last_token-p50", "time_to_last_token-p90", "num_tokens_output-average", "interrupted"];

/** @param {Record<string, any>} stats */
export const listStats = (stats) => Object.fromEntries(LIST_STATS.filter((k) => k in stats).map((k) => [k, stats[k]]));

/** @param {any} rec @returns {StoredRun} */
export function listed(rec) {
  return { id: rec.id, name: rec.name, group: rec.group ?? "", status: rec.status, startedAt: rec.startedAt, endedAt: rec.endedAt ?? null, responses: rec.responses, summary: rec.summary ?? null, stats: rec.stats ?? null, endpoint: rec.endpoint ?? {}, unsaved: rec.unsaved ?? null };
}

/** Lines with their `\n` (the last one gets one if missing). @param {string} text */
export function splitLines(text) {
  if (!text) return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines.map((l) => l + "\n");
}
