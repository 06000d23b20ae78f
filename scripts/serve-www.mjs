// Serves the built playground (www/dist) on http://127.0.0.1:PORT and prints the URL.
// `--sim` also starts llm-sim and prints a link that opens the page configured for it.
// Usage: node scripts/serve-www.mjs [--port 8080] [--sim]
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../www/dist");
const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".wasm": "application/wasm", ".json": "application/json", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png" };

/** @param {number} port 0 = any free port */
export async function serveWww(port = 0, host = "127.0.0.1") {
  const server = createServer(async (req, res) => {
    let rel = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    if (rel.endsWith("/")) rel += "index.html";
    const file = path.join(ROOT, rel);
    if (!file.startsWith(ROOT)) return res.writeHead(403).end();
    try {
      if (!(await stat(file)).isFile()) throw new Error("not a file");
      res.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream", "cache-control": "no-cache" });
      res.end(await readFile(file));
    } catch {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    }
  });
  await new Promise((r) => server.listen(port, host, r));
  const addr = /** @type {import("node:net").AddressInfo} */ (server.address());
  return { origin: `http://${host}:${addr.port}`, close: () => new Promise((r) => server.close(r)) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const port = Number(args[args.indexOf("--port") + 1] || 0) || 8080;
  const site = await serveWww(port);
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
