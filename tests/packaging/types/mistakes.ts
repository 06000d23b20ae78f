// Deliberate mistakes a user could make: each line marked `// expect TS…` must fail to compile
// with that error, and no other line may fail (types.test.js runs tsc -p tsconfig.mistakes.json
// and compares). Compiled under strict, exactOptionalPropertyTypes, noUncheckedIndexedAccess.
import { initSync, Endpoint, OpenAIEndpoint, Runner, Result, LoadTest, LatencyHeatmap } from "llmeter-wasm";
import { Tokenizer } from "llmeter-wasm/tokenizer.js";
import { ResultStore } from "llmeter-wasm/store.js";
// The package's internals that hold an endpoint's secrets are in no declaration.
import { endpointConfig } from "llmeter-wasm"; // expect TS2305
import { awsOptions } from "llmeter-wasm/aws.js"; // expect TS2305

export async function mistakes(store: ResultStore): Promise<void> {
  const endpoint = new OpenAIEndpoint({ baseUrl: "http://127.0.0.1:8000/v1", model: "m" });
  const runner = new Runner({ endpoint });
  const payload = endpoint.createPayload("hi", 8);
  const result = await runner.run({ payload, clients: 2 });

  // Stats keys are the metric names × aggregates: a typo is no number.
  const typo: number = result.stats["time_to_first_tokn-p50"]; // expect TS2551
  // A metric's aggregates are absent when it has no values (all requests failed).
  const unchecked: number = result.stats["time_to_first_token-p50"]; // expect TS2322
  // An aggregate LLMeter does not compute.
  const p95 = result.stats["time_to_first_token-p95"]; // expect TS2551
  // Summary, responses and run info are interfaces, not records.
  const total = result.summary.total_request; // expect TS2551
  const first = result.responses[0].time_to_first_token; // expect TS2532
  const ttfts = result.responses.map((r) => r.time_to_first_tokens); // expect TS2551
  if (result.info.clock === "frozen") console.log("frozen"); // expect TS2367
  const clients: number = result.runConfig.clients; // expect TS2322

  // Options: no catch-all record, so misspelt keys and wrong types are caught.
  await runner.run({ payload, client: 2 }); // expect TS2561
  await runner.run({ payload, onResponse: (r) => console.log(r.eror) }); // expect TS2551
  new LoadTest({ endpoint, payload, sequenceOfClients: [1, 2], minRequestPerClient: 2 }); // expect TS2561
  new LoadTest({ endpoint, payload, sequenceOfClients: [1, 2], onResponse: 42 }); // expect TS2322
  new LatencyHeatmap({ endpoint, sourceText: "a b c", inputLength: [8] }); // expect TS2561

  // kind is a literal: comparing with a kind this endpoint cannot have is an error.
  if (endpoint.kind === "opneai") console.log("never"); // expect TS2367

  // Nothing internal: the config with the API key, the wasm handles, the constructors.
  const secret = endpoint._config(); // expect TS2339
  new Result({}); // expect TS2673
  new Tokenizer(); // expect TS2673
  new ResultStore(); // expect TS2673
  // Endpoints come from their classes: the base class takes (kind, settings, secrets), not public.
  new Endpoint(); // expect TS2674

  // Callbacks get LLMeter's run_config.json and the payload, typed.
  await runner.run({ payload, callbacks: [{ beforeRun: (config) => console.log(config.run_nam) }] }); // expect TS2551
  await runner.run({ payload, callbacks: [{ beforeInvoke: (p) => { p.max_tokens += 1; } }] }); // expect TS18046
  // A store's recorder: the run's options, and a sink of typed responses and timings.
  await store.recorder({ endpoint: endpoint.toJSON(), options: { payload, client: 2 } }); // expect TS2561
  const recorder = await store.recorder({ endpoint: endpoint.toJSON(), options: { payload } });
  recorder.onResponse(result.responses[0]!, { ttft: 0.1 }); // expect TS2353

  // The stats kept in a store's listing are the headline ones only.
  const listed = (await store.list())[0]?.stats?.["time_to_last_token-p99"]; // expect TS2551

  // A URL is for init(); initSync takes bytes or a compiled module.
  initSync("llmeter_wasm_bg.wasm"); // expect TS2345

  console.log(typo, unchecked, p95, total, first, ttfts, clients, secret, listed, endpointConfig, awsOptions);
}
