// The playground page: configuration form, the engine worker, live progress, results, history.
import { parsePayloadText, presetText, PRESETS, parseHeaders } from "./payload.js";
import { getRun, deleteRun, listRuns, attachHeatmapPlan, runZip, groupZip, importZip as importZipToStore, uploadRun } from "./history.js";
import { readRunFiles, fmtMs, fmtNum, statRows, networkText } from "./results.js";
import { renderCharts, drawFigures, nothingToChart, noCharts } from "./charts.js";
import { looksLikeNetworkFailure, diagnose } from "./cors.js";
import { encodeShare, decodeShare } from "./share.js";

const $ = (/** @type {string} */ id) => /** @type {any} */ (document.getElementById(id));
const KEY_STORAGE = "llmeter.apiKey";
const FORM_STORAGE = "llmeter.form";

/** @type {Worker} */
let worker;
/** @type {{id: string, record: any, durationS: number | null} | null} */
let active = null;
/** Records currently shown in Results (one, or several when comparing). */
let shown = [];

// ---------- configuration ----------

function fillPresets() {
  for (const [value, p] of Object.entries(PRESETS)) $("preset").append(new Option(p.label, value));
}

/** The configuration without secrets: what share links, history and exports carry. */
function publicConfig() {
  const headers = parseHeaders($("headers").value);
  return {
    endpointType: $("endpoint-type").value,
    baseUrl: $("base-url").value.trim(),
    model: $("model").value.trim(),
    headerNames: headers.ok ? Object.keys(headers.headers) : [],
    payload: $("payload").value,
    clients: $("clients").value.trim(),
    mode: document.querySelector('input[name="mode"]:checked').value,
    amount: Number($("amount").value),
    timeout: Number($("timeout").value),
    runName: $("run-name").value.trim(),
    experiment: experiment(),
    heatmap: { source: $("hm-source").value, inputs: $("hm-inputs").value, outputs: $("hm-outputs").value, perCell: $("hm-per-cell").value, clients: $("hm-clients").value, tokenizer: $("hm-tokenizer").value, tokenizerUrl: $("hm-tok-url").value },
  };
}

const experiment = () => (document.querySelector('input[name="experiment"]:checked')?.value === "heatmap" && !$("experiment-choice").hidden ? "heatmap" : "load");

/** Shows the fields of the chosen experiment and of the chosen source/tokenizer. */
function updateExperiment() {
  const heatmap = experiment() === "heatmap";
  $("heatmap-fields").hidden = !heatmap;
  $("load-fields").hidden = heatmap;
  $("payload-section").hidden = heatmap; // the heatmap makes its own prompts
  $("run-step").textContent = heatmap ? "2" : "3";
  $("hm-file-label").hidden = $("hm-source").value !== "file";
  $("hm-tok-url-label").hidden = $("hm-tokenizer").value !== "url";
  $("hm-tok-file-label").hidden = $("hm-tokenizer").value !== "file";
}

function applyConfig(c) {
  if (!c || typeof c !== "object") return;
  const set = (id, v) => v !== undefined && v !== null && ($(id).value = String(v));
  set("endpoint-type", c.endpointType);
  set("base-url", c.baseUrl);
  set("model", c.model);
  set("payload", c.payload);
  set("clients", c.clients);
  set("amount", c.amount);
  set("timeout", c.timeout);
  set("run-name", c.runName);
  if (Array.isArray(c.headerNames) && c.headerNames.length && !$("headers").value) $("headers").value = c.headerNames.map((h) => `${h}: `).join("\n");
  if (c.mode === "duration" || c.mode === "requests") document.querySelector(`input[name="mode"][value="${c.mode}"]`).checked = true;
  const h = c.heatmap;
  if (h && typeof h === "object") {
    if (["bundled", "file"].includes(h.source)) $("hm-source").value = h.source;
    if (["whitespace", "url", "file"].includes(h.tokenizer)) $("hm-tokenizer").value = h.tokenizer;
    set("hm-inputs", h.inputs);
    set("hm-outputs", h.outputs);
    set("hm-per-cell", h.perCell);
    set("hm-clients", h.clients);
    set("hm-tok-url", h.tokenizerUrl);
  }
  if (c.experiment === "heatmap") document.querySelector('input[name="experiment"][value="heatmap"]').checked = true;
  updateExperiment();
  updateMode();
  validatePayload();
}

function saveForm() {
  try {
    localStorage.setItem(FORM_STORAGE, JSON.stringify(publicConfig()));
  } catch {}
  const remember = $("remember-key").checked;
  if (remember) sessionStorage.setItem(KEY_STORAGE, $("api-key").value);
  else sessionStorage.removeItem(KEY_STORAGE);
}

