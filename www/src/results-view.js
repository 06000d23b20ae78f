// The Results section: one run, several runs compared, or a load test's levels; the stats
// table, the package's charts, the responses, and exports. A record holds its run as a parsed
// `Result` (parsed once, when it arrives or is opened); everything here is derived from it.
import { $, el, showWarnings, download, safeName } from "./dom.js";
import { fmtMs, fmtNum, statRows, briefOf, networkText, networkSummaryText } from "./results.js";
import { renderCharts, drawFigures, nothingToChart, noCharts } from "./charts.js";
import { runZip } from "./history.js";

/**
 * @typedef {Object} RunRecord
 * @property {string | null} id the stored run's id (runs opened from history)
 * @property {string} name "{run}" or "{test}/{level}"
 * @property {string} group the load test or heatmap the run belongs to, or ""
 * @property {number | null} clients
 * @property {number} createdAt
 * @property {"running" | "complete" | "interrupted"} status
 * @property {string} [note]
 * @property {{completed: number, failed: number, ttftP50: number | null, ttltP50: number | null, warnings: string[]}} brief
 * @property {{baseUrl?: string, model?: string, headerNames?: string[]}} config
 * @property {any} result the run, parsed (a package `Result`)
 * @property {any} [plan] a heatmap's plan (heatmap.json), if the run is one
 */

/** Records currently shown (one, or several when comparing). @type {RunRecord[]} */
let shown = [];
export const shownRecords = () => shown;

/**
 * A record from a run's files as the worker sent them: the one place a finished run is parsed.
 * @param {Record<string, string>} files
 * @param {{ group: string, clients: number, config: any, plan: any, warnings?: string[] }} context
 *   `warnings`: the run's warnings as the worker saw them (the store's included)
 * @returns {Promise<RunRecord>}
 */
export async function recordFromResult(files, { group, clients, config, plan, warnings }) {
  const { Result } = await import("./pkg/index.js");
  const result = await Result.fromFiles(files);
  const info = result.info;
  const runName = result.summary.run_name ?? "";
  return {
    id: null,
    name: group ? `${group}/${runName}` : runName,
    group,
    clients: result.summary.clients ?? clients,
    createdAt: Date.now(),
    status: info.interrupted ? "interrupted" : "complete",
    note: info.interrupted ? "Stopped before all requests were sent; the completed responses are kept." : undefined,
    brief: { ...briefOf(result), warnings: [...(warnings ?? result.info.warnings ?? [])] },
    config,
    result,
    plan,
  };
}

/**
 * @param {RunRecord[]} records one run, several to compare, or the levels of a load test
 * @param {string} [group] the load test's name when `records` are its levels
 */
export async function showRecords(records, group = "") {
  shown = records;
  $("results").hidden = false;
  const meta = $("results-meta");
  const single = records.length === 1;
  if (single) {
    const record = records[0];
    const { summary, info, stats, responses, timings } = record.result;
    const c = record.config ?? {};
    const clock = typeof info.timer_resolution_ms === "number" ? `timer step ${info.timer_resolution_ms} ms` : null;
    const bits = [`“${record.name}”`, new Date(record.createdAt).toLocaleString(), c.model && `model ${c.model}`, c.baseUrl, summary.clients && levelOf(record.result), info.protocol, clock, record.status === "interrupted" ? "interrupted" : null];
    meta.textContent = bits.filter(Boolean).join(" · ");
    $("results-title").textContent = "Results";
    showWarnings($("results-warnings"), [...new Set([...(info.warnings ?? []), ...(record.brief?.warnings ?? [])])]);
    fillStatsTable(stats);
    const network = networkSummaryText(info.network_phases);
    $("results-network").textContent = network ?? "";
    $("results-network").hidden = !network;
    fillLabelTable(stats);
    fillResponses(responses, timings);
  } else {
    $("results-title").textContent = group ? `Load test “${group}”: ${records.length} levels` : `Comparing ${records.length} runs`;
    meta.textContent = group ? `${records.map((r) => levelOf(r.result)).join(", ")} · model ${records[0].config?.model ?? ""} · ${records[0].config?.baseUrl ?? ""}` : records.map((r) => `“${r.name}”`).join(" vs ");
    showWarnings($("results-warnings"), [...new Set(records.flatMap((r) => r.brief?.warnings ?? []))]);
    fillCompareTable(records);
    $("results-network").hidden = true;
    fillLabelTable({});
  }
  document.querySelector(".responses").hidden = !single;
  document.querySelector("#results h3").hidden = !single;
  $("export-zip").hidden = $("export-html").hidden = !single;
  const runs = records.map((r) => ({ name: group ? r.name.slice(group.length + 1) : r.name, responses: r.result.responses }));
  if (!single && !group) return renderCharts($("charts"), runs); // several runs overlaid
  if (nothingToChart(runs)) return noCharts($("charts"));
  try {
    await drawPackageFigures(records, group);
  } catch (e) {
    showWarnings($("results-warnings"), [`The package's charts could not be drawn (${e?.message ?? e}); showing the page's own.`]);
    await renderCharts($("charts"), runs);
  }
}

