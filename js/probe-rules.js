// @ts-check
/**
 * The Probe's rules that both the page (probe.js) and where it measures (probe-measure.js, in a
 * dedicated or the app's service worker) apply: the daily request budget, shard ids, the message. The budget lives in IndexedDB when the worker keeps it
 * (workers have no localStorage, and the page's first localStorage read costs its thread
 * milliseconds), or in a `Storage` (localStorage, or the app's own) when the page keeps it.
 * @internal
 */

/** The type of the message a Probe posts to its page's service worker (probe-sw.js). */
export const PROBE_MESSAGE = "llmeter-probe";

/** Prefix of a test's budget record in a `Storage`. */
export const DAY_KEY = "llmeter-probe:";
const DB_NAME = "llmeter-probe";
const DB_STORE = "budget";

/** @typedef {{ day: string, count: number }} DayRecord */

const utcDay = () => new Date().toISOString().slice(0, 10);

/**
 * How many of `want` requests today's budget grants, and the record to keep once they are spent.
 * A record of another day, or one that is not a count, counts as nothing used.
 * @param {unknown} saved @param {number} perDay @param {number} want
 * @returns {{ n: number, record: DayRecord }}
 */
export function grant(saved, perDay, want) {
  const day = utcDay();
  const s = /** @type {any} */ (saved);
  const used = s?.day === day && Number.isInteger(s.count) && s.count >= 0 ? s.count : 0;
  const n = Math.max(0, Math.min(want, perDay - used));
  return { n, record: { day, count: used + n } };
}

/**
 * Spends up to `want` of the test's requests for today from a `Storage`; returns how many.
 * @param {Storage | undefined} storage @param {string} testId @param {number} perDay @param {number} want
 */
export function spendFromStorage(storage, testId, perDay, want) {
  if (!storage) return 0; // no memory means no budget
  let saved = null;
  try {
    saved = JSON.parse(storage.getItem(DAY_KEY + testId) ?? "null");
  } catch { /* a corrupt entry counts as nothing used */ }
  const { n, record } = grant(saved, perDay, want);
  if (n > 0) storage.setItem(DAY_KEY + testId, JSON.stringify(record));
  return n;
}

/**
 * The same from IndexedDB, in one read-and-write transaction (two tabs cannot both spend the
 * last request). 0 where IndexedDB is missing or fails.
 * @param {string} testId @param {number} perDay @param {number} want @returns {Promise<number>}
 */
export async function spendFromIndexedDb(testId, perDay, want) {
  if (typeof indexedDB === "undefined") return 0;
  try {
    const db = await openBudgetDb();
    try {
      return await new Promise((resolve, reject) => {
        const tx = db.transaction(DB_STORE, "readwrite");
        const store = tx.objectStore(DB_STORE);
        let n = 0;
        const get = store.get(testId);
        get.onsuccess = () => {
          const g = grant(get.result, perDay, want);
          n = g.n;
          if (n > 0) store.put(g.record, testId);
        };
        tx.oncomplete = () => resolve(n);
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      });
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}

/** @returns {Promise<IDBDatabase>} */
function openBudgetDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(DB_STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new Error("the probe's budget database is blocked"));
  });
}

/** The test's budget record in IndexedDB (for diagnostics and tests). @param {string} testId @returns {Promise<DayRecord | null>} */
export async function budgetRecord(testId) {
  const db = await openBudgetDb();
  try {
    return await new Promise((resolve, reject) => {
      const get = db.transaction(DB_STORE).objectStore(DB_STORE).get(testId);
      get.onsuccess = () => resolve(get.result ?? null);
      get.onerror = () => reject(get.error);
    });
  } finally {
    db.close();
  }
}

/** A random shard id: 16 hex characters. */
export function randomId() {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  let id = "";
  for (const b of bytes) id += (b < 16 ? "0" : "") + b.toString(16);
  return id;
}

/**
 * Posts a shard to a beacon URL from a worker, which has no `sendBeacon`: a `text/plain`
 * no-cors POST (a simple request, as `sendBeacon` makes; its answer is not read), kept alive
 * past the page where it fits the keep-alive quota.
 * @param {string} url @param {string} text
 */
export async function postBeacon(url, text) {
  await fetch(url, { method: "POST", body: text, mode: "no-cors", credentials: "omit", keepalive: text.length < 60_000, headers: { "content-type": "text/plain;charset=UTF-8" } });
}
