// Compiled with `tsc --noEmit` by the test suite: the load models, callbacks and loading APIs
// type a realistic use (and reject a few mistakes).
import {
  OpenAIEndpoint, Runner, Result, LoadTest, LoadTestResult,
  CostModel, InputTokens, OutputTokens, EndpointTime, MlflowCallback, CacheBuster,
} from "../../pkg/index.js";

async function typedLoadModels(): Promise<number> {
  const endpoint = new OpenAIEndpoint({ baseUrl: "http://127.0.0.1:8000/v1", model: "m" });
  const recorder = {
    beforeRun(config: Record<string, any>) { config.run_description = "x"; },
    async afterInvoke(r: { annotations?: { [key: string]: unknown } }) { r.annotations = { ...r.annotations, seen: true }; },
    afterRun(result: Result) { result.contributeStats({ mine: 1 }); },
  };
  const runner = new Runner({ endpoint, outputPath: "out", callbacks: [new CacheBuster(), new CostModel({ requestDims: [new InputTokens(3), new OutputTokens(15, 2)], runDims: { endpoint: new EndpointTime(36) } }), recorder] });
  const r = await runner.run({
    rate: 10, arrival: "poisson", maxConcurrency: 8, nRequests: 100, payload: { messages: [] },
    warmup: { seconds: 2 }, cooldown: 3, slo: { ttft: 0.5, tpot: 0.05 }, maxScheduleLag: 0.02,
    onStart: (config) => console.log(config.run_name),
    callbacks: [new MlflowCallback({ trackingUri: "http://127.0.0.1:5000", runId: "abc", step: 1 })],
  });
  const lag: number | undefined = r.stats["schedule_lag-p99"];
  const goodput: number | null | undefined = r.stats.goodput;
  const cost: number | undefined = r.stats.cost_total;
  const sent: number | undefined = r.timings[0].sent_at;
  const phase: unknown = r.excluded[0]?.annotations?.load_phase;
  const rate: number | undefined = r.info.load?.rate;
  const loaded = await Result.load("out/run", { loadResponses: false });
  const lt = await new LoadTest({ endpoint, payload: {}, sequenceOfRates: [1, 2.5], sweep: undefined, outputPath: "out" }).run();
  const sweep = await new LoadTest({ endpoint, payload: {}, sweep: { size: 6, throughputClients: 16 }, runDuration: 10 }).run();
  const back: LoadTestResult = await LoadTestResult.load("out/x", { testName: "x", loadResponses: false });
  const fromFiles = await LoadTestResult.fromFiles(lt.toFiles(), { loadResponses: false });
  // @ts-expect-error arrival is "constant" or "poisson"
  await runner.run({ rate: 1, arrival: "bursty", payload: {} });
  // @ts-expect-error prices are numbers
  new InputTokens("3");
  return (lag ?? 0) + (goodput ?? 0) + (cost ?? 0) + (sent ?? 0) + (rate ?? 0) + String(phase).length + loaded.responses.length
    + lt.offeredRates.length + sweep.clients.length + back.rates.size + fromFiles.results.size;
}
void typedLoadModels;
