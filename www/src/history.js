// Run history on the package's ResultStore (IndexedDB, llmeter-wasm/store.js). The worker saves
// each run into the same database while it runs (grouped commits), so a page closed mid-run is
// found on the next visit, marked interrupted, with the responses saved until then. This module
// is the page's access to it: rows for the table, a run (parsed once), delete, zip in/out, upload.
import { ResultStore, toZip, fromZip, resultFromFolder, upload } from "./pkg/store.js";
import { LoadTestResult } from "./pkg/index.js";
import { briefOf } from "./results.js";

/** Shared with the worker (worker.js opens the same name). */
export const STORE_NAME = "llmeter-results";
const PLAN_KEY = (id) => `llmeter.heatmap:${id}`;
/** How long the presign endpoint may take per file before the attempt counts as failed. */
const PRESIGN_TIMEOUT_MS = 30_000;

/** @type {Promise<ResultStore> | null} */
let opened = null;
const store = () => (opened ??= ResultStore.open({ name: STORE_NAME }).catch((e) => ((opened = null), Promise.reject(e))));

/** A load-test level or heatmap run shows as "{test}/{00004-clients}". */
const displayName = (r) => (r.group ? `${r.group}/${r.name}` : r.name);

/**
 * @typedef {Object} RunRow
 * @property {string} id
 * @property {string} name
 * @property {string} group
 * @property {number | null} clients
 * @property {number} createdAt
 * @property {"running" | "complete" | "interrupted"} status
 * @property {string} [note]
 * @property {{completed: number, failed: number, ttftP50: number|null, ttltP50: number|null}} brief
 * @property {{baseUrl?: string, model?: string}} config
 * @property {string | null} unsaved
 */

/** @returns {RunRow} */
function row(r) {
  const s = r.stats ?? {};
  const failed = s.failed_requests ?? 0;
  const note = r.unsaved ? `Not stored completely: ${r.unsaved}` : r.status === "interrupted" ? "Stopped, or the page closed before the run finished; the responses saved until then are kept." : undefined;
  return {
    id: r.id,
    name: displayName(r),
    group: r.group,
    clients: r.summary?.clients ?? null,
    createdAt: r.startedAt,
    status: r.status,
    note,
    brief: { completed: Math.max(0, r.responses - failed), failed, ttftP50: s["time_to_first_token-p50"] ?? null, ttltP50: s["time_to_last_token-p50"] ?? null },
    config: { baseUrl: r.endpoint?.baseUrl ?? r.endpoint?.endpointUrl ?? (r.endpoint?.region ? `AWS ${r.endpoint.region}` : undefined), model: r.endpoint?.model ?? r.endpoint?.endpointName ?? r.summary?.model_id },
    unsaved: r.unsaved,
  };
}

/** Newest first. @returns {Promise<RunRow[]>} */
export async function listRuns() {
  return (await (await store()).list()).map(row);
}

/** A stored run as a record: its row and the run parsed once (plus a heatmap's plan). */
export async function getRun(id) {
  const s = await store();
  const r = await s.get(id);
  if (!r) return undefined;
  const result = await s.load(id);
  const plan = localStorage.getItem(PLAN_KEY(id));
  return { ...row(r), brief: briefOf(result), result, plan: plan ? JSON.parse(plan) : null };
}

/** A stored run to export or upload: its files are read as stored, nothing is parsed. */
export function storedRun(id, name) {
  const plan = localStorage.getItem(PLAN_KEY(id));
  return { id, name, plan: plan ? JSON.parse(plan) : null };
}

export async function deleteRun(id) {
  await (await store()).delete(id);
  localStorage.removeItem(PLAN_KEY(id));
}

/** Closes runs whose worker is gone (it crashed and was replaced): they are listed as interrupted. */
export async function closeAbandonedRuns() {
  // A crashed worker was just terminated: its run's lock goes a moment later.
  return (await store()).recoverUnfinished({ settleMs: 5000 });
}

/** Keeps a heatmap's plan (its cells) next to the newest stored run, which the worker just saved. */
export async function attachHeatmapPlan(planJson) {
  const [newest] = await (await store()).list({ limit: 1 });
  if (newest) localStorage.setItem(PLAN_KEY(newest.id), planJson);
}

/** The run's folder: as stored (opened from history), else written from its result. */
async function filesOf(record) {
  const files = record.id ? await (await store()).files(record.id) : record.result.toFiles();
  return record.plan ? { ...files, "heatmap.json": JSON.stringify(record.plan, null, 4) } : files;
}

/** The run as a zip in LLMeter's folder layout. @returns {Promise<Blob>} */
export async function runZip(record) {
  return new Blob([await toZip(await filesOf(record), { folder: record.name })], { type: "application/zip" });
}

/** A load test as one zip: `{test}/{00004-clients}/…`, what Python's LoadTestResult.load reads. */
export async function groupZip(group) {
  const files = await (await store()).groupFiles(group);
  return new Blob([await toZip(files, { folder: group })], { type: "application/zip" });
}

/** Imports a zip of a run or of a load test (ours or Python LLMeter's). @returns {Promise<number>} runs saved */
export async function importZip(blob) {
  const s = await store();
  const folder = await fromZip(blob);
  if (folder.kind === "run") {
    await s.save(await resultFromFolder(folder));
    return 1;
  }
  const test = await LoadTestResult.fromFiles(folder.files, { testName: folder.name || undefined });
  for (const result of test.results.values()) await s.save(result, { group: test.testName });
  return test.results.size;
}

/**
 * Uploads the run's files through the user's presign endpoint: POST {key, contentType} answers
 * {url} (a presigned PUT URL); every file is then PUT there. Neither can hang: the presign call
 * and each PUT have a time limit.
 */
export async function uploadRun(record, presignEndpoint, prefix) {
  const presign = async (key, contentType) => {
    const res = await fetch(presignEndpoint, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key, contentType }), signal: AbortSignal.timeout(PRESIGN_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`presign endpoint answered HTTP ${res.status}`);
    const body = await res.json();
    if (typeof body?.url !== "string") throw new Error('presign answer has no "url"');
    return body.url;
  };
  return upload(await filesOf(record), { presign, prefix, timeoutMs: 120_000 });
}