/** The offered rate of an open-loop run, else undefined. */
const rateOf = (result) => (result.info.load?.model === "open" ? result.info.load.rate : undefined);
/** A level's description: `4 clients` or `2.5 requests/s`. */
const levelOf = (result) => (rateOf(result) !== undefined ? `${rateOf(result)} requests/s` : `${result.summary.clients} clients`);

/** The package's figures: a run's histograms and box plots, a heatmap's cells, a load test's bands. */
async function drawPackageFigures(records, group) {
  const pkg = await import("./pkg/index.js");
  const charts = $("charts");
  charts.replaceChildren();
  if (group) {
    // Closed-loop levels by clients, open-loop ones (rates, a sweep's) by rate.
    const closed = records.filter((r) => rateOf(r.result) === undefined), open = records.filter((r) => rateOf(r.result) !== undefined);
    const test = new pkg.LoadTestResult(group, new Map(closed.map((r) => [r.result.summary.clients, r.result])), new Map(open.map((r) => [rateOf(r.result), r.result])));
    return drawFigures(charts, await test.figures(), "load-");
  }
  const [record] = records;
  if (record.plan) await drawFigures(charts, await heatmapOf(pkg, record).figures(), "heatmap-");
  await drawFigures(charts, await record.result.figures());
}

/** A heatmap record as the package's LatencyHeatmapResult (no parsing: the Result is reused). */
const heatmapOf = (pkg, record) => new pkg.LatencyHeatmapResult(record.group || "heatmap", record.result, record.plan);

/** A merged fleet's stats per label (and per runtime family): one row each. */
function fillLabelTable(stats) {
  const groups = [...Object.entries(stats.by_label ?? {}).map(([k, v]) => [k, v]), ...Object.entries(stats.by_runtime ?? {}).map(([k, v]) => [`runtime: ${k}`, v])];
  $("labels-block").hidden = groups.length === 0;
  if (!groups.length) return;
  const cols = [["total_requests", "Requests", (v) => fmtNum(v, 0)], ["failed_requests", "Failed", (v) => fmtNum(v, 0)], ["time_to_first_token-p50", "TTFT p50", fmtMs], ["time_to_first_token-p90", "TTFT p90", fmtMs], ["time_to_last_token-p50", "TTLT p50", fmtMs], ["time_to_last_token-p90", "TTLT p90", fmtMs], ["requests_per_minute", "req/min", (v) => fmtNum(v, 1)]];
  $("labels-table").tHead.rows[0].replaceChildren(el("th", "Label", { scope: "col" }), ...cols.map(([, t]) => el("th", t, { scope: "col" })));
  $("labels-table").tBodies[0].replaceChildren(...groups.map(([name, g]) => {
    const tr = document.createElement("tr");
    tr.append(el("th", name, { scope: "row" }), ...cols.map(([k, , f]) => el("td", typeof g[k] === "number" ? f(g[k]) : "–")));
    return tr;
  }));
}

