// LoadTest and LatencyHeatmap in the three browser engines (Chromium, Firefox, WebKit; see
// engines.js) against a real llm-sim whose TTFT grows with input tokens (prefill) and whose TTLT
// grows with output tokens (inter-token latency); the LoadTest folder read by Python llmeter;
// figures drawn by plotly.js-dist-min; the HTML report opened with nothing for it to load.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { createServer } from "node:http";
import { startSim, ROOT } from "./sim.js";
import { startStatic } from "./browser.js";
import { forEachEngine, launchEngine } from "./engines.js";

// Large effects on purpose: on a busy 2-core machine Chromium can add ~150 ms to a request.
const PREFILL_US_PER_TOKEN = 1000; // 400 input tokens → +400 ms TTFT over 20 tokens (+20 ms)
const ITL_MS = 10; // 32 output tokens → +280 ms TTLT over 4 tokens
const PYTHON = process.env.LLMETER_PYTHON ?? `${ROOT}/.venv/bin/python`;

/** Writes `{path: text}` under a new temporary folder and returns the folder. */
function writeTree(files) {
  const dir = mkdtempSync(path.join(tmpdir(), "llmeter-exp-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

let site;
before(async () => {
  site = await startStatic();
});
after(async () => {
  await site?.close();
});

// The engines run side by side, each with its own simulator.
forEachEngine((engine) => {
let sim, browser, page, loadTest, heatmap;
before(async () => {
  sim = await startSim(["--ttft-ms", "10", "--itl-ms", String(ITL_MS), "--prefill-us-per-token", String(PREFILL_US_PER_TOKEN), "--seed", "1"]);
  browser = await launchEngine(engine);
  page = await browser.newPage(`${site.origin}/tests/js/pages/blank.html`);
  const out = await page.evaluate(async ({ base }) => {
    const { OpenAIEndpoint, LoadTest, LatencyHeatmap } = await import("/pkg/index.js");
    const endpoint = new OpenAIEndpoint({ baseUrl: base, model: "sim", apiKey: "sk-secret-exp" });
    const progress = [];
    const seen = [];
    const jsonl = [0, 1, 2].map((i) => JSON.stringify({ messages: [{ role: "user", content: `question ${i} about browsers` }], max_tokens: 8 })).join("\n") + "\n";
    const lt = new LoadTest({
      endpoint, payload: new Blob([jsonl]), sequenceOfClients: [1, 2, 4], minRequestsPerClient: 1, minRequestsPerRun: 6,
      testName: "sweep", startJitterMs: 0,
      onProgress: (p) => progress.push({ level: p.level, levels: p.levels, clients: p.clients, completed: p.run.completed, expected: p.run.expected, fraction: p.fraction }),
      onResponse: (r) => seen.push(r.id), // an extra run option, passed through to every level
    });
    const ltResult = await lt.run();
    const words = Array.from({ length: 600 }, (_, i) => `word${i % 97}`).join(" ");
    const hm = new LatencyHeatmap({ endpoint, sourceText: words, clients: 3, inputLengths: [20, 400], outputLengths: [4, 32], requestsPerCombination: 2, createPayloadArgs: { temperature: 0 }, testName: "heat" });
    const hmResult = await hm.run();
    const cells = hmResult.cells().map((row) => row.map((rs) => rs.map((r) => ({ ttft: r.time_to_first_token, ttlt: r.time_to_last_token, in: r.num_tokens_input, out: r.num_tokens_output, err: r.error, temperature: r.input_payload.temperature }))));
    const ltFigures = await ltResult.figures();
    const hmFigures = await hmResult.figures();
    const runFigures = await (await import("/pkg/index.js")).runFigures(ltResult.results.get(4));
    return {
      progress, seenCount: seen.length,
      levels: [...ltResult.results].map(([c, r]) => ({ c, n: r.responses.length, nRequests: r.summary.n_requests, runName: r.summary.run_name, failed: r.stats.failed_requests, stats: r.stats })),
      ltFiles: ltResult.toFiles(), hmFiles: hmResult.toFiles(), plan: hmResult.plan, cells,
      hmStats: hmResult.result.stats,
      ltFigures, hmFigures, runFigures,
      ltHTML: await ltResult.toHTML(), hmHTML: await hmResult.toHTML(),
    };
  }, { base: sim.base });
  loadTest = out;
  heatmap = out;
});
after(async () => {
  await browser?.close();
  await sim?.stop();
});

test(`${engine}: LoadTest runs 3 levels with LLMeter's requests-per-client rule, progress across levels`, () => {
  const { levels, progress, seenCount } = loadTest;
  // minRequestsPerRun 6: 1 client → 6, 2 → 3, 4 → 2 (ceil(6/4)).
  assert.deepEqual(levels.map((l) => [l.c, l.n, l.nRequests, l.runName, l.failed]), [[1, 6, 6, "00001-clients", 0], [2, 6, 3, "00002-clients", 0], [4, 8, 2, "00004-clients", 0]]);
  assert.equal(seenCount, 20, "onResponse passed through to every level");
  const last = progress.at(-1);
  assert.deepEqual([last.level, last.levels, last.clients, last.completed, last.expected, last.fraction], [2, 3, 4, 8, 8, 1]);
  const fractions = progress.map((p) => p.fraction);
  assert.deepEqual(fractions, [...fractions].sort((a, b) => a - b), "overall progress only grows");
  assert.deepEqual([...new Set(progress.map((p) => p.level))], [0, 1, 2]);
  for (const l of levels) assert.ok(l.stats["time_to_first_token-p50"] > 0.01);
});

test(`${engine}: LoadTest files: LLMeter's layout, no secret, read back by fromFiles and by Python llmeter`, async () => {
  const files = loadTest.ltFiles;
  const names = Object.keys(files).sort();
  for (const c of ["00001", "00002", "00004"]) for (const f of ["summary.json", "stats.json", "responses.jsonl", "run_config.json", "payload.jsonl"]) assert.ok(names.includes(`sweep/${c}-clients/${f}`), `${c} ${f}`);
  assert.ok(!JSON.stringify(files).includes("sk-secret-exp"));
  assert.equal(files["sweep/00004-clients/payload.jsonl"].trim().split("\n").length, 3);
  const dir = writeTree(files);
  const out = execFileSync(PYTHON, [`${ROOT}/tests/python/compare_load_test.py`, path.join(dir, "sweep"), "1", "2", "4"], { encoding: "utf8" });
  console.log(`# ${out.trim().replace(/\n/g, "\n# ")}`);
  assert.equal((out.match(/stats equal/g) ?? []).length, 3);

  const back = await page.evaluate(async (files) => {
    const { LoadTestResult } = await import("/pkg/index.js");
    const r = await LoadTestResult.fromFiles(files);
    return { testName: r.testName, clients: r.clients, stats: r.clients.map((c) => r.results.get(c).stats) };
  }, files);
  assert.equal(back.testName, "sweep");
  assert.deepEqual(back.clients, [1, 2, 4]);
  assert.deepEqual(back.stats, loadTest.levels.map((l) => l.stats));
});

test(`${engine}: LatencyHeatmap 2×2, 2 per cell over 3 clients: every cell measured, TTFT grows with input, TTLT with output`, async () => {
  const { cells, plan } = heatmap;
  assert.deepEqual(plan.prompts.map((p) => p.tokens), [20, 400]);
  assert.equal(plan.requests.length, 8);
  // The fastest requests: platform hiccups (a new connection, a late task on this busy 2-core
  // machine) only ever add time, so the minimum shows what the server was configured to do.
  const min = (xs) => Math.min(...xs);
  for (const [i, inTokens] of [20, 400].entries()) {
    for (const [j, outTokens] of [4, 32].entries()) {
      const rs = cells[i][j];
      assert.equal(rs.length, 2, `cell ${i},${j}`);
      for (const r of rs) {
        assert.equal(r.err, null);
        assert.equal(r.in, inTokens);
        assert.equal(r.out, outTokens);
        assert.equal(r.temperature, 0, "createPayloadArgs reach the payload");
      }
    }
  }
  // Per input length (row, 4 requests) and per cell (2 requests).
  const row = (i) => cells[i].flat();
  const ttft = (i) => min(row(i).map((r) => r.ttft));
  // Prefill: 380 more input tokens × 1000 µs = 380 ms more TTFT.
  assert.ok(ttft(1) - ttft(0) > 0.2, `TTFT ${ttft(0)} → ${ttft(1)}`);
  // Decode: 28 more tokens × 10 ms = 280 ms more to the last token, in each row. Compared on
  // TTLT, not TTLT − TTFT: llm-sim keeps every token on an absolute schedule, so a first token
  // seen late (a hiccup) shortens TTLT − TTFT, while the last token can only come late. One row
  // showing the gain is enough; a false miss needs both requests of both 4-token cells late.
  const lastToken = (i, j) => min(cells[i][j].map((r) => r.ttlt));
  const decodeGain = (i) => lastToken(i, 1) - lastToken(i, 0);
  assert.ok(Math.max(decodeGain(0), decodeGain(1)) > 0.15, `TTLT gain from 4 to 32 output tokens: ${decodeGain(0)}, ${decodeGain(1)}`);
  console.log(`# heatmap min TTFT (s): in20 ${ttft(0).toFixed(3)}, in400 ${ttft(1).toFixed(3)}; min TTLT gain out4 → out32: in20 ${decodeGain(0).toFixed(3)}, in400 ${decodeGain(1).toFixed(3)}`);

  const files = heatmap.hmFiles;
  assert.ok("heat/00003-clients/heatmap.json" in files && "heat/00003-clients/summary.json" in files);
  // The heatmap's run folder is an ordinary LLMeter run folder (heatmap.json is ignored by it).
  const dir = writeTree(files);
  const out = execFileSync(PYTHON, [`${ROOT}/tests/python/compare_stats.py`, path.join(dir, "heat/00003-clients")], { encoding: "utf8" });
  assert.match(out, /stats equal/);
  const back = await page.evaluate(async (files) => {
    const { LatencyHeatmapResult } = await import("/pkg/index.js");
    const r = await LatencyHeatmapResult.fromFiles(files);
    return { testName: r.testName, counts: r.cells().map((row) => row.map((c) => c.length)), stats: r.result.stats };
  }, files);
  assert.equal(back.testName, "heat");
  assert.deepEqual(back.counts, [[2, 2], [2, 2]]);
  assert.deepEqual(back.stats, heatmap.hmStats);
});

test(`${engine}: figures render with plotly.js-dist-min: traces drawn`, async () => {
  const drawn = await page.evaluate(async ({ ltFigures, hmFigures, runFigures }) => {
    await new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = "/node_modules/plotly.js-dist-min/plotly.min.js";
      s.onload = resolve; s.onerror = reject;
      document.head.append(s);
    });
    const out = {};
    for (const [group, figs] of Object.entries({ lt: ltFigures, hm: hmFigures, run: runFigures })) {
      for (const [name, fig] of Object.entries(figs)) {
        const div = document.createElement("div");
        document.body.append(div);
        await window.Plotly.newPlot(div, fig.data, fig.layout);
        out[`${group}.${name}`] = {
          traces: div._fullData.length,
          scatterTraces: div.querySelectorAll(".scatterlayer .trace").length,
          points: div.querySelectorAll(".scatterlayer .point").length,
          heatmaps: div.querySelectorAll(".heatmaplayer .hm").length,
          bars: div.querySelectorAll(".barlayer .point").length,
          boxes: div.querySelectorAll(".boxlayer .trace").length,
          xType: div._fullLayout.xaxis.type,
          title: div._fullLayout.title.text,
        };
      }
    }
    return out;
  }, { ltFigures: loadTest.ltFigures, hmFigures: heatmap.hmFigures, runFigures: loadTest.runFigures });
  // Load test: p50/p90/p99/average lines over 3 levels (3 markers each on the three percentile traces).
  assert.deepEqual(Object.keys(drawn).filter((k) => k.startsWith("lt.")).sort(), ["lt.average_input_tokens_clients", "lt.average_output_tokens_clients", "lt.error_rate", "lt.requests_per_minute", "lt.time_to_first_token", "lt.time_to_last_token"]);
  for (const k of ["lt.time_to_first_token", "lt.time_to_last_token"]) {
    assert.equal(drawn[k].traces, 4);
    assert.equal(drawn[k].scatterTraces, 4);
    assert.equal(drawn[k].points, 9);
    assert.equal(drawn[k].xType, "log");
  }
  for (const k of ["lt.requests_per_minute", "lt.error_rate", "lt.average_output_tokens_clients"]) assert.equal(drawn[k].points, 3, k);
  assert.equal(drawn["lt.time_to_first_token"].title, "Time to first token vs number of clients");
  // Heatmaps: one heatmap + a scatter of the 8 requests.
  for (const k of ["hm.time_to_first_token", "hm.time_to_last_token"]) {
    assert.equal(drawn[k].heatmaps, 1, k);
    assert.equal(drawn[k].points, 8, k);
  }
  assert.ok(drawn["run.time_to_first_token_histogram"].bars > 0);
  assert.equal(drawn["run.latency_box"].boxes, 3);
});

test(`${engine}: HTML reports open offline: no request of any kind, tables and SVG charts inside`, async () => {
  // Each report is the only thing its own server has; any request the page makes for a script,
  // style, image or font is logged there (or, to another origin, in Resource Timing), and no
  // element points anywhere.
  for (const [html, svgs, marker] of [[loadTest.ltHTML, 6, "Load test sweep"], [heatmap.hmHTML, 6, "Latency heatmap heat"]]) {
    const requests = [];
    const server = createServer((req, res) => {
      if (req.url === "/report.html") return res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html);
      // Browsers ask for a favicon on their own; anything else would be the report's.
      if (req.url !== "/favicon.ico") requests.push(req.url);
      res.writeHead(404).end();
    });
    await new Promise((r) => server.listen(0, "127.0.0.1", r));
    try {
      const p = await browser.newPage(`http://127.0.0.1:${server.address().port}/report.html`);
      const seen = await p.evaluate(() => ({
        svgs: document.querySelectorAll("svg").length, rows: document.querySelectorAll("table tr").length, scripts: document.querySelectorAll("script").length,
        title: document.querySelector("h1").textContent, pointsOrCells: document.querySelectorAll("svg .point, svg .cell").length,
        loaded: performance.getEntriesByType("resource").map((e) => e.name).filter((u) => !u.endsWith("/favicon.ico")),
        pointing: [...document.querySelectorAll("[src], link[href], iframe, object, embed, image, use[href]")].map((e) => e.outerHTML.slice(0, 80)),
      }));
      await p.close();
      assert.deepEqual(requests, []);
      assert.deepEqual(seen.loaded, []);
      assert.deepEqual(seen.pointing, []);
      assert.equal(seen.svgs, svgs);
      assert.equal(seen.scripts, 0);
      assert.equal(seen.title, marker);
      assert.ok(seen.rows >= 4 && seen.pointsOrCells > 0, JSON.stringify(seen));
      assert.ok(!html.includes("sk-secret-exp"));
    } finally {
      await new Promise((r) => server.close(r));
    }
  }
});

test(`${engine}: in a module Web Worker (as the playground calls it): LoadTest, heatmap, figures and HTML`, async () => {
  const worker = await page.worker();
  const out = await worker.evaluate(async ({ base }) => {
    const { init, OpenAIEndpoint, LoadTest, LatencyHeatmap } = await import("/pkg/index.js");
    await init(); // endpoint.createPayload below is synchronous wasm
    const endpoint = new OpenAIEndpoint({ baseUrl: base, model: "sim" });
    const lt = await new LoadTest({ endpoint, payload: endpoint.createPayload("hi there", 3), sequenceOfClients: [1, 2], minRequestsPerRun: 2, testName: "w" }).run();
    const hm = await new LatencyHeatmap({ endpoint, sourceText: "one two three four five six seven eight", clients: 2, inputLengths: [2, 6], outputLengths: [2], testName: "wh" }).run();
    const figs = await lt.figures();
    const html = await hm.toHTML();
    return { inWorker: typeof document === "undefined", clients: lt.clients, counts: hm.cells().map((row) => row.map((c) => c.length)), figures: Object.keys(figs).length, svgs: (html.match(/<svg /g) || []).length };
  }, { base: sim.base });
  await worker.terminate();
  assert.equal(out.inWorker, true);
  assert.deepEqual(out.clients, [1, 2]);
  assert.deepEqual(out.counts, [[1], [1]]);
  assert.equal(out.figures, 6);
  assert.equal(out.svgs, 6);
});
}, { parallel: true });
