// A Cloudflare Worker (workerd) that benchmarks an OpenAI-compatible endpoint from the edge.
//   GET /?baseUrl=https://api.example.com/v1&model=m&clients=2&nRequests=4 → the result as JSON
// workerd: import the .wasm as a module and initialise synchronously, once, at the top level.
import { initSync, OpenAIEndpoint, Runner, LoadTest, LatencyHeatmap } from "llmeter-wasm";
import wasm from "llmeter-wasm/llmeter_wasm_bg.wasm";

initSync(wasm);

export default {
  async fetch(request, env) {
    const q = new URL(request.url).searchParams;
    const endpoint = new OpenAIEndpoint({ baseUrl: q.get("baseUrl") ?? env.BASE_URL, model: q.get("model") ?? env.MODEL, apiKey: env.API_KEY });
    const runner = new Runner({ endpoint });
    const clients = Number(q.get("clients") ?? 2);
    // Cloudflare's Free plan allows 50 subrequests per invocation (the default in workerd); on
    // Paid, pass ?subrequestLimit=10000. Runs over the limit throw a RangeError up front.
    const subrequestLimit = q.has("subrequestLimit") ? Number(q.get("subrequestLimit")) : undefined;
    try {
      // Warm-up, not measured: connection setup and JIT. It counts against the subrequest limit.
      const warm = await runner.run({ clients, nRequests: 2, payload: endpoint.createPayload("warm-up", 4), subrequestLimit });
      const result = await runner.run({
        clients,
        nRequests: Number(q.get("nRequests") ?? 4),
        payload: endpoint.createPayload("Tell me about edge runtimes.", 16),
        subrequestLimit,
        subrequestsSent: warm.responses.length,
      });
      // LLMeter's LoadTest: one run per number of clients (?levels=1,2). The whole test must fit
      // in what is left of the subrequest budget, or it throws before its first level.
      const loadTest = await new LoadTest({
        endpoint,
        payload: endpoint.createPayload("Tell me about edge runtimes.", 16),
        sequenceOfClients: (q.get("levels") ?? "1,2").split(",").map(Number),
        minRequestsPerClient: 2,
        minRequestsPerRun: 2,
        subrequestLimit,
        subrequestsSent: warm.responses.length + result.responses.length,
      }).run();
      const levels = Object.fromEntries([...loadTest.results].map(([c, r]) => [c, { requests: r.stats.total_requests, failed: r.stats.failed_requests, ttftP50: r.stats["time_to_first_token-p50"] }]));
      // LatencyHeatmap: each (input length × output length) cell gets exactly its requests.
      const heatmap = await new LatencyHeatmap({ endpoint, sourceText: "The quick brown fox jumps over the lazy dog. ".repeat(20), clients: 2, inputLengths: [5, 20], outputLengths: [4, 8], requestsPerCombination: 1, subrequestLimit, subrequestsSent: warm.responses.length + result.responses.length + [...loadTest.results.values()].reduce((n, r) => n + r.responses.length, 0) }).run();
      const cells = heatmap.cells().map((row) => row.map((responses) => responses.length));
      return Response.json({ ...result.toJSON(), loadTest: { testName: loadTest.testName, levels }, heatmap: { cells, failed: heatmap.result.stats.failed_requests } });
    } catch (e) {
      return Response.json({ error: `${e.name}: ${e.message}` }, { status: e instanceof RangeError || e instanceof TypeError ? 400 : 500 });
    }
  },
};
