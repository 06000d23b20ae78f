// The packed tarball in Next.js (App Router, Turbopack, `output: "standalone"`): a client
// component measuring from the browser and a route handler measuring from the server. The
// standalone server runs from a copy, with the project folder (and its node_modules) deleted,
// so it can only use what the build emitted.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startSim } from "../js/sim.js";
import { launchChromium } from "../js/browser.js";
import { stageApp, execFileAsync, filesUnder, assertNoBuildPath, recordSizes, sizeRow, initialJs, htmlScripts, wasmRows, runPage, assertMeasured, startServerProcess, SIM_ARGS } from "./harness.js";

const ENV = { NEXT_TELEMETRY_DISABLED: "1" };

let sim, browser;
before(async () => {
  sim = await startSim(SIM_ARGS);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await sim?.stop();
});

/** `node server.js` in `dir` (Next's standalone server); resolves once it answers. */
const startStandalone = (dir) =>
  startServerProcess(process.execPath, () => ["server.js"], { cwd: dir, env: (port) => ({ ...ENV, PORT: String(port), HOSTNAME: "127.0.0.1" }), probePath: "/favicon.ico" });

// Turbopack is the default bundler of `next build`; `--webpack` is the other one Next ships.
for (const bundler of ["turbopack", "webpack"]) {
  test(`Next.js (${bundler}): client component and route handler, built standalone and run from a copy without the project's node_modules`, { timeout: 300_000 }, async () => {
    const app = await stageApp("next", { measureDir: "app" });
    let runDir, sizes;
    try {
      await execFileAsync(path.join(app.dir, "node_modules/.bin/next"), ["build", ...(bundler === "webpack" ? ["--webpack"] : [])], { cwd: app.dir, env: ENV });
      const dotNext = path.join(app.dir, ".next");
      const standalone = path.join(dotNext, "standalone");
      // Next itself names the project's files by absolute path (its config in server.js, the
      // client-reference manifests of webpack's server chunks), so what is checked here is the
      // package: no path into the build machine's node_modules, no file: URL of it.
      const output = [
        ...filesUnder(standalone).map((f) => path.join(standalone, f)),
        ...filesUnder(path.join(dotNext, "static")).map((f) => path.join(dotNext, "static", f)),
      ];
      assertNoBuildPath(output, app.dir, [path.join(app.dir, "node_modules/llmeter-wasm"), `file://${app.dir}`]);
      sizes = await nextSizes(dotNext);

      runDir = mkdtempSync(path.join(os.tmpdir(), `llmeter-pkg-next-${bundler}-run-`));
      cpSync(standalone, runDir, { recursive: true });
      cpSync(path.join(dotNext, "static"), path.join(runDir, ".next/static"), { recursive: true });
    } finally {
      app.remove(); // the project, its node_modules and the original build are gone from here on
    }

    const server = await startStandalone(runDir);
    try {
      await sim.clear();
      const response = await fetch(`${server.origin}/api/run?${new URLSearchParams({ baseUrl: sim.base })}`);
      const fromServer = await response.json();
      assert.equal(response.status, 200, `${fromServer.error}\n${fromServer.stack}\n${server.output()}`);
      assertMeasured(fromServer, await sim.requests(), /^node \d+/);
      assert.equal(fromServer.tokens, 3, "tokenizer.js counted with its wasm on the server");

      await sim.clear();
      const run = await runPage(browser, `${server.origin}/?${new URLSearchParams({ baseUrl: sim.base })}`);
      assert.equal(run.result.error, undefined, `${run.result.error}\n${run.errors.join("\n")}`);
      assert.deepEqual(run.failures, [], "every request the page made succeeded");
      const wasm = run.requests.filter((u) => u.endsWith(".wasm")).map((u) => new URL(u).pathname);
      assert.equal(wasm.length, 1, wasm.join(" "));
      assert.match(wasm[0], /^\/_next\/static\/media\/llmeter_wasm_bg\.[\w-]+\.wasm$/);
      assertMeasured(run.result.page, await sim.requests(), /HeadlessChrome\/\d+/);
      // The page loaded the core's wasm only; the fleet's is emitted for Result.merge.
      for (const r of sizes.wasm) if (r.where === "client") r.loaded = wasm[0] === `/_next/${r.file}`;
      recordSizes(`next-${bundler}`, sizes);
    } finally {
      await server.stop();
      rmSync(runDir, { recursive: true, force: true });
    }
  });
}

/**
 * The page's initial JS (the scripts of its prerendered HTML, as the browser loads them), every
 * wasm module the client and the standalone server carry (files, or copies inlined as base64
 * in server chunks; none inlined in a client chunk), and the chunks that hold the package's code.
 */
async function nextSizes(dotNext) {
  const files = filesUnder(dotNext, { skip: ["node_modules", "cache"] });
  const text = (f) => readFileSync(path.join(dotNext, f), "latin1");
  const marker = "engine, which is not loaded"; // a string of the package's engines.js (every endpoint reaches it)
  const clientChunk = files.find((f) => f.startsWith("static/chunks/") && f.endsWith(".js") && text(f).includes(marker));
  const serverChunks = files.filter((f) => f.startsWith("standalone/.next/server/") && f.endsWith(".js") && text(f).includes(marker));
  assert.ok(clientChunk && serverChunks.length, "the package's code is in a client and a server chunk");
  const html = text("standalone/.next/server/app/index.html");
  const scripts = htmlScripts(html).map((s) => ({ ...s, file: s.file.replace(/^\/_next\//, "") }));
  assert.ok(scripts.length > 0 && scripts.every((s) => s.file.startsWith("static/")), html);
  const page = await initialJs("page", dotNext, scripts);
  assert.ok(page.files.includes(clientChunk), "the package's chunk is part of the page's initial JS");
  const client = wasmRows(dotNext, files.filter((f) => f.startsWith("static/")), { where: "client" });
  assert.ok(client.every((r) => r.how === "file"), "no wasm inlined in a client chunk");
  const server = wasmRows(dotNext, files.filter((f) => f.startsWith("standalone/")), { where: "server" });
  return {
    initial: [page],
    wasm: [...client, ...server],
    other: [sizeRow("client chunk with the package", dotNext, clientChunk), ...serverChunks.map((f) => sizeRow("server chunk with the package", dotNext, f))],
  };
}
