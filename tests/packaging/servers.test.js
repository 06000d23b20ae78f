// The packed tarball on servers: plain Node ESM from node_modules, Deno fetching it by an
// `npm:` specifier (from a local registry that serves the tarball), and workerd running a
// worker bundled the way wrangler bundles one. Each runs a real measurement against llm-sim.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import os from "node:os";
import path from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import { startSim } from "../js/sim.js";
import { DENO_BIN, DENO_ENV, startWorkerd } from "../js/runtimes.js";
import { stageApp, execFileAsync, filesUnder, assertNoBuildPath, recordSizes, initialJs, wasmFileRow, wasmRows, assertMeasured, SIM_ARGS, TARBALL, PKG } from "./harness.js";

let sim;
before(async () => { sim = await startSim(SIM_ARGS); });
after(async () => { await sim?.stop(); });

test("Node: plain ESM import of the installed package (and its package.json export); store.js and tokenizer.js load their wasm", async () => {
  const app = await stageApp("node");
  try {
    await sim.clear();
    const out = JSON.parse(await execFileAsync(process.execPath, ["run.mjs", sim.base], { cwd: app.dir }));
    assertMeasured(out, await sim.requests(), /^node \d+/);
    assert.ok(out.zipBytes > 1000, "store.js zipped the run");
    assert.equal(out.tokens, 3, "tokenizer.js counted with its wasm");
    assert.equal(out.version, JSON.parse(readFileSync(path.join(app.dir, "node_modules/llmeter-wasm/package.json"), "utf8")).version);
    const installed = path.join(app.dir, "node_modules/llmeter-wasm");
    recordSizes("node", {
      initial: [await initialJs("package modules run.mjs imports", installed, ["index.js", "store.js", "tokenizer.js"].map((file) => ({ file, module: true })))],
      wasm: ["llmeter_wasm_bg.wasm", "llmeter_store_bg.wasm", "llmeter_tokenizers_bg.wasm"].map((f) => wasmFileRow(installed, f, { loaded: true })),
    });
  } finally {
    app.remove();
  }
});

test("Node, bundled into one file by esbuild (platform node) and run without node_modules: the inlined .wasm copies load", async () => {
  const app = await stageApp("node");
  try {
    await execFileAsync(process.execPath, ["bundle.mjs"], { cwd: app.dir });
    rmSync(path.join(app.dir, "node_modules"), { recursive: true, force: true });
    const dist = path.join(app.dir, "dist");
    assert.deepEqual(filesUnder(dist), ["run.mjs"], "no .wasm beside the bundle");
    assertNoBuildPath([path.join(dist, "run.mjs")], app.dir);
    await sim.clear();
    const out = JSON.parse(await execFileAsync(process.execPath, [path.join(dist, "run.mjs"), sim.base], { cwd: dist }));
    assertMeasured(out, await sim.requests(), /^node \d+/);
    assert.ok(out.zipBytes > 1000, "store.js zipped the run");
    assert.equal(out.tokens, 3, "tokenizer.js counted with its wasm");
    // Every module the package can load in Node is inlined (one bundle, no chunks), the
    // fleet's too (Result.merge), which this app never loads.
    const wasm = wasmRows(dist, ["run.mjs"], { loaded: (r) => r.module !== "llmeter_fleet" });
    assert.deepEqual(wasm.map((r) => r.module).sort(), ["llmeter_fleet", "llmeter_store", "llmeter_tokenizers", "llmeter_wasm"]);
    recordSizes("node-esbuild", { initial: [await initialJs("bundle", dist, [{ file: "run.mjs", module: true }])], wasm });
  } finally {
    app.remove();
  }
});

/**
 * A minimal npm registry with one package: the tarball `npm pack` made, under its version.
 * Enough for Deno (and npm) to resolve `npm:llmeter-wasm@<version>` and check its integrity.
 */
