// The packed tarball in browser bundles: Vite (page + module worker), webpack 5 (page) and
// esbuild (module worker). Each app is built as a user would build it, served from its output
// folder alone, and run in headless Chromium against llm-sim: a real measurement, every .wasm
// fetched from the bundle's own assets, no build-machine path in the output.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { readFileSync } from "node:fs";
import { startSim } from "../js/sim.js";
import { startStatic, launchChromium } from "../js/browser.js";
import { stageApp, execFileAsync, filesUnder, assertNoBuildPath, recordSizes, initialJs, htmlScripts, wasmRows, runPage, assertMeasured, startServerProcess, withDeadline, SIM_ARGS } from "./harness.js";

// Each test is bounded on its own: one that hangs fails alone, with the step it hung at, and the
// file's other bundlers still run.
const LIMIT_MS = 180_000;
const BOUND = { timeout: LIMIT_MS + 30_000 };

let sim, browser;
before(async () => {
  sim = await startSim(SIM_ARGS);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await sim?.stop();
});

/** Serves `root` only, opens `page`, and checks what every bundle must get right. */
async function runBuiltApp(root, page, wasmFiles) {
  await sim.clear();
  const site = await startStatic(root);
  try {
    const run = await runPage(browser, `${site.origin}/${page}?${new URLSearchParams({ baseUrl: sim.base })}`);
    assert.equal(run.result.error, undefined, `${run.result.error}\n${run.errors.join("\n")}`);
    assert.deepEqual(run.failures, [], "every request the app made succeeded");
    const fetched = run.requests.filter((u) => u.endsWith(".wasm")).map((u) => new URL(u).pathname.slice(1));
    assert.deepEqual(fetched.sort(), [...wasmFiles].sort(), "each .wasm came from the bundle's output");
    return run.result;
  } finally {
    await site.close();
  }
}

const wasmOf = (files, name) => files.filter((f) => f.endsWith(".wasm") && path.basename(f).startsWith(name));
/** The page's initial JS: the scripts of its HTML and their static imports. */
const pageJs = (root, page) => initialJs("page", root, htmlScripts(readFileSync(path.join(root, page), "utf8")));
const modules = (rows) => rows.map((r) => `${r.module} ${r.how}`).sort();

test("Vite: page and module worker, no configuration; lazily loaded store.js and tokenizer.js get their own .wasm assets", BOUND, async () => {
  const app = await stageApp("vite");
  try {
    await execFileAsync(path.join(app.dir, "node_modules/.bin/vite"), ["build", "--logLevel", "warn"], { cwd: app.dir });
    const dist = path.join(app.dir, "dist");
    const files = filesUnder(dist);
    assertNoBuildPath(files.map((f) => path.join(dist, f)), app.dir);
    const [core] = wasmOf(files, "llmeter_wasm_bg"), [store] = wasmOf(files, "llmeter_store_bg"), [tok] = wasmOf(files, "llmeter_tokenizers_bg");
    assert.ok(core && store && tok, files.join(" "));

    const result = await runBuiltApp(dist, "index.html", [core, store, core, tok]);
    const truth = await sim.requests();
    assertMeasured(result.page, truth, /HeadlessChrome\/\d+/);
    assertMeasured(result.worker, truth, /HeadlessChrome\/\d+.*\(worker\)/);
    assert.ok(result.page.zipBytes > 1000, "store.js zipped the run");
    assert.equal(result.worker.tokens, 3, "tokenizer.js counted with its wasm");

    // Every module the package can load on demand gets its asset (the fleet's for Result.merge,
    // not loaded here); none is inlined in a browser chunk.
    const wasm = wasmRows(dist, files, { loaded: (r) => [core, store, tok].includes(r.file) });
    assert.deepEqual(modules(wasm), ["llmeter_fleet file", "llmeter_store file", "llmeter_tokenizers file", "llmeter_wasm file"]);
    const worker = files.find((f) => /^assets\/worker-.*\.js$/.test(f));
    recordSizes("vite", { initial: [await pageJs(dist, "index.html"), await initialJs("worker", dist, [{ file: worker, module: true }])], wasm });
  } finally {
    app.remove();
  }
});

test("Vite dev server: the same app unbuilt; the package's .wasm files are served from node_modules", BOUND, async () => {
  const app = await stageApp("vite");
  let vite;
  try {
    await withDeadline(LIMIT_MS, async (step) => {
      step("starting vite");
      vite = await startServerProcess(path.join(app.dir, "node_modules/.bin/vite"), (port) => ["--port", String(port), "--strictPort", "--host", "127.0.0.1", "--logLevel", "warn"], { cwd: app.dir, probePath: "/index.html" });
      const url = `${vite.origin}/index.html?${new URLSearchParams({ baseUrl: sim.base })}`;
      // The first visit makes Vite discover and pre-bundle the package (and reload the page once
      // it finds tokenizer.js in the worker): Vite's own start-up, not measured.
      step("first visit (Vite pre-bundles)");
      await runPage(browser, url).catch(() => {});
      await sim.clear();
      step("measured visit");
      const run = await runPage(browser, url);
      assert.equal(run.result.error, undefined, `${run.result.error}\n${run.errors.join("\n")}\n${vite.output()}`);
      assert.deepEqual(run.failures, [], "every request the app made succeeded");
      const truth = await sim.requests();
      assertMeasured(run.result.page, truth, /HeadlessChrome\/\d+/);
      assertMeasured(run.result.worker, truth, /HeadlessChrome\/\d+.*\(worker\)/);
      const wasm = run.requests.filter((u) => u.endsWith(".wasm")).map((u) => new URL(u).pathname);
      assert.deepEqual([...new Set(wasm)].sort(), ["llmeter_store_bg.wasm", "llmeter_tokenizers_bg.wasm", "llmeter_wasm_bg.wasm"].map((f) => `/node_modules/llmeter-wasm/${f}`));
    }, () => vite?.output() ?? "");
  } finally {
    await vite?.stop();
    app.remove();
  }
});

