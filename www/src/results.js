// What the page shows of a parsed run (a package `Result`), and number formatting. Runs are
// parsed by the package (the core), never here.

/** Counts and headline latencies of a parsed run (a package `Result`). */
export function briefOf(result) {
  const s = result.stats;
  const total = s.total_requests ?? 0, failed = s.failed_requests ?? 0;
  return { completed: total - failed, failed, ttftP50: s["time_to_first_token-p50"] ?? null, ttltP50: s["time_to_last_token-p50"] ?? null, warnings: [...(result.info.warnings ?? [])] };
}

/**
 * What the browser added to a request (Resource Timing phases in chunk_timings.jsonl), as text.
 * @param {any} network `{visible, queueing, dns, connect, tls, request_sent, response_start}` (s)
 */
export function networkText(network) {
  if (!network) return null;
  if (!network.visible) return "Hidden: the endpoint sends no Timing-Allow-Origin for this page, so the browser does not show its phases.";
  return `queueing ${fmtMs(network.queueing)} · DNS ${fmtMs(network.dns)} · connect ${fmtMs(network.connect)} · TLS ${fmtMs(network.tls)} · request sent at ${fmtMs(network.request_sent)} · response began at ${fmtMs(network.response_start)}`;
}

/**
 * The browser's queueing over a run (`info.network_phases`, computed by the package), as one
 * line; null when the run has no phases (not run in a browser, or no Resource Timing entries).
 * @param {any} phases `{recorded, hidden, queued, queueing_p50, queueing_p90, queueing_max}` (s)
 */
export function networkSummaryText(phases) {
  if (!phases?.recorded) return null;
  const visible = phases.recorded - phases.hidden;
  const hidden = `phases hidden for ${phases.hidden} (the endpoint sends no Timing-Allow-Origin)`;
  if (visible === 0) return `Browser queueing: unknown, ${hidden}.`;
  const queueing = `Browser queueing: ${phases.queued} of ${visible} requests waited for a connection (over 10 ms), p50 ${fmtMs(phases.queueing_p50)}, p90 ${fmtMs(phases.queueing_p90)}, max ${fmtMs(phases.queueing_max)}`;
  return phases.hidden ? `${queueing}; ${hidden}.` : `${queueing}.`;
}

/** Values of one metric (seconds → ms) over responses without errors. */
export function metricMs(responses, key) {
  return responses.filter((r) => !r.error && typeof r[key] === "number").map((r) => r[key] * 1000);
}

/** @param {number | null | undefined} s seconds */
export const fmtMs = (s) => (typeof s === "number" && Number.isFinite(s) ? `${(s * 1000).toFixed(s < 0.1 ? 1 : 0)} ms` : "–");
/** @param {number | null | undefined} x */
export const fmtNum = (x, digits = 1) => (typeof x === "number" && Number.isFinite(x) ? x.toFixed(digits) : "–");

/** Rows for the full stats table: [label, p50, p90, p99, average]. */
export function statRows(stats) {
  const metric = (label, key, fmt) => [label, ...["p50", "p90", "p99", "average"].map((q) => fmt(stats[`${key}-${q}`]))];
  return [
    metric("Time to first token", "time_to_first_token", fmtMs),
    metric("Time to last token", "time_to_last_token", fmtMs),
    metric("Time per output token", "time_per_output_token", fmtMs),
    metric("Output tokens", "num_tokens_output", (x) => fmtNum(x, 0)),
    metric("Input tokens", "num_tokens_input", (x) => fmtNum(x, 0)),
  ];
}
