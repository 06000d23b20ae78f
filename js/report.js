// @ts-check
/**
 * Charts as data (Plotly `{data, layout}` figures) and self-contained HTML reports (stats
 * tables and charts as inline SVG; no script, no network). Loaded on first use by
 * `experiments.js`, so the core package pays nothing for it. Every report's markup is built
 * with one template tag, `html`, which escapes every value it is given (result files may
 * come from anyone: a shared zip, a heatmap folder).
 */

/** @typedef {{data: any[], layout: any}} Figure */

// LLMeter's colorways per load-test chart (Plotly sequential scales), first colours.
const COLORWAYS = {
  time_to_first_token: ["#0000ff", "#5500aa", "#aa0055", "#ff0000"],
  time_to_last_token: ["#30123b", "#4686fb", "#1ae4b6", "#a2fc3c", "#fabb3d", "#e4460a", "#7a0403"],
  requests_per_minute: ["#4b2991", "#872ca2", "#c0369d", "#ea4f88", "#fa7876", "#f6a97a", "#edd9a3"],
  error_rate: ["#000000", "#3d1a5b", "#8a226a", "#c53f52", "#e86d2b", "#f6a52a", "#fbdb6c"],
  average_input_tokens_clients: ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"],
  average_output_tokens_clients: ["#0d0887", "#6a00a8", "#b12a90", "#e16462", "#fca636", "#f0f921"],
};

const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];

/** @param {string} text @param {string} [x] @param {string} [y] @param {boolean} [logX] @param {boolean} [logY] */
function layout(text, x = "Number of clients", y = "", logX = true, logY = true) {
  return {
    title: { text },
    xaxis: { title: { text: x }, type: logX ? "log" : "linear" },
    yaxis: { title: { text: y }, type: logY ? "log" : "linear" },
  };
}

/** @param {any} lt LoadTestResult @returns {Record<string, Figure>} */
export function loadTestFigures(lt) {
  return { ...(lt.results.size || !lt.rates?.size ? clientFigures(lt) : {}), ...(lt.rates?.size ? rateFigures(lt) : {}) };
}

/**
 * Charts of the rate levels against the offered rate: latency, achieved throughput, goodput
 * (when the levels had SLOs) and schedule lag.
 * @param {any} lt LoadTestResult @returns {Record<string, Figure>}
 */
function rateFigures(lt) {
  const xs = [...lt.rates.keys()];
  const stats = xs.map((r) => lt.rates.get(r).stats);
  const col = (/** @type {string} */ key, k = 1) => stats.map((/** @type {any} */ s) => (typeof s[key] === "number" ? s[key] * k : null));
  const X = "Offered rate (requests/s)";
  /** @param {string} name @param {number[] | (number | null)[]} y @param {string} color @param {string} [dash] */
  const trace = (name, y, color, dash) => ({ type: "scatter", mode: "lines+markers", name, x: xs, y, line: { color, ...(dash ? { dash } : {}) } });
  /** @type {Record<string, Figure>} */
  const out = {
    latency_vs_rate: {
      data: [
        trace("TTFT p50", col("time_to_first_token-p50"), "#0000ff"), trace("TTFT p90", col("time_to_first_token-p90"), "#5500aa", "dot"),
        trace("TTLT p50", col("time_to_last_token-p50"), "#e4460a"), trace("TTLT p90", col("time_to_last_token-p90"), "#7a0403", "dot"),
      ],
      layout: layout("Latency vs offered rate", X, "Seconds", false, true),
    },
    throughput_vs_rate: {
      data: [trace("achieved", col("requests_per_minute", 1 / 60), "#21918c"), trace("offered", xs, "#999999", "dash")],
      layout: layout("Achieved vs offered rate", X, "Requests per second", false, false),
    },
    schedule_lag_vs_rate: {
      data: [trace("lag p50", col("schedule_lag-p50", 1000), "#3b528b"), trace("lag p99", col("schedule_lag-p99", 1000), "#c53f52", "dot")],
      layout: layout("Schedule lag vs offered rate", X, "Milliseconds late", false, false),
    },
    error_rate_vs_rate: {
      data: [trace("error rate", col("failed_requests_rate"), "#8a226a")],
      layout: layout("Error rate vs offered rate", X, "Error rate", false, false),
    },
  };
  if (stats.some((/** @type {any} */ s) => typeof s.goodput === "number")) {
    out.goodput_vs_rate = {
      data: [trace("goodput (meets every SLO)", col("goodput", 1 / 60), "#2ca02c"), trace("achieved", col("requests_per_minute", 1 / 60), "#999999", "dot")],
      layout: layout("Goodput vs offered rate", X, "Requests per second", false, false),
    };
  }
  return out;
}

