// The packed tarball's Probe (llmeter-wasm/probe.js) in apps built by Vite (and on its dev
// server) and webpack 5: the page of each app runs one probe (sampleRate 1, one request)
// against llm-sim in the probe's dedicated worker, then in the app's own service worker (its
// source file built by the same bundler, calling serveProbes() from llmeter-wasm/probe-sw.js).
// Each probe's beacon reaches a collector started here and merges to llm-sim's ground truth;
// the worker is an asset of the bundle, only the core .wasm is fetched, and the page's initial
// JS stays small.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import path from "node:path";
import { startSim } from "../js/sim.js";
import { startCollector, compact } from "../js/collector.js";
import { launchChromium } from "../js/browser.js";
import { within } from "../js/process.js";
import { HERE, stageApp, requireInstalled, execFileAsync, filesUnder, assertNoBuildPath, recordSizes, initialJs, htmlScripts, wasmRows, wasmModuleOf, startServerProcess, withDeadline, kb, SIM_ARGS } from "./harness.js";

// Each test is bounded on its own (a build, then a probe in each place): one that hangs fails
// alone, with the step it hung at.
const LIMIT_MS = 150_000;
const BOUND = { timeout: LIMIT_MS + 30_000 };
/** The most a probe page's entry may cost (its scripts and their static imports, gzipped). */
const PAGE_JS_LIMIT = 60 * 1024;
const PROMPT = "a prompt the probe must not send";

let sim, browser, collector, Result;
before(async () => {
  requireInstalled();
  // The collector's side: the installed package merges what the probes sent.
  ({ Result } = await import(path.join(HERE, "node_modules/llmeter-wasm/index.js")));
  sim = await startSim(SIM_ARGS);
  collector = await startCollector();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await collector?.close();
  await sim?.stop();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };

/**
 * Serves a built app's output folder alone, as a static host would, and records every path
 * asked for (by the page, its workers and its service worker alike).
 */
async function serveOutput(root) {
  const fetched = [];
  const server = createServer(async (req, res) => {
    const { pathname } = new URL(req.url, "http://x");
    fetched.push(pathname);
    const file = path.join(root, decodeURIComponent(pathname));
    if (!file.startsWith(root + path.sep)) return res.writeHead(403).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream", "cache-control": "no-store" }).end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { origin: `http://127.0.0.1:${server.address().port}`, fetched, close: () => new Promise((r) => server.close(r)) };
}

/** The probe's options, given to the app's page in its URL's fragment (JSON). */
const probeOptions = (testId, serviceWorker) => ({
  testId, label: "packaging", sampleRate: 1, requestsPerView: 1, beaconUrl: collector.url,
  endpoint: { kind: "openai", baseUrl: sim.base, model: "sim-model", apiKey: "sk-packaging-test" }, timeout: 10,
  payload: { messages: [{ role: "user", content: PROMPT }], max_tokens: 8 },
  ...(serviceWorker ? { serviceWorker: true } : {}),
});

/**
 * One user's visit in a fresh browser profile. With a service worker, the first page view
 * registers it and the page is reloaded once it is active: it then controls the page, which
 * runs its probe. Resolves with the page's `window.__result`, every request the page and its
 * workers made (as Playwright reports them), the dedicated workers it started and what failed.
 */
async function visit(step, url) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const requests = [], failures = [], errors = [], workers = [];
  context.on("request", (r) => requests.push(r.url()));
  context.on("response", (r) => { if (r.status() >= 400) failures.push(`${r.status()} ${r.url()}`); });
  context.on("requestfailed", (r) => failures.push(`failed ${r.url()}: ${r.failure()?.errorText}`));
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("worker", (w) => workers.push(w.url()));
  const result = async () => {
    await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 60_000 });
    return page.evaluate(() => window.__result);
  };
  try {
    step("first page view");
    await page.goto(url);
    let r = await result();
    const views = [r];
    if (r.controlled === false) {
      step("reload: the page's service worker is active");
      await page.reload();
      r = await result();
      views.push(r);
    }
    return { result: r, views, requests, failures, errors, workers };
  } finally {
    await within(10_000, context.close());
  }
}

