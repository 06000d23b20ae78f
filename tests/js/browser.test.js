// The wasm package in the three browser engines — headless Chromium, Firefox ESR and WebKitGTK
// (tests/js/engines.js) — against a real llm-sim, in a page and in a module Web Worker:
// TTFT/TTLT against ground truth alternating with a bare fetch loop over HTTP/1.1 (1 and 6
// clients) and HTTP/2 over TLS (32 clients); the runtime facts each engine records (engine and
// version, clock step and its warning); every engine's network-failure text with its hint; the
// per-host connection-limit and hidden-page warnings.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer as createHttpServer, request as httpRequest } from "node:http";
import { startSim } from "./sim.js";
import { freePort } from "./process.js";
import { groundTruthErrors, engineSamples } from "./bare.js";
import { startStatic } from "./browser.js";
import { forEachEngine, launchEngine } from "./engines.js";

const payload = { messages: [{ role: "user", content: "Tell me about browsers" }], max_tokens: 16 };

// Run in a page or a worker alike (functions are sent as source: no closures).
const engineRun = async ({ base, clients, nRequests, payload, apiKey, startJitterMs }) => {
  const { init, OpenAIEndpoint, Runner } = await import("/pkg/index.js");
  await init();
  const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: base, model: "sim-model", apiKey }) });
  const result = await runner.run({ clients, nRequests, payload, startJitterMs });
  return { ...result.toJSON(), files: result.toFiles() };
};
const bareRun = async (a) => (await import("/tests/js/bare.js")).bareLoop(a);

// What the engine records about itself, per engine: the runtime name (engine, version, brand)
// and the clock. Chromium's performance.now() steps 0.1 ms; Firefox's and WebKit's 1 ms, which
// warns — WebKit workers measure that step as 0.9999999999998863, which must still warn.
const FACTS = {
  chromium: { runtime: (v) => new RegExp(`^Blink ${v.split(".")[0]}\\.[\\d.]+ \\((Headless)?Chrome/${v.split(".")[0]}\\.`), step: 0.1, warns: false },
  firefox: { runtime: (v) => new RegExp(`^Gecko ${v.split(".")[0]}\\.\\d+ \\(Firefox/${v.split(".")[0]}\\.\\d+\\)`), step: 1, warns: true },
  webkit: { runtime: () => /^WebKit \(WebKitGTK\/WPE on Linux; Version\/[\d.]+ Safari\/[\d.]+; engine version not exposed\)/, step: 1, warns: true },
};
// The rejection text of a refused or CORS-blocked fetch in each engine.
const NETWORK_TEXT = { chromium: "TypeError: Failed to fetch", firefox: "TypeError: NetworkError when attempting to fetch resource.", webkit: "TypeError: Load failed" };