/** @param {any} lt LoadTestResult @returns {Record<string, Figure>} */
function clientFigures(lt) {
  const xs = lt.clients;
  const stats = xs.map((/** @type {number} */ c) => lt.results.get(c).stats);
  const col = (/** @type {string} */ key) => stats.map((/** @type {any} */ s) => (typeof s[key] === "number" ? s[key] : null));
  /** @param {string} metric @param {string} title @param {string} ytitle */
  const bands = (metric, title, ytitle) => {
    const cw = COLORWAYS[/** @type {keyof typeof COLORWAYS} */ (metric)];
    return {
      data: [
        { type: "scatter", mode: "lines+markers", name: "p50", x: xs, y: col(`${metric}-p50`), line: { color: cw[0] } },
        { type: "scatter", mode: "lines+markers", name: "p90", x: xs, y: col(`${metric}-p90`), fill: "tonexty", line: { color: cw[1] } },
        { type: "scatter", mode: "lines+markers", name: "p99", x: xs, y: col(`${metric}-p99`), fill: "tonexty", line: { color: cw[2], dash: "dot" } },
        { type: "scatter", mode: "lines", name: "average", x: xs, y: col(`${metric}-average`), line: { color: cw[3], dash: "dash" } },
      ],
      layout: { ...layout(title, undefined, ytitle), colorway: cw },
    };
  };
  /** @param {string} key @param {string} stat @param {string} title @param {string} ytitle @param {boolean} [logY] */
  const line = (key, stat, title, ytitle, logY = true) => ({
    data: [{ type: "scatter", mode: "lines+markers", name: lt.testName, x: xs, y: col(stat), line: { dash: "dot" }, opacity: 0.5 }],
    layout: { ...layout(title, undefined, ytitle, true, logY), colorway: COLORWAYS[/** @type {keyof typeof COLORWAYS} */ (key)] },
  });
  return {
    time_to_first_token: bands("time_to_first_token", "Time to first token vs number of clients", "Time to first token (s)"),
    time_to_last_token: bands("time_to_last_token", "Time to last token vs number of clients", "Time to last token (s)"),
    requests_per_minute: line("requests_per_minute", "requests_per_minute", "Requests per minute vs number of clients", "Requests per minute"),
    error_rate: line("error_rate", "failed_requests_rate", "Error rate vs number of clients", "Error rate", false),
    average_input_tokens_clients: line("average_input_tokens_clients", "average_input_tokens_per_minute", "Average input tokens per minute vs number of clients", "Average input tokens per minute"),
    average_output_tokens_clients: line("average_output_tokens_clients", "average_output_tokens_per_minute", "Average output tokens per minute vs number of clients", "Average output tokens per minute"),
  };
}

/** @param {number[]} v */
function median(v) {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? null : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
/** @param {number[]} v */
const mean = (v) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : null);
/** @param {any} x */
const num = (x) => typeof x === "number" && Number.isFinite(x);

/** @param {any} hm LatencyHeatmapResult @returns {Record<string, Figure>} */
export function heatmapFigures(hm) {
  const cells = hm.cells();
  const ins = hm.plan.input_lengths, outs = hm.plan.output_lengths;
  // Axis positions: the measured mean token counts of each row / column (targets if none).
  const y = ins.map((/** @type {number} */ t, /** @type {number} */ i) => mean(cells[i].flat().map((/** @type {any} */ r) => r.num_tokens_input).filter(num)) ?? t);
  const x = outs.map((/** @type {number} */ t, /** @type {number} */ j) => mean(cells.flatMap((/** @type {any} */ row) => row[j]).map((/** @type {any} */ r) => r.num_tokens_output).filter(num)) ?? t);
  const all = cells.flat(2);
  /** @param {string} metric @param {string} title */
  const fig = (metric, title) => ({
    data: [
      {
        type: "heatmap", name: `median ${metric}`, x, y,
        z: cells.map((/** @type {any[]} */ row) => row.map((rs) => median(rs.map((/** @type {any} */ r) => r[metric]).filter(num)))),
        colorscale: "Viridis", colorbar: { title: { text: "s" } },
        customdata: cells.map((/** @type {any[]} */ row) => row.map((rs) => rs.length)),
        hovertemplate: "input %{y:.0f} tok, output %{x:.0f} tok<br>median %{z:.3f} s (%{customdata} requests)<extra></extra>",
      },
      {
        type: "scatter", mode: "markers", name: "requests",
        x: all.map((/** @type {any} */ r) => r.num_tokens_output ?? null),
        y: all.map((/** @type {any} */ r) => r.num_tokens_input ?? null),
        marker: { color: all.map((/** @type {any} */ r) => r[metric] ?? null), colorscale: "Viridis", showscale: false, line: { color: "white", width: 1 }, size: 7 },
        hovertemplate: "input %{y} tok, output %{x} tok: %{marker.color:.3f} s<extra></extra>",
      },
    ],
    layout: { ...layout(title, "Output tokens (measured)", "Input tokens (measured)", false, false) },
  });
  return {
    time_to_first_token: fig("time_to_first_token", "Time to first token (s) by input and output tokens"),
    time_to_last_token: fig("time_to_last_token", "Time to last token (s) by input and output tokens"),
  };
}