/**
 * Runs one probe in a fresh profile and checks what every bundle must get right: the outcome
 * says where it measured, one beacon arrived and merges to llm-sim's ground truth, nothing
 * failed, only the core .wasm was fetched.
 * @param {(step: string) => void} step
 * @param {string} origin where the app is served
 * @param {{ testId: string, measuredIn: "worker" | "service worker", fetched: (run: any) => string[], wasmModule: (pathname: string) => string }} o
 *   `fetched`: the paths the app asked for during the visit `run`; `wasmModule`: which of the package's modules a fetched .wasm is
 */
async function probeOnce(step, origin, { testId, measuredIn, fetched, wasmModule }) {
  await sim.clear();
  const sw = measuredIn === "service worker";
  const run = await visit(step, `${origin}/index.html#${encodeURIComponent(JSON.stringify(probeOptions(testId, sw)))}`);
  assert.equal(run.result.error, undefined, `${run.result.error}\n${run.errors.join("\n")}`);
  assert.deepEqual(run.errors, [], "no uncaught error on the page");
  assert.deepEqual(run.failures, [], "every request the app made succeeded");
  assert.equal(run.views.length, sw ? 2 : 1, "a service worker controls the page from its second view");
  const { outcome } = run.result;
  assert.deepEqual({ sent: outcome.sent, reason: outcome.reason, requests: outcome.requests, measuredIn: outcome.measuredIn }, { sent: true, reason: "sent", requests: 1, measuredIn });
  if (sw) {
    assert.ok(run.result.controlled, "the app's service worker controls the page");
    assert.deepEqual(run.workers, [], "the page started no dedicated worker");
  } else {
    assert.equal(run.workers.length, 1, `one dedicated worker: ${run.workers.join(" ")}`);
  }

  step("waiting for the beacon");
  const beacons = await collector.of(testId, 1);
  assert.equal(beacons.length, 1, "one beacon");
  await sleep(200);
  assert.equal((await collector.of(testId, 2, 0)).length, 1, "only one beacon");
  const [{ type, body }] = beacons;
  assert.match(type, /^text\/plain/);
  assert.ok(!body.includes(PROMPT), "no prompt in the shard");
  assert.ok(!body.includes("sk-packaging-test"), "no API key in the shard");
  const shard = compact(body);
  assert.equal(shard.format, "llmeter-shard/1");
  assert.match(shard.shard.runtime, sw ? /HeadlessChrome\/\d+.*\(service worker\)/ : /HeadlessChrome\/\d+.*\(worker\)/);
  assert.equal(shard.shard.label, "packaging");

  // The collector merges the beacon: its counts are the simulator's.
  const truth = await sim.requests();
  assert.equal(truth.length, 1, "llm-sim saw the probe's one request");
  const [rec] = truth;
  assert.equal(rec.outcome, "completed");
  const merged = await Result.merge([body]);
  assert.equal(merged.summary.total_requests, truth.length);
  assert.equal(merged.stats.failed_requests, 0);
  assert.equal(merged.stats.total_output_tokens, rec.output_tokens);
  assert.equal(merged.stats.total_input_tokens, rec.input_tokens);
  assert.equal(merged.stats.by_label.packaging.total_requests, 1);
  const [response] = merged.responses;
  assert.equal(response.id.replace(/^chatcmpl-/, ""), rec.id, "the shard's response is llm-sim's request");
  assert.equal(response.num_tokens_output, 8);
  // Ground truth: a client cannot see the first token before the server sent it.
  const serverTtft = (rec.first_token_sent_us - rec.received_us) / 1e6;
  assert.ok(response.time_to_first_token >= serverTtft - 0.001, `TTFT ${response.time_to_first_token} s < the server's ${serverTtft} s`);

  // Only the core engine's .wasm: neither the tokenizer's nor the store's (nor the fleet's).
  const wasm = fetched(run).filter((p) => p.endsWith(".wasm"));
  assert.deepEqual(wasm.map(wasmModule), ["llmeter_wasm"], `the .wasm fetched: ${wasm.join(" ")}`);
  return run;
}

/** The emitted file a URL of the served output folder is (asserting it is one). */
function outputFile(files, origin, url) {
  assert.ok(url.startsWith(origin + "/"), `${url} is served by the app's own origin`);
  const file = decodeURIComponent(new URL(url).pathname.slice(1));
  assert.ok(files.includes(file), `${file} is a file of the bundle's output (${files.join(" ")})`);
  return file;
}

