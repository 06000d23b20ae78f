// @ts-check
/**
 * The engine's requests in Node through `node:http` / `node:https` instead of the global
 * `fetch`. Node's `fetch` (undici over web streams) costs 2–3× the CPU per request of its own
 * HTTP client and leaves ~130 KB of garbage per request, whose scavenges delay sends and
 * arrivals by milliseconds: the load generator would measure itself. The pump calls this the
 * same way it calls `fetch` and stamps the same moments (head, each chunk, end). Behaviour kept
 * from `fetch`: redirects are followed (up to 20; credentials dropped across origins), gzip /
 * deflate / br bodies are decoded, and failures have fetch's shape (`TypeError: fetch failed`
 * with the socket error as cause; `terminated` inside the body), so errors read the same.
 * Deno and Bun keep their native `fetch`; `transport: "fetch"` on a run chooses it in Node too.
 * @internal
 */

/**
 * @typedef {Object} NodeExchange
 * @property {(status: number, header: (name: string) => string | null, at: number) => void} head
 * @property {(bytes: Uint8Array, at: number) => void} chunk
 * @property {(at: number) => void} end
 * @property {(error: unknown, inBody: boolean) => void} fail
 */

/** @typedef {{ send(url: string, method: string, headers: [string, string][], body: string | Uint8Array | undefined, x: NodeExchange): () => void }} NodeHttpClient */

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 20;
/** Headers that never follow a redirect to another origin (as fetch). */
const CREDENTIALS = new Set(["authorization", "cookie", "proxy-authorization"]);

/** @param {string} message @param {unknown} cause */
const typeError = (message, cause) => Object.assign(new TypeError(message), { cause });

/**
 * The client, or null outside Node (or a Node without `process.getBuiltinModule`, < 20.16).
 * @returns {NodeHttpClient | null}
 */
