// Shared by the packaging tests: where things are, staging an app the way a user's project
// looks (its files, `measure.js`, and node_modules with the installed tarball), checks on the
// built output (no build-machine path, sizes) and on the measurement it ran against llm-sim.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { freePort, stopProcess, hasExited, within } from "../js/process.js";

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, "../..");
export const PKG = path.join(ROOT, "pkg");
export const OUT = path.join(ROOT, "out/packaging");
const { version } = JSON.parse(readFileSync(path.join(ROOT, "js/package.json"), "utf8"));
export const TARBALL = path.join(OUT, `llmeter-wasm-${version}.tgz`);
export const BIN = path.join(HERE, "node_modules/.bin");

/** Fails early, with what to run, when prepare.mjs has not installed the tarball. */
export function requireInstalled() {
  const installed = path.join(HERE, "node_modules/llmeter-wasm/package.json");
  if (!existsSync(installed)) throw new Error("llmeter-wasm is not installed in tests/packaging/node_modules: run `bash tests/packaging/run.sh` (or `node tests/packaging/prepare.mjs` after `bash scripts/build.sh`)");
}

/**
 * Copies apps/<name> (and apps/shared/measure.js into `measureDir`) into a fresh folder under
 * out/packaging/apps/ with the test project's package.json and a hard-linked copy of its
 * node_modules, so the app builds as in a user's project, and its path (random) is easy to spot
 * in output.
 * @returns {Promise<{ dir: string, remove: () => void }>}
 */