/** Probes with the app's built output served alone: its worker, then its service worker. */
async function probeBuilt(step, name, dist, { serviceWorker: withSw = true } = {}) {
  const files = filesUnder(dist);
  assertNoBuildPath(files.map((f) => path.join(dist, f)), path.dirname(dist));
  const site = await serveOutput(dist);
  try {
    const wasmModule = (p) => wasmModuleOf(readFileSync(path.join(dist, p)), p);
    let since = 0;
    const fetched = () => site.fetched.slice(since);

    since = site.fetched.length;
    const inWorker = await probeOnce(step, site.origin, { testId: `${name}-worker`, measuredIn: "worker", fetched, wasmModule });
    const worker = outputFile(files, site.origin, inWorker.workers[0]);
    assert.ok(fetched().includes(`/${worker}`), "the worker came from the bundle's output");

    if (!withSw) return { files, worker };
    since = site.fetched.length;
    const inSw = await probeOnce(step, site.origin, { testId: `${name}-service-worker`, measuredIn: "service worker", fetched, wasmModule });
    const serviceWorker = outputFile(files, site.origin, inSw.result.controlled);
    return { files, worker, serviceWorker };
  } finally {
    await site.close();
  }
}

/** The page's initial JS, asserted under the limit. */
async function pageJs(root, page) {
  const js = await initialJs("page", root, htmlScripts(readFileSync(path.join(root, page), "utf8")));
  assert.ok(js.files.length > 0, `${page} has a script`);
  assert.ok(js.gzip < PAGE_JS_LIMIT, `the probe page's initial JS is ${kb(js.gzip)} gzipped (${js.files.join(" + ")}), over ${kb(PAGE_JS_LIMIT)}`);
  return js;
}

test("Vite build: the Probe in its dedicated worker (an emitted iife asset) and in the app's module service worker (sw.js, a second build input)", BOUND, async () => {
  const app = await stageApp("probe-vite");
  try {
    await withDeadline(LIMIT_MS, async (step) => {
      step("vite build");
      await execFileAsync(path.join(app.dir, "node_modules/.bin/vite"), ["build", "--logLevel", "warn"], { cwd: app.dir });
      const dist = path.join(app.dir, "dist");
      const { files, worker, serviceWorker } = await probeBuilt(step, "probe-vite", dist);
      assert.match(worker, /^assets\/probe-worker-[\w-]+\.js$/);
      assert.equal(serviceWorker, "sw.js");

      const sizes = {
        initial: [await pageJs(dist, "index.html"), await initialJs("probe worker", dist, [{ file: worker, module: false }]), await initialJs("service worker", dist, [{ file: serviceWorker, module: true }])],
        wasm: wasmRows(dist, files, { loaded: (r) => r.module === "llmeter_wasm" }),
      };
      recordSizes("probe-vite", sizes);

      // Vite's default worker format (iife) cannot split: whatever the worker imports
      // dynamically would be inlined. The package's probe worker has no dynamic import a probe
      // never reaches (scripts/bundle-probe-worker.mjs leaves figures, merging and workers out),
      // so the iife worker is the package's one file as with `worker: { format: "es" }`, and
      // carries none of report.js or the fleet's glue.
      step("vite build, worker.format es");
      await execFileAsync(path.join(app.dir, "node_modules/.bin/vite"), ["build", "--config", "vite.es-worker.config.js", "--outDir", "dist-es", "--logLevel", "warn"], { cwd: app.dir });
      const distEs = path.join(app.dir, "dist-es");
      const es = await probeBuilt(step, "probe-vite-es-worker", distEs, { serviceWorker: false });
      const esWorker = await initialJs("probe worker", distEs, [{ file: es.worker, module: true }]);
      assert.deepEqual(esWorker.files, [es.worker], "the probe's worker is one file");
      const iife = sizes.initial.find((i) => i.what === "probe worker");
      assert.ok(iife.gzip < esWorker.gzip * 1.15, `worker.format iife: ${kb(iife.gzip)}, es: ${kb(esWorker.gzip)}: the iife worker carries more than the probe's own code`);
      const iifeText = readFileSync(path.join(dist, worker), "utf8");
      for (const marker of ["Schedule lag vs offered rate", "the worker failed to start or threw", "neither a Result, a run folder nor a compact shard"]) assert.ok(!iifeText.includes(marker), `the iife worker carries ${marker}`);
      recordSizes("probe-vite-es-worker", { initial: [await pageJs(distEs, "index.html"), esWorker], wasm: wasmRows(distEs, es.files, { loaded: (r) => r.module === "llmeter_wasm" }) });
    });
  } finally {
    app.remove();
  }
});