function updateMode() {
  const duration = document.querySelector('input[name="mode"]:checked').value === "duration";
  $("amount-label").textContent = duration ? "Seconds per client" : "Requests per client";
}

let lastPayload = null;
function validatePayload() {
  const text = $("payload").value;
  const check = parsePayloadText(text);
  const status = $("payload-status");
  const lines = text.split("\n").length;
  const gutter = [];
  for (let i = 1; i <= Math.max(lines, 1); i++) gutter.push(!check.ok && check.line === i ? `▶${i}` : String(i));
  $("payload-gutter").textContent = gutter.join("\n");
  $("payload").setAttribute("aria-invalid", String(!check.ok));
  status.classList.toggle("error", !check.ok);
  if (check.ok) {
    lastPayload = check.payloads;
    const n = check.payloads.length;
    status.textContent = `✓ ${n} payload${n === 1 ? "" : "s"} (${check.format === "jsonl" ? "JSONL" : "JSON"}). ${check.notes.join(" ")}`;
  } else {
    lastPayload = null;
    status.textContent = check.message;
  }
  return check;
}

/** Lengths like "10, 50, 200". @returns {number[] | null} */
function parseLengths(text) {
  const xs = String(text).split(/[\s,;]+/).filter(Boolean).map(Number);
  return xs.length && xs.length <= 12 && xs.every((n) => Number.isInteger(n) && n >= 1 && n <= 100000) ? xs : null;
}

