// Makes the README's rate-sweep figure (docs/rate-sweep-goodput.svg) from a real run: llm-sim
// with 4 generation slots (~0.2 s per request, so about 19 requests/s at most), a LoadTest over
// request rates with a TTFT objective, and the package's own goodput chart as SVG.
//   node scripts/readme-goodput.mjs            (after bash scripts/build.sh)
import { writeFileSync } from "node:fs";
import path from "node:path";
import { startSim, ROOT } from "../tests/js/sim.js";
import { init, OpenAIEndpoint, LoadTest } from "../pkg/index.js";
import { figureToSVG } from "../pkg/report.js";

await init();
const sim = await startSim(["--max-concurrency", "4", "--ttft-ms", "60", "--itl-ms", "10", "--seed", "1"]);
try {
  const endpoint = new OpenAIEndpoint({ baseUrl: sim.base, model: "llm-sim" });
  const payload = endpoint.createPayload("Explain time to first token in one paragraph.", 16);
  const test = await new LoadTest({
    endpoint, payload, testName: "rate-sweep",
    sequenceOfRates: [2, 5, 10, 15, 20, 25, 30], runDuration: 10, arrival: "poisson", slo: { ttft: 0.2 },
  }).run();
  for (const [rate, r] of test.rates) {
    const s = r.stats;
    console.log(`${rate}/s: achieved ${(s.requests_per_minute / 60).toFixed(1)}/s, goodput ${(s.goodput / 60).toFixed(1)}/s, TTFT p50 ${(s["time_to_first_token-p50"] * 1000).toFixed(0)} ms, lag p99 ${(s["schedule_lag-p99"] * 1000).toFixed(1)} ms`);
  }
  const figures = await test.figures();
  const out = path.join(ROOT, "docs/rate-sweep-goodput.svg");
  writeFileSync(out, figureToSVG(figures.goodput_vs_rate, 640, 360));
  console.log(`wrote ${path.relative(ROOT, out)}`);
} finally {
  await sim.stop();
}
