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

/**
 * An SSE splitter as JavaScript clients write it (WHATWG rules): lines end in CRLF, LF or CR,
 * possibly split across chunks; `data:` lines (one optional space after the colon) join with
 * "\n"; a blank line dispatches the event; comments and other fields are skipped.
 * @param {(data: string) => void} onData called with each event's data
 * @returns {(text: string) => void} feed decoded text, chunk by chunk
 */
export function sseSplitter(onData) {
  let buf = "", data = null, cr = -1;
  const line = (l) => {
    if (l === "") {
      if (data !== null) onData(data);
      data = null;
      return;
    }
    const colon = l.indexOf(":");
    if (colon === 0) return;
    const field = colon < 0 ? l : l.slice(0, colon);
    if (field !== "data") return;
    let value = colon < 0 ? "" : l.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    data = data === null ? value : `${data}\n${value}`;
  };
  return (text) => {
    buf += text;
    let pos = 0;
    cr = buf.indexOf("\r");
    for (;;) {
      if (cr !== -1 && cr < pos) cr = buf.indexOf("\r", pos);
      const lf = buf.indexOf("\n", pos);
      let end, next;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        if (cr === buf.length - 1) break; // a CR at the end may be half of a CRLF: wait
        end = cr;
        next = buf.charCodeAt(cr + 1) === 10 ? cr + 2 : cr + 1;
      } else if (lf !== -1) {
        end = lf;
        next = lf + 1;
      } else break;
      line(buf.slice(pos, end));
      pos = next;
    }
    buf = pos === 0 ? buf : buf.slice(pos);
  };
}

/**
 * The plain JavaScript client: the same requests with the work a JavaScript tool does — fetch,
 * a streaming TextDecoder per response, SSE split across chunk boundaries, `JSON.parse` of every
 * event, TTFT at the read that completes the first event with non-empty `delta.content`, usage
 * read from the last chunk. Each read is stamped before it is decoded.
 * @param {{base: string, clients: number, perClient: number, maxTokens: number, headers?: Record<string, string>}} o
 * @returns {Promise<{seconds: number, samples: {id: string, ttft: number, ttlt: number, out: number}[]}>}
 */
/**
 * The plain client's HTTP exchange over Node's own client (`node:http`, kept-alive connections):
 * the reference for the engine's default transport in Node. Resolves to a reader with fetch's
 * `read()` shape. Node only (looked up at call time: this module also runs in browsers).
 */
let httpAgent;
function httpExchange(url, init) {
  const http = globalThis.process.getBuiltinModule("node:http");
  httpAgent ??= new http.Agent({ keepAlive: true, maxSockets: Infinity });
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method, headers: { ...init.headers, "content-length": Buffer.byteLength(init.body) }, agent: httpAgent }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`plain client (node:http): HTTP ${res.statusCode}`));
      // fetch's reader over the response's 'data' events.
      const queue = [];
      let waiting = null, ended = false;
      res.on("data", (c) => (waiting ? (waiting({ done: false, value: c }), (waiting = null)) : queue.push(c)));
      res.on("end", () => { ended = true; if (waiting) { waiting({ done: true }); waiting = null; } });
      res.on("error", reject);
      resolve({ read: () => new Promise((r) => (queue.length ? r({ done: false, value: queue.shift() }) : ended ? r({ done: true }) : (waiting = r))) });
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

export async function plainLoop({ base, clients, perClient, maxTokens, headers = {}, via = "fetch" }) {
  const url = `${base}/chat/completions`;
  const body = JSON.stringify({ model: "sim-model", messages: [{ role: "user", content: "benchmark me" }], max_tokens: maxTokens, stream: true, stream_options: { include_usage: true } });
  const init = { method: "POST", headers: { "content-type": "application/json", authorization: "Bearer plain", ...headers }, body };
  const samples = [];
  const client = async () => {
    for (let i = 0; i < perClient; i++) {
      const t0 = performance.now();
      let reader;
      if (via === "node:http") {
        reader = await httpExchange(url, init);
      } else {
        const res = await fetch(url, init);
        if (!res.ok) throw new Error(`plain client: HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
        reader = res.body.getReader();
      }
      const dec = new TextDecoder();
      let t = 0, first = null, last = null, id = null, usage = null, contentEvents = 0, done = false;
      const feed = sseSplitter((data) => {
        if (data === "[DONE]") {
          done = true;
          return;
        }
        const chunk = JSON.parse(data);
        id ??= chunk.id;
        if (chunk.usage) usage = chunk.usage;
        const content = chunk.choices?.[0]?.delta?.content;
        if (content) {
          first ??= t;
          last = t;
          contentEvents++;
        }
      });
      for (;;) {
        const r = await reader.read();
        t = performance.now();
        if (r.done) break;
        feed(dec.decode(r.value, { stream: true }));
      }
      feed(dec.decode());
      // Every run checks the split: one content event per generated token, usage, [DONE].
      if (!done || !usage || usage.completion_tokens !== contentEvents) {
        throw new Error(`plain client: ${contentEvents} content events, usage ${JSON.stringify(usage)}, [DONE] ${done}`);
      }
      samples.push({ id: String(id).replace(/^chatcmpl-/, ""), ttft: first - t0, ttlt: last - t0, out: usage.completion_tokens });
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
