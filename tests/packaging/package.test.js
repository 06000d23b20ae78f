// What `npm publish` would ship: the file list of `npm pack --dry-run`, the metadata, the
// package README (for npm users, links that work on the registry page), LICENSE, and the
// linters: publint (strict) and arethetypeswrong (ESM-only profile) must report nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { BIN, HERE, PKG, ROOT, TARBALL, WASM_MODULES, execFileAsync, requireInstalled } from "./harness.js";

const manifest = JSON.parse(readFileSync(path.join(PKG, "package.json"), "utf8"));

const INTENDED_FILES = [
  "LICENSE", "README.md", "package.json",
  "index.js", "index.d.ts", "experiments.js", "experiments.d.ts", "types.d.ts",
  "loader.js", "no-inline.js", "result-loader.js", "report.js", "callbacks.js", "callbacks.d.ts", "output.js",
  "tokenizer.js", "tokenizer.d.ts", "store.js", "store.d.ts", "aws.js", "aws.d.ts",
  "core.js", "crash.js", "engines.js", "pump.js", "node-http.js",
  "fleet.js", "fleet.d.ts", "probe.js", "probe.d.ts", "probe-worker.js", "probe-rules.js",
  "probe-measure.js", "probe-sw.js", "probe-sw.d.ts",
  // The fleet module's files, with their declarations.
  ...readdirSync(path.join(ROOT, "js/fleet")).filter((f) => f.endsWith(".js")).flatMap((f) => (f === "shard-worker.js" ? [`fleet/${f}`] : [`fleet/${f}`, `fleet/${f.replace(/\.js$/, ".d.ts")}`])),
  // Every endpoint class, with its declarations.
  ...readdirSync(path.join(ROOT, "js/endpoints")).filter((f) => f.endsWith(".js")).flatMap((f) => [`endpoints/${f}`, `endpoints/${f.replace(/\.js$/, ".d.ts")}`]),
  ...["init", "files", "zip", "upload", "idb", "recorder", "result-store"].flatMap((f) => [`store/${f}.js`, `store/${f}.d.ts`]),
  ...WASM_MODULES.flatMap((m) => [`${m}.js`, `${m}_bg.wasm`, `${m}_bg.wasm.d.ts`, `${m}_bg.wasm.base64.js`, `${m}_bg.wasm.base64.d.ts`]),
].sort();

test("npm pack --dry-run ships exactly the intended files (no wasm-bindgen glue types, no internal declarations)", async () => {
  const [packed] = JSON.parse(await execFileAsync("npm", ["pack", "--dry-run", "--json", PKG], { cwd: HERE }));
  assert.deepEqual(packed.files.map((f) => f.path).sort(), INTENDED_FILES);
  console.log(`[packaging] npm pack: ${packed.entryCount} files, ${(packed.size / 1024).toFixed(0)} KB packed, ${(packed.unpackedSize / 1024).toFixed(0)} KB unpacked`);
});

test("package.json: license, repository, homepage, bugs, engines, ESM, side-effect free, every export typed, ./package.json exported", () => {
  assert.equal(manifest.license, "Apache-2.0");
  assert.match(manifest.repository.url, /^git\+https:\/\/github\.com\/[\w.-]+\/[\w.-]+\.git$/);
  assert.equal(manifest.homepage, `${repoUrl()}#readme`);
  assert.equal(manifest.bugs.url, `${repoUrl()}/issues`);
  assert.equal(manifest.engines.node, ">=20");
  assert.equal(manifest.type, "module");
  assert.equal(manifest.sideEffects, false);
  assert.equal(manifest.exports["./package.json"], "./package.json");
  for (const [subpath, target] of Object.entries(manifest.exports)) {
    if (subpath === "./package.json") continue;
    assert.ok(target.types?.endsWith(".d.ts") && existsSync(path.join(PKG, target.types)), `${subpath} has types`);
    assert.ok(existsSync(path.join(PKG, target.default)), `${subpath} → ${target.default}`);
  }
  for (const m of WASM_MODULES) {
    assert.ok(manifest.exports[`./${m}_bg.wasm`] && manifest.exports[`./${m}_bg.wasm.base64.js`], `${m}: the .wasm and its base64 entry are exported`);
    assert.deepEqual(manifest.imports[`#inline/${m}_bg.wasm`], { node: `./${m}_bg.wasm.base64.js`, default: "./no-inline.js" });
  }
});