/** The heatmap's part of the worker message, or problems. */
async function buildHeatmap(problems) {
  const inputLengths = parseLengths($("hm-inputs").value), outputLengths = parseLengths($("hm-outputs").value);
  if (!inputLengths) problems.push(["hm-inputs", "Input lengths must be whole numbers of tokens, e.g. 10, 50, 200, 500."]);
  if (!outputLengths) problems.push(["hm-outputs", "Output lengths must be whole numbers of tokens, e.g. 16, 64, 256."]);
  const perCell = Number($("hm-per-cell").value), clients = Number($("hm-clients").value);
  if (!(Number.isInteger(perCell) && perCell >= 1)) problems.push(["hm-per-cell", "Requests per cell must be a whole number ≥ 1."]);
  if (!(Number.isInteger(clients) && clients >= 1 && clients <= 1000)) problems.push(["hm-clients", "Clients must be a whole number from 1 to 1000."]);
  let sourceText = "";
  if ($("hm-source").value === "file") {
    const f = $("hm-file").files[0];
    if (!f) problems.push(["hm-file", "Choose a text file for the prompts, or use the bundled text."]);
    else sourceText = await f.text();
  } else {
    const res = await fetch(new URL("./texts/lighthouse.txt", import.meta.url));
    sourceText = res.ok ? await res.text() : "";
    if (!sourceText) problems.push(["hm-source", "The bundled text could not be loaded."]);
  }
  let tokenizer = { kind: "whitespace" };
  if ($("hm-tokenizer").value === "url") {
    const url = $("hm-tok-url").value.trim();
    if (!/^https?:\/\//.test(url)) problems.push(["hm-tok-url", "The tokenizer URL must be an http(s) URL of a tokenizer.json."]);
    tokenizer = { kind: "url", url };
  } else if ($("hm-tokenizer").value === "file") {
    const f = $("hm-tok-file").files[0];
    if (!f) problems.push(["hm-tok-file", "Choose a tokenizer.json file."]);
    else tokenizer = { kind: "json", json: await f.text(), name: f.name };
  }
  return { heatmap: { sourceText, inputLengths, outputLengths, requestsPerCombination: perCell, clients }, tokenizer };
}

/** Reads and checks the whole form; returns the worker message or shows what is wrong. */
async function buildRun() {
  const problems = [];
  const baseUrl = $("base-url").value.trim();
  const model = $("model").value.trim();
  let urlOk = false;
  try {
    urlOk = /^https?:$/.test(new URL(baseUrl).protocol);
  } catch {}
  if (!urlOk) problems.push(["base-url", "Base URL must be an http:// or https:// URL, e.g. https://api.openai.com/v1."]);
  if (!model) problems.push(["model", "Model is required."]);
  const headers = parseHeaders($("headers").value);
  $("headers-error").hidden = headers.ok;
  if (!headers.ok) {
    $("headers-error").textContent = headers.message;
    $("headers").closest("details").open = true;
    problems.push(["headers", headers.message]);
  }
  if (experiment() === "heatmap") {
    const hm = await buildHeatmap(problems);
    const timeout = Number($("timeout").value);
    if (!(timeout > 0)) problems.push(["timeout", "Timeout must be a positive number of seconds."]);
    if (problems.length) return reject(problems);
    const runName = ($("run-name").value.trim() || defaultRunName()).replace(/[\/\\]/g, "-");
    hm.heatmap.testName = runName;
    return {
      message: { type: "start", experiment: "heatmap", endpoint: { baseUrl, model, apiKey: $("api-key").value || undefined, headers: headers.ok ? headers.headers : {} }, ...hm, timeout },
      runName,
      durationS: null,
    };
  }
  const payload = validatePayload();
  if (!payload.ok) problems.push(["payload", payload.message]);
  const levels = parseLevels($("clients").value);
  if (!levels) problems.push(["clients", "Concurrent clients must be a whole number from 1 to 1000, or a list of them for a load test (e.g. 1, 2, 4, 8)."]);
  const mode = document.querySelector('input[name="mode"]:checked').value;
  const amount = Number($("amount").value);
  if (!(amount > 0) || (mode === "requests" && !Number.isInteger(amount))) problems.push(["amount", mode === "requests" ? "Requests per client must be a whole number ≥ 1." : "Seconds per client must be a positive number."]);
  const timeout = Number($("timeout").value);
  if (!(timeout > 0)) problems.push(["timeout", "Timeout must be a positive number of seconds."]);
  for (const id of ["base-url", "model", "clients", "amount", "timeout"]) $(id).setAttribute("aria-invalid", String(problems.some((p) => p[0] === id)));
  if (problems.length) return reject(problems);
  const apiKey = $("api-key").value;
  const runName = $("run-name").value.trim() || defaultRunName();
  const run = { payload: payload.payloads.length === 1 ? payload.payloads[0] : payload.payloads, runName };
  if (mode === "requests") run.nRequests = amount;
  else run.runDuration = amount;
  return {
    message: { type: "start", endpoint: { baseUrl, model, apiKey: apiKey || undefined, headers: headers.ok ? headers.headers : {} }, run, levels, timeout },
    runName,
    durationS: mode === "duration" ? amount : null,
  };
}

/** "4" → [4]; "1, 2, 4" → a load test's levels. @returns {number[] | null} */
function parseLevels(text) {
  const parts = String(text).split(/[\s,;]+/).filter(Boolean);
  const levels = parts.map(Number);
  if (!levels.length || levels.length > 20 || !levels.every((n) => Number.isInteger(n) && n >= 1 && n <= 1000)) return null;
  return levels;
}

function reject(problems) {
  for (const id of ["base-url", "model", "clients", "amount", "timeout"]) $(id).setAttribute("aria-invalid", String(problems.some((p) => p[0] === id)));
  showProblem("Please fix the configuration:", problems.map((p) => p[1]));
  $(problems[0][0]).focus();
  return null;
}

function defaultRunName() {
  const d = new Date();
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

// ---------- messages and problems ----------

function showProblem(title, lines = [], kind = "error") {
  const box = $("problem");
  box.replaceChildren();
  box.dataset.kind = kind;
  const h = document.createElement("strong");
  h.textContent = title;
  box.append(h);
  if (lines.length) {
    const ul = document.createElement("ul");
    for (const l of lines) {
      const li = document.createElement("li");
      li.textContent = l.replace(/^• /, "");
      ul.append(li);
    }
    box.append(ul);
  }
  box.hidden = false;
}

function clearProblem() {
  $("problem").hidden = true;
  $("problem").replaceChildren();
}

function showWarnings(el, warnings) {
  el.replaceChildren();
  el.hidden = !warnings?.length;
  for (const w of warnings ?? []) {
    const p = document.createElement("p");
    p.textContent = `⚠ ${w}`;
    el.append(p);
  }
}

// ---------- running ----------

/** The heatmap needs the package's experiments (js/experiments.js); offered only when present. */
async function detectExperiments(config) {
  try {
    const pkg = await import("./pkg/index.js");
    if (typeof pkg.LatencyHeatmap !== "function") return;
    $("experiment-choice").hidden = false;
    if (config?.experiment === "heatmap") document.querySelector('input[name="experiment"][value="heatmap"]').checked = true;
    updateExperiment();
  } catch {}
}

/** The worker cannot see the page's visibility; the page notes a hidden tab during a run. */
function watchVisibility() {
  document.addEventListener("visibilitychange", () => {
    if (!active || document.visibilityState !== "hidden") return;
    active.hidden = true;
    showWarnings($("warnings"), [HIDDEN_WARNING]);
  });
}
const HIDDEN_WARNING = "This tab was hidden during the run. Browsers throttle background tabs, which can delay requests and inflate timings: keep the tab visible while measuring.";

function startWorker() {
  worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module", name: "llmeter-engine" });
  worker.onmessage = (e) => onWorkerMessage(e.data);
  worker.onerror = (e) => {
    showProblem("The benchmark engine failed to start.", [e.message || "The worker could not be loaded."]);
    finishUi();
  };
}

async function start(event) {
  event?.preventDefault();
  if (active) return;
  clearProblem();
  const built = await buildRun();
  if (!built) return;
  saveForm();
  const levels = built.message.levels ?? [built.message.heatmap.clients];
  active = { name: built.runName, group: levels.length > 1 ? built.runName : "", levels, index: 0, record: null, records: [], durationS: built.durationS, hidden: false, config: publicConfig() };
  $("start").disabled = true;
  $("stop").disabled = false;
  $("progress").removeAttribute("value");
  $("progress-text").textContent = "";
  $("live-state").textContent = `Running “${built.runName}”…`;
  showWarnings($("warnings"), []);
  resetLive();
  document.body.dataset.running = "true";
  worker.postMessage(built.message);
}

function resetLive() {
  for (const id of ["live-completed", "live-failed", "live-ttft-p50", "live-ttft-p90", "live-ttlt-p50", "live-ttlt-p90", "live-rpm", "live-tps"]) $(id).textContent = "–";
}

function stop() {
  if (!active) return;
  worker.postMessage({ type: "stop" });
  $("stop").disabled = true;
  active.stopping = true;
  $("live-state").textContent = "Stopping: cancelling requests in flight and keeping the completed ones…";
}

function levelLabel() {
  return active && active.levels.length > 1 ? `Level ${active.index + 1}/${active.levels.length} (${active.levels[active.index]} clients) · ` : "";
}

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
function onWorkerMessage(msg) {
  if (msg.type === "progress") {
    if (active && !active.listed) {
      active.listed = true;
      refreshHistory();
    }
    return onProgress(msg.progress);
  }
  queue = queue.then(() => handleMessage(msg)).catch((e) => showProblem("Something went wrong while saving the run.", [String(e?.message ?? e)]));
}

async function handleMessage(msg) {
  if (msg.type === "level") {
    // Saved as "running" so that a page closed mid-run leaves a trace in history.
    active.index = msg.index;
    // The worker saves the run in the ResultStore as it goes; history lists it from the first progress.
    active.record = { id: null, name: msg.runName, group: active.group, clients: msg.clients, createdAt: Date.now(), status: "running", config: { ...active.config, clients: msg.clients }, files: {} };
    active.listed = false;
    if (msg.index > 0) resetLive();
    $("live-state").textContent = `Running “${msg.runName}”…`;
    return;
  }
  if (msg.type === "warning") {
    showWarnings($("warnings"), [msg.message]);
    return;
  }
  if (msg.type === "error") {
    active = null;
    showProblem("The run could not start.", [msg.message]);
    finishUi("Idle.");
    await refreshHistory();
    return;
  }
  if (msg.type !== "done" || !active) return;
  // A load test reports its levels at the end, each with its name and clients.
  const base = active.record ?? { id: null, group: active.group, createdAt: Date.now(), status: "running", config: active.config, files: {} };
  const record = { ...base, name: msg.runName ?? base.name, clients: msg.clients ?? base.clients };
  record.config = { ...record.config, clients: record.clients };
  const view = readRunFiles(msg.files);
  const info = { ...(msg.view.info ?? view.info) };
  if (active.hidden && !info.warnings?.some((w) => /hidden/i.test(w))) info.warnings = [...(info.warnings ?? []), HIDDEN_WARNING];
  record.files = msg.files;
  record.status = info.interrupted ? "interrupted" : "complete";
  if (info.interrupted) record.note = "Stopped before all requests were sent; the completed responses are kept.";
  record.brief = briefOf(view, info);
  active.records.push(record);
  if (msg.files["heatmap.json"]) await attachHeatmapPlan(msg.files["heatmap.json"]);
  showWarnings($("warnings"), info.warnings);
  if (!msg.last) return;
  const { records, group } = active;
  active = null;
  const ok = records.reduce((n, r) => n + r.brief.completed, 0), failed = records.reduce((n, r) => n + r.brief.failed, 0);
  const stopped = records.some((r) => r.status === "interrupted");
  // History and results first: "Finished"/"Stopped" then means everything is on the page.
  await refreshHistory();
  await showRecords(records, group);
  finishUi(`${stopped ? "Stopped" : "Finished"}: ${ok} responses, ${failed} failed${records.length > 1 ? ` over ${records.length} levels` : ""}.`);
  const errors = view.responses.map((r) => r.error).filter(Boolean);
  if (errors.length && errors.length === view.responses.length) {
    if (looksLikeNetworkFailure(errors)) {
      const d = await diagnose(record.config.baseUrl, record.config.headerNames ?? []);
      showProblem(d.title, d.lines, d.kind);
    } else {
      showProblem("Every request failed. The first error:", [errors[0]]);
    }
  }
}

function briefOf(view, info) {
  const ok = view.responses.filter((r) => !r.error).length;
  return {
    completed: ok,
    failed: view.responses.length - ok,
    ttftP50: view.stats["time_to_first_token-p50"] ?? null,
    ttltP50: view.stats["time_to_last_token-p50"] ?? null,
    warnings: info?.warnings ?? [],
    runtime: info?.runtime ?? null,
    protocol: info?.protocol ?? null,
  };
}

function finishUi(text) {
  document.body.dataset.running = "false";
  $("start").disabled = false;
  $("stop").disabled = true;
  if (!$("progress").hasAttribute("value")) $("progress").value = 0;
  if (text) $("live-state").textContent = text;
}

// ---------- results ----------

/**
 * @param {any[]} records one run, several to compare, or the levels of a load test
 * @param {string} [group] the load test's name when `records` are its levels
 */
async function showRecords(records, group = "") {
  shown = records;
  const section = $("results");
  section.hidden = false;
  const views = records.map((r) => ({ record: r, view: readRunFiles(r.files) }));
  const meta = $("results-meta");
  const single = records.length === 1;
  if (single) {
    const { record, view } = views[0];
    const c = record.config ?? {};
    const bits = [`“${record.name}”`, new Date(record.createdAt).toLocaleString(), c.model && `model ${c.model}`, c.baseUrl, view.summary.clients && `${view.summary.clients} clients`, view.info.protocol, record.status === "interrupted" ? "interrupted" : null];
    meta.textContent = bits.filter(Boolean).join(" · ");
    $("results-title").textContent = "Results";
    showWarnings($("results-warnings"), [...new Set([...(view.info.warnings ?? []), ...(record.brief?.warnings ?? [])])]);
    fillStatsTable(view.stats);
    fillResponses(view.responses, view.timings);
  } else {
    $("results-title").textContent = group ? `Load test “${group}”: ${records.length} levels` : `Comparing ${records.length} runs`;
    meta.textContent = group ? `${records.map((r) => r.clients ?? readRunFiles(r.files).summary.clients).join(", ")} concurrent clients · model ${records[0].config?.model ?? ""} · ${records[0].config?.baseUrl ?? ""}` : records.map((r) => `“${r.name}”`).join(" vs ");
    showWarnings($("results-warnings"), [...new Set(records.flatMap((r) => r.brief?.warnings ?? []))]);
    fillCompareTable(views);
  }
  document.querySelector(".responses").hidden = !single;
  document.querySelector("#results h3").hidden = !single;
  $("export-zip").hidden = $("export-html").hidden = !single;
  const runs = views.map(({ record, view }) => ({ name: group ? record.name.slice(group.length + 1) : record.name, responses: view.responses }));
  if (!single && !group) return renderCharts($("charts"), runs); // several runs overlaid
  if (nothingToChart(runs)) return noCharts($("charts"));
  try {
    await drawPackageFigures(records, group);
  } catch (e) {
    showWarnings($("results-warnings"), [`The package's charts could not be drawn (${e?.message ?? e}); showing the page's own.`]);
    await renderCharts($("charts"), runs);
  }
}

/** The package's figures: a run's histograms and box plots, a heatmap's cells, a load test's bands. */
async function drawPackageFigures(records, group) {
  const pkg = await import("./pkg/index.js");
  const charts = $("charts");
  charts.replaceChildren();
  if (group) {
    const files = {};
    for (const r of records) for (const [k, v] of Object.entries(r.files)) files[`${group}/${r.name.slice(group.length + 1)}/${k}`] = v;
    return drawFigures(charts, await (await pkg.LoadTestResult.fromFiles(files, { testName: group })).figures(), "load-");
  }
  const { heatmap: plan, ...files } = { ...records[0].files, heatmap: records[0].files["heatmap.json"] };
  delete files["heatmap.json"];
  if (plan) {
    const folder = `${safeName(records[0].name)}/${String(readRunFiles(files).summary.clients).padStart(5, "0")}-clients/`;
    const prefixed = Object.fromEntries(Object.entries({ ...files, "heatmap.json": plan }).map(([k, v]) => [folder + k, v]));
    await drawFigures(charts, await (await pkg.LatencyHeatmapResult.fromFiles(prefixed)).figures(), "heatmap-");
  }
  await drawFigures(charts, await (await pkg.Result.fromFiles(files)).figures());
}

function cell(tag, text, attrs = {}) {
  const el = document.createElement(tag);
  el.textContent = text;
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

function fillStatsTable(stats) {
  const head = $("stats-table").tHead.rows[0];
  head.replaceChildren(...["Metric", "p50", "p90", "p99", "Average"].map((t) => cell("th", t, { scope: "col" })));
  const body = $("stats-table").tBodies[0];
  body.replaceChildren();
  for (const [label, ...vals] of statRows(stats)) {
    const tr = document.createElement("tr");
    tr.append(cell("th", label, { scope: "row" }), ...vals.map((v) => cell("td", v)));
    body.append(tr);
  }
  const tr = document.createElement("tr");
  tr.className = "totals";
  tr.append(
    cell("th", "Throughput", { scope: "row" }),
    // An interrupted run has no total test time, so LLMeter's rates are null for it.
    cell("td", typeof stats.requests_per_minute === "number" ? `${fmtNum(stats.requests_per_minute, 1)} req/min` : "req/min n/a"),
    cell("td", typeof stats.output_tps === "number" ? `${fmtNum(stats.output_tps, 1)} output tok/s` : "tok/s n/a"),
    cell("td", `${stats.failed_requests ?? 0} failed`),
    cell("td", `${stats.total_requests ?? "–"} total`),
  );
  body.append(tr);
}

function fillCompareTable(views) {
  const head = $("stats-table").tHead.rows[0];
  head.replaceChildren(...["Run", "Clients", "TTFT p50", "TTFT p90", "TTLT p50", "TTLT p90", "Req/min", "Output tok/s", "Failed"].map((t) => cell("th", t, { scope: "col" })));
  const body = $("stats-table").tBodies[0];
  body.replaceChildren();
  for (const { record, view } of views) {
    const s = view.stats;
    const tr = document.createElement("tr");
    tr.append(cell("th", record.name, { scope: "row" }), ...[String(view.summary.clients ?? "–"), fmtMs(s["time_to_first_token-p50"]), fmtMs(s["time_to_first_token-p90"]), fmtMs(s["time_to_last_token-p50"]), fmtMs(s["time_to_last_token-p90"]), fmtNum(s.requests_per_minute), fmtNum(s.output_tps), String(s.failed_requests ?? 0)].map((v) => cell("td", v)));
    body.append(tr);
  }
}

function fillResponses(responses, timings = new Map()) {
  const body = $("responses-table").tBodies[0];
  body.replaceChildren();
  responses.forEach((r, i) => {
    const tr = document.createElement("tr");
    const btn = cell("button", String(i + 1), { type: "button", class: "link", "aria-label": `Show response ${i + 1}` });
    btn.addEventListener("click", () => showResponse(r, i, tr, timings.get(r.id)));
    const num = document.createElement("td");
    num.append(btn);
    tr.append(num, cell("td", fmtMs(r.time_to_first_token)), cell("td", fmtMs(r.time_to_last_token)), cell("td", r.num_tokens_output ?? "–"), cell("td", r.error ? "error" : "ok", { class: r.error ? "bad" : "good" }));
    body.append(tr);
  });
  $("resp-title").textContent = responses.length ? "Choose a response" : "No responses";
  $("resp-output").textContent = "";
  if (responses.length) showResponse(responses[0], 0, body.rows[0], timings.get(responses[0].id));
}

function showResponse(r, i, tr, timing) {
  for (const row of $("responses-table").tBodies[0].rows) row.removeAttribute("aria-current");
  tr?.setAttribute("aria-current", "true");
  $("resp-title").textContent = `Response ${i + 1}${r.error ? " — error" : ""}`;
  // Model output is untrusted text: textContent only, never HTML.
  const lines = [];
  if (r.input_prompt) lines.push(`PROMPT\n${r.input_prompt}\n`);
  lines.push(r.error ? `ERROR\n${r.error}` : `OUTPUT\n${r.response_text ?? ""}`);
  // Where the browser recorded them: what it added before the first byte (Resource Timing).
  const network = networkText(timing?.network);
  if (network) lines.push(`\nBROWSER (time to first token ${fmtMs(r.time_to_first_token)})\n${network}`);
  $("resp-output").textContent = lines.join("\n");
}

// ---------- history ----------

async function refreshHistory() {
  let runs = [];
  try {
    runs = await listRuns();
  } catch (e) {
    $("history-status").textContent = `History is unavailable: ${e?.message ?? e}`;
    return;
  }
  const body = $("history-table").tBodies[0];
  body.replaceChildren();
  $("history-status").textContent = runs.length ? `${runs.length} run${runs.length === 1 ? "" : "s"} saved in this browser.` : "No runs yet. Finished and stopped runs are saved here, in this browser only.";
  const groupsSeen = new Set();
  for (const r of runs) {
    const tr = document.createElement("tr");
    tr.dataset.id = r.id;
    tr.dataset.status = r.status;
    const sel = document.createElement("input");
    sel.type = "checkbox";
    sel.className = "pick";
    sel.disabled = r.status === "running";
    sel.setAttribute("aria-label", `Select “${r.name}” to compare`);
    sel.addEventListener("change", updateCompare);
    const c0 = document.createElement("td");
    c0.append(sel);
    const name = document.createElement("td");
    const open = cell("button", r.name, { type: "button", class: "link", "aria-label": `Open run “${r.name}”` });
    open.disabled = r.status === "running";
    open.addEventListener("click", async () => {
      const rec = await getRun(r.id);
      if (!rec) return;
      await showRecords([rec]);
      $("results").scrollIntoView({ behavior: "smooth" });
    });
    name.append(open);
    const all = r.group && !groupsSeen.has(r.group) ? runs.filter((x) => x.group === r.group && x.status !== "running").sort((a, b) => (a.clients ?? 0) - (b.clients ?? 0)) : [];
    if (all.length >= 2) {
      groupsSeen.add(r.group);
      const g = cell("button", `Open load test (${all.length} levels)`, { type: "button", class: "link small-link", "aria-label": `Open load test (${all.length} levels) “${r.group}”` });
      g.addEventListener("click", async () => {
        await showRecords((await Promise.all(all.map((x) => getRun(x.id)))).filter(Boolean), r.group);
        $("results").scrollIntoView({ behavior: "smooth" });
      });
      const z = cell("button", "Zip load test", { type: "button", class: "link small-link", "aria-label": `Zip load test “${r.group}”` });
      z.addEventListener("click", async () => download(await groupZip(r.group), `${safeName(r.group)}.zip`));
      name.append(document.createElement("br"), g, " · ", z);
    }
    const status = cell("td", "");
    const badge = cell("span", r.status, { class: `badge ${r.status}` });
    if (r.note) badge.title = r.note;
    status.append(badge);
    const b = r.brief;
    const actions = document.createElement("td");
    actions.className = "row-actions";
    const mk = (label, aria, fn, disabled = false) => {
      const btn = cell("button", label, { type: "button", class: "small secondary", "aria-label": aria });
      btn.disabled = disabled;
      btn.addEventListener("click", fn);
      actions.append(btn);
    };
    const noFiles = r.status === "running";
    mk("Zip", `Export “${r.name}” as zip`, async () => exportZip(await getRun(r.id)), noFiles);
    mk("Upload", `Upload “${r.name}” via the presign endpoint`, async () => upload(await getRun(r.id)), noFiles);
    mk("Delete", `Delete “${r.name}”`, () => removeRun(r), r.status === "running");
    tr.append(c0, name, cell("td", new Date(r.createdAt).toLocaleString()), status, cell("td", b ? `${b.completed} ok${b.failed ? ` · ${b.failed} failed` : ""}` : "–"), cell("td", fmtMs(b?.ttftP50)), cell("td", fmtMs(b?.ttltP50)), actions);
    body.append(tr);
  }
  updateCompare();
}

function updateCompare() {
  const n = document.querySelectorAll("#history-table .pick:checked").length;
  $("compare").disabled = n < 2;
  $("compare").textContent = n >= 2 ? `Compare ${n} runs` : "Compare selected";
}

async function compareSelected() {
  const ids = [...document.querySelectorAll("#history-table .pick:checked")].map((el) => el.closest("tr").dataset.id);
  const records = (await Promise.all(ids.map(getRun))).filter(Boolean);
  if (records.length >= 2) {
    await showRecords(records);
    $("results").scrollIntoView({ behavior: "smooth" });
  }
}

async function removeRun(r) {
  if (!confirm(`Delete the run “${r.name}” from this browser?`)) return;
  await deleteRun(r.id);
  if (shown.some((s) => s.id === r.id)) $("results").hidden = true;
  await refreshHistory();
  $("history-status").textContent = `Deleted “${r.name}”.`;
}

// ---------- export, import, upload ----------

function safeName(name) {
  return name.replace(/[^\w.-]+/g, "_").slice(0, 80) || "run";
}

function download(blob, filename) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

async function exportZip(r) {
  if (!r) return;
  download(await runZip(r, r.name), `${safeName(r.name)}.zip`);
}

/** The package's self-contained report (stats, SVG charts; opens offline). */
async function exportHtml() {
  if (shown.length !== 1) return;
  const r = shown[0];
  const { Result } = await import("./pkg/index.js");
  const files = { ...r.files };
  delete files["heatmap.json"];
  const html = await (await Result.fromFiles(files)).toHTML();
  download(new Blob([html], { type: "text/html" }), `${safeName(r.name)}.html`);
}

async function importZip(file) {
  try {
    const n = await importZipToStore(file);
    await refreshHistory();
    $("history-status").textContent = `Imported ${n} run${n === 1 ? "" : "s"} from ${file.name}.`;
  } catch (e) {
    $("history-status").textContent = `Could not import ${file.name}: ${e?.message ?? e}`;
  }
}

async function upload(r) {
  const endpoint = $("presign-url").value.trim();
  if (!endpoint) {
    $("presign-url").closest("details").open = true;
    $("presign-url").focus();
    $("history-status").textContent = "Enter a presign endpoint first (under “Upload to your storage”).";
    return;
  }
  try {
    $("history-status").textContent = `Uploading “${r.name}”…`;
    const done = await uploadRun(r, endpoint, `${r.name}/`);
    $("history-status").textContent = `Uploaded “${r.name}”: ${done.uploaded.length} files under ${r.name}/.`;
  } catch (e) {
    $("history-status").textContent = `Upload failed: ${e?.message ?? e}${e instanceof TypeError ? " (network or CORS: the presign endpoint and the storage must allow this origin)" : ""}`;
  }
}

// ---------- share ----------

async function share() {
  const url = `${location.origin}${location.pathname}#${encodeShare(publicConfig())}`;
  history.replaceState(null, "", url);
  try {
    await navigator.clipboard.writeText(url);
    $("share-status").textContent = "Link copied (no API key or header values in it).";
  } catch {
    $("share-status").textContent = "Link is in the address bar (no API key or header values in it).";
  }
}

// ---------- wiring ----------

function init() {
  fillPresets();
  const fromHash = decodeShare(location.hash.slice(1));
  let stored = null;
  try {
    stored = JSON.parse(localStorage.getItem(FORM_STORAGE) ?? "null");
  } catch {}
  $("payload").value = presetText("short");
  applyConfig(fromHash ?? stored);
  const key = sessionStorage.getItem(KEY_STORAGE);
  if (key !== null) {
    $("api-key").value = key;
    $("remember-key").checked = true;
  }
  validatePayload();

  $("config").addEventListener("submit", start);
  $("stop").addEventListener("click", stop);
  $("share").addEventListener("click", share);
  $("payload").addEventListener("input", () => {
    $("preset").value = "";
    validatePayload();
  });
  $("payload").addEventListener("scroll", () => ($("payload-gutter").scrollTop = $("payload").scrollTop));
  $("preset").addEventListener("change", () => {
    if (!$("preset").value) return;
    $("payload").value = presetText($("preset").value);
    validatePayload();
  });
  $("payload-file").addEventListener("change", async () => {
    const f = $("payload-file").files[0];
    if (!f) return;
    $("payload").value = await f.text();
    validatePayload();
    $("payload-file").value = "";
  });
  $("remember-key").addEventListener("change", saveForm);
  $("api-key").addEventListener("input", () => $("remember-key").checked && sessionStorage.setItem(KEY_STORAGE, $("api-key").value));
  for (const el of document.querySelectorAll('input[name="mode"]')) el.addEventListener("change", updateMode);
  for (const el of document.querySelectorAll('input[name="experiment"]')) el.addEventListener("change", updateExperiment);
  for (const id of ["hm-source", "hm-tokenizer"]) $(id).addEventListener("change", updateExperiment);
  detectExperiments(fromHash ?? stored);
  $("compare").addEventListener("click", compareSelected);
  $("export-zip").addEventListener("click", () => shown.length === 1 && exportZip(shown[0]));
  $("export-html").addEventListener("click", exportHtml);
  $("import-zip").addEventListener("change", async () => {
    const f = $("import-zip").files[0];
    if (f) await importZip(f);
    $("import-zip").value = "";
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && active) stop();
  });
  startWorker();
  watchVisibility();
  refreshHistory().finally(() => (window.playground = { ready: true }));
}

init();
