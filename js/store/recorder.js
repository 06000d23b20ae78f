// @ts-check
/**
 * Recording a run into the result store while it runs: a sink for the engine's responses.
 *
 * `Runner.run({ store })` asks the store for a recorder before the first request, hands it
 * every response as it completes (`onResponse`), and gives it the final `Result` at the end
 * (`finish`) or the error that ended the run (`abort`). The recorder never calls the Runner.
 * Responses are written in groups (the wasm module's group-commit rule), so a page that closes
 * or crashes mid-run leaves its responses behind; storage errors never stop the run.
 * @internal
 */
import { Batcher } from "../llmeter_store.js";
import { request, committed, storeError, newId, lockName } from "./idb.js";

/**
 * What the Runner tells the store before the first request: the endpoint's public description
 * and the run's options (`runName`, `testName` or `group` name and group the run).
 * @typedef {import("../index.js").RunStart} RunStart
 */
/** @typedef {import("../types.js").InvocationResponse} InvocationResponse */
/** @typedef {import("../types.js").ResponseTimings} ResponseTimings */
/** @typedef {import("../types.js").RunConfig} RunConfig */


export class RunRecorder {
  /**
   * @param {import("./result-store.js").ResultStore} store
   * @param {RunStart} start
   * @returns {Promise<RunRecorder>}
   */
  static async start(store, start) {
    const rec = new RunRecorder(store, start);
    await rec._open();
    return rec;
  }

  /** @private @param {import("./result-store.js").ResultStore} store @param {RunStart} start */
  constructor(store, start) {
    if (!start || typeof start !== "object" || !start.options || !start.endpoint) throw new TypeError("a recorder needs { endpoint, options }");
    const { options } = start;
    /** @private */ this._store = store;
    /** @private */ this._db = store._db;
    /** @readonly */ this.id = newId();
    /** The run's name (LLMeter's `run_name`): the option, then the engine's at the start. */
    this.runName = typeof options.runName === "string" ? options.runName : "";
    const group = /** @type {{ group?: unknown }} */ (options).group; // `testName`'s other name, as `list({ group })` has it
    /** @private */ this._group = typeof options.testName === "string" ? options.testName : typeof group === "string" ? group : "";
    /** @private */ this._start = start;
    /** @private @type {import("./idb.js").StoreError | null} */ this._failure = null;
    /** @private */ this._saving = false;
    /** @private */ this._seen = 0;
    /** @private */ this._unsaved = 0;
    /** @private @type {any[]} */ this._buf = [];
    /** @private @type {any[]} */ this._tbuf = [];
    /** @private */ this._seq = 0;
    /** @private @type {ReturnType<typeof setTimeout> | undefined} */ this._timer = undefined;
    /** @private @type {Promise<void>} */ this._writes = Promise.resolve();
    /** @private */ this._batcher = new Batcher(store._opts.batchSize, store._opts.batchDelayMs);
    /** @private @type {() => void} */ this._releaseLock = () => {};
    /**
     * The sink: give it each response as it completes (`onResponse` of a run).
     * @type {(response: InvocationResponse, timings: ResponseTimings) => void}
     */
    this.onResponse = this._collect.bind(this);
    // A page going away (reload, navigation, closed tab) aborts its requests in flight before
    // `pagehide` — Firefox and WebKit then hand the engine those failures, and WebKit failures of
    // the next requests too, within ms of `beforeunload`: failures of the page, not of the
    // endpoint, so failed responses are not saved once `beforeunload` fired, until a successful
    // one sent after it shows the page stayed (a cancelled navigation). One sent before may just
    // have finished in the page's last milliseconds (Firefox: then came an aborted one's failure).
    /** @private @type {number | null} `Date.now()` when the page said it was leaving */
    this._leftAt = null;
    /** @private */ this._onLeave = (/** @type {any} */ e) => { if (!e?.persisted) this._leftAt = Date.now(); };
    globalThis.addEventListener?.("beforeunload", this._onLeave);
    globalThis.addEventListener?.("pagehide", this._onLeave);
    /**
     * The engine's start: its `run_config.json` names the run (`onStart` of a run).
     * @type {(runConfig: RunConfig) => void}
     */
    this.onStart = this._started.bind(this);
  }

  /**
   * Records the engine's `run_config.json` (what recovering an unfinished run reads) and the
   * run's name, before any response.
   * @private @param {Record<string, any>} runConfig
   */
  _started(runConfig) {
    if (typeof runConfig.run_name === "string") this.runName = runConfig.run_name;
    const name = this.runName;
    this._writes = this._writes.then(async () => {
      if (!this._saving) return;
      try {
        const tx = this._db.transaction("runs", "readwrite");
        const runs = tx.objectStore("runs");
        const r = await request(runs.get(this.id));
        if (r) { r.name = name; r.runConfig = runConfig; runs.put(r); }
        await committed(tx);
      } catch (err) {
        this._failure ??= storeError(err, "saving the run's configuration");
      }
    });
  }

  /** @private */
  async _open() {
    const { endpoint } = this._start;
    const rec = {
      id: this.id, group: this._group, name: this.runName, status: "running", startedAt: Date.now(), endedAt: null, responses: 0, unsaved: null,
      endpoint, summary: null, stats: null, files: null, runConfig: null,
    };
    try {
      const tx = this._db.transaction("runs", "readwrite");
      tx.objectStore("runs").put(rec);
      await committed(tx);
      this._saving = true;
    } catch (err) {
      this._failure = storeError(err, "saving the run");
    }
    // Hold a lock while the run is live, so another tab opening the store does not take it for
    // a crashed run.
    const locks = /** @type {any} */ (globalThis.navigator)?.locks;
    if (this._saving && locks?.request) {
      await new Promise((held) => {
        locks.request(lockName(this.id), () => { held(undefined); return new Promise((r) => { this._releaseLock = () => r(undefined); }); });
      });
    }
  }

