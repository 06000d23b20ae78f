// A Cloudflare Worker, bundled by esbuild the way wrangler does it (conditions workerd, worker,
// browser; .wasm imports kept as modules): GET /?baseUrl=… → the measurement as JSON.
// workerd gives modules no URL: import each .wasm as a module and initialise synchronously.
import { initSync } from "llmeter-wasm";
import wasm from "llmeter-wasm/llmeter_wasm_bg.wasm";
import { initStoreSync, toZip } from "llmeter-wasm/store.js";
import storeWasm from "llmeter-wasm/llmeter_store_bg.wasm";
import { measure } from "./measure.js";

initSync(wasm);
initStoreSync(storeWasm);

export default {
  async fetch(request) {
    try {
      const { result, json } = await measure(new URL(request.url).searchParams.get("baseUrl"));
      const zip = await toZip(result, { folder: "workerd" });
      return Response.json({ ...json, zipBytes: zip.length });
    } catch (e) {
      return Response.json({ error: `${e.name}: ${e.message}` }, { status: 500 });
    }
  },
};
