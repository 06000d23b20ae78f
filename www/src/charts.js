// Plotly charts of one run or several runs overlaid: TTFT/TTLT/TPOT histograms and box plots.
// Plotly is loaded as a classic script (window.Plotly), copied from node_modules at build time.
import { metricMs } from "./results.js";

const COLORS = ["#4f46e5", "#0d9488", "#db2777", "#d97706", "#2563eb", "#65a30d"];
const METRICS = [
  ["time_to_first_token", "Time to first token"],
  ["time_to_last_token", "Time to last token"],
  ["time_per_output_token", "Time per output token"],
];

function baseLayout(title, xTitle, yTitle) {
  return {
    title: { text: title, font: { size: 14 }, x: 0, xanchor: "left" },
    margin: { l: 60, r: 16, t: 40, b: 52 },
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    font: { family: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size: 12, color: "#334155" },
    xaxis: { title: { text: xTitle, standoff: 6 }, gridcolor: "#e2e8f0", zeroline: false, automargin: true },
    yaxis: { title: { text: yTitle, standoff: 6 }, gridcolor: "#e2e8f0", zeroline: false, automargin: true },
    legend: { orientation: "h", y: -0.25 },
    barmode: "overlay",
    height: 300,
  };
}

/**
 * Load-test figures: latency percentiles (p50 line, band up to p90) and throughput against clients.
 * @param {{clients: number, stats: Record<string, any>}[]} levels
 */
function loadTestFigures(levels) {
  const pts = [...levels].sort((a, b) => a.clients - b.clients);
  const x = pts.map((p) => p.clients);
  const ms = (key) => pts.map((p) => (typeof p.stats[key] === "number" ? p.stats[key] * 1000 : null));
  const band = (metric, label, color, fill) => [
    { type: "scatter", mode: "lines", x, y: ms(`${metric}-p90`), name: `${label} p90`, line: { color, width: 0.5, dash: "dot" }, showlegend: false, hovertemplate: `${label} p90 %{y:.1f} ms<extra></extra>` },
    { type: "scatter", mode: "lines+markers", x, y: ms(`${metric}-p50`), name: `${label} p50 (band to p90)`, line: { color, width: 2.5 }, marker: { size: 7 }, fill: "tonexty", fillcolor: fill, hovertemplate: `${label} p50 %{y:.1f} ms<extra></extra>` },
  ];
  const xaxis = { title: { text: "concurrent clients", standoff: 6 }, gridcolor: "#e2e8f0", zeroline: false, automargin: true, type: x.length > 2 && x[x.length - 1] / x[0] >= 8 ? "log" : "linear", tickvals: x };
  return [
    {
      id: "load-latency",
      label: "Latency against concurrent clients (p50 lines, bands to p90)",
      data: [...band("time_to_first_token", "TTFT", COLORS[0], "rgba(79,70,229,.15)"), ...band("time_to_last_token", "TTLT", COLORS[1], "rgba(13,148,136,.15)")],
      layout: { ...baseLayout("Latency vs clients", "", "ms"), xaxis, showlegend: true },
    },
    {
      id: "load-throughput",
      label: "Throughput against concurrent clients",
      data: [
        { type: "scatter", mode: "lines+markers", x, y: pts.map((p) => p.stats.requests_per_minute ?? null), name: "requests / min", line: { color: COLORS[2], width: 2.5 } },
        { type: "scatter", mode: "lines+markers", x, y: pts.map((p) => p.stats.output_tps ?? null), name: "output tokens / s", yaxis: "y2", line: { color: COLORS[3], width: 2.5, dash: "dash" } },
      ],
      layout: { ...baseLayout("Throughput vs clients", "", "requests / min"), xaxis, yaxis2: { title: { text: "output tokens / s" }, overlaying: "y", side: "right", showgrid: false, automargin: true }, showlegend: true },
    },
  ];
}

/**
 * @param {HTMLElement} container
 * @param {{name: string, responses: Record<string, any>[]}[]} runs
 * @param {{clients: number, stats: Record<string, any>}[]} [loadTest] levels of a load test
 */