test("the Probe's worker ships as one file: no static import for its worker to fetch (each costs the page's thread)", () => {
  const worker = readFileSync(path.join(PKG, "probe-worker.js"), "utf8");
  assert.doesNotMatch(worker, /^\s*(import|export)\b[^(]*\bfrom\s*["']/m);
  assert.doesNotMatch(worker, /^\s*import\s*["']/m);
  // What the worker runs is inside: the runner and the compact shard writer.
  assert.match(worker, /\bRunner = class\b|\bclass Runner\b/);
  assert.match(worker, /function toCompact\b/);
});

test("no shipped declaration names the internals that hold an endpoint's secrets, nor any `secrets`", () => {
  requireInstalled();
  const installed = path.join(HERE, "node_modules/llmeter-wasm");
  const declarations = readdirSync(installed, { recursive: true }).filter((f) => f.endsWith(".d.ts"));
  assert.ok(declarations.includes(path.join("endpoints", "endpoint.d.ts")) && declarations.includes(path.join("endpoints", "bedrock.d.ts")), declarations.join(" "));
  for (const file of declarations) {
    const text = readFileSync(path.join(installed, file), "utf8");
    // The config with the API key, the engine a config runs in, the option splitters (@internal).
    assert.doesNotMatch(text, /\b(endpointConfig|endpointEngine|optionsObject|awsOptions)\b/, file);
    // No type (a return, a parameter, a property) carries secrets; comments may say none are kept.
    const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
    assert.doesNotMatch(code, /\bsecrets\b/i, file);
  }
  // Made only by the endpoint classes: no public constructor signature (kind, settings, secrets).
  assert.match(readFileSync(path.join(installed, "endpoints/endpoint.d.ts"), "utf8"), /^\s*protected constructor\(\);$/m);
});

test("LICENSE is the Apache License 2.0 text, as Cargo.toml declares", () => {
  const license = readFileSync(path.join(PKG, "LICENSE"), "utf8");
  assert.match(license, /Apache License\s+Version 2\.0, January 2004/);
  assert.match(license, /END OF TERMS AND CONDITIONS/);
  assert.match(readFileSync(path.join(ROOT, "Cargo.toml"), "utf8"), /^license = "Apache-2\.0"$/m);
});

test("the package README is for npm users: install line, bundler notes, only absolute links, each to a page that exists", () => {
  const readme = readFileSync(path.join(PKG, "README.md"), "utf8");
  assert.notEqual(readme, readFileSync(path.join(ROOT, "README.md"), "utf8"), "not the repository's README");
  assert.match(readme, /^npm install llmeter-wasm$/m);
  assert.doesNotMatch(readme, /scripts\/(demo|test|build)\.sh/, "no repository commands");
  for (const bundler of ["Vite", "webpack", "Next.js", "esbuild", "Rollup", "Deno", "workerd"]) assert.ok(readme.includes(bundler), bundler);
  const links = [...readme.matchAll(/\]\(([^)]+)\)/g)].map((m) => m[1]);
  assert.ok(links.length >= 4, links.join(" "));
  for (const link of links) {
    assert.match(link, /^https:\/\//, `${link}: relative links break on the registry page`);
    if (!link.startsWith(repoUrl())) continue;
    // A link into this repository: the file exists (main branch = this tree) and so does the heading.
    const [, file = "README.md", anchor] = /^[^#]*?(?:\/blob\/main\/([^#]+))?(?:#(.+))?$/.exec(link.slice(repoUrl().length));
    assert.ok(existsSync(path.join(ROOT, file)), `${link}: ${file} is not in the repository`);
    if (anchor && anchor !== "readme") assert.ok(headingSlugs(readFileSync(path.join(ROOT, file), "utf8")).includes(anchor), `${link}: no heading #${anchor} in ${file}`);
  }
});

test("the package README's gzipped wasm sizes are each within 5% of the shipped .wasm's (gzip level 9), one per module", () => {
  const readme = readFileSync(path.join(PKG, "README.md"), "utf8");
  const moduleOf = { "llmeter-wasm": "llmeter_wasm", "llmeter-wasm/tokenizer.js": "llmeter_tokenizers", "llmeter-wasm/store.js": "llmeter_store", "llmeter-wasm/aws.js": "llmeter_wasm_aws", "llmeter-wasm/fleet.js": "llmeter_fleet" };
  const rows = [...readme.matchAll(/^\| `(llmeter-wasm[^`]*)` \|.*\| ([\d.]+) KB \|$/gm)].map(([, entry, size]) => ({ entry, module: moduleOf[entry], kb: Number(size) }));
  assert.deepEqual(rows.map((r) => r.module).sort(), [...WASM_MODULES].sort(), `one row per wasm module: ${rows.map((r) => r.entry).join(", ")}`);
  for (const { entry, module, kb } of rows) {
    const measured = gzipSync(readFileSync(path.join(PKG, `${module}_bg.wasm`)), { level: 9 }).length / 1024;
    assert.ok(Math.abs(kb - measured) <= 0.05 * measured, `${entry}: the README says ${kb} KB gzipped, ${module}_bg.wasm is ${measured.toFixed(1)} KB`);
  }
});

test("publint (strict) finds nothing", async () => {
  const out = await execFileAsync(path.join(BIN, "publint"), ["run", PKG, "--strict"], { cwd: HERE });
  assert.match(out, /All good!/, out);
});

test("arethetypeswrong (ESM-only profile: the package has no CommonJS build) finds nothing; every entry point resolves to types in node16 and bundler resolution", async () => {
  requireInstalled(); // prepare.mjs packed the tarball attw reads
  const json = JSON.parse(await execFileAsync(path.join(BIN, "attw"), [TARBALL, "--profile", "esm-only", "--format", "json"], { cwd: HERE }));
  const problems = json.analysis.problems.filter((p) => p.resolutionKind !== "node16-cjs" && p.resolutionKind !== "node10");
  assert.deepEqual(problems, []);
  const entrypoints = Object.keys(json.analysis.entrypoints);
  assert.deepEqual(entrypoints.sort(), Object.keys(manifest.exports).sort());
  for (const [name, entry] of Object.entries(json.analysis.entrypoints)) {
    for (const kind of ["node16-esm", "bundler"]) {
      const r = entry.resolutions[kind];
      if (name === "./package.json") continue;
      assert.ok(r?.resolution?.isTypeScript, `${name} (${kind}) resolves to declarations`);
    }
  }
});

function repoUrl() {
  return manifest.repository.url.replace(/^git\+/, "").replace(/\.git$/, "");
}

/** GitHub's heading anchors: lower case, punctuation other than `-` and `_` dropped, spaces → `-`. */
function headingSlugs(markdown) {
  return [...markdown.matchAll(/^#{1,6} (.+)$/gm)].map(([, h]) => h.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-"));
}
