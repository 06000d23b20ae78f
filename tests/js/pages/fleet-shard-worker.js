// A fleet participant in a dedicated module worker (tests/js/fleet.e2e.test.js): runs the shard
// it is told to, uploads it to the presigned URLs it is given, answers with what it ran.
import { OpenAIEndpoint } from "/pkg/index.js";
import { runShard } from "/pkg/fleet.js";

self.onmessage = async ({ data }) => {
  try {
    const { result, upload } = await runShard({ plan: data.planUrl, shardId: data.shardId, endpoint: new OpenAIEndpoint({ baseUrl: data.base, model: "sim-model" }), upload: data.upload });
    self.postMessage({ ok: true, requests: result.summary.total_requests, runtime: result.shard.runtime, offset: result.info.clock_offset, uploaded: upload.uploaded.length, start: result.summary.start_time });
  } catch (e) {
    self.postMessage({ ok: false, error: `${e.name}: ${e.message}` });
  }
};
