// Child process of the processing bench: load a run folder with Result.fromFiles and compute
// its stats, reporting time and memory of this process alone (argv[2] = folder).
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { init, Result } from "../../pkg/index.js";

await init();
const folder = process.argv[2];
const base = process.memoryUsage().rss;
const t0 = performance.now();
const files = Object.fromEntries(readdirSync(folder).map((f) => [f, readFileSync(path.join(folder, f), "utf8")]));
const result = await Result.fromFiles(files);
const stats = result.stats;
const seconds = (performance.now() - t0) / 1000;
const peak = process.resourceUsage().maxRSS * 1024;
process.stdout.write(JSON.stringify({ seconds, responses: result.summary.total_requests, ttftP50: stats["time_to_first_token-p50"], peakRssMb: peak / 2 ** 20, rssGrowthMb: (peak - base) / 2 ** 20 }) + "\n");
