// Compiled with `tsc --noEmit` by the test suite: the generated declarations must type a
// realistic use of the API, and reject wrong option types.
import { OpenAIEndpoint, CustomEndpoint, Runner, Result, init, type Progress } from "../../pkg/index.js";
import { Tokenizer } from "../../pkg/tokenizer.js";

async function typed(): Promise<number> {
  await init();
  const endpoint = new OpenAIEndpoint({ baseUrl: "http://127.0.0.1:8000/v1", model: "m", apiKey: "k", headers: { "x-a": "b" } });
  const tokenizer: Tokenizer = await Tokenizer.fromJSON("{}", "custom");
  const ids: Uint32Array = tokenizer.encode("hello");
  const count: number = tokenizer.countTokens("hello") + ids.length;
  const runner = new Runner({ endpoint, timeout: 10, tokenizer });
  const controller = new AbortController();
  const result: Result = await runner.run({
    clients: 2,
    nRequests: 3,
    payload: endpoint.createPayload("hi", 16),
    signal: controller.signal,
    onProgress: (p: Progress) => console.log(p.completed + p.failed),
  });
  const files: Record<string, string> = result.toFiles();
  const again = await Result.fromFiles(files);
  const warnings: string[] = again.info.warnings;
  const clock: "fine" | "coarsened" | "frozen-between-io" | null = result.info.clock;
  // Runtime limits (workerd): a subrequest budget, and what the invocation already sent.
  await runner.run({ clients: 2, nRequests: 3, payload: {}, subrequestLimit: 1000, subrequestsSent: 6 });
  // @ts-expect-error subrequestLimit is a number
  await runner.run({ payload: {}, subrequestLimit: "50" });
  // @ts-expect-error clients must be a number
  await runner.run({ clients: "2", payload: {} });
  // @ts-expect-error baseUrl is required
  new OpenAIEndpoint({ model: "m" });
  // A custom endpoint: an event-stream reading function, or the declarative form.
  new CustomEndpoint({
    url: "http://127.0.0.1:8000/model/m/converse-stream",
    framing: "event-stream",
    read: (e) => (e.type === "event" && e.eventType === "contentBlockDelta" ? { text: JSON.parse(e.data).delta.text } : undefined),
  });
  new CustomEndpoint({
    url: "http://127.0.0.1:8000/v1/generate",
    payloadTemplate: { prompt: "{{prompt}}", max_new_tokens: "{{maxTokens}}" },
    read: { text: { event: "token", path: "text" }, outputTokens: "generated_tokens", done: { event: "end" } },
  });
  // @ts-expect-error read paths need text
  new CustomEndpoint({ url: "http://x", read: { id: "id" } });
  // @ts-expect-error a path is a string or {event, path}
  new CustomEndpoint({ url: "http://x", read: { text: 1 } });
  return count + warnings.length + (clock === "fine" ? 1 : 0) + (result.stats["time_to_first_token-p50"] as number);
}
void typed;
