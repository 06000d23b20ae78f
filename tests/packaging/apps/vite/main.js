// Vite, no configuration: `init()` finds the .wasm Vite emitted; the lazily loaded store.js and
// tokenizer.js become their own chunks with their own .wasm assets.
import { init } from "llmeter-wasm";
import { measure } from "./measure.js";

const baseUrl = new URLSearchParams(location.search).get("baseUrl");

async function inPage() {
  await init();
  const { result, json } = await measure(baseUrl);
  const { toZip } = await import("llmeter-wasm/store.js");
  const zip = await toZip(result, { folder: "vite-page" });
  return { ...json, zipBytes: zip.length };
}

function inWorker() {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
    worker.onmessage = ({ data }) => (data.error ? reject(new Error(data.error)) : resolve(data));
    worker.onerror = (e) => reject(new Error(`worker: ${e.message}`));
    worker.postMessage({ baseUrl });
  });
}

try {
  const page = await inPage();
  const worker = await inWorker();
  window.__result = { page, worker };
} catch (e) {
  window.__result = { error: `${e.name}: ${e.message}` };
}
