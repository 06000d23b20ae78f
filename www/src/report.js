// A standalone HTML report of one run: metadata, stats, the charts as inline SVG images and the
// responses. Everything from the run is escaped: model output is text, never markup.
import { statRows, fmtMs } from "./results.js";

const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

/**
 * @param {any} record history record
 * @param {ReturnType<import("./results.js").readRunFiles>} view
 * @param {{label: string, src: string}[]} images chart SVG data URLs
 */
export function reportHtml(record, view, images) {
  const c = record.config ?? {};
  const rows = statRows(view.stats).map(([label, ...v]) => `<tr><th scope="row">${esc(label)}</th>${v.map((x) => `<td>${esc(x)}</td>`).join("")}</tr>`).join("");
  const responses = view.responses
    .map((r, i) => `<tr><td>${i + 1}</td><td>${esc(fmtMs(r.time_to_first_token))}</td><td>${esc(fmtMs(r.time_to_last_token))}</td><td>${esc(r.num_tokens_output ?? "–")}</td><td><pre>${esc(r.error ? `ERROR: ${r.error}` : r.response_text)}</pre></td></tr>`)
    .join("");
  const warnings = (view.info.warnings ?? []).map((w) => `<p class="warn">⚠ ${esc(w)}</p>`).join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>llmeter report: ${esc(record.name)}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#0f172a}
table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{border-bottom:1px solid #e2e8f0;padding:.35rem .5rem;text-align:right;vertical-align:top}
th:first-child,td:first-child{text-align:left}td pre{white-space:pre-wrap;text-align:left;margin:0;max-height:8rem;overflow:auto}
.warn{background:#fef3c7;border-left:4px solid #d97706;padding:.5rem .75rem}.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(18rem,1fr));gap:1rem}
.charts img{width:100%;border:1px solid #e2e8f0;border-radius:8px}.muted{color:#475569}
</style></head><body>
<h1>${esc(record.name)}</h1>
<p class="muted">${esc(new Date(record.createdAt).toISOString())} · model ${esc(c.model)} · ${esc(c.baseUrl)} · ${esc(view.summary.clients ?? "?")} clients · ${esc(record.status)}${view.info.runtime ? ` · ${esc(view.info.runtime)}` : ""}</p>
${warnings}
<h2>Statistics</h2>
<table><thead><tr><th scope="col">Metric</th><th scope="col">p50</th><th scope="col">p90</th><th scope="col">p99</th><th scope="col">Average</th></tr></thead><tbody>${rows}</tbody></table>
<p>${esc(view.stats.total_requests ?? view.responses.length)} requests, ${esc(view.stats.failed_requests ?? 0)} failed, ${esc(typeof view.stats.requests_per_minute === "number" ? view.stats.requests_per_minute.toFixed(1) : "–")} requests per minute.</p>
<h2>Charts</h2><div class="charts">${images.map((im) => `<img src="${esc(im.src)}" alt="${esc(im.label)}">`).join("")}</div>
<h2>Responses</h2>
<table><thead><tr><th scope="col">#</th><th scope="col">TTFT</th><th scope="col">TTLT</th><th scope="col">Tokens out</th><th scope="col">Output</th></tr></thead><tbody>${responses}</tbody></table>
<p class="muted">Made with the llmeter-wasm playground. Files in LLMeter's format are in the zip export.</p>
</body></html>`;
}