/** A plain HTTP proxy to `target` that drops `Timing-Allow-Origin` (CORS stays): an endpoint whose phases browsers hide. */
async function startNoTaoProxy(target) {
  const server = createHttpServer((req, res) => {
    const up = httpRequest({ host: "127.0.0.1", port: target.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      const headers = { ...r.headers };
      delete headers["timing-allow-origin"];
      res.writeHead(r.statusCode, headers);
      r.pipe(res);
    });
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { base: `http://127.0.0.1:${server.address().port}/v1`, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

let sim, noCors, noTao, site;
before(async () => {
  sim = await startSim(["--ttft-ms", "50", "--itl-ms", "5", "--tls-port", "0"]);
  noCors = await startSim(["--no-cors"]);
  noTao = await startNoTaoProxy(sim);
  site = await startStatic();
});
after(async () => {
  await site?.close();
  await noTao?.close();
  await sim?.stop();
  await noCors?.stop();
});

// One engine at a time: these compare timings, and 2 cores cannot run two browsers unperturbed.
forEachEngine((engine) => {
  {
    let browser, page, worker;
    const where = {};
    before(async () => {
      browser = await launchEngine(engine, { insecureCerts: true });
      page = await browser.newPage(`${site.origin}/tests/js/pages/blank.html`);
      worker = await page.worker();
      Object.assign(where, { page, worker });
      console.log(`# ${engine}: ${browser.version}`);
    });
    after(async () => {
      await browser?.close();
    });

    // What this pins down is that the engine stamps chunks as they arrive, like a bare fetch loop
    // does: a timestamp taken after parsing, after the whole body, or on a polling timer would put
    // it 5–40 ms or more behind. The exact overhead is a measurement, not a test target: `npm run
    // bench` reports it. Each browser's own fetch path costs 2–5 ms before a request reaches the
    // server, and at 32 simultaneous h2 streams Chromium queues requests inside its network
    // service for 10–30 ms (net-log evidence in crates/llm-sim/README.md) — under CPU contention much more,
    // and unevenly between two loops that start requests differently — so both loops are compared
    // against ground truth, alternately, best of three rounds: a busy machine slows a round of
    // either loop, rarely all three; while they do not meet the bound, more rounds are run
    // (a full-suite run once saw Firefox's worker at 6 clients with both loops ~20 ms late, the
    // engine 3.1 ms behind; the same test alone: 7.8 vs 7.8 ms), up to nine in all (another saw
    // Firefox's page 3.06 ms behind after six; alone, it passed). An engine that is really behind
    // stays behind in all nine. Firefox's and WebKit's clocks step 1 ms, inside the allowance.
    // WebKitGTK runs at most 6 requests per host even over h2 (the test below): 32 clients there
    // measure its queue (~600 ms), not the engine, so its h2 case uses 6.
    const ROUNDS = 3;
    const MAX_ROUNDS = 9;
    const h2Clients = engine === "webkit" ? 6 : 32;
    for (const [label, clients, perClient, useH2, ENGINE_ALLOWANCE_MS] of [["HTTP/1.1, 1 client", 1, 12, false, 3], ["HTTP/1.1, 6 clients", 6, 4, false, 3], [`h2, ${h2Clients} clients`, h2Clients, 3, true, 60]]) {
      for (const context of ["page", "worker"]) {
        test(`${engine} ${context} ${label}: TTFT/TTLT at p50 within ${ENGINE_ALLOWANCE_MS} ms of a bare fetch loop against ground truth`, async () => {
          const target = where[context];
          const base = useH2 ? sim.httpsBase : sim.base;
          const run = (nRequests) => target.evaluate(engineRun, { base, clients, nRequests, payload, apiKey: "sk-browser" });
          const bare = (n) => target.evaluate(bareRun, { base, clients, perClient: n, maxTokens: 16 });
          // Warm-up: pays the CORS preflight and connection setup outside the measured runs.
          await run(1);
          await bare(1);
          let floor = { ttft: Infinity, ttlt: Infinity };
          let ours = { ttft: Infinity, ttlt: Infinity };
          let result;
          const within = () => ours.ttft - floor.ttft < ENGINE_ALLOWANCE_MS && ours.ttlt - floor.ttlt < ENGINE_ALLOWANCE_MS;
          let round = 0;
          for (; round < ROUNDS || (round < MAX_ROUNDS && !within()); round++) {
            await sim.clear();
            const bareErr = await groundTruthErrors(sim, (await bare(perClient)).samples);
            await sim.clear();
            result = await run(perClient);
            assert.equal(result.responses.length, clients * perClient);
            assert.equal(result.stats.failed_requests, 0, JSON.stringify(result.responses.find((r) => r.error)?.error));
            for (const r of result.responses) assert.equal(r.num_tokens_output, 16);
            const engineErr = await groundTruthErrors(sim, engineSamples(result.responses));
            // Causality: no client sees a token before the server sent it (one clock step of slack).
            const step = result.info.timer_resolution_ms;
            assert.ok(engineErr.ttft >= -step && engineErr.ttlt >= -step, `negative error: ${JSON.stringify(engineErr)}`);
            floor = { ttft: Math.min(floor.ttft, bareErr.ttft), ttlt: Math.min(floor.ttlt, bareErr.ttlt) };
            ours = { ttft: Math.min(ours.ttft, engineErr.ttft), ttlt: Math.min(ours.ttlt, engineErr.ttlt) };
          }
          console.log(`# ${engine} ${context} ${label}: TTFT error p50 (best of ${round}) engine ${ours.ttft.toFixed(3)} ms vs bare fetch ${floor.ttft.toFixed(3)} ms; TTLT ${ours.ttlt.toFixed(3)} vs ${floor.ttlt.toFixed(3)} ms; protocol ${result.info.protocol}`);
          assert.ok(ours.ttft - floor.ttft < ENGINE_ALLOWANCE_MS, `TTFT error p50 ${ours.ttft} ms, bare ${floor.ttft} ms`);
          assert.ok(ours.ttlt - floor.ttlt < ENGINE_ALLOWANCE_MS, `TTLT error p50 ${ours.ttlt} ms, bare ${floor.ttlt} ms`);
          assert.equal(result.info.protocol, useH2 ? "h2" : "http/1.1");
          assert.deepEqual(result.info.warnings.filter((w) => w.includes("connections per host")), []);
          assert.ok(!JSON.stringify(result.files).includes("sk-browser"));
        });
      }
    }

    test(`${engine}: info names the engine and version, the clock step is its nominal value and warns at 1 ms, in a page and a worker`, async () => {
      const facts = FACTS[engine];
      const version = browser.version.split(" ")[1];
      for (const context of ["page", "worker"]) {
        const { info } = await where[context].evaluate(engineRun, { base: sim.base, clients: 1, nRequests: 1, payload });
        assert.match(info.runtime, facts.runtime(version), context);
        assert.equal(info.runtime.endsWith(" (worker)"), context === "worker", info.runtime);
        assert.equal(info.clock, "coarsened");
        // Read as its nominal step, not 0.9999999999998863 (WebKit workers) or 0.0999999996 (Chromium).
        assert.equal(info.timer_resolution_ms, facts.step, `${context} step`);
        const coarse = info.warnings.filter((w) => w.startsWith("Coarse timer"));
        assert.deepEqual(coarse, facts.warns ? ["Coarse timer: performance.now() advances in steps of 1.000 ms here, so every timing is off by up to that much."] : [], context);
      }
    });

    test(`${engine}: a refused connection and a CORS-blocked response carry the engine's text and the CORS/connection hint`, async () => {
      // A port nobody listens on: bound, then closed.
      const closed = await freePort();
      for (const [what, base] of [["refused", `http://127.0.0.1:${closed}/v1`], ["CORS", noCors.base]]) {
        for (const context of ["page", "worker"]) {
          const result = await where[context].evaluate(engineRun, { base, clients: 1, nRequests: 1, payload });
          assert.equal(result.stats.failed_requests, 1);
          assert.equal(result.responses[0].error, `network error: ${NETWORK_TEXT[engine]} (connection refused, reset, or blocked by CORS)`, `${what} in a ${context}`);
        }
      }
    });

    test(`${engine} warns when clients exceed the HTTP/1.1 per-host connection limit`, async () => {
      const result = await page.evaluate(engineRun, { base: sim.base, clients: 10, nRequests: 1, payload });
      assert.equal(result.responses.length, 10);
      const warning = result.info.warnings.find((w) => w.includes("connections per host"));
      assert.ok(warning, JSON.stringify(result.info.warnings));
      assert.match(warning, /10 clients over http\/1\.1/);
    });

    test(`${engine}: 12 clients over h2 ${engine === "webkit" ? "reach the server in waves of 6 (WebKitGTK's per-host cap), and the result warns" : "reach the server together (multiplexed), no warning"}`, async () => {
      await page.evaluate(engineRun, { base: sim.httpsBase, clients: 12, nRequests: 1, payload }); // connection set up
      for (const context of ["page", "worker"]) {
        await sim.clear();
        const result = await where[context].evaluate(engineRun, { base: sim.httpsBase, clients: 12, nRequests: 1, payload });
        assert.equal(result.stats.failed_requests, 0);
        assert.equal(result.info.protocol, "h2");
        // When the server received each request, after the first: a queued request arrives only
        // once an earlier one finished (50 ms TTFT + 16 tokens × 5 ms ≈ 130 ms later).
        const received = (await sim.requests()).map((r) => r.received_us).sort((a, b) => a - b);
        const seventhLateMs = (received[6] - received[0]) / 1000;
        const warning = result.info.warnings.find((w) => w.includes("WebKitGTK"));
        console.log(`# ${engine} ${context}: 12 clients over h2, 7th request received ${seventhLateMs.toFixed(1)} ms after the 1st`);
        if (engine === "webkit") {
          assert.ok(seventhLateMs > 100, `7th request ${seventhLateMs} ms after the 1st`);
          assert.match(warning ?? "", /^12 clients over h2 in WebKitGTK: it runs at most 6 requests to one host at once even over HTTP\/2/);
        } else {
          assert.ok(seventhLateMs < 100, `7th request ${seventhLateMs} ms after the 1st`);
          assert.equal(warning, undefined);
        }
      }
    });

    test(`${engine}: Resource Timing phases per request in chunk_timings.jsonl — 10 clients over HTTP/1.1: requests 7+ queued for a connection; hidden without Timing-Allow-Origin`, async () => {
      for (const context of ["page", "worker"]) {
        // All ten start together (no start jitter), so the four that wait, wait a whole response.
        const result = await where[context].evaluate(engineRun, { base: sim.base, clients: 10, nRequests: 1, payload, startJitterMs: 0 });
        assert.equal(result.stats.failed_requests, 0);
        const lines = result.files["chunk_timings.jsonl"].trim().split("\n").map((l) => JSON.parse(l));
        const byId = new Map(lines.map((t) => [t.id, t.network]));
        const rows = result.responses.map((r) => ({ ttft: r.time_to_first_token, ttlt: r.time_to_last_token, n: byId.get(r.id) }));
        assert.ok(rows.every((r) => r.n?.visible === true), `${context}: ${JSON.stringify(rows.map((r) => r.n))}`);
        assert.deepEqual(result.info.network_phases && [result.info.network_phases.recorded, result.info.network_phases.hidden], [10, 0], context);
        // Six requests get a connection at once; the other four wait for one to be free, i.e.
        // for a whole response (50 ms TTFT + 16 tokens × 5 ms ≈ 130 ms): their TTFT is that
        // wait. (A busy machine delays every request's dispatch alike, so compare the groups.)
        const queueing = rows.map((r) => r.n.queueing).sort((a, b) => a - b);
        console.log(`# ${engine} ${context}: queueing (ms) ${queueing.map((q) => (q * 1000).toFixed(1)).join(" ")}; summary ${JSON.stringify(result.info.network_phases)}`);
        assert.ok(queueing[6] - queueing[5] > 0.06 && queueing[6] > 0.1, `${context}: ${queueing}`);
        assert.ok(result.info.network_phases.queued >= 4);
        assert.ok(result.info.network_phases.queueing_max > 0.1);
        // Each client stamp is explained: sent after its queueing, head before the first token.
        const step = result.info.timer_resolution_ms / 1000;
        for (const r of rows) {
          assert.ok(r.n.request_sent >= r.n.queueing - step - 0.001, JSON.stringify(r));
          assert.ok(r.n.response_start >= r.n.request_sent - step && r.n.response_start <= r.ttft + step, JSON.stringify(r));
          for (const k of ["dns", "connect", "tls"]) assert.ok(r.n[k] >= 0 && r.n[k] < 0.05, `${k}: ${JSON.stringify(r)}`);
        }
        // Without Timing-Allow-Origin the same requests record that their phases are hidden.
        const hidden = await where[context].evaluate(engineRun, { base: noTao.base, clients: 2, nRequests: 1, payload });
        assert.equal(hidden.stats.failed_requests, 0);
        const hiddenLines = hidden.files["chunk_timings.jsonl"].trim().split("\n").map((l) => JSON.parse(l).network);
        assert.deepEqual(hiddenLines, [{ visible: false, queueing: null, dns: null, connect: null, tls: null, request_sent: null, response_start: null }, { visible: false, queueing: null, dns: null, connect: null, tls: null, request_sent: null, response_start: null }], context);
        assert.deepEqual([hidden.info.network_phases.recorded, hidden.info.network_phases.hidden, hidden.info.network_phases.queueing_p50], [2, 2, null]);
      }
    });

    test(`${engine} records a warning when the page is hidden during a run`, async () => {
      const warnings = await page.evaluate(async ({ base }) => {
        const { OpenAIEndpoint, Runner } = await import("/pkg/index.js");
        const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: base, model: "m" }) });
        const run = runner.run({ nRequests: 3, payload: { messages: [{ role: "user", content: "x" }], max_tokens: 4 } });
        // What a tab switch does: the document becomes hidden and says so.
        setTimeout(() => {
          Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
          document.dispatchEvent(new Event("visibilitychange"));
        }, 20);
        const r = await run;
        delete document.visibilityState;
        return r.info.warnings;
      }, { base: sim.base });
      assert.ok(warnings.some((w) => /hidden/.test(w) && /throttle/.test(w)), JSON.stringify(warnings));
    });
  }
});
