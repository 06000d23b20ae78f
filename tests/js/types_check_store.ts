// tsc --noEmit: the store module's declarations type a realistic use.
import { OpenAIEndpoint, Runner, Result } from "../../pkg/index.js";
import { ResultStore, toZip, fromZip, fromFileList, resultFromFolder, upload, UploadError, type StoredRun, type ImportedFolder } from "../../pkg/store.js";

async function storeUse(files: File[]): Promise<number> {
  const store = await ResultStore.open({ name: "db", batchSize: 50 });
  const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: "http://127.0.0.1:8000/v1", model: "m" }) });
  const result: Result = await runner.run({ nRequests: 2, payload: { messages: [] }, store, testName: "lt" });
  const runs: StoredRun[] = await store.list({ group: "lt", limit: 10 });
  const loaded: Result = await store.load(runs[0].id);
  await store.rename(runs[0].id, "x");
  await store.delete(runs[0].id);
  const zip: Uint8Array = await toZip(result, { folder: "run" });
  const back: ImportedFolder = await fromZip(zip);
  const picked: ImportedFolder = await fromFileList(files);
  const again: Result = await resultFromFolder(back);
  try {
    await upload(loaded, { presign: async (key: string, type: string) => `https://s3/${key}?t=${type}`, prefix: "p/", concurrency: 2, onProgress: (p) => console.log(p.done, p.total) });
  } catch (e) {
    if (e instanceof UploadError) await upload(loaded, { urls: {}, resume: e.state });
  }
  // @ts-expect-error level must be a number
  await toZip(result, { level: "high" });
  return picked.runs.length + again.responses.length;
}
void storeUse;