export async function stageApp(name, { measureDir = "." } = {}) {
  requireInstalled();
  mkdirSync(path.join(OUT, "apps"), { recursive: true });
  const dir = mkdtempSync(path.join(OUT, "apps", `${name}-`));
  cpSync(path.join(HERE, "apps", name), dir, { recursive: true });
  mkdirSync(path.join(dir, measureDir), { recursive: true });
  cpSync(path.join(HERE, "apps/shared/measure.js"), path.join(dir, measureDir, "measure.js"));
  cpSync(path.join(HERE, "package.json"), path.join(dir, "package.json"));
  // Hard links: instant, and the staged tree can be deleted without touching the original.
  // (A copy where hard links are not possible.)
  const from = path.join(HERE, "node_modules"), to = path.join(dir, "node_modules");
  await execFileAsync("cp", ["-al", from, to]).catch(async () => {
    rmSync(to, { recursive: true, force: true });
    await execFileAsync("cp", ["-a", from, to]);
  });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs a command; resolves with stdout, rejects with its output on failure. */
export function execFileAsync(cmd, args, { cwd, env = {}, timeoutMs = 300_000 } = {}) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${cmd} ${args.join(" ")} failed (${error.code ?? error.signal}):\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/**
 * Starts a server the test needs (Vite's dev server, Next's standalone `server.js`) on a free
 * port and resolves once `http://127.0.0.1:<port><probePath>` answers. Every wait is bounded: a
 * server that exits, or does not answer within `startMs`, fails with its output; `stop()` sends
 * SIGTERM and SIGKILL 5 s later if it has not exited (`stopProcess`).
 * @param {string} cmd
 * @param {(port: number) => string[]} args
 * @param {{ cwd: string, env?: (port: number) => Record<string, string>, probePath?: string, startMs?: number }} options
 */
export async function startServerProcess(cmd, args, { cwd, env = () => ({}), probePath = "/", startMs = 60_000 }) {
  const port = await freePort();
  const proc = spawn(cmd, args(port), { cwd, env: { ...process.env, ...env(port) }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  proc.stdout.on("data", (d) => (output += d));
  proc.stderr.on("data", (d) => (output += d));
  const server = {
    origin: `http://127.0.0.1:${port}`,
    output: () => output,
    stop: () => stopProcess(proc),
  };
  const deadline = Date.now() + startMs;
  for (;;) {
    if (hasExited(proc)) throw new Error(`${cmd} exited (${proc.exitCode ?? proc.signalCode}) before answering:\n${output}`);
    try {
      await fetch(server.origin + probePath, { signal: AbortSignal.timeout(5_000) });
      return server;
    } catch { /* not answering yet */ }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`${cmd} did not answer within ${startMs / 1000} s:\n${output}`);
    }
    await sleep(100);
  }
}

/**
 * Runs `body(step)` with a deadline; `step(name)` records what the body is doing, so a test
 * that hangs fails with the step it hung at (and `detail()`, e.g. a server's output) instead of
 * a bare file timeout. The caller's own `finally` still cleans up.
 * @template T
 * @param {number} limitMs
 * @param {(step: (name: string) => void) => Promise<T>} body
 * @param {() => string} [detail]
 * @returns {Promise<T>}
 */
export async function withDeadline(limitMs, body, detail = () => "") {
  let current = "starting", since = Date.now(), timer;
  const step = (name) => { current = name; since = Date.now(); };
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no end after ${limitMs / 1000} s: stuck at "${current}" for the last ${((Date.now() - since) / 1000).toFixed(0)} s\n${detail()}`)), limitMs);
  });
  try {
    return await Promise.race([body(step), late]);
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Every file under `dir` (relative paths), skipping node_modules. */
export function filesUnder(dir, { skip = ["node_modules"] } = {}) {
  const out = [];
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (skip.includes(entry.name)) continue;
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * Asserts that no built file mentions `buildDir` (where the app was built: a path of the build
 * machine), e.g. a `file://…/node_modules/llmeter-wasm/…` URL baked into a chunk.
 * @param {string[]} files absolute paths
 * @param {string[]} [needles] what must not appear (default: `buildDir` itself)
 */
export function assertNoBuildPath(files, buildDir, needles = [buildDir]) {
  const offenders = [];
  for (const file of files) {
    const text = readFileSync(file).toString("latin1");
    for (const needle of needles.flatMap((n) => [n, encodeURI(n)])) {
      const at = text.indexOf(needle);
      if (at >= 0) { offenders.push(`${file}: …${text.slice(Math.max(0, at - 60), at + needle.length + 60)}…`); break; }
    }
  }
  assert.deepEqual(offenders, [], `the build machine's path ${buildDir} is in the output`);
}

export const gzipBytes = (file) => gzipSync(readFileSync(file), { level: 9 }).length;
export const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;

/** The package's wasm modules, in the order the size table lists them. */
export const WASM_MODULES = ["llmeter_wasm", "llmeter_wasm_aws", "llmeter_store", "llmeter_tokenizers", "llmeter_fleet"];

let wasmHashes;
/**
 * Which of the package's wasm modules these bytes are (`llmeter_wasm`, `llmeter_store`, …), by
 * comparing them with the installed package's `*_bg.wasm`: a bundler's file name says nothing
 * (webpack names them by hash). Throws for bytes that are none of them (a bundler that rewrote a
 * module would otherwise be reported under the wrong name).
 */
export function wasmModuleOf(bytes, where) {
  requireInstalled();
  const sha = (b) => createHash("sha256").update(b).digest("hex");
  wasmHashes ??= new Map(WASM_MODULES.map((m) => [sha(readFileSync(path.join(HERE, "node_modules/llmeter-wasm", `${m}_bg.wasm`))), m]));
  const name = wasmHashes.get(sha(bytes));
  if (!name) throw new Error(`${where}: a .wasm that is none of the package's modules (${bytes.length} bytes)`);
  return name;
}

/**
 * A wasm size row for a `.wasm` file: its module (by content), raw and gzipped sizes.
 * @param {string} where e.g. "client", "server"; "" when the app has one place
 * @param {boolean} [loaded] whether the app fetched or read it (undefined: not observed)
 */
export function wasmFileRow(root, file, { where = "", loaded } = {}) {
  const abs = path.join(root, file);
  const bytes = readFileSync(abs);
  return { module: wasmModuleOf(bytes, file), where, how: "file", file, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length, loaded };
}

const WASM_BASE64 = /AGFzbQEAAAA[A-Za-z0-9+/]*={0,2}/g; // "\0asm", version 1, then the rest of the base64 run

/**
 * The wasm modules inlined in a JS file as base64 (the package's `*.wasm.base64.js`), each with
 * the size of its base64 text in that file, raw and gzipped (what it costs the bundle).
 */
export function inlinedWasmRows(root, file, { where = "", loaded } = {}) {
  const text = readFileSync(path.join(root, file), "latin1");
  return [...text.matchAll(WASM_BASE64)].map(([b64]) => ({
    module: wasmModuleOf(Buffer.from(b64, "base64"), `${file} (inlined)`), where, how: "inlined base64", file,
    raw: b64.length, gzip: gzipSync(Buffer.from(b64, "latin1"), { level: 9 }).length, loaded,
  }));
}

/**
 * Every wasm module in built files, by module: each `.wasm` file, and each copy inlined (base64)
 * in a JS file.
 * @param {string[]} files relative to `root`
 * @param {{ where?: string, loaded?: (row: { module: string, file: string }) => boolean | undefined }} [options]
 */
export function wasmRows(root, files, { where = "", loaded = () => undefined } = {}) {
  const rows = files.flatMap((f) => (f.endsWith(".wasm") ? [wasmFileRow(root, f, { where })] : /\.[cm]?js$/.test(f) ? inlinedWasmRows(root, f, { where }) : []));
  return rows.map((r) => ({ ...r, loaded: loaded(r) }));
}

/**
 * The `<script src>` of a built HTML page that a current browser runs on load, in order: module
 * and classic scripts (not `nomodule` fallbacks), as written (URLs relative to the page or root).
 * @returns {{ file: string, module: boolean }[]}
 */
export function htmlScripts(html) {
  return [...html.matchAll(/<script\b([^>]*)>/gi)].flatMap(([, attrs]) => {
    const src = /\bsrc\s*=\s*(?:"([^"]+)"|'([^']+)'|([^\s"'>]+))/i.exec(attrs); // quoted or not (a minified page)
    const file = src?.[1] ?? src?.[2] ?? src?.[3];
    if (!file || /\bnomodule\b/i.test(attrs)) return [];
    return [{ file, module: /\btype\s*=\s*"?module\b/i.test(attrs) }];
  });
}

/**
 * The JS a page or worker loads before it runs: each entry and, for a module, every module it
 * imports statically, transitively (the browser fetches them all before running any;
 * `import()` chunks are loaded on demand, so not counted), each file gzipped on its own as it
 * is fetched. esbuild reads the imports (its metafile records each import's kind); it does not
 * bundle anything here. Import paths starting with `/` are from `root`.
 * @param {string} what e.g. "page", "worker"
 * @param {string} root
 * @param {{ file: string, module: boolean }[]} entries files relative to `root`
 * @returns {Promise<{ what: string, files: string[], raw: number, gzip: number }>}
 */
export async function initialJs(what, root, entries) {
  const { build } = await import(path.join(HERE, "node_modules/esbuild/lib/main.js"));
  const rel = (file) => path.normalize(file.replace(/^\/+/, "")); // a URL path from the root
  const files = new Set(entries.map((e) => rel(e.file)));
  const modules = entries.filter((e) => e.module).map((e) => path.join(root, rel(e.file)));
  if (modules.length) {
    const { metafile } = await build({
      absWorkingDir: root, entryPoints: modules, bundle: true, write: false, metafile: true, format: "esm", platform: "neutral", logLevel: "silent", outdir: "unused",
      plugins: [{
        name: "static-imports",
        setup(b) {
          // Only the built files themselves: anything else (bare names, node:, .wasm, data:) is left out.
          b.onResolve({ filter: /.*/ }, (a) => {
            if (a.kind === "entry-point") return undefined;
            if (!/^\.{0,2}\//.test(a.path) || !/\.[cm]?js$/.test(a.path.split(/[?#]/)[0])) return { external: true };
            return { path: a.path.startsWith("/") ? path.join(root, a.path) : path.resolve(a.resolveDir, a.path) };
          });
        },
      }],
    });
    const key = (abs) => path.relative(root, abs);
    const queue = modules.map(key);
    for (const f of queue) {
      files.add(f);
      for (const i of metafile.inputs[f]?.imports ?? []) if (i.kind === "import-statement" && !i.external && !queue.includes(i.path)) queue.push(i.path);
    }
  }
  const list = [...files];
  const sizes = list.map((f) => ({ raw: statSync(path.join(root, f)).size, gzip: gzipBytes(path.join(root, f)) }));
  return { what, files: list, raw: sizes.reduce((n, s) => n + s.raw, 0), gzip: sizes.reduce((n, s) => n + s.gzip, 0) };
}

/**
 * Records an app's sizes in out/packaging/sizes/<app>.json, which sizes.mjs turns into the table:
 * `initial` (one `initialJs` per page or worker), `wasm` (every wasm module the app emitted or
 * loads, by module: `wasmFileRow`, `inlinedWasmRows`), `other` (more files worth a line: `sizeRow`).
 */
export function recordSizes(app, { initial = [], wasm = [], other = [] }) {
  mkdirSync(path.join(OUT, "sizes"), { recursive: true });
  writeFileSync(path.join(OUT, "sizes", `${app}.json`), JSON.stringify({ initial, wasm, other }, null, 2));
  for (const r of initial) console.log(`[sizes] ${app}: initial JS (${r.what}) ${r.files.join(" + ")}: ${kb(r.raw)} raw, ${kb(r.gzip)} gzipped`);
  for (const r of wasm) console.log(`[sizes] ${app}: ${r.module}${r.where ? ` (${r.where})` : ""} ${r.how} ${r.file}: ${kb(r.raw)} raw, ${kb(r.gzip)} gzipped${r.loaded === false ? ", not loaded by the app" : ""}`);
  for (const r of other) console.log(`[sizes] ${app}: ${r.what} ${r.file}: ${kb(r.raw)} raw, ${kb(r.gzip)} gzipped`);
}

/** `{what, file, raw, gzip}` for a built file. */
export function sizeRow(what, root, file) {
  const abs = path.join(root, file);
  return { what, file, raw: statSync(abs).size, gzip: gzipBytes(abs) };
}

/**
 * Opens `url` in Chromium, waits for the app to publish `window.__result`, and returns it with
 * every request the page (and its workers) made and every response that failed.
 */
export async function runPage(browser, url, { timeoutMs = 90_000 } = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const requests = [];
  const failures = [];
  context.on("request", (r) => requests.push(r.url()));
  context.on("response", (r) => { if (r.status() >= 400) failures.push(`${r.status()} ${r.url()}`); });
  context.on("requestfailed", (r) => failures.push(`failed ${r.url()}: ${r.failure()?.errorText}`));
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  try {
    await page.goto(url);
    await page.waitForFunction(() => window.__result !== undefined, null, { timeout: timeoutMs });
    const result = await page.evaluate(() => window.__result);
    return { result, requests, failures, errors };
  } finally {
    // Bounded: a context that will not close must not hang the test file.
    await within(10_000, context.close());
  }
}

/**
 * A real measurement against llm-sim: every request completed with the tokens asked for, and
 * each client-measured TTFT/TTLT is no shorter than the server's own, give or take one step of
 * the runtime's clock (ground truth: the server cannot send a token before it receives the
 * request, so a client cannot see it sooner).
 * @param {{responses: any[], stats: any, info: any}} m
 * @param {any[]} groundTruth llm-sim's request records
 * @param {RegExp} runtime expected `info.runtime`
 */
export function assertMeasured(m, groundTruth, runtime) {
  assert.equal(m.error, undefined, m.error);
  assert.equal(m.responses.length, 6, "2 clients × 3 requests");
  assert.equal(m.stats.failed_requests, 0, JSON.stringify(m.responses.find((r) => r.error)?.error));
  assert.match(m.info.runtime, runtime);
  const records = new Map(groundTruth.map((r) => [r.id, r]));
  // Each stamp is off by up to one step of the runtime's clock (local workerd: whole ms).
  const step = (m.info.timer_resolution_ms ?? 0) / 1000;
  for (const r of m.responses) {
    assert.equal(r.num_tokens_output, 8);
    const rec = records.get(r.id.replace(/^chatcmpl-/, ""));
    assert.ok(rec, `llm-sim has no record of ${r.id}`);
    const serverTtft = (rec.first_token_sent_us - rec.received_us) / 1e6;
    const serverTtlt = (rec.last_token_sent_us - rec.received_us) / 1e6;
    assert.ok(r.time_to_first_token + step >= serverTtft, `TTFT ${r.time_to_first_token} s < the server's ${serverTtft} s (clock step ${step} s)`);
    assert.ok(r.time_to_last_token + step >= serverTtlt, `TTLT ${r.time_to_last_token} s < the server's ${serverTtlt} s (clock step ${step} s)`);
  }
  assert.equal(typeof m.stats["time_to_first_token-p50"], "number");
  // The API key was sent (llm-sim accepts any) but is in no result.
  assert.ok(!JSON.stringify(m).includes("sk-packaging-test"), "the API key is in the result");
}

/** llm-sim arguments for the packaging apps: 30 ms to the first token, 2 ms between tokens. */
export const SIM_ARGS = ["--ttft-ms", "30", "--itl-ms", "2", "--seed", "17"];