/**
 * The label of each response of a merged result (its shard's label; `null` without one), from
 * `info.fleet.shards`, where shard `i` owns the `responses` responses after the shards before it.
 * @param {any} result Result
 * @returns {(string | null)[] | null} null for a result that is not a merge of labelled shards
 */
export function responseLabels(result) {
  const shards = result.info?.fleet?.shards;
  if (!Array.isArray(shards) || !shards.some((s) => typeof s.label === "string")) return null;
  /** @type {(string | null)[]} */
  const out = [];
  for (const s of shards) for (let i = 0; i < s.responses; i++) out.push(s.label ?? null);
  return out.length === result.responses.length ? out : null;
}

/** @param {any} result Result @returns {Record<string, Figure>} */
export function runFigures(result) {
  const rs = result.responses;
  const metrics = [["time_to_first_token", "Time to first token (s)"], ["time_to_last_token", "Time to last token (s)"], ["time_per_output_token", "Time per output token (s)"]];
  /** @type {Record<string, Figure>} */
  const out = {};
  for (const [m, label] of metrics) {
    out[`${m}_histogram`] = {
      data: [{ type: "histogram", name: label, x: rs.map((/** @type {any} */ r) => r[m]).filter(num) }],
      layout: layout(`${label}: distribution`, label, "Requests", false, false),
    };
  }
  out.latency_box = {
    data: metrics.map(([m, label]) => ({ type: "box", name: label.replace(" (s)", ""), y: rs.map((/** @type {any} */ r) => r[m]).filter(num), boxpoints: "outliers" })),
    // Box names are categories; a linear axis would label them 0, 1, 2.
    layout: { ...layout("Latency distributions", "", "Seconds", false, true), xaxis: { type: "category" } },
  };
  // A merged fleet: one box per label, for TTFT and for TTLT.
  const labels = responseLabels(result);
  if (labels) {
    const names = [...new Set(labels.filter((l) => l !== null))].sort();
    for (const [m, label] of metrics.slice(0, 2)) {
      out[`${m}_by_label`] = {
        data: names.map((name) => ({ type: "box", name, y: rs.filter((/** @type {any} */ _, /** @type {number} */ i) => labels[i] === name).map((/** @type {any} */ r) => r[m]).filter(num), boxpoints: "outliers" })),
        layout: { ...layout(`${label.replace(" (s)", "")} by label`, "Label", "Seconds", false, true), xaxis: { type: "category" } },
      };
    }
  }
  const s = result.stats;
  const slo = [["slo_attainment-time_to_first_token", "TTFT"], ["slo_attainment-time_per_output_token", "TPOT"], ["slo_attainment-time_to_last_token", "TTLT"], ["slo_attainment", "all"]].filter(([k]) => num(s[k]));
  if (slo.length) {
    const objectives = result.info?.slo ?? {};
    const limit = (/** @type {string} */ label) => { const v = objectives[label.toLowerCase()]; return num(v) ? ` ≤ ${fmt(v)} s` : ""; };
    out.slo_attainment = {
      data: [{ type: "bar", name: "share of requests meeting the SLO", x: slo.map(([, l]) => `${l}${limit(l)}`), y: slo.map(([k]) => s[k]) }],
      layout: { ...layout(`SLO attainment (goodput ${num(s.goodput) ? fmt(s.goodput) : "—"} requests/min)`, "Objective", "Share of requests", false, false), xaxis: { type: "category", title: { text: "Objective" } } },
    };
  }
  const lags = (result.timings ?? []).map((/** @type {any} */ t) => (num(t.sent_at) && num(t.scheduled_at) ? (t.sent_at - t.scheduled_at) * 1000 : null)).filter(num);
  if (lags.length) {
    out.schedule_lag_histogram = {
      data: [{ type: "histogram", name: "Schedule lag (ms)", x: lags }],
      layout: layout("Schedule lag: how late each request left (ms)", "Milliseconds late", "Requests", false, false),
    };
  }
  return out;
}