export async function renderCharts(container, runs, loadTest) {
  const Plotly = /** @type {any} */ (globalThis).Plotly;
  container.replaceChildren();
  if (!Plotly) {
    container.textContent = "Charts are unavailable: Plotly did not load.";
    return;
  }
  if (runs.every((run) => metricMs(run.responses, "time_to_last_token").length === 0)) {
    const p = document.createElement("p");
    p.className = "muted empty-charts";
    p.textContent = "No successful responses, so nothing to chart.";
    container.append(p);
    return;
  }
  const many = runs.length > 1;
  const figures = loadTest && loadTest.length > 1 ? loadTestFigures(loadTest) : [];
  for (const [key, label] of METRICS) {
    const data = runs.map((run, i) => ({
      type: "histogram",
      nbinsx: 30,
      x: metricMs(run.responses, key),
      name: run.name,
      opacity: many ? 0.55 : 0.85,
      marker: { color: COLORS[i % COLORS.length], line: { color: "#fff", width: 1 } },
    }));
    figures.push({ id: key, label: `${label} histogram`, data, layout: { ...baseLayout(label, "ms", "responses"), showlegend: many } });
  }
  const box = [];
  runs.forEach((run, i) => {
    for (const [key, label] of METRICS.slice(0, 2)) {
      box.push({
        type: "box",
        y: metricMs(run.responses, key),
        name: many ? `${run.name} · ${key === "time_to_first_token" ? "TTFT" : "TTLT"}` : label,
        boxpoints: "all",
        jitter: 0.4,
        pointpos: 0,
        marker: { size: 4, color: COLORS[(many ? i : METRICS.findIndex((m) => m[0] === key)) % COLORS.length] },
        line: { width: 1.5 },
      });
    }
  });
  figures.push({ id: "box", label: "TTFT and TTLT box plot", data: box, layout: { ...baseLayout("TTFT and TTLT", "", "ms"), showlegend: false } });

  for (const fig of figures) {
    const div = document.createElement("div");
    div.className = "chart";
    div.id = `chart-${fig.id}`;
    div.setAttribute("role", "figure");
    const n = fig.data.reduce((s, t) => s + (t.type === "scatter" ? t.y : t.x ?? t.y).length, 0);
    div.setAttribute("aria-label", `${fig.label}: ${n} values${many ? ` over ${runs.length} runs` : ""}`);
    container.append(div);
    await Plotly.newPlot(div, fig.data, fig.layout, { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["lasso2d", "select2d"] });
  }
}

/** The charts in `container` as SVG data URLs (for the standalone HTML report). */
export async function chartImages(container) {
  const Plotly = /** @type {any} */ (globalThis).Plotly;
  const out = [];
  for (const div of container.querySelectorAll(".chart")) {
    out.push({ label: div.getAttribute("aria-label") ?? "", src: await Plotly.toImage(div, { format: "svg", width: 640, height: 300 }) });
  }
  return out;
}

/**
 * Draws the package's figure objects (`{name: {data, layout}}`) before the charts already there.
 * @param {HTMLElement} container
 * @param {Record<string, {data: any[], layout: any}>} figures
 */
export async function prependFigures(container, figures) {
  const Plotly = /** @type {any} */ (globalThis).Plotly;
  const first = container.firstChild;
  for (const [name, fig] of Object.entries(figures)) {
    const div = document.createElement("div");
    div.className = "chart";
    div.id = `chart-heatmap-${name.replace(/[^\w-]/g, "-")}`;
    div.setAttribute("role", "figure");
    div.setAttribute("aria-label", fig.layout?.title?.text ?? fig.layout?.title ?? name);
    container.insertBefore(div, first);
    const layout = { ...fig.layout, height: 340, autosize: true, width: undefined, paper_bgcolor: "rgba(0,0,0,0)", font: { family: "system-ui, sans-serif", size: 12, color: "#334155" } };
    await Plotly.newPlot(div, fig.data, layout, { responsive: true, displaylogo: false });
  }
}