async function startRegistry() {
  const tarball = readFileSync(TARBALL);
  const manifest = JSON.parse(readFileSync(path.join(PKG, "package.json"), "utf8")); // the tarball's package.json
  const server = createServer((req, res) => {
    const { port } = server.address();
    const file = path.basename(TARBALL);
    if (req.url === "/llmeter-wasm") {
      const version = {
        ...manifest,
        dist: {
          tarball: `http://127.0.0.1:${port}/llmeter-wasm/-/${file}`,
          shasum: createHash("sha1").update(tarball).digest("hex"),
          integrity: `sha512-${createHash("sha512").update(tarball).digest("base64")}`,
        },
      };
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(JSON.stringify({ name: manifest.name, "dist-tags": { latest: manifest.version }, versions: { [manifest.version]: version } }));
    }
    if (req.url === `/llmeter-wasm/-/${file}`) {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      return res.end(tarball);
    }
    res.writeHead(404).end();
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((r) => server.close(r)) };
}

// No deno.lock is committed with apps/deno: the lock Deno writes pins the integrity of the
// tarball packed from this tree (it changes with every change to the package) and the tarball's
// URL on this test's registry, whose port is picked per run (Deno records the URL for any
// registry but npmjs.org, and downloads from it): a committed lock would fail every run. So
// the test checks the lock Deno writes instead: it pins the tarball's integrity, and a fresh
// `deno install --frozen` from it (a user's CI with a committed lock) succeeds.
test("Deno: `npm:llmeter-wasm` fetched from a registry into Deno's own cache (no node_modules); the tokenizer's wasm loads too; the deno.lock it writes pins the tarball and installs frozen", async () => {
  const registry = await startRegistry();
  const denoDir = mkdtempSync(path.join(os.tmpdir(), "llmeter-pkg-deno-cache-"));
  const frozenDir = mkdtempSync(path.join(os.tmpdir(), "llmeter-pkg-deno-frozen-"));
  const app = await stageApp("deno");
  try {
    rmSync(path.join(app.dir, "node_modules"), { recursive: true, force: true }); // Deno reads npm: packages from its cache
    rmSync(path.join(app.dir, "package.json"));
    await sim.clear();
    const stdout = await execFileAsync(DENO_BIN, ["run", "--allow-net=127.0.0.1", `--allow-read=${denoDir}`, "run.js", sim.base], {
      cwd: app.dir,
      env: { ...DENO_ENV, DENO_DIR: denoDir, NPM_CONFIG_REGISTRY: registry.url },
    });
    const out = JSON.parse(stdout);
    assertMeasured(out, await sim.requests(), /^deno \d+/);
    assert.equal(out.tokens, 3, "tokenizer.js counted with its wasm");
    const cached = filesUnder(denoDir).filter((f) => f.endsWith("llmeter_wasm_bg.wasm"));
    assert.equal(cached.length, 1, `Deno unpacked the tarball into its cache: ${cached}`);
    const pkgDir = path.join(denoDir, path.dirname(cached[0]));
    recordSizes("deno", {
      initial: [await initialJs("package modules run.js imports", pkgDir, ["index.js", "tokenizer.js"].map((file) => ({ file, module: true })))],
      wasm: ["llmeter_wasm_bg.wasm", "llmeter_tokenizers_bg.wasm"].map((f) => wasmFileRow(pkgDir, f, { loaded: true })),
    });

    const { version } = JSON.parse(readFileSync(path.join(PKG, "package.json"), "utf8"));
    const lock = JSON.parse(readFileSync(path.join(app.dir, "deno.lock"), "utf8"));
    assert.equal(lock.npm?.[`llmeter-wasm@${version}`]?.integrity, `sha512-${createHash("sha512").update(readFileSync(TARBALL)).digest("base64")}`, JSON.stringify(lock));
    // A cache of its own: with the package cached, Deno would not check the lock against it.
    await execFileAsync(DENO_BIN, ["install", "--frozen", "--entrypoint", "run.js"], { cwd: app.dir, env: { ...DENO_ENV, DENO_DIR: frozenDir, NPM_CONFIG_REGISTRY: registry.url } });
  } finally {
    app.remove();
    rmSync(denoDir, { recursive: true, force: true });
    rmSync(frozenDir, { recursive: true, force: true });
    await registry.close();
  }
});

test("workerd: a worker bundled with esbuild as wrangler does (workerd conditions, .wasm imports as modules), initSync at the top level", async () => {
  const app = await stageApp("workerd");
  let workerd;
  try {
    await execFileAsync(process.execPath, ["build.mjs"], { cwd: app.dir });
    const dist = path.join(app.dir, "dist");
    const files = filesUnder(dist);
    assert.deepEqual(files, ["llmeter_store_bg.wasm", "llmeter_wasm_bg.wasm", "worker.js"]);
    assertNoBuildPath(files.map((f) => path.join(dist, f)), app.dir);
    workerd = await startWorkerd(path.join(app.dir, "config.capnp"));
    await sim.clear();
    const response = await fetch(`${workerd.origin}/?${new URLSearchParams({ baseUrl: sim.base })}`);
    const out = await response.json();
    assert.equal(response.status, 200, out.error);
    assertMeasured(out, await sim.requests(), /^workerd/);
    assert.ok(out.zipBytes > 1000, "store.js zipped the run");
    const wasm = wasmRows(dist, files, { loaded: () => true });
    assert.deepEqual(wasm.map((r) => `${r.module} ${r.how}`).sort(), ["llmeter_store file", "llmeter_wasm file"], "the wasm modules are files, none inlined");
    recordSizes("workerd", { initial: [await initialJs("worker bundle", dist, [{ file: "worker.js", module: true }])], wasm });
  } finally {
    await workerd?.stop();
    app.remove();
  }
});
