// A run from the page's side: starting it in the engine worker, live progress, stopping, and
// turning the worker's results into records (each run's files parsed once, into a Result).
import { $, showProblem, clearProblem, showWarnings } from "./dom.js";
import { buildRun, publicConfig, saveForm, markRefusedOption } from "./form.js";
import { startEngine } from "./engine.js";
import { fmtMs, fmtNum } from "./results.js";
import { looksLikeNetworkFailure, diagnose } from "./cors.js";
import { familyOf } from "./families.js";
import { attachHeatmapPlan, closeAbandonedRuns } from "./history.js";
import { refreshHistory } from "./history-view.js";
import { showRecords, recordFromResult } from "./results-view.js";

const HIDDEN_WARNING = "This tab was hidden during the run. Browsers throttle background tabs, which can delay requests and inflate timings: keep the tab visible while measuring.";

/**
 * The run in progress, or null.
 * @type {{ name: string, testName: string, levels: number[], index: number, level: string, records: any[], durationS: number | null, hidden: boolean, config: any, listed: boolean, stopping?: boolean } | null}
 */
let active = null;
/** @type {import("./engine.js").Engine} */
let engine;

export const isRunning = () => active !== null;

/** Starts the engine worker and wires the run controls. */
export function initRun() {
  engine = startEngine({ onMessage, onCrash });
  $("config").addEventListener("submit", start);
  $("stop").addEventListener("click", stop);
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && active) stop();
  });
  // The worker cannot see the page's visibility; the page notes a hidden tab during a run.
  document.addEventListener("visibilitychange", () => {
    if (!active || document.visibilityState !== "hidden") return;
    active.hidden = true;
    showWarnings($("warnings"), [HIDDEN_WARNING]);
  });
}

/** @param {Event} [event] */
async function start(event) {
  event?.preventDefault();
  if (active) return;
  clearProblem();
  // Everything is checked before the run is marked as started.
  const built = await buildRun();
  if (!built || active) return;
  saveForm();
  // The records name where the requests went: the base URL, or an AWS family's endpoint.
  const config = publicConfig();
  config.baseUrl = familyOf(config.endpointType).request(config).base;
  active = { name: built.runName, testName: built.runName, levels: built.levels, index: 0, level: "", records: [], durationS: built.durationS, hidden: false, config, listed: false };
  setRunningUi(built.runName ? `Running “${built.runName}”…` : "Running…");
  try {
    engine.post(built.message);
  } catch (e) {
    active = null;
    showProblem("The run could not start.", [String(/** @type {any} */ (e)?.message ?? e)]);
    finishUi("Idle.");
  }
}

/** @param {string} state */
function setRunningUi(state) {
  $("start").disabled = true;
  $("stop").disabled = false;
  $("progress").removeAttribute("value");
  $("progress-text").textContent = "";
  $("live-state").textContent = state;
  showWarnings($("warnings"), []);
  resetLive();
  document.body.dataset.running = "true";
}

function resetLive() {
  for (const id of ["live-completed", "live-failed", "live-ttft-p50", "live-ttft-p90", "live-ttlt-p50", "live-ttlt-p90", "live-rpm", "live-tps"]) $(id).textContent = "–";
}

function stop() {
  if (!active) return;
  try {
    engine.post({ type: "stop" });
  } catch {
    return; // no engine to stop: its crash handler ends the run
  }
  $("stop").disabled = true;
  active.stopping = true;
  $("live-state").textContent = "Stopping: cancelling requests in flight and keeping the completed ones…";
}

/** @param {string} [text] */
function finishUi(text) {
  document.body.dataset.running = "false";
  $("start").disabled = false;
  $("stop").disabled = true;
  if (!$("progress").hasAttribute("value")) $("progress").value = 0;
  if (text) $("live-state").textContent = text;
}

function levelLabel() {
  return active && active.levels.length > 1 ? `Level ${active.index + 1}/${active.levels.length} (${active.level}) · ` : "";
}

/** A level's description: `4 clients` or `2.5 requests/s`. @param {{ clients?: number, rate?: number }} l */
const describeLevel = (l) => (l.rate !== undefined && l.rate !== null ? `${l.rate} requests/s` : `${l.clients} clients`);