export function nodeHttpClient() {
  const g = /** @type {any} */ (globalThis);
  const proc = g.process;
  // Deno, Bun and workerd (with nodejs_compat) have a `process` too, and their own fetch.
  if (!proc?.versions?.node || g.Deno !== undefined || g.Bun !== undefined || g.navigator?.userAgent === "Cloudflare-Workers") return null;
  if (typeof proc.getBuiltinModule !== "function") return null;
  const http = proc.getBuiltinModule("node:http");
  const https = proc.getBuiltinModule("node:https");
  const zlib = proc.getBuiltinModule("node:zlib");
  if (!http || !https || !zlib) return null;
  // Kept-alive connections, as many as the run opens (fetch's pool has no per-host cap either).
  // Idle sockets are unref'd by the agent: they keep no process alive.
  const agents = {
    "http:": new http.Agent({ keepAlive: true, maxSockets: Infinity }),
    "https:": new https.Agent({ keepAlive: true, maxSockets: Infinity }),
  };
  /** @param {string} encoding */
  const decoder = (encoding) => {
    switch (encoding.trim().toLowerCase()) {
      case "gzip": case "x-gzip": return zlib.createGunzip({ flush: zlib.constants.Z_SYNC_FLUSH, finishFlush: zlib.constants.Z_SYNC_FLUSH });
      case "deflate": return zlib.createInflate({ flush: zlib.constants.Z_SYNC_FLUSH, finishFlush: zlib.constants.Z_SYNC_FLUSH });
      case "br": return zlib.createBrotliDecompress({ flush: zlib.constants.BROTLI_OPERATION_FLUSH, finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH });
      default: return null;
    }
  };

  const { Buffer } = proc.getBuiltinModule("node:buffer");
  // Consecutive requests usually send the same body (the engine passes the same string).
  /** @type {string | Uint8Array | undefined} */ let lastBody;
  let lastLength = 0;
  /** @param {string | Uint8Array} body */
  const byteLength = (body) => {
    if (body !== lastBody) {
      lastBody = body;
      lastLength = typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
    }
    return lastLength;
  };

  // The engine passes the same headers array for requests that share it: converted once.
  /** @type {[string, string][] | undefined} */ let lastHeaders;
  /** @type {Record<string, string>} */ let lastFields = {};
  /** @param {[string, string][]} headers */
  const fieldsOf = (headers) => {
    if (headers !== lastHeaders) {
      lastHeaders = headers;
      lastFields = {};
      for (const [k, v] of headers) {
        const name = k.toLowerCase();
        lastFields[name] = name in lastFields ? `${lastFields[name]}, ${v}` : v;
      }
    }
    return lastFields;
  };

  /** @type {NodeHttpClient["send"]} */
  function send(url, method, headers, body, x) {
    let settled = false;
    /** @type {any} */ let req = null;
    /** @type {any} */ let res = null;
    /** @param {unknown} e @param {boolean} inBody */
    const fail = (e, inBody) => {
      if (settled) return;
      settled = true;
      res?.destroy();
      req?.destroy();
      x.fail(e, inBody);
    };

    /** @param {string} target @param {string} verb @param {Record<string, string>} fields @param {string | Uint8Array | undefined} payload @param {number} hops */
    const request = (target, verb, fields, payload, hops) => {
      let u;
      try {
        u = new URL(target);
      } catch (e) {
        return fail(typeError("fetch failed", e), false);
      }
      const agent = agents[/** @type {"http:" | "https:"} */ (u.protocol)];
      if (!agent) return fail(typeError("fetch failed", new Error(`unknown scheme ${u.protocol}`)), false);
      const lib = u.protocol === "https:" ? https : http;
      const all = payload === undefined ? fields : { ...fields, "content-length": String(byteLength(payload)) };
      try {
        req = lib.request(u, { method: verb, headers: all, agent });
      } catch (e) {
        // An invalid header name or value: fetch throws a TypeError at the call, too.
        return fail(e instanceof TypeError ? e : typeError("fetch failed", e), false);
      }
      req.on("error", (/** @type {unknown} */ e) => fail(typeError(res ? "terminated" : "fetch failed", e), res !== null));
      req.on("response", (/** @type {any} */ r) => {
        const at = performance.now();
        if (settled) return r.destroy();
        const status = r.statusCode ?? 0;
        const location = r.headers.location;
        if (REDIRECTS.has(status) && typeof location === "string") {
          r.resume();
          if (hops >= MAX_REDIRECTS) return fail(typeError("fetch failed", new Error("redirect count exceeded")), false);
          const next = new URL(location, u);
          /** @type {Record<string, string>} */
          const kept = {};
          for (const [k, v] of Object.entries(fields)) if (next.origin === u.origin || !CREDENTIALS.has(k)) kept[k] = v;
          // 303, and 301/302 after a POST, become a GET without a body (the Fetch standard).
          const toGet = status === 303 ? verb !== "HEAD" : (status === 301 || status === 302) && verb === "POST";
          if (toGet) for (const k of Object.keys(kept)) if (k.startsWith("content-")) delete kept[k];
          return request(next.href, toGet ? "GET" : verb, kept, toGet ? undefined : payload, hops + 1);
        }
        res = r;
        x.head(status, (name) => {
          const v = r.headers[name];
          return v === undefined ? null : Array.isArray(v) ? v.join(", ") : String(v);
        }, at);
        const encoding = r.headers["content-encoding"];
        const decode = typeof encoding === "string" && method !== "HEAD" ? decoder(encoding) : null;
        const stream = decode ? r.pipe(decode) : r;
        if (decode) decode.on("error", (/** @type {unknown} */ e) => fail(typeError("terminated", e), true));
        stream.on("data", (/** @type {Uint8Array} */ c) => { if (!settled) x.chunk(c, performance.now()); });
        stream.on("end", () => {
          if (settled) return;
          settled = true;
          x.end(performance.now());
        });
        r.on("error", (/** @type {unknown} */ e) => fail(typeError("terminated", e), true));
        // A socket that closes before the body's end: 'close' without 'end'.
        r.on("close", () => { if (!r.complete) fail(typeError("terminated", new Error("other side closed")), true); });
      });
      req.end(payload);
    };

    request(url, method, fieldsOf(headers), body, 0);
    return () => {
      settled = true;
      res?.destroy();
      req?.destroy();
    };
  }

  return { send };
}
