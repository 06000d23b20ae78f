// What the endpoint-family suites share (Node and the browser page): the made-up generation
// API's reader for CustomEndpoint, as a user writes one, and mapping response ids to llm-sim's
// ground-truth records.

/**
 * The `read` of a CustomEndpoint for llm-sim's made-up `/v1/generate` API (SSE, or JSON lines
 * with a `type` key, or a whole body).
 * @param {any} e
 */
export function readGenerate(e) {
  if (e.type === "bytes") return { text: new TextDecoder().decode(e.bytes) };
  const d = JSON.parse(e.data);
  if (e.type === "body") return { id: d.id, text: d.text, usage: { input: d.prompt_tokens, output: d.generated_tokens, outputReasoning: d.reasoning_tokens } };
  switch (e.type === "sse" ? e.event : d.type) {
    case "start":
      return { id: d.id };
    case "think":
      return { reasoning: d.text };
    case "token":
      return { text: d.text };
    case "stats":
      return { usage: { input: d.prompt_tokens, output: d.generated_tokens, outputReasoning: d.reasoning_tokens } };
    case "end":
      return { done: true };
    case "fail":
      return { error: d.reason };
  }
}

/** The same reading as read paths (CustomEndpoint's declarative form; the playground's defaults). */
export const GENERATE_READ = {
  text: { event: "token", path: "text" },
  reasoning: { event: "think", path: "text" },
  id: "id",
  inputTokens: "prompt_tokens",
  outputTokens: "generated_tokens",
  error: "reason",
  done: { event: "end" },
};
/** The made-up API's payload as a template (`payloadTemplate`). */
export const GENERATE_TEMPLATE = { prompt: "{{prompt}}", max_new_tokens: "{{maxTokens}}", stream: true };

/** A payload of the made-up API. @param {string | string[]} message @param {number} maxTokens */
export function generatePayload(message, maxTokens, extra = {}) {
  return { prompt: Array.isArray(message) ? message.join("\n") : message, max_new_tokens: maxTokens, stream: true, ...extra };
}

/** llm-sim's request id of a response id of any family. @param {string} id */
export const simId = (id) => id.replace(/^(chatcmpl-|resp_|msg_|gen-)/, "");

/** Median. @param {number[]} xs */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Client-minus-server TTFT and TTLT (ms, medians) of engine responses against the records,
 * and the records by response.
 * @param {any[]} responses
 * @param {any[]} records
 */
export function truthErrors(responses, records) {
  const byId = new Map(records.map((r) => [r.id, r]));
  const ttft = [], ttlt = [];
  for (const r of responses) {
    const rec = byId.get(simId(r.id));
    if (!rec) throw new Error(`no ground truth for ${r.id}`);
    ttft.push(r.time_to_first_token * 1000 - (rec.first_token_sent_us - rec.received_us) / 1000);
    ttlt.push(r.time_to_last_token * 1000 - (rec.last_token_sent_us - rec.received_us) / 1000);
  }
  return { ttft: median(ttft), ttlt: median(ttlt), minTtft: Math.min(...ttft), minTtlt: Math.min(...ttlt) };
}