// ---------- Markup: every report's HTML and SVG is built with `html`, which escapes every value ----------

/** Markup made by `html`, inserted as is; anything else is text and escaped. */
class Markup {
  /** @param {string} text */
  constructor(text) { this.text = text; }
  toString() { return this.text; }
}

/** @param {unknown} s */
const escapeText = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);

/** @param {unknown} v @returns {string} */
function markupOf(v) {
  if (v instanceof Markup) return v.text;
  if (Array.isArray(v)) return v.map(markupOf).join("");
  if (v === null || v === undefined || v === false) return "";
  return escapeText(v);
}

/**
 * The one way this module writes HTML and SVG: a template tag that escapes every interpolated
 * value (text, attribute values, numbers), unless it is markup this tag made. Values from result
 * files (names, times, warnings, a heatmap's lengths) can never become markup.
 * @param {TemplateStringsArray} strings
 * @param {...unknown} values
 * @returns {Markup}
 */
function html(strings, ...values) {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += markupOf(values[i]) + strings[i + 1];
  return new Markup(out);
}

/** @param {number} v */
const fmt = (v) => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(1) : Number(v.toPrecision(3)).toString());
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"];

/** @param {number} t 0..1 */
function viridis(t) {
  const p = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1), i = Math.min(VIRIDIS.length - 2, Math.floor(p)), f = p - i;
  const c = VIRIDIS[i].map((a, k) => Math.round(a + (VIRIDIS[i + 1][k] - a) * f));
  return `rgb(${c.join(",")})`;
}

/** @param {number[]} v @param {boolean} log */
function scale(v, log, lo = 0, hi = 1) {
  let vs = v.filter((x) => num(x) && (!log || x > 0));
  if (vs.length === 0) vs = log ? [1, 10] : [0, 1];
  let a = Math.min(...vs), b = Math.max(...vs);
  if (log) { a = Math.log10(a); b = Math.log10(b); }
  if (a === b) { a -= 0.5; b += 0.5; }
  const pad = (b - a) * 0.06; a -= pad; b += pad;
  const f = (/** @type {number} */ x) => lo + ((log ? Math.log10(x) : x) - a) / (b - a) * (hi - lo);
  /** @type {number[]} */
  let ticks = [];
  if (log) {
    for (let e = Math.floor(a); e <= Math.ceil(b); e++) for (const m of (b - a < 1.5 ? [1, 2, 5] : [1])) { const t = m * 10 ** e; const l = Math.log10(t); if (l >= a && l <= b) ticks.push(t); }
  } else {
    const step0 = (b - a) / 5, mag = 10 ** Math.floor(Math.log10(step0)), step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? mag * 10;
    for (let t = Math.ceil(a / step) * step; t <= b; t += step) ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  }
  return { f, ticks };
}

/**
 * Renders one of this module's figures as an SVG string (every value escaped by `html`).
 * @param {Figure} fig @param {number} [w] @param {number} [h]
 * @returns {string}
 */
export function figureToSVG(fig, w = 640, h = 380) {
  return svgOf(fig, w, h).text;
}

