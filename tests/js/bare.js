// The floor: the same streamed chat requests with nothing but the platform's fetch and a
// stream reader — what any JavaScript benchmark has to pay. Runs in Node and in pages.
// TTFT is stamped at the first read whose bytes contain non-empty `delta.content` (the
// engine's definition); `id` is the simulator's request id for its ground truth.

/**
 * @param {{base: string, clients: number, perClient: number, maxTokens: number, headers?: Record<string, string>}} o
 * @returns {Promise<{seconds: number, samples: {id: string|null, ttft: number, ttlt: number}[]}>}
 */
export async function bareLoop({ base, clients, perClient, maxTokens, headers = {} }) {
  const url = `${base}/chat/completions`;
  const body = JSON.stringify({ model: "sim-model", messages: [{ role: "user", content: "benchmark me" }], max_tokens: maxTokens, stream: true, stream_options: { include_usage: true } });
  const init = { method: "POST", headers: { "content-type": "application/json", authorization: "Bearer bare", ...headers }, body };
  const dec = new TextDecoder();
  const samples = [];
  const client = async () => {
    for (let i = 0; i < perClient; i++) {
      const t0 = performance.now();
      const res = await fetch(url, init);
      const reader = res.body.getReader();
      let first = null, last = null, id = null;
      for (;;) {
        const { done, value } = await reader.read();
        const t = performance.now();
        if (done) break;
        const text = dec.decode(value, { stream: true });
        if (id === null) id = /"id":"chatcmpl-([^"]+)"/.exec(text)?.[1] ?? null;
        if (/"content":"[^"]/.test(text)) {
          first ??= t;
          last = t;
        }
      }
      samples.push({ id, ttft: first - t0, ttlt: last - t0 });
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: clients }, client));
  return { seconds: (performance.now() - start) / 1000, samples };
}

/** Median of the client-minus-server TTFT and TTLT errors (ms) for samples or responses. */
export async function groundTruthErrors(sim, items) {
  const recs = new Map((await sim.requests()).map((r) => [r.id, r]));
  const ttft = [], ttlt = [];
  for (const it of items) {
    const rec = recs.get(it.id);
    if (!rec) throw new Error(`no ground truth for ${it.id}`);
    ttft.push(it.ttft - (rec.first_token_sent_us - rec.received_us) / 1000);
    ttlt.push(it.ttlt - (rec.last_token_sent_us - rec.received_us) / 1000);
  }
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
  return { ttft: median(ttft), ttlt: median(ttlt), n: ttft.length };
}

/** Engine responses as `{id, ttft, ttlt}` in ms, with the simulator's id. */
export function engineSamples(responses) {
  return responses.map((r) => ({ id: r.id.replace(/^chatcmpl-/, ""), ttft: r.time_to_first_token * 1000, ttlt: r.time_to_last_token * 1000 }));
}