  /** @private @param {any} r @param {any} t */
  _collect(r, t) {
    if (this._leftAt !== null) {
      if (r?.error) return;
      // `request_time`: when the request was sent (LLMeter's UTC milliseconds).
      if (Date.parse(r?.request_time ?? "") >= this._leftAt) this._leftAt = null;
    }
    this._seen++;
    this._buf.push(r);
    this._tbuf.push(t);
    const due = this._batcher.append(performance.now());
    if (due < 0) this._flush();
    else if (due > 0) this._timer = setTimeout(() => this._flush(), Math.max(0, due - performance.now()));
  }

  /** Writes the buffered responses as one batch (one transaction), in order. @private */
  _flush() {
    clearTimeout(this._timer);
    this._timer = undefined;
    this._batcher.flushed();
    if (!this._buf.length) return;
    const responses = this._buf, timings = this._tbuf;
    this._buf = [];
    this._tbuf = [];
    const seq = this._seq++;
    this._writes = this._writes.then(async () => {
      if (!this._saving) { this._unsaved += responses.length; return; }
      try {
        const tx = this._db.transaction(["batches", "runs"], "readwrite");
        tx.objectStore("batches").put({ runId: this.id, seq, n: responses.length, responses: jsonl(responses), timings: jsonl(timings) });
        const runs = tx.objectStore("runs");
        const r = await request(runs.get(this.id));
        if (r) { r.responses += responses.length; r.lastWriteAt = Date.now(); runs.put(r); }
        await committed(tx);
      } catch (err) {
        this._unsaved += responses.length;
        this._failure ??= storeError(err, "saving responses");
      }
    });
  }

  /**
   * The run ended with its result: the record is closed (complete, or interrupted), whatever
   * storage allowed. What was not saved is said in `result.info.unsaved` and its warnings.
   * @template {{ info: any, toFiles(): Record<string, string>, stats: Record<string, any>, summary: Record<string, any> }} R
   * @param {R} result
   * @returns {Promise<R>}
   */
  async finish(result) {
    try {
      this._flush();
      await this._writes;
      let saved = false;
      if (this._saving) {
        try {
          await this._saveFinal(result);
          saved = true;
        } catch (err) {
          this._failure ??= storeError(err, "saving the finished run");
        }
      }
      // Saved at the end, the stored copy is whole even if some batches failed during the run.
      if (!saved) {
        const failure = this._failure ?? storeError(new Error("the store could not be written"), "saving the run");
        const what = this._unsaved ? `${this._unsaved} of ${this._seen} responses were not saved during the run` : "the run was not saved completely";
        const msg = `${what}: ${failure.message}`;
        const info = result.info;
        info.unsaved = msg;
        info.warnings.push(`Result store: ${msg}`);
        // Never left "running": the stored copy is partial, so it is listed as interrupted.
        if (this._saving) await this._close("interrupted", msg).catch(() => {});
      }
      return result;
    } finally {
      this._end();
    }
  }

  /**
   * The run failed before producing a result (e.g. rejected options: nothing ran, no record is
   * kept; otherwise what was saved stays, interrupted).
   */
  async abort() {
    try {
      this._flush();
      await this._writes;
      if (!this._saving) return;
      const tx = this._db.transaction("runs", "readwrite");
      const runs = tx.objectStore("runs");
      const rec = await request(runs.get(this.id));
      if (rec && rec.responses === 0) runs.delete(this.id);
      else if (rec) { rec.status = "interrupted"; rec.endedAt = Date.now(); runs.put(rec); }
      await committed(tx).catch(() => {});
    } finally {
      this._end();
    }
  }

  /** @private */
  _end() {
    globalThis.removeEventListener?.("beforeunload", this._onLeave);
    globalThis.removeEventListener?.("pagehide", this._onLeave);
    clearTimeout(this._timer);
    this._batcher.free();
    this._releaseLock();
  }

  /**
   * Replaces the saved batches by the finished run's files (the core fills token counts and
   * time per output token after the last request, so the lines saved during the run are not
   * final) and records its summary and stats.
   * The finished run's files replace the batches saved during it: the core completes responses
   * after the last request (token-count fallbacks, TPOT, the browser's network phases), so the
   * lines saved while it ran are not final.
   * @private @param {{ info: any, toFiles(): Record<string, string>, stats: Record<string, any>, summary: Record<string, any> }} result
   */
  async _saveFinal(result) {
    await this._store._saveFinal(this.id, result);
  }

  /** @private @param {"interrupted" | "complete"} status @param {string} unsaved */
  async _close(status, unsaved) {
    const tx = this._db.transaction("runs", "readwrite");
    const runs = tx.objectStore("runs");
    const rec = await request(runs.get(this.id));
    if (rec) {
      rec.status = status;
      rec.endedAt ??= Date.now();
      rec.unsaved = unsaved;
      runs.put(rec);
    }
    await committed(tx);
  }
}

/** @param {any[]} items */
function jsonl(items) {
  let s = "";
  for (const it of items) s += JSON.stringify(it) + "\n";
  return s;
}

