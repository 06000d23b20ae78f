// @ts-check
/**
 * Uploads a result folder with HTTP PUTs to presigned URLs. Which file goes next, what is retried
 * and what is final is the store wasm module's upload state machine; this file does the `fetch`
 * calls, the timers and the waiting.
 */
import { contentType, Uploads } from "../llmeter_store.js";
import { initStore } from "./init.js";
import { filesOf, cleanEntries, toBytes } from "./files.js";

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
 * @property {number} [retries] Retries per file on network errors, timeouts and 5xx (default 3;
 *   4xx and refused redirects never).
 * @property {number} [retryDelayMs] First backoff (default 250 ms; doubles, capped at 8 s).
 * @property {number} [timeoutMs] Per file: the time `presign` and the PUT (its body sent and the
 *   answer's status received) may take before the attempt counts as failed and is retried
 *   (default 120,000 ms; raise it for very large files over slow links).
 * @property {string[] | UploadState} [resume] Keys already uploaded (from a failed upload's
 *   `error.state`): only the others are sent.
 * @property {(p: UploadProgress) => void} [onProgress]
 * @property {AbortSignal} [signal] Ends the whole upload at once: PUTs in flight are cancelled
 *   and `upload()` rejects with the signal's reason.
 * @property {typeof fetch} [fetch] Defaults to the global fetch.
 */

/** @typedef {{ uploaded: string[], pending: string[] }} UploadState */

/** A failed upload: `failures` name each file and what went wrong; pass `state` as `resume` to retry. */
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

/** Why an attempt ended without an HTTP answer worth reporting. */
class Refused extends Error {}

/**
 * Uploads a result folder with HTTP PUTs to presigned URLs, each with the content type it was
 * signed for. Runs in browsers, workers, Node, Deno and workerd (global `fetch`). No credentials
 * of any kind are sent (no cookies, no Authorization; URLs with user:password are refused), and
 * redirects are not followed: a presigned URL answers itself, so a redirect is reported as
 * "redirect refused" and not retried.
 * @param {import("./files.js").Files | { toFiles(): import("./files.js").Files }} filesOrResult
 * @param {UploadOptions} options
 * @returns {Promise<UploadState & { bytes: number }>}
 */
export async function upload(filesOrResult, options) {
  if (!options || typeof options !== "object") throw new TypeError("upload options must be an object");
  const { presign, urls, prefix = "", concurrency = 4, retries = 3, retryDelayMs = 250, timeoutMs = 120_000, resume, onProgress, signal } = options;
  const doFetch = options.fetch ?? globalThis.fetch;
  if (typeof presign !== "function" && (typeof urls !== "object" || urls === null)) throw new TypeError("upload needs presign(key, contentType) or urls");
  if (!(Number.isInteger(concurrency) && concurrency >= 1)) throw new RangeError("concurrency must be a positive integer");
  if (!(Number.isInteger(retries) && retries >= 0)) throw new RangeError("retries must be a non-negative integer");
  if (!(typeof timeoutMs === "number" && timeoutMs > 0 && timeoutMs <= 2 ** 31 - 1)) throw new RangeError("timeoutMs must be a positive number of milliseconds, at most 2147483647 (about 24.8 days)");
  if (typeof prefix !== "string") throw new TypeError("prefix must be a string");
  if (signal !== undefined && !(typeof signal === "object" && signal !== null && typeof signal.addEventListener === "function")) throw new TypeError("signal must be an AbortSignal");
  signal?.throwIfAborted();
  await initStore();
  const entries = cleanEntries(filesOf(filesOrResult)).map(([path, content]) => ({ key: prefix + path, type: contentType(path), body: toBytes(content) }));
  const done = Array.isArray(resume) ? resume : resume?.uploaded ?? [];
  const plan = new Uploads(entries.map((e) => e.key), done, retries + 1, retryDelayMs, 8000);
  const total = entries.length;
  let bytes = 0;
  /** @type {(() => void)[]} */
  let wakers = [];
  const wake = () => { const w = wakers; wakers = []; w.forEach((f) => f()); };
  /** @type {Set<ReturnType<typeof setTimeout>>} */
  const timers = new Set();
  /** @param {number} ms */
  const wakeIn = (ms) => { const t = setTimeout(() => { timers.delete(t); wake(); }, Math.max(0, ms)); timers.add(t); };
  // Settles (rejects) when the caller aborts; every wait below races it.
  /** @type {Promise<never>} */
  const aborted = new Promise((_, reject) => {
    if (signal) signal.addEventListener("abort", () => reject(signal.reason ?? new DOMException("upload aborted", "AbortError")), { once: true });
  });
  aborted.catch(() => {});

  /**
   * One attempt for entry `i`. Never rejects: every outcome goes to the plan, and an aborted
   * upload just stops here.
   * @param {number} i
   */
  async function put(i) {
    const e = entries[i];
    const attempt = new AbortController();
    const timer = setTimeout(() => attempt.abort(new DOMException(`no answer within ${timeoutMs} ms`, "TimeoutError")), timeoutMs);
    const cancel = () => attempt.abort(signal?.reason);
    signal?.addEventListener("abort", cancel, { once: true });
    /** @type {() => number} reports the outcome to the plan; returns the retry delay or -1 */
    let report;
    let detail = "";
    try {
      const url = urls ? urls[e.key] : await Promise.race([presign?.(e.key, e.type), abortedBy(attempt.signal)]);
      if (typeof url !== "string") throw new Refused(`no URL for ${e.key}`);
      let parsed;
      try { parsed = new URL(url); } catch { throw new Refused(`the URL for ${e.key} is not a valid URL`); }
      if (parsed.username || parsed.password) throw new Refused(`the URL for ${e.key} carries credentials; use a presigned URL`);
      const res = await doFetch(url, {
        method: "PUT", body: /** @type {BodyInit} */ (/** @type {unknown} */ (e.body)), headers: { "content-type": e.type },
        credentials: "omit", mode: "cors", cache: "no-store", redirect: "manual", signal: attempt.signal,
      });
      // Browsers hide a redirect's target ("opaqueredirect"); Node, Deno and workerd show it.
      if (res.type === "opaqueredirect" || (res.status >= 300 && res.status < 400)) {
        await res.body?.cancel().catch(() => {});
        const location = res.headers.get("location");
        let to = "";
        try { if (location) to = ` to ${new URL(location, url).origin}`; } catch {}
        throw new Refused(`redirect refused (${res.status ? `HTTP ${res.status}` : "the server answered with a redirect"}${to}): a presigned URL must accept the PUT itself`);
      }
      detail = res.ok ? "" : await res.text().catch(() => res.statusText);
      if (res.ok) bytes += e.body.byteLength;
      else if (!detail) detail = res.statusText;
      const status = res.status;
      report = () => plan.report(i, status, detail, performance.now());
    } catch (err) {
      if (signal?.aborted) return; // the whole upload ends; nothing to report
      const er = /** @type {any} */ (err);
      if (er instanceof Refused) {
        detail = er.message;
        report = () => plan.refuse(i, detail, performance.now());
      } else if (attempt.signal.aborted) {
        detail = `no answer within ${timeoutMs} ms`;
        report = () => plan.timedOut(i, timeoutMs, performance.now());
      } else {
        detail = `${er?.name ?? "Error"}: ${er?.message ?? er}`;
        report = () => plan.report(i, 0, detail, performance.now());
      }
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", cancel);
    }
    const retryIn = report();
    const failure = retryIn < 0 ? plan.failures().find(([k]) => k === e.key)?.[1] : undefined;
    onProgress?.({ key: e.key, event: retryIn >= 0 ? "retry" : failure ? "failed" : "done", done: plan.doneKeys().length, total, bytes, error: failure ?? (retryIn >= 0 ? detail : undefined) });
    if (retryIn >= 0) wakeIn(retryIn);
  }

  /** @type {Promise<void>[]} */
  const running = [];
  let active = 0;
  try {
    while (true) {
      const next = active < concurrency ? plan.next(performance.now()) : { idle: true };
      if (next.finished) break;
      if (next.start !== undefined) {
        active++;
        running.push(put(next.start).finally(() => { active--; wake(); }));
        continue;
      }
      const woken = new Promise((resolve) => wakers.push(() => resolve(undefined)));
      if (next.wait !== undefined) wakeIn(next.wait);
      await Promise.race([woken, aborted]);
    }
    await Promise.race([Promise.all(running), aborted]);
    const state = { uploaded: plan.doneKeys(), pending: plan.pendingKeys() };
    const failures = plan.failures();
    if (failures.length) {
      throw new UploadError(`upload failed for ${failures.length} of ${total} files: ${failures.map(([, m]) => m).join("; ")}`, failures, state);
    }
    return { ...state, bytes };
  } finally {
    for (const t of timers) clearTimeout(t);
    // PUTs still settling after an abort report nothing (see put), so the plan can go now.
    Promise.allSettled(running).then(() => plan.free());
  }
}

/** @param {AbortSignal} signal @returns {Promise<never>} rejects when `signal` aborts */
function abortedBy(signal) {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}
