// Run history in IndexedDB. One record per run: public configuration (never secrets), LLMeter's
// run folder files, and what the page shows in lists. A run is saved as "running" when it starts,
// so a page closed mid-run is found on the next visit, marked interrupted.

const DB_NAME = "llmeter-playground", STORE = "runs";

/**
 * @typedef {Object} RunRecord
 * @property {string} id
 * @property {string} name
 * @property {number} createdAt ms since epoch
 * @property {"running" | "complete" | "interrupted"} status
 * @property {string} [note] why it is interrupted, for people
 * @property {Record<string, any>} config public configuration (no API key, no header values)
 * @property {Record<string, string>} files LLMeter run folder
 * @property {{completed: number, failed: number, ttftP50: number|null, ttltP50: number|null, warnings: string[], runtime: string|null, protocol: string|null}} [brief]
 */

/** @returns {Promise<IDBDatabase>} */
function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "id" }).createIndex("createdAt", "createdAt");
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function tx(mode, fn) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const t = db.transaction(STORE, mode);
      const req = fn(t.objectStore(STORE));
      t.oncomplete = () => resolve(req?.result);
      t.onerror = () => reject(t.error);
    });
  } finally {
    db.close();
  }
}

/** @param {RunRecord} record */
export const putRun = (record) => tx("readwrite", (s) => s.put(record));
/** @param {string} id @returns {Promise<RunRecord | undefined>} */
export const getRun = (id) => tx("readonly", (s) => s.get(id));
/** @param {string} id */
export const deleteRun = (id) => tx("readwrite", (s) => s.delete(id));

/** Newest first. Records left "running" by a closed page are marked interrupted here. @returns {Promise<RunRecord[]>} */
export async function listRuns(activeId = null) {
  /** @type {RunRecord[]} */
  const all = await tx("readonly", (s) => s.getAll());
  for (const r of all) {
    if (r.status === "running" && r.id !== activeId) {
      r.status = "interrupted";
      r.note = "The page was closed or reloaded before this run finished; no responses were kept.";
      await putRun(r);
    }
  }
  return all.sort((a, b) => b.createdAt - a.createdAt);
}