/** @param {Figure} fig @param {number} w @param {number} h @returns {Markup} */
function svgOf(fig, w, h) {
  const L = 70, R = 20, T = 40, B = 55, PW = w - L - R, PH = h - T - B;
  const lay = fig.layout ?? {};
  const logX = lay.xaxis?.type === "log", logY = lay.yaxis?.type === "log";
  /** @type {Markup[]} */ const parts = [];
  /** @type {number[]} */ const X = [], Y = [];
  const boxes = fig.data.filter((t) => t.type === "box");
  const bars = fig.data.filter((t) => t.type === "bar");
  const categories = bars.length ? bars[0].x : [];
  const hists = fig.data.filter((t) => t.type === "histogram").map((t) => {
    const v = t.x.filter(num); if (!v.length) return { t, bars: [] };
    const lo = Math.min(...v), hi = Math.max(...v), n = Math.min(30, Math.max(5, Math.ceil(Math.sqrt(v.length)))), wd = (hi - lo || 1) / n;
    const counts = new Array(n).fill(0); for (const x of v) counts[Math.min(n - 1, Math.floor((x - lo) / wd))]++;
    return { t, bars: counts.map((c, i) => ({ x0: lo + i * wd, x1: lo + (i + 1) * wd, c })) };
  });
  for (const t of fig.data) {
    if (t.type === "scatter") { t.x.forEach((/** @type {any} */ x, /** @type {number} */ i) => { if (num(x) && num(t.y[i])) { X.push(x); Y.push(t.y[i]); } }); }
    if (t.type === "heatmap") { X.push(...t.x.filter(num)); Y.push(...t.y.filter(num)); }
    if (t.type === "box") Y.push(...t.y.filter(num));
    if (t.type === "bar") Y.push(0, ...t.y.filter(num));
  }
  for (const { bars } of hists) for (const b of bars) { X.push(b.x0, b.x1); Y.push(0, b.c); }
  // Heatmap cells extend half-way to their neighbours: include those edges in the axes.
  /** @param {number[]} v */
  const edges = (v) => v.map((c, i) => [i ? (c + v[i - 1]) / 2 : c - ((v[1] ?? c + 1) - c) / 2, i < v.length - 1 ? (c + v[i + 1]) / 2 : c + (c - (v[i - 1] ?? c - 1)) / 2]);
  for (const t of fig.data.filter((t) => t.type === "heatmap")) { X.push(...edges(t.x).flat()); Y.push(...edges(t.y).flat()); }
  if (boxes.length) { X.push(-0.5, boxes.length - 0.5); }
  if (bars.length) { X.push(-0.5, categories.length - 0.5); }
  const sx = scale(X, logX, L, L + PW), sy = scale(Y, logY, T + PH, T);
  parts.push(html`<rect x="${L}" y="${T}" width="${PW}" height="${PH}" fill="#fafafa" stroke="#ccc"/>`);
  for (const t of sy.ticks) { const yy = sy.f(t); parts.push(html`<line x1="${L}" x2="${L + PW}" y1="${yy}" y2="${yy}" stroke="#e5e5e5"/><text x="${L - 6}" y="${yy + 4}" text-anchor="end" font-size="11">${fmt(t)}</text>`); }
  if (!boxes.length && !bars.length) for (const t of sx.ticks) { const xx = sx.f(t); parts.push(html`<line y1="${T}" y2="${T + PH}" x1="${xx}" x2="${xx}" stroke="#e5e5e5"/><text y="${T + PH + 16}" x="${xx}" text-anchor="middle" font-size="11">${fmt(t)}</text>`); }
  /** @type {{name: string, color: string}[]} */ const legend = [];
  let prev = /** @type {[number, number][] | null} */ (null);
  fig.data.forEach((t, k) => {
    const cw = lay.colorway ?? PALETTE;
    const color = t.line?.color ?? (typeof t.marker?.color === "string" ? t.marker.color : cw[k % cw.length]);
    if (t.type === "scatter") {
      /** @type {[number, number][]} */
      const pts = [];
      t.x.forEach((/** @type {any} */ x, /** @type {number} */ i) => { if (num(x) && num(t.y[i]) && (!logX || x > 0) && (!logY || t.y[i] > 0)) pts.push([sx.f(x), sy.f(t.y[i])]); });
      if (t.fill === "tonexty" && prev && prev.length && pts.length) parts.push(html`<polygon points="${[...pts, ...[...prev].reverse()].map((p) => p.join(",")).join(" ")}" fill="${color}" fill-opacity="0.15" stroke="none"/>`);
      const mode = t.mode ?? "lines+markers";
      const dash = t.line?.dash === "dot" ? html` stroke-dasharray="2,3"` : t.line?.dash === "dash" ? html` stroke-dasharray="6,4"` : "";
      if (mode.includes("lines") && pts.length > 1) parts.push(html`<polyline points="${pts.map((p) => p.join(",")).join(" ")}" fill="none" stroke="${color}" stroke-width="2"${dash} opacity="${t.opacity ?? 1}"/>`);
      if (mode.includes("markers")) {
        const cs = Array.isArray(t.marker?.color) ? t.marker.color : null;
        const cv = cs ? cs.filter(num) : [], c0 = Math.min(...cv), c1 = Math.max(...cv);
        t.x.forEach((/** @type {any} */ x, /** @type {number} */ i) => {
          if (!(num(x) && num(t.y[i]))) return;
          const fill = cs ? (num(cs[i]) ? viridis((cs[i] - c0) / (c1 - c0 || 1)) : "#999") : color;
          parts.push(html`<circle class="point" cx="${sx.f(x)}" cy="${sy.f(t.y[i])}" r="${cs ? 4 : 3.5}" fill="${fill}" stroke="${cs ? "#fff" : "none"}"/>`);
        });
      }
      prev = pts;
      legend.push({ name: t.name, color });
    } else if (t.type === "heatmap") {
      const zs = t.z.flat().filter(num), z0 = Math.min(...zs), z1 = Math.max(...zs);
      const ex = edges(t.x), ey = edges(t.y);
      t.z.forEach((/** @type {any[]} */ row, /** @type {number} */ i) => row.forEach((z, j) => {
        const x0 = sx.f(ex[j][0]), x1 = sx.f(ex[j][1]), y0 = sy.f(ey[i][1]), y1 = sy.f(ey[i][0]);
        parts.push(html`<rect class="cell" x="${Math.min(x0, x1)}" y="${Math.min(y0, y1)}" width="${Math.abs(x1 - x0)}" height="${Math.abs(y1 - y0)}" fill="${num(z) ? viridis((z - z0) / (z1 - z0 || 1)) : "#eee"}"><title>${num(z) ? fmt(z) : "no data"}</title></rect>`);
        if (num(z)) parts.push(html`<text x="${(x0 + x1) / 2}" y="${(y0 + y1) / 2 + 4}" text-anchor="middle" font-size="11" fill="${(z - z0) / (z1 - z0 || 1) > 0.6 ? "#000" : "#fff"}">${fmt(z)}</text>`);
      }));
      legend.push({ name: `${t.name} (${fmt(z0)} … ${fmt(z1)})`, color: viridis(1) });
    } else if (t.type === "bar") {
      const bw = PW / Math.max(1, categories.length) * 0.6;
      t.y.forEach((/** @type {any} */ v, /** @type {number} */ i) => {
        const cx = sx.f(i);
        if (num(v)) parts.push(html`<rect class="bar" x="${cx - bw / 2}" y="${Math.min(sy.f(v), sy.f(0))}" width="${bw}" height="${Math.abs(sy.f(0) - sy.f(v))}" fill="${color}" fill-opacity="0.8"><title>${fmt(v)}</title></rect><text x="${cx}" y="${sy.f(v) - 4}" text-anchor="middle" font-size="11">${fmt(v)}</text>`);
        parts.push(html`<text y="${T + PH + 16}" x="${cx}" text-anchor="middle" font-size="11">${t.x[i]}</text>`);
      });
      legend.push({ name: t.name, color });
    } else if (t.type === "box") {
      const v = [...t.y.filter(num)].sort((a, b) => a - b);
      if (!v.length) return;
      const q = (/** @type {number} */ p) => v[Math.min(v.length - 1, Math.max(0, Math.round(p * (v.length - 1))))];
      const cx = sx.f(k), bw = PW / boxes.length * 0.3;
      const [lo, q1, md, q3, hi] = [v[0], q(0.25), q(0.5), q(0.75), v[v.length - 1]].map((x) => sy.f(Math.max(x, logY ? 1e-12 : x)));
      parts.push(html`<g class="box"><line x1="${cx}" x2="${cx}" y1="${lo}" y2="${hi}" stroke="${color}"/><rect x="${cx - bw / 2}" y="${Math.min(q1, q3)}" width="${bw}" height="${Math.abs(q1 - q3)}" fill="${color}" fill-opacity="0.3" stroke="${color}"/><line x1="${cx - bw / 2}" x2="${cx + bw / 2}" y1="${md}" y2="${md}" stroke="${color}" stroke-width="2"/></g>`);
      parts.push(html`<text y="${T + PH + 16}" x="${cx}" text-anchor="middle" font-size="11">${t.name}</text>`);
    }
  });
  for (const { t, bars } of hists) {
    const color = PALETTE[0];
    for (const b of bars) parts.push(html`<rect class="bar" x="${sx.f(b.x0)}" y="${sy.f(b.c)}" width="${Math.max(0, sx.f(b.x1) - sx.f(b.x0) - 1)}" height="${sy.f(0) - sy.f(b.c)}" fill="${color}" fill-opacity="0.7"/>`);
    legend.push({ name: t.name, color });
  }
  legend.forEach((l, i) => parts.push(html`<rect x="${L + 10}" y="${T + 8 + i * 16}" width="10" height="10" fill="${l.color}"/><text x="${L + 24}" y="${T + 17 + i * 16}" font-size="11">${l.name}</text>`));
  parts.push(html`<text x="${w / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${lay.title?.text ?? ""}</text>`);
  parts.push(html`<text x="${L + PW / 2}" y="${h - 12}" text-anchor="middle" font-size="12">${lay.xaxis?.title?.text ?? ""}</text>`);
  parts.push(html`<text transform="translate(16 ${T + PH / 2}) rotate(-90)" text-anchor="middle" font-size="12">${lay.yaxis?.title?.text ?? ""}</text>`);
  return html`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" font-family="system-ui, sans-serif" role="img" aria-label="${lay.title?.text ?? "chart"}">${parts}</svg>`;
}