test("webpack 5: the Probe in its dedicated worker (an emitted chunk) and in the app's service worker (navigator.serviceWorker.register(new URL(…)), classic)", BOUND, async () => {
  const app = await stageApp("probe-webpack");
  try {
    await withDeadline(LIMIT_MS, async (step) => {
      step("webpack");
      const { default: webpack } = await import(path.join(app.dir, "node_modules/webpack/lib/index.js"));
      const { default: config } = await import(path.join(app.dir, "webpack.config.js"));
      const stats = await new Promise((resolve, reject) => webpack(config, (err, s) => (err ? reject(err) : resolve(s))));
      assert.ok(!stats.hasErrors(), stats.toString("errors-only"));
      const dist = path.join(app.dir, "dist");
      const { files, worker, serviceWorker } = await probeBuilt(step, "probe-webpack", dist);

      // A worker's entry chunk loads the chunks it shares with others (importScripts) before it
      // runs: its chunk group's files.
      const startFiles = (file) => {
        const group = [...stats.compilation.chunkGroups].find((g) => g.getEntrypointChunk?.().files.has(file));
        assert.ok(group, `webpack's entry point of ${file}`);
        return group.chunks.flatMap((c) => [...c.files]).filter((f) => f.endsWith(".js")).map((f) => ({ file: f, module: false }));
      };
      assert.deepEqual(startFiles(worker), [{ file: worker, module: false }], "the probe's worker is one file");
      recordSizes("probe-webpack", {
        initial: [await pageJs(dist, "index.html"), await initialJs("probe worker", dist, startFiles(worker)), await initialJs("service worker", dist, startFiles(serviceWorker))],
        wasm: wasmRows(dist, files, { loaded: (r) => r.module === "llmeter_wasm" }),
      });
    });
  } finally {
    app.remove();
  }
});

test("Vite dev server: the same app unbuilt, first visits included; the Probe's worker and the package's .wasm are served from node_modules, the app's sw.js as a module", BOUND, async () => {
  const app = await stageApp("probe-vite");
  let vite;
  try {
    await withDeadline(LIMIT_MS, async (step) => {
      step("starting vite");
      vite = await startServerProcess(path.join(app.dir, "node_modules/.bin/vite"), (port) => ["--port", String(port), "--strictPort", "--host", "127.0.0.1", "--logLevel", "warn"], { cwd: app.dir, probePath: "/index.html" });
      // Playwright reports the requests of the page, its workers and its service worker alike.
      const fetched = (run) => run.requests.map((u) => new URL(u).pathname);
      const wasmModule = (p) => /^\/node_modules\/llmeter-wasm\/(\w+)_bg\.wasm$/.exec(p)?.[1] ?? p;
      // No warm-up visit: Vite finds the package while scanning its inputs (index.html and sw.js,
      // vite.config.js) at start, so the first visit is served without a re-optimisation reload.
      const inWorker = await probeOnce(step, vite.origin, { testId: "probe-vite-dev-worker", measuredIn: "worker", fetched, wasmModule });
      // Vite serves the worker from the package itself (pre-bundling left its URL alone), not
      // from a /@fs/ path of the build machine.
      assert.equal(new URL(inWorker.workers[0]).pathname, "/node_modules/llmeter-wasm/probe-worker.js");
      const inSw = await probeOnce(step, vite.origin, { testId: "probe-vite-dev-service-worker", measuredIn: "service worker", fetched, wasmModule });
      assert.equal(inSw.result.controlled, `${vite.origin}/sw.js`);
      for (const run of [inWorker, inSw]) assert.deepEqual(run.requests.filter((u) => u.includes("/@fs/")), [], "nothing from outside the project");
    }, () => vite?.output() ?? "");
  } finally {
    await vite?.stop();
    app.remove();
  }
});
