// The first line of the bench's tables: date, machine, every runtime's version, repeats, load
// average and duration — from the report alone, so it can be rendered again from latest.json.

/**
 * @param {any} report the bench's report (out/bench/latest.json)
 * @param {{ only?: string[] }} [options] the sections run, when not all
 */
export function benchHeader(report, { only } = {}) {
  const v = report.versions ?? {};
  // Chromium's version is recorded bare; the others carry their engine's name already.
  const runtimes = [`Node ${report.node}`, v.chromium && `Chromium ${v.chromium}`, v.firefox, v.webkit, v.workerd].filter(Boolean).join(", ");
  return `Bench ${report.date.slice(0, 16).replace("T", " ")} UTC${report.quick ? " (--quick)" : ""}${only ? ` (--only=${only.join(",")})` : ""} — ${report.machine} — ${runtimes} — median of ${report.config.repeats}+ repeats (spread) — load average ${report.loadAverageStart} → ${report.loadAverageEnd} — ${report.seconds.toFixed(0)} s`;
}

// Alone: node scripts/bench/header.mjs [out/bench/latest.json]
if (import.meta.url === `file://${process.argv[1]}`) {
  const { readFileSync } = await import("node:fs");
  console.log(benchHeader(JSON.parse(readFileSync(process.argv[2] ?? "out/bench/latest.json", "utf8"))));
}
