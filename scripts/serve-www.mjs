// Serves the built playground (www/dist) on http://127.0.0.1:PORT and prints the URL, with the
// headers the playground is meant to have (see www/README.md, "Hosting"):
// - its Content-Security-Policy (the one in index.html's <meta>, plus `frame-ancestors 'none'`,
//   which browsers ignore in a <meta>);
// - cross-origin isolation (COOP `same-origin` + COEP `require-corp`), which gives the engine a
//   finer clock (performance.now() in 5–20 µs steps instead of 100 µs–1 ms).
// `--sim` also starts llm-sim and prints a link that opens the page configured for it;
// `--no-isolation` leaves out COOP/COEP (to compare the clock, or to try the service-worker fallback).
// Usage: node scripts/serve-www.mjs [--port 8080] [--sim] [--no-isolation]
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../www/dist");
const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".wasm": "application/wasm", ".json": "application/json", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png", ".txt": "text/plain; charset=utf-8" };

/**
 * The playground's security headers, derived from the one place its policy is written: the
 * Content-Security-Policy <meta> of `index.html` (which static hosts without headers still get).
 * @param {string} indexHtml
 * @param {{ isolate?: boolean }} [options]
 * @returns {Record<string, string>}
 */
export function securityHeaders(indexHtml, { isolate = true } = {}) {
  const meta = indexHtml.match(/<meta http-equiv="Content-Security-Policy" content="([^"]+)">/);
  if (!meta) throw new Error("www index.html has no Content-Security-Policy <meta>");
  const headers = {
    "content-security-policy": `${meta[1]}; frame-ancestors 'none'`,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  };
  if (isolate) {
    headers["cross-origin-opener-policy"] = "same-origin";
    headers["cross-origin-embedder-policy"] = "require-corp";
    // Same-origin resources only; a page elsewhere cannot embed ours under its own COEP.
    headers["cross-origin-resource-policy"] = "same-origin";
  }
  return headers;
}

/**
 * @param {number} port 0 = any free port
 * @param {string} host
 * @param {{ isolate?: boolean, root?: string }} [options] `isolate: false` leaves out COOP/COEP;
 *   `root`: serve another built copy (tests).
 */
export async function serveWww(port = 0, host = "127.0.0.1", options = {}) {
  const root = options.root ?? ROOT;
  const headers = securityHeaders(readFileSync(path.join(root, "index.html"), "utf8"), options);
  const { "cross-origin-embedder-policy": _coep, ...withoutCoep } = headers;
  const server = createServer(async (req, res) => {
    let rel;
    try {
      rel = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    } catch {
      return res.writeHead(400).end();
    }
    if (rel.endsWith("/")) rel += "index.html";
    const file = path.join(root, rel);
    if (!file.startsWith(root + path.sep)) return res.writeHead(403).end();
    try {
      if (!(await stat(file)).isFile()) throw new Error("not a file");
      // sw.js runs the CORS probe (a no-cors request), which COEP would block: it gets no COEP.
      const own = rel === "/sw.js" ? withoutCoep : headers;
      res.writeHead(200, { ...own, "content-type": TYPES[path.extname(file)] ?? "application/octet-stream", "cache-control": "no-cache" });
      res.end(await readFile(file));
    } catch {
      res.writeHead(404, { ...headers, "content-type": "text/plain" }).end("not found");
    }
  });
  await new Promise((r) => server.listen(port, host, r));
  const addr = /** @type {import("node:net").AddressInfo} */ (server.address());
  return { origin: `http://${host}:${addr.port}`, headers, close: () => new Promise((r) => server.close(r)) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const port = Number(args[args.indexOf("--port") + 1] || 0) || 8080;
  const site = await serveWww(port, "127.0.0.1", { isolate: !args.includes("--no-isolation") });
  console.log(`llmeter playground: ${site.origin}/`);
  if (args.includes("--sim")) {
    const { startSim } = await import("../tests/js/sim.js");
    const { encodeShare } = await import("../www/src/share.js");
    const sim = await startSim(["--ttft-ms", "normal:120,30", "--itl-ms", "normal:12,3"]);
    const config = { baseUrl: sim.base, model: "llm-sim", clients: 4, mode: "requests", amount: 5 };
    console.log(`llm-sim at ${sim.base}; open the page configured for it:\n  ${site.origin}/#${encodeShare(config)}`);
    process.on("SIGINT", async () => { await sim.stop(); process.exit(0); });
  }
  console.log("Ctrl-C to stop.");
}
