// The three measured loops, shared by Node, pages, workers and workerd: our engine (Runner), the
// plain JavaScript client and the bare fetch loop (tests/js/bare.js). Each returns
// `{seconds, cpuS, samples: [{id, ttft, ttlt}]}` with ms timings and the simulator's request id,
// plus the engine's protocol.
import { init, OpenAIEndpoint, Runner } from "../../../pkg/index.js";
import { bareLoop, plainLoop } from "../../../tests/js/bare.js";

/**
 * @param {{kind: "engine"|"engine-fetch"|"plain"|"plain-http"|"bare", base: string, clients: number, perClient: number, maxTokens: number, tokenizer?: any, noUsage?: boolean, workers?: number}} spec
 *   `workers`: the engine's clients spread over that many dedicated workers
 */
export async function runLoop({ kind, base, clients, perClient, maxTokens, tokenizer, noUsage = false, workers }) {
  await init();
  // Node only: this process's CPU seconds during the loop itself (not the result conversion).
  const cpu = () => {
    try {
      const u = globalThis.process?.cpuUsage?.(); // workerd has one that throws
      return u ? (u.user + u.system) / 1e6 : NaN;
    } catch {
      return NaN;
    }
  };
  if (kind === "bare" || kind === "plain" || kind === "plain-http") {
    const loop = kind === "bare" ? bareLoop : plainLoop;
    const c0 = cpu();
    const r = await loop({ base, clients, perClient, maxTokens, via: kind === "plain-http" ? "node:http" : "fetch" });
    return { ...r, cpuS: cpu() - c0 };
  }
  // "engine": the runtime's default transport (node:http in Node); "engine-fetch": fetch everywhere.
  const transport = kind === "engine-fetch" ? "fetch" : undefined;
  const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: base, model: "sim-model", apiKey: "bench" }), tokenizer, transport });
  const payload = { messages: [{ role: "user", content: "benchmark me" }], max_tokens: maxTokens };
  // Without usage in the stream the engine falls back to the tokenizer for every count.
  if (noUsage) payload.stream_options = { include_usage: false };
  const c0 = cpu();
  const start = performance.now();
  // subrequestLimit: the bench measures 64 clients in workerd as on Cloudflare's Paid plan (10,000
  // subrequests per invocation); other runtimes have no such limit and ignore it.
  const result = await runner.run({ clients, nRequests: perClient, payload, startJitterMs: 0, subrequestLimit: 10000, ...(workers ? { workers } : {}) });
  const seconds = (performance.now() - start) / 1000;
  const cpuS = cpu() - c0;
  const responses = result.responses;
  const failed = responses.find((r) => r.error);
  if (failed) throw new Error(`engine: ${result.stats.failed_requests} failed: ${failed.error}`);
  return {
    seconds,
    cpuS,
    protocol: result.info.protocol,
    // The engine's own warning that its thread was late (lag.rs): these timings carry that wait.
    busyThread: result.info.warnings.some((w) => w.includes("client's thread was busy")),
    samples: responses.map((r) => ({ id: r.id.replace(/^chatcmpl-/, ""), ttft: r.time_to_first_token * 1000, ttlt: r.time_to_last_token * 1000, out: r.num_tokens_output })),
  };
}