function onProgress(p) {
  const s = p.stats ?? {};
  const done = p.completed; // finished requests, failed ones included
  if (p.expected) {
    $("progress").max = p.expected;
    $("progress").value = done;
    $("progress-text").textContent = `${levelLabel()}${done} / ${p.expected} requests · ${p.inFlight} in flight · ${p.elapsedS.toFixed(1)} s`;
  } else if (active?.durationS) {
    $("progress").max = active.durationS;
    $("progress").value = Math.min(p.elapsedS, active.durationS);
    $("progress-text").textContent = `${levelLabel()}${p.elapsedS.toFixed(1)} / ${active.durationS} s · ${done} requests · ${p.inFlight} in flight`;
  }
  $("live-completed").textContent = String(p.completed);
  $("live-failed").textContent = String(p.failed);
  $("live-ttft-p50").textContent = fmtMs(s.ttft_p50);
  $("live-ttft-p90").textContent = fmtMs(s.ttft_p90);
  $("live-ttlt-p50").textContent = fmtMs(s.ttlt_p50);
  $("live-ttlt-p90").textContent = fmtMs(s.ttlt_p90);
  $("live-rpm").textContent = fmtNum(s.requests_per_minute, 1);
  $("live-tps").textContent = fmtNum(s.output_tokens_per_second, 1);
}

/** Worker messages other than progress are handled one at a time, in order. */
let queue = Promise.resolve();
function onMessage(msg) {
  if (msg.type === "progress") {
    // The worker's store lists the run from its start: show it in history once.
    if (active && !active.listed) {
      active.listed = true;
      refreshHistory();
    }
    return onProgress(msg.progress);
  }
  queue = queue.then(() => handleMessage(msg)).catch((e) => showProblem("Something went wrong while showing the run.", [String(e?.message ?? e)]));
}

/**
 * The worker crashed (and was replaced): the run it was doing is over. What it saved stays in
 * history, closed as interrupted.
 * @param {string} reason @param {boolean} restarted
 */
function onCrash(reason, restarted) {
  queue = queue.then(async () => {
    const wasRunning = active !== null;
    active = null;
    showProblem(restarted ? "The benchmark engine stopped unexpectedly and was restarted." : "The benchmark engine could not be loaded.", [
      reason,
      ...(restarted ? [wasRunning ? "The run was cut short: the responses saved until then are kept in history, marked interrupted. You can start a new run." : "You can start a new run."] : ["Reload the page to try again."]),
    ]);
    finishUi(wasRunning ? "Stopped: the engine crashed." : undefined);
    await closeAbandonedRuns().catch(() => {});
    await refreshHistory();
  });
}

async function handleMessage(msg) {
  if (!active && msg.type !== "warning") return;
  if (msg.type === "level") {
    active.index = msg.index;
    active.level = describeLevel(msg);
    // A sweep knows its levels once its first two have run.
    if (typeof msg.levels === "number" && msg.levels !== active.levels.length) active.levels = Array.from({ length: msg.levels }, (_, i) => i);
    active.listed = false;
    if (msg.testName) active.testName = msg.testName;
    if (msg.index > 0) resetLive();
    const name = active.testName || active.name;
    $("live-state").textContent = name ? `Running “${name}”…` : "Running…";
    return;
  }
  if (msg.type === "warning") {
    showWarnings($("warnings"), [msg.message]);
    return;
  }
  if (msg.type === "error") {
    active = null;
    showProblem("The run could not start.", [msg.message]);
    markRefusedOption(msg.message);
    finishUi("Idle.");
    await refreshHistory();
    return;
  }
  if (msg.type !== "done") return;
  const group = active.levels.length > 1 || msg.plan ? msg.testName ?? "" : "";
  const record = await recordFromResult(msg.files, { group, clients: msg.clients ?? null, config: { ...active.config, clients: msg.clients }, plan: msg.plan ?? null, warnings: msg.warnings });
  if (active.hidden && !record.brief.warnings.some((w) => /hidden/i.test(w))) record.brief.warnings.push(HIDDEN_WARNING);
  active.records.push(record);
  if (msg.plan) await attachHeatmapPlan(JSON.stringify(msg.plan));
  showWarnings($("warnings"), record.brief.warnings);
  if (!msg.last) return;
  const { records, levels } = active;
  active = null;
  const ok = records.reduce((n, r) => n + r.brief.completed, 0), failed = records.reduce((n, r) => n + r.brief.failed, 0);
  const stopped = records.some((r) => r.status === "interrupted");
  // History and results first: "Finished"/"Stopped" then means everything is on the page.
  await refreshHistory();
  await showRecords(records, levels.length > 1 ? group : "");
  finishUi(`${stopped ? "Stopped" : "Finished"}: ${ok} responses, ${failed} failed${records.length > 1 ? ` over ${records.length} levels` : ""}.`);
  const last = records[records.length - 1];
  const errors = last.result.responses.map((r) => r.error).filter(Boolean);
  if (errors.length && errors.length === last.result.responses.length) {
    if (looksLikeNetworkFailure(errors)) {
      const d = await diagnose(familyOf(last.config.endpointType), last.config);
      showProblem(d.title, d.lines, d.kind);
    } else {
      showProblem("Every request failed. The first error:", [errors[0]]);
    }
  }
}
