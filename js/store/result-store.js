// @ts-check
/**
 * `ResultStore`: results in IndexedDB, listed newest first, written during runs (see
 * `recorder.js`), found again after a crash, loaded back as `Result`s in pages.
 */
import { Result } from "../index.js";
import { yieldToEventLoop } from "../result-loader.js";
import { initStore } from "./init.js";
import { request, committed, openDatabase, StoreError, storeError, newId, lockName, listed, listStats, splitLines } from "./idb.js";
import { RunRecorder } from "./recorder.js";

/** @typedef {import("./idb.js").StoredRun} StoredRun */

/** Results in IndexedDB: listed newest first, written during runs, found again after a crash. */
export class ResultStore {
  /** @param {IDBDatabase} db @param {string} name @param {{ batchSize: number, batchDelayMs: number }} opts @internal */
  constructor(db, name, opts) {
    /** @internal */ this._db = db;
    /** @readonly */ this.name = name;
    /** @internal */ this._opts = opts;
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
    if (!(typeof batchDelayMs === "number" && batchDelayMs >= 0 && batchDelayMs <= 2 ** 31 - 1)) throw new RangeError("batchDelayMs must be a non-negative number of milliseconds, at most 2147483647");
    await initStore();
    const db = await openDatabase(name);
    const store = new ResultStore(db, name, { batchSize, batchDelayMs });
    store.recovered = await store.recoverUnfinished();
    return store;
  }

  close() {
    this._db.close();
  }

  /**
   * Marks runs that are "running" but whose page or worker is gone (no live lock) as
   * interrupted, and returns them. `open` does this; call it again after ending a worker that
   * was recording (e.g. one that crashed) to close its run.
   * @param {{ settleMs?: number }} [options] `settleMs`: how long to wait for a lock that is
   *   still held to be released (a terminated worker's locks go a moment after it); a run whose
   *   lock is still held then is live elsewhere and left alone. Default 0: no wait.
   * @returns {Promise<StoredRun[]>}
   */
  async recoverUnfinished(options = {}) {
    const { settleMs = 0 } = options;
    if (!(typeof settleMs === "number" && settleMs >= 0 && settleMs <= 60_000)) throw new RangeError("settleMs must be a number of milliseconds from 0 to 60000");
    const locks = /** @type {any} */ (globalThis.navigator)?.locks;
    const held = new Set();
    if (locks?.query) for (const l of (await locks.query()).held ?? []) held.add(l.name);
    const running = /** @type {any[]} */ (await request(this._db.transaction("runs", "readonly").objectStore("runs").getAll())).filter((rec) => rec.status === "running");
    const gone = await Promise.all(running.map((rec) => (held.has(lockName(rec.id)) ? settleMs > 0 && lockReleasedWithin(locks, lockName(rec.id), settleMs) : true)));
    const ids = new Set(running.filter((_, i) => gone[i]).map((rec) => rec.id));
    if (ids.size === 0) return [];
    const tx = this._db.transaction("runs", "readwrite");
    const runs = tx.objectStore("runs");
    /** @type {StoredRun[]} */
    const found = [];
    for (const id of ids) {
      // Read again in this transaction: the run may have finished while its lock settled.
      const rec = await request(runs.get(id));
      if (!rec || rec.status !== "running") continue;
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
      // The engine's run_config.json, recorded at the start (none if the run never started).
      if (rec.runConfig) recovered["run_config.json"] = JSON.stringify(rec.runConfig, null, 4);
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
   * @returns {Promise<import("../types.js").Stats | null>}
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
   * @returns {Promise<import("../types.js").InvocationResponse[]>}
   */
  async responses(id, options = {}) {
    const { offset = 0, limit = 100 } = options;
    if (!(Number.isInteger(offset) && offset >= 0)) throw new RangeError("offset must be a non-negative integer");
    if (!(Number.isInteger(limit) && limit >= 0)) throw new RangeError("limit must be a non-negative integer");
    /** @type {import("../types.js").InvocationResponse[]} */
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
      rec.stats = listStats(stats);
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
   * A recorder for a run about to start: `Runner.run({ store })` calls this before the first
   * request, gives the recorder each response as it completes and the final result at the end.
   * Storage errors never stop the run: the result's `info.unsaved` says what was not saved.
   * @param {import("./recorder.js").RunStart} start
   * @returns {Promise<RunRecorder>}
   */
  recorder(start) {
    return RunRecorder.start(this, start);
  }

  /**
   * Runs and records a run: the same as `runner.run({ ...options, store })`.
   * @param {import("../index.js").Runner} runner
   * @param {Omit<import("../index.js").RunOptions, "store">} options run options; `testName` groups runs of a load test
   * @returns {Promise<import("../index.js").Result>}
   */
  record(runner, options) {
    return runner.run({ ...options, store: this });
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

  /**
   * @internal the recorder's and `save`'s final write: the run's files, its batches replaced.
   * @param {string} id @param {{ info: any, toFiles(): Record<string, string>, stats: Record<string, any>, summary: Record<string, any> }} result
   */
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
      rec.stats = listStats(stats);
      rec.fullStats = stats;
      rec.batchSize = n; // every batch but the last holds n: pages start at the right batch
      rec.files = rest;
      runs.put(rec);
    }
    await committed(tx);
  }
}

/**
 * Whether the Web Lock `name` can be taken within `ms` (its holder went away).
 * @param {any} locks @param {string} name @param {number} ms @returns {Promise<boolean>}
 */
async function lockReleasedWithin(locks, name, ms) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ms);
  try {
    return await locks.request(name, { signal: abort.signal }, () => true);
  } catch {
    return false; // still held when the wait ran out
  } finally {
    clearTimeout(timer);
  }
}
