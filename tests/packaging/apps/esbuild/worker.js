// A module worker bundled by esbuild.
import { init } from "llmeter-wasm";
import wasmUrl from "llmeter-wasm/llmeter_wasm_bg.wasm"; // esbuild `file` loader: the emitted file's URL
import { measure } from "./measure.js";

self.onmessage = async ({ data }) => {
  try {
    await init(wasmUrl);
    const { result, json } = await measure(data.baseUrl);
    const [{ initStore, toZip }, { default: storeWasm }] = await Promise.all([
      import("llmeter-wasm/store.js"),
      import("llmeter-wasm/llmeter_store_bg.wasm.base64.js"),
    ]);
    await initStore(storeWasm);
    const zip = await toZip(result, { folder: "esbuild-worker" });
    self.postMessage({ ...json, zipBytes: zip.length });
  } catch (e) {
    self.postMessage({ error: `${e.name}: ${e.message}` });
  }
};
