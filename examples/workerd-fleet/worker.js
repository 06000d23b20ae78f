// A Cloudflare Worker (workerd) that runs one shard of a fleet per invocation and uploads it:
//   POST / {plan, shardId, upload: {prefix, urls: {key: presigned PUT URL}}, baseUrl?, model?}
//   → {shardId, requests, failed, uploaded, clockOffset}
// The driver (driver.mjs, or `fanOut` from llmeter-wasm/fleet.js) presigns each invocation's
// files: an invocation holds no storage credentials. The endpoint's key comes from the
// worker's secret API_KEY. workerd: every .wasm is imported as a module, initialised once.
import { initSync, OpenAIEndpoint } from "llmeter-wasm";
import { initStoreSync } from "llmeter-wasm/store.js";
import { initFleetSync, runShard } from "llmeter-wasm/fleet.js";
import wasm from "llmeter-wasm/llmeter_wasm_bg.wasm";
import storeWasm from "llmeter-wasm/llmeter_store_bg.wasm";
import fleetWasm from "llmeter-wasm/llmeter_fleet_bg.wasm";

initSync(wasm);
initStoreSync(storeWasm);
initFleetSync(fleetWasm);

// One shard at a time per isolate. The engine's event loop (its timer, its task queue) belongs
// to the isolate, while workerd ties every timer and promise to the request that made it: two
// runs interleaved in one isolate would wake each other from the wrong request and hang. A
// second invocation reaching a busy isolate is answered 503; the driver retries it (on the real
// platform, often in another isolate).
let busy = false;

export default {
  async fetch(request, env) {
    if (request.method !== "POST") return new Response("POST a shard: {plan, shardId, upload}", { status: 405 });
    if (busy) return Response.json({ error: "busy: this isolate is running a shard; retry" }, { status: 503, headers: { "retry-after": "1" } });
    busy = true;
    try {
      const { plan, shardId, upload, baseUrl, model } = await request.json();
      const endpoint = new OpenAIEndpoint({ baseUrl: baseUrl ?? env.BASE_URL, model: model ?? env.MODEL, apiKey: env.API_KEY });
      // Free plan: 50 subrequests per invocation (the engine's default in workerd); the plan's
      // download and the upload's PUTs are counted in, and a shard that would not fit fails
      // before its first request. On Paid, set SUBREQUEST_LIMIT (e.g. 10000).
      const subrequestLimit = env.SUBREQUEST_LIMIT ? Number(env.SUBREQUEST_LIMIT) : undefined;
      const { result, upload: uploaded } = await runShard({ plan, shardId, endpoint, upload, runOptions: { subrequestLimit } });
      return Response.json({ shardId, requests: result.summary.total_requests, failed: result.stats.failed_requests, uploaded: uploaded?.uploaded.length ?? 0, clockOffset: result.info.clock_offset ?? null });
    } catch (e) {
      return Response.json({ error: `${e.name}: ${e.message}` }, { status: e instanceof RangeError || e instanceof TypeError ? 400 : 500 });
    } finally {
      busy = false;
    }
  },
};
