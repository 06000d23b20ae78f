// @ts-check
/**
 * llmeter-wasm/store.js — results that survive: a `ResultStore` on IndexedDB written during the
 * run, LLMeter-folder export/import as `.zip` or picked folders, and upload through presigned URLs.
 *
 * A separate module with its own small wasm file (`llmeter_store_bg.wasm`: zip, folder layout,
 * upload state machine, batching and schema rules), loaded on first use, so the core package
 * does not grow. One file per concern under `store/`: `zip.js`, `upload.js`, `result-store.js`
 * (IndexedDB), `recorder.js` (saving a run while it runs).
 *
 * ```js
 * import { Runner, OpenAIEndpoint } from "llmeter-wasm";
 * import { ResultStore, toZip, upload } from "llmeter-wasm/store.js";
 * const store = await ResultStore.open();
 * const result = await runner.run({ payload, clients: 4, nRequests: 10, store });
 * const runs = await store.list();               // newest first, with summaries
 * const zip = await toZip(result.toFiles(), { folder: "my-run" });
 * await upload(result, { presign: async (key, contentType) => myBackend.sign(key, contentType), prefix: "runs/a/" });
 * ```
 */
export { initStore, initStoreSync } from "./store/init.js";
export { toZip, fromZip, fromFileList, resultFromFolder } from "./store/zip.js";
export { upload, UploadError } from "./store/upload.js";
export { ResultStore } from "./store/result-store.js";
export { StoreError } from "./store/idb.js";
export { RunRecorder } from "./store/recorder.js";

/** @typedef {import("./store/files.js").Files} Files */
/** @typedef {import("./store/zip.js").ImportedFolder} ImportedFolder */
/** @typedef {import("./store/upload.js").UploadOptions} UploadOptions */
/** @typedef {import("./store/upload.js").UploadProgress} UploadProgress */
/** @typedef {import("./store/upload.js").UploadState} UploadState */
/** @typedef {import("./store/idb.js").StoredRun} StoredRun */
/** @typedef {import("./store/recorder.js").RunStart} RunStart */