// ---------- HTML ----------

const STAT_COLUMNS = [
  ["total_requests", "requests"], ["failed_requests_rate", "error rate"], ["requests_per_minute", "req/min"],
  ["time_to_first_token-p50", "TTFT p50 (s)"], ["time_to_first_token-p90", "TTFT p90 (s)"], ["time_to_first_token-p99", "TTFT p99 (s)"],
  ["time_to_last_token-p50", "TTLT p50 (s)"], ["time_to_last_token-p90", "TTLT p90 (s)"], ["time_to_last_token-p99", "TTLT p99 (s)"],
  ["time_per_output_token-p50", "TPOT p50 (s)"], ["num_tokens_input-average", "avg input tok"], ["num_tokens_output-average", "avg output tok"],
  ["average_output_tokens_per_minute", "output tok/min"],
  // Shown only when some row has them: open loops, SLOs, cost models.
  ["schedule_lag-p99", "lag p99 (s)"], ["goodput", "goodput (req/min)"], ["slo_attainment", "SLO attainment"], ["cost_total", "cost"],
];
const OPTIONAL_COLUMNS = new Set(["schedule_lag-p99", "goodput", "slo_attainment", "cost_total"]);

/** A table cell's text: numbers formatted, missing values as a dash (escaped by `html`). @param {any} v */
const cell = (v) => (typeof v === "number" ? fmt(v) : v === null || v === undefined ? "—" : v);