function fillStatsTable(stats) {
  const head = $("stats-table").tHead.rows[0];
  head.replaceChildren(...["Metric", "p50", "p90", "p99", "Average"].map((t) => el("th", t, { scope: "col" })));
  const body = $("stats-table").tBodies[0];
  body.replaceChildren();
  for (const [label, ...vals] of statRows(stats)) {
    const tr = document.createElement("tr");
    tr.append(el("th", label, { scope: "row" }), ...vals.map((v) => el("td", v)));
    body.append(tr);
  }
  // Open loops, SLOs and cost models add rows of their own.
  const extra = [];
  if (typeof stats["schedule_lag-p50"] === "number") extra.push(["Schedule lag", ...["p50", "p90", "p99", "average"].map((q) => fmtMs(stats[`schedule_lag-${q}`]))]);
  if (typeof stats.slo_attainment === "number") {
    const pct = (x) => (typeof x === "number" ? `${(x * 100).toFixed(1)} %` : "–");
    extra.push(["SLO attainment", `TTFT ${pct(stats["slo_attainment-time_to_first_token"])}`, `TPOT ${pct(stats["slo_attainment-time_per_output_token"])}`, `TTLT ${pct(stats["slo_attainment-time_to_last_token"])}`, `all ${pct(stats.slo_attainment)}`]);
    extra.push(["Goodput", `${fmtNum(stats.goodput, 1)} req/min`, `of ${fmtNum(stats.requests_per_minute, 1)} req/min`, "", ""]);
  }
  if (typeof stats.cost_total === "number" || typeof stats["cost_per_request-average"] === "number") {
    const usd = (x) => (typeof x === "number" ? `$${x.toPrecision(3)}` : "–");
    extra.push(["Cost", `${usd(stats["cost_per_request-p50"])} p50/request`, `${usd(stats["cost_per_request-p90"])} p90/request`, `${usd(stats["cost_per_request-average"])} avg/request`, `${usd(stats.cost_total)} run`]);
  }
  for (const [label, ...vals] of extra) {
    const row = document.createElement("tr");
    row.append(el("th", label, { scope: "row" }), ...vals.map((v) => el("td", v)));
    body.append(row);
  }
  const tr = document.createElement("tr");
  tr.className = "totals";
  tr.append(
    el("th", "Throughput", { scope: "row" }),
    // An interrupted run has no total test time, so LLMeter's rates are null for it.
    el("td", typeof stats.requests_per_minute === "number" ? `${fmtNum(stats.requests_per_minute, 1)} req/min` : "req/min n/a"),
    el("td", typeof stats.output_tps === "number" ? `${fmtNum(stats.output_tps, 1)} output tok/s` : "tok/s n/a"),
    el("td", `${stats.failed_requests ?? 0} failed`),
    el("td", `${stats.total_requests ?? "–"} total`),
  );
  body.append(tr);
}

function fillCompareTable(records) {
  const head = $("stats-table").tHead.rows[0];
  const goodput = records.some((r) => typeof r.result.stats.goodput === "number");
  const lag = records.some((r) => typeof r.result.stats["schedule_lag-p99"] === "number");
  const anyOpen = records.some((r) => rateOf(r.result) !== undefined);
  head.replaceChildren(...["Run", anyOpen ? "Load" : "Clients", "TTFT p50", "TTFT p90", "TTLT p50", "TTLT p90", "Req/min", "Output tok/s", "Failed", ...(goodput ? ["Goodput/min"] : []), ...(lag ? ["Lag p99"] : [])].map((t) => el("th", t, { scope: "col" })));
  const body = $("stats-table").tBodies[0];
  body.replaceChildren();
  for (const record of records) {
    const s = record.result.stats;
    const tr = document.createElement("tr");
    const load = rateOf(record.result) !== undefined ? levelOf(record.result) : String(record.result.summary.clients ?? "–");
    tr.append(el("th", record.name, { scope: "row" }), ...[load, fmtMs(s["time_to_first_token-p50"]), fmtMs(s["time_to_first_token-p90"]), fmtMs(s["time_to_last_token-p50"]), fmtMs(s["time_to_last_token-p90"]), fmtNum(s.requests_per_minute), fmtNum(s.output_tps), String(s.failed_requests ?? 0), ...(goodput ? [fmtNum(s.goodput)] : []), ...(lag ? [fmtMs(s["schedule_lag-p99"])] : [])].map((v) => el("td", v)));
    body.append(tr);
  }
}

/** @param {any[]} responses @param {any[]} timings same order as `responses` */
function fillResponses(responses, timings = []) {
  const body = $("responses-table").tBodies[0];
  body.replaceChildren();
  responses.forEach((r, i) => {
    const tr = document.createElement("tr");
    const btn = el("button", String(i + 1), { type: "button", class: "link", "aria-label": `Show response ${i + 1}` });
    btn.addEventListener("click", () => showResponse(r, i, tr, timings[i]));
    const num = document.createElement("td");
    num.append(btn);
    tr.append(num, el("td", fmtMs(r.time_to_first_token)), el("td", fmtMs(r.time_to_last_token)), el("td", r.num_tokens_output ?? "–"), el("td", r.error ? "error" : "ok", { class: r.error ? "bad" : "good" }));
    body.append(tr);
  });
  $("resp-title").textContent = responses.length ? "Choose a response" : "No responses";
  $("resp-output").textContent = "";
  if (responses.length) showResponse(responses[0], 0, body.rows[0], timings[0]);
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

/** @param {RunRecord | undefined} record */
export async function exportZip(record) {
  if (!record) return;
  download(await runZip(record), `${safeName(record.name)}.zip`);
}

/** The package's self-contained report (stats, SVG charts; opens offline) of the run shown. */
export async function exportHtml() {
  if (shown.length !== 1) return;
  const [record] = shown;
  const pkg = await import("./pkg/index.js");
  const html = await (record.plan ? heatmapOf(pkg, record) : record.result).toHTML();
  download(new Blob([html], { type: "text/html" }), `${safeName(record.name)}.html`);
}

export function hideResults() {
  $("results").hidden = true;
  shown = [];
}
