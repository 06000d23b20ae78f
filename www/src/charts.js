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
 * @param {HTMLElement} container
 * @param {{name: string, responses: Record<string, any>[]}[]} runs
 */
export async function renderCharts(container, runs) {
  const Plotly = /** @type {any} */ (globalThis).Plotly;
  container.replaceChildren();
  if (!Plotly || nothingToChart(runs)) {
    if (Plotly) return noCharts(container);
    container.textContent = "Charts are unavailable: Plotly did not load.";
    return;
  }
  const many = runs.length > 1;
  const figures = [];
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
    const n = fig.data.reduce((s, t) => s + (t.x ?? t.y).length, 0);
    div.setAttribute("aria-label", `${fig.label}: ${n} values${many ? ` over ${runs.length} runs` : ""}`);
    container.append(div);
    await Plotly.newPlot(div, fig.data, fig.layout, { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["lasso2d", "select2d"] });
  }
}

/**
 * Draws the package's figure objects (`{name: {data, layout}}`, from `Result.figures()`,
 * `LoadTestResult.figures()`, `LatencyHeatmapResult.figures()`) in the page's style.
 * @param {HTMLElement} container
 * @param {Record<string, {data: any[], layout: any}>} figures
 * @param {string} [idPrefix] element ids are `chart-{idPrefix}{name}`
 */
export async function drawFigures(container, figures, idPrefix = "") {
  const Plotly = /** @type {any} */ (globalThis).Plotly;
  for (const [name, fig] of Object.entries(figures)) {
    const div = document.createElement("div");
    div.className = "chart";
    div.id = `chart-${idPrefix}${name.replace(/[^\w-]/g, "-")}`;
    div.setAttribute("role", "figure");
    const title = fig.layout?.title?.text ?? fig.layout?.title ?? name;
    div.setAttribute("aria-label", String(title));
    container.append(div);
    const base = baseLayout(String(title), "", "");
    const layout = {
      ...fig.layout,
      title: { ...base.title, text: String(title) },
      margin: { ...base.margin, b: 96 },
      height: 340,
      paper_bgcolor: base.paper_bgcolor,
      plot_bgcolor: base.plot_bgcolor,
      font: base.font,
      legend: { orientation: "h", y: -0.42 },
      xaxis: { ...base.xaxis, ...fig.layout?.xaxis },
      yaxis: { ...base.yaxis, ...fig.layout?.yaxis },
    };
    layout.colorway = fig.layout?.colorway ?? COLORS;
    // Box plots are per metric: a category axis shows the metric names (a linear one shows 0, 1, 2).
    if (fig.data.every((t) => t.type === "box")) layout.xaxis = { ...layout.xaxis, type: "category" };
    // Finer bins than Plotly's default for the small samples typical of a browser run.
    const data = fig.data.map((t) => (t.type === "histogram" && t.nbinsx === undefined ? { ...t, nbinsx: 30, marker: { line: { color: "#fff", width: 1 }, ...t.marker } } : t));
    await Plotly.newPlot(div, data, layout, { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["lasso2d", "select2d"] });
  }
}

/** True when no response has a latency to chart. */
export function nothingToChart(runs) {
  return runs.every((run) => metricMs(run.responses, "time_to_last_token").length === 0);
}

export function noCharts(container) {
  const p = document.createElement("p");
  p.className = "muted empty-charts";
  p.textContent = "No successful responses, so nothing to chart.";
  container.replaceChildren(p);
}