/** @param {string} title @param {Markup} body */
function page(title, body) {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title><style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:1400px}table{border-collapse:collapse;margin:1rem 0;font-size:13px}th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
figure{display:inline-block;margin:0.5rem}svg{max-width:100%;height:auto}details{margin:1rem 0}pre{background:#f6f6f6;padding:0.5rem;overflow:auto;font-size:12px}
</style></head><body><h1>${title}</h1>${body}<footer><p>Generated by llmeter-wasm on ${new Date().toISOString()}. LLMeter-compatible statistics.</p></footer></body></html>`.text;
}

/** @param {[string, any][]} rows @param {string} first */
function statsTable(rows, first) {
  const columns = STAT_COLUMNS.filter(([k]) => !OPTIONAL_COLUMNS.has(k) || rows.some(([, s]) => num(s[k])));
  const head = html`<tr><th>${first}</th>${columns.map(([, l]) => html`<th>${l}</th>`)}</tr>`;
  return html`<table class="stats">${head}${rows.map(([label, s]) => html`<tr><td>${label}</td>${columns.map(([k]) => html`<td>${cell(s[k])}</td>`)}</tr>`)}</table>`;
}

/** @param {Record<string, Figure>} figs */
const figuresHTML = (figs) => Object.entries(figs).map(([k, f]) => html`<figure id="${k}">${svgOf(f, 640, 380)}</figure>`);

/** How the requests were started, in words. @param {any} info */
function loadText(info) {
  const load = info?.load;
  if (!load || load.model !== "open") return "closed loop";
  const phases = [["warm-up", load.warmup], ["cool-down", load.cooldown]].filter(([, p]) => p).map(([n, p]) => `${n} ${p.requests !== undefined ? `${p.requests} requests` : `${p.seconds} s`}`);
  return `open loop at ${load.rate} requests/s (${load.arrival} arrivals, at most ${load.max_concurrency} in flight${phases.length ? `; ${phases.join(", ")}` : ""})`;
}

/** @param {any} r Result */
function runMeta(r) {
  const s = r.summary;
  const warnings = (r.info?.warnings ?? []).map((/** @type {string} */ w) => html`<li>${w}</li>`);
  const slo = r.info?.slo;
  const sloText = slo ? Object.entries(slo).map(([k, v]) => `${k.toUpperCase()} ≤ ${v} s`).join(", ") : "";
  return html`<p>Model <b>${s.model_id ?? "—"}</b> (${s.provider ?? "—"}), ${s.total_requests ?? "—"} requests, ${s.clients} clients, ${loadText(r.info)}, from ${s.start_time ?? "—"} to ${s.end_time ?? "—"}; runtime ${r.info?.runtime ?? "—"}, protocol ${r.info?.protocol ?? "—"}.${sloText ? html` SLO: ${sloText}; goodput ${cell(r.stats?.goodput)} requests/min.` : ""}</p>${warnings.length ? html`<ul class="warnings">${warnings}</ul>` : ""}`;
}

/** @param {any} lt LoadTestResult */
export function loadTestHTML(lt) {
  const rows = lt.clients.map((/** @type {number} */ c) => [`${c}`, lt.results.get(c).stats]);
  /** @type {[string, any][]} */
  const rateRows = [...(lt.rates ?? new Map()).entries()].map(([rate, r]) => [`${rate}`, r.stats]);
  const first = lt.results.values().next().value ?? lt.rates?.values().next().value;
  const all = {
    ...Object.fromEntries(lt.clients.map((/** @type {number} */ c) => [`${c} clients`, lt.results.get(c).stats])),
    ...Object.fromEntries(rateRows.map(([rate, s]) => [`${rate} requests/s`, s])),
  };
  const tables = html`${rows.length ? html`<h2>Statistics by number of clients</h2>${statsTable(rows, "clients")}` : ""}${rateRows.length ? html`<h2>Statistics by offered rate</h2>${statsTable(rateRows, "requests/s")}` : ""}`;
  return page(`Load test ${lt.testName}`, html`${first ? runMeta(first) : ""}${tables}<h2>Charts</h2>${figuresHTML(loadTestFigures(lt))}<details><summary>All statistics (JSON)</summary><pre>${JSON.stringify(all, null, 2)}</pre></details>`);
}

/** @param {any} hm LatencyHeatmapResult */
export function heatmapHTML(hm) {
  const cells = hm.cells();
  const rows = [];
  for (const [i, n] of hm.plan.input_lengths.entries()) {
    for (const [j, m] of hm.plan.output_lengths.entries()) {
      const rs = cells[i]?.[j] ?? [];
      const get = (/** @type {string} */ k) => rs.map((/** @type {any} */ r) => r[k]).filter(num);
      rows.push(html`<tr><td>${n} (${hm.plan.prompts?.[i]?.tokens ?? "—"})</td><td>${m}</td><td>${rs.length}</td><td>${cell(mean(get("num_tokens_input")))}</td><td>${cell(mean(get("num_tokens_output")))}</td><td>${cell(median(get("time_to_first_token")))}</td><td>${cell(median(get("time_to_last_token")))}</td></tr>`);
    }
  }
  const table = html`<table class="cells"><tr><th>input target (prompt tokens)</th><th>output target</th><th>requests</th><th>avg input tok</th><th>avg output tok</th><th>TTFT p50 (s)</th><th>TTLT p50 (s)</th></tr>${rows}</table>`;
  return page(`Latency heatmap ${hm.testName}`, html`${runMeta(hm.result)}<h2>Cells</h2>${table}<h2>Run statistics</h2>${statsTable([[hm.result.summary.run_name ?? "run", hm.result.stats]], "run")}<h2>Charts</h2>${figuresHTML(heatmapFigures(hm))}${figuresHTML(runFigures(hm.result))}`);
}

/** @param {any} r Result */
export function runHTML(r) {
  return page(`Run ${r.summary.run_name ?? ""}`, html`${runMeta(r)}${statsTable([[r.summary.run_name ?? "run", r.stats]], "run")}${fleetHTML(r)}<h2>Charts</h2>${figuresHTML(runFigures(r))}`);
}

/** A merged result's breakdowns (per label, per runtime) and its shards. @param {any} r Result */
function fleetHTML(r) {
  const fleet = r.info?.fleet;
  if (!fleet) return "";
  /** @param {string} key @param {string} title @param {string} first */
  const groups = (key, title, first) => {
    const g = r.stats[key];
    return g && typeof g === "object" ? html`<h2>${title}</h2>${statsTable(Object.entries(g), first)}` : "";
  };
  const offset = (/** @type {any} */ o) => (o ? `${fmt(o.offset_ms)} ± ${fmt(o.uncertainty_ms)} ms (${o.source ?? "?"}, ${o.samples} samples)` : "—");
  const shardRows = fleet.shards.map((/** @type {any} */ s) => html`<tr><td>${s.shard_id ?? "—"}</td><td>${s.label ?? "—"}</td><td>${s.runtime ?? "—"}</td><td>${s.clients}</td><td>${s.responses}</td><td>${s.start_time ?? "—"}</td><td>${offset(s.clock_offset)}</td><td>${fleet.late.includes(s.shard_id) ? "late" : s.interrupted ? "interrupted" : ""}</td></tr>`);
  const missing = fleet.missing.length ? html`<p class="missing">Missing shards (in the plan, never came): ${fleet.missing.join(", ")}</p>` : "";
  return html`${groups("by_label", "By label", "label")}${groups("by_runtime", "By runtime", "runtime")}<h2>Shards${fleet.test_id ? html` of ${fleet.test_id}` : ""}</h2><table class="shards"><tr><th>shard</th><th>label</th><th>runtime</th><th>clients</th><th>requests</th><th>start (reference clock)</th><th>clock offset</th><th></th></tr>${shardRows}</table>${missing}`;
}
