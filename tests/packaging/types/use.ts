// A typical use of every entry point, type-checked (never run) as a consumer would compile it:
// strict, exactOptionalPropertyTypes, noUncheckedIndexedAccess, skipLibCheck false, under a
// web lib (tsconfig.dom.json) and a Node-only lib (tsconfig.node.json). types.test.js runs tsc.
import {
  init, initSync, OpenAIEndpoint, Runner, Result, LoadTest, LoadTestResult, LatencyHeatmap,
  type Endpoint, type EndpointKind, type Stats, type MetricKey, type Summary, type InvocationResponse,
  type ResponseTimings, type RunInfo, type Progress, type RunOptions, type Figure, type ClockKind,
} from "llmeter-wasm";
import { Tokenizer, initTokenizers } from "llmeter-wasm/tokenizer.js";
import { ResultStore, toZip, fromZip, resultFromFolder, upload, initStore, type StoredRun } from "llmeter-wasm/store.js";
import coreWasm from "llmeter-wasm/llmeter_wasm_bg.wasm";
import coreBytes from "llmeter-wasm/llmeter_wasm_bg.wasm.base64.js";
import storeBytes from "llmeter-wasm/llmeter_store_bg.wasm.base64.js";
import tokenizerWasm from "llmeter-wasm/llmeter_tokenizers_bg.wasm";

export async function measure(baseUrl: string): Promise<number> {
  await init();
  const endpoint = new OpenAIEndpoint({ baseUrl, model: "m", apiKey: "sk-…", headers: { "x-team": "a" } });
  const kind: EndpointKind = endpoint.kind;
  const anyEndpoint: Endpoint = endpoint;
  const runner = new Runner({ endpoint: anyEndpoint, timeout: 30 });
  const seen: InvocationResponse[] = [];
  const options: RunOptions = {
    clients: 4,
    nRequests: 10,
    payload: endpoint.createPayload("Hello!", 64, { temperature: 0 }),
    signal: AbortSignal.timeout(120_000),
    onProgress: (p: Progress) => console.log(p.completed, p.stats.ttft_p50 ?? "–"),
    onResponse: (r: InvocationResponse, t: ResponseTimings) => { seen.push(r); console.log(t.content_chunk_offsets.length); },
  };
  const result: Result = await runner.run(options);
  // Callbacks edit LLMeter's run_config.json and each payload in place.
  const tagged = await runner.run({
    payload: endpoint.createPayload("Hi", 8),
    callbacks: [{ beforeRun: (config) => { config.run_description = `${config.clients ?? 1} clients`; }, beforeInvoke: (payload) => { payload["temperature"] = 0; } }],
  });

  // Stats: every metric × aggregate is a typed, optional number.
  const stats: Stats = result.stats;
  const key: MetricKey = "time_to_first_token-p50";
  const ttft: number | undefined = stats[key];
  const rpm: number | null = stats.requests_per_minute;
  const summary: Summary = result.summary;
  const info: RunInfo = result.info;
  const clock: ClockKind | null = info.clock;
  const first = result.responses[0];
  const firstTtft: number | null | undefined = first?.time_to_first_token;
  const clients: number | null = result.runConfig.clients;
  const files: Record<string, string> = result.toFiles();
  const again = await Result.fromFiles(files, { yieldEvery: 500 });
  const figures: Record<string, Figure> = await again.figures();

  const lt = await new LoadTest({ endpoint, payload: endpoint.createPayload("hi", 8), sequenceOfClients: [1, 2, 4], minRequestsPerClient: 2, onResponse: (r) => seen.push(r), onProgress: (p) => console.log(p.fraction, p.run.inFlight) }).run({ signal: AbortSignal.timeout(60_000) });
  const level = lt.results.get(2);
  const back = await LoadTestResult.fromFiles(lt.toFiles());
  const hm = await new LatencyHeatmap({ endpoint, sourceText: "a b c d e", inputLengths: [2], outputLengths: [4], requestsPerCombination: 2 }).run();
  const cell: InvocationResponse[] | undefined = hm.cells()[0]?.[0];

  const tokenizer = await Tokenizer.fromJSON("{}", "custom");
  const counted = await new Runner({ endpoint, tokenizer }).run({ payload: [{ messages: [] }, { messages: [] }], nRequests: 1 });

  const store = await ResultStore.open({ name: "runs" });
  const stored = await runner.run({ payload: {}, store, testName: "sweep" });
  const runs: StoredRun[] = await store.list({ limit: 10 });
  const listed: number | undefined = runs[0]?.stats?.["time_to_first_token-p90"];
  const allStats: Stats | null = await store.stats(runs[0]?.id ?? "");
  const zip: Uint8Array = await toZip(result, { folder: "run" });
  const folder = await fromZip(zip);
  const loaded: Result = await resultFromFolder(folder);
  await upload(loaded, { presign: async (k, contentType) => `https://example.com/${k}?ct=${contentType}`, prefix: "team/" });

  return (ttft ?? 0) + (rpm ?? 0) + (summary.total_requests ?? 0) + (clock === "fine" ? 1 : 0) + (firstTtft ?? 0) + (clients ?? 0)
    + Object.keys(figures).length + kind.length + (level?.stats.failed_requests ?? 0) + back.clients.length + (cell?.length ?? 0)
    + counted.stats.total_output_tokens + stored.responses.length + (listed ?? 0) + (allStats?.total_requests ?? 0) + seen.length + tagged.responses.length;
}

// Explicit control over each wasm: a compiled module (workerd), bytes (the base64 entries).
export async function explicitLoading(): Promise<void> {
  initSync(coreWasm);
  await init(coreBytes);
  await initTokenizers(tokenizerWasm);
  await initStore(storeBytes);
  await init(new URL("https://cdn.example.com/llmeter_wasm_bg.wasm"));
}