test("webpack 5: page with no .wasm loader or plugin; store.js, tokenizer.js and report.js as chunks", BOUND, async () => {
  const app = await stageApp("webpack");
  try {
    const { default: webpack } = await import(path.join(app.dir, "node_modules/webpack/lib/index.js"));
    const { default: config } = await import(path.join(app.dir, "webpack.config.js"));
    const stats = await new Promise((resolve, reject) => webpack(config, (err, s) => (err ? reject(err) : resolve(s))));
    assert.ok(!stats.hasErrors(), stats.toString("errors-only"));
    const dist = path.join(app.dir, "dist");
    const files = filesUnder(dist);
    assertNoBuildPath(files.map((f) => path.join(dist, f)), app.dir);
    // One asset per module (named by webpack's hash: told apart by content): core, store,
    // tokenizers, and the fleet's (emitted for Result.merge, never fetched here); none inlined.
    const wasm = wasmRows(dist, files, { loaded: (r) => r.module !== "llmeter_fleet" });
    assert.deepEqual(modules(wasm), ["llmeter_fleet file", "llmeter_store file", "llmeter_tokenizers file", "llmeter_wasm file"], files.join(" "));

    // No unbundled copy of a package module (webpack emits one for each `new URL("./x.js",
    // import.meta.url)` it does not bundle; its imports would not resolve there).
    const unbundled = files.filter((f) => f.endsWith(".js") && /\bfrom\s*["']\.{1,2}\/[\w./-]+\.js["']/.test(readFileSync(path.join(dist, f), "utf8")));
    assert.deepEqual(unbundled, [], "files that still import the package's modules");

    const result = await runBuiltApp(app.dir, "index.html", wasm.filter((r) => r.loaded).map((r) => `dist/${r.file}`));
    assertMeasured(result.page, await sim.requests(), /HeadlessChrome\/\d+/);
    assert.ok(result.page.zipBytes > 1000, "store.js zipped the run");
    assert.equal(result.page.tokens, 3, "tokenizer.js counted with its wasm");
    assert.ok(result.page.figures.includes("time_to_first_token_histogram"), "report.js made the figures");

    recordSizes("webpack", { initial: [await pageJs(app.dir, "index.html")], wasm });
  } finally {
    app.remove();
  }
});

test("esbuild: module worker with chunks in a sub-folder; the core .wasm by the `file` loader, the store's inlined (base64)", BOUND, async () => {
  const app = await stageApp("esbuild");
  try {
    await execFileAsync(process.execPath, ["build.mjs"], { cwd: app.dir });
    const dist = path.join(app.dir, "dist");
    const files = filesUnder(dist);
    assertNoBuildPath(files.map((f) => path.join(dist, f)), app.dir);
    const wasm = files.filter((f) => f.endsWith(".wasm"));
    assert.equal(wasm.length, 1, `only the core .wasm is a file: ${files.join(" ")}`);

    const result = await runBuiltApp(app.dir, "index.html", [`dist/${wasm[0]}`]);
    assertMeasured(result.worker, await sim.requests(), /HeadlessChrome\/\d+.*\(worker\)/);
    assert.ok(result.worker.zipBytes > 1000, "store.js zipped the run with the inlined wasm");

    // The worker's initial JS: its entry and the chunks it imports statically (loaded before it
    // runs); the shared helper must find what esbuild's own metafile says it imports.
    const worker = await initialJs("worker", dist, [{ file: "worker.js", module: true }]);
    const { outputs } = JSON.parse(readFileSync(path.join(app.dir, "meta.json"), "utf8"));
    const closure = new Set(["dist/worker.js"]);
    for (const out of closure) for (const i of outputs[out].imports) if (i.kind === "import-statement") closure.add(i.path);
    assert.deepEqual([...worker.files].sort(), [...closure].map((f) => path.relative("dist", f)).sort());
    const rows = wasmRows(dist, files, { loaded: () => true });
    assert.deepEqual(modules(rows), ["llmeter_store inlined base64", "llmeter_wasm file"]);
    assert.match(rows.find((r) => r.module === "llmeter_store").file, /^chunks\/llmeter_store_bg\.wasm\.base64-.*\.js$/);
    recordSizes("esbuild", { initial: [worker], wasm: rows });
  } finally {
    app.remove();
  }
});
