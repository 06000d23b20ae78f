// Reading a run folder (LLMeter's files) into what the page shows, and formatting numbers.

/** @param {Record<string, string>} files */
export function readRunFiles(files) {
  const find = (name) => Object.keys(files).find((k) => k === name || k.endsWith(`/${name}`));
  const json = (name) => {
    const k = find(name);
    return k ? parseLenient(files[k]) : null;
  };
  const lines = (name) => {
    const k = find(name);
    return k ? files[k].split("\n").filter((l) => l.trim()).map(parseLenient) : [];
  };
  const responses = lines("responses.jsonl");
  // Our per-response extras (chunk_timings.jsonl), by response id.
  const timings = new Map(lines("chunk_timings.jsonl").map((t) => [t.id, t]));
  return { summary: json("summary.json") ?? {}, stats: json("stats.json") ?? {}, runConfig: json("run_config.json"), info: json("run_info.json") ?? {}, responses, timings };
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

/** JSON.parse that also reads Python's bare NaN/Infinity (LLMeter writes them) as null. */
function parseLenient(text) {
  try {
    return JSON.parse(text);
  } catch (e) {
    const fixed = text.replace(/(?<=[:,\[]\s*)-?(NaN|Infinity)(?=\s*[,}\]])/g, "null");
    if (fixed === text) throw e;
    return JSON.parse(fixed);
  }
}
