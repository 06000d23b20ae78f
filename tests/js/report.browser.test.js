// Every HTML report the package writes (a run, a load test, a latency heatmap) fed hostile
// values: each field of each input file in turn (and the folder names) holds markup that would
// run script if it reached the HTML unescaped. Each report is opened in headless Chromium: no
// script runs, no element comes from the data, and every hostile value that the report shows is
// shown as text, verbatim.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startSim } from "./sim.js";
import { launchChromium } from "./browser.js";
import { OpenAIEndpoint, Runner, Result, LoadTest, LoadTestResult, LatencyHeatmap, LatencyHeatmapResult } from "../../pkg/index.js";

let sim, browser, page;
/** Clean folders written by real runs: { kind, files, load(files) → report object }. */
const folders = [];

before(async () => {
  sim = await startSim(["--ttft-ms", "2", "--itl-ms", "1", "--seed", "9"]);
  browser = await launchChromium();
  page = await browser.newPage();
  const endpoint = new OpenAIEndpoint({ baseUrl: sim.base, model: "sim-model" });
  const payload = { messages: [{ role: "user", content: "hostile values" }], max_tokens: 4 };
  const run = await new Runner({ endpoint }).run({ clients: 2, nRequests: 2, payload, runName: "clean-run" });
  folders.push({ kind: "run", files: run.toFiles(), load: (f) => Result.fromFiles(f) });
  const lt = await new LoadTest({ endpoint, payload, sequenceOfClients: [1, 2], minRequestsPerRun: 2, testName: "clean-test" }).run();
  folders.push({ kind: "load test", files: lt.toFiles(), load: (f) => LoadTestResult.fromFiles(f) });
  const hm = await new LatencyHeatmap({ endpoint, sourceText: "one two three four five six seven eight nine ten ".repeat(20), clients: 2, inputLengths: [5, 10], outputLengths: [4, 8], testName: "clean-heatmap" }).run();
  folders.push({ kind: "heatmap", files: hm.toFiles(), load: (f) => LatencyHeatmapResult.fromFiles(f) });
});
after(async () => {
  await browser?.close();
  await sim?.stop();
});

/** Markup that runs script if parsed as HTML (tag, attribute or script), tagged with its field. */
const hostile = (id) => `"'><img src=x data-xss="${id}" onerror="window.__xss.push('${id}')"><script>window.__xss.push('${id}')</script><svg onload="window.__xss.push('${id}')">&amp;`;

/** Every leaf of a JSON value, as a path of keys. */
function leaves(value, path = []) {
  if (value !== null && typeof value === "object") {
    const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
    if (entries.length === 0) return [path];
    return entries.flatMap(([k, v]) => leaves(v, [...path, k]));
  }
  return [path];
}

function setAt(value, path, leaf) {
  if (path.length === 0) return leaf;
  const copy = Array.isArray(value) ? [...value] : { ...value };
  copy[path[0]] = setAt(value[path[0]], path.slice(1), leaf);
  return copy;
}

/** One variant per leaf of every file (the first line of JSON-lines files), and per folder name. */
function* variants(folder) {
  for (const [name, text] of Object.entries(folder.files)) {
    const lines = name.endsWith(".jsonl");
    const first = lines ? text.split("\n")[0] : text;
    const json = JSON.parse(first);
    for (const path of leaves(json)) {
      const id = `${folder.kind}|${name}|${path.join(".")}`;
      const changed = JSON.stringify(setAt(json, path, hostile(id)));
      yield { id, files: { ...folder.files, [name]: lines ? text.replace(first, changed) : changed } };
    }
  }
  // The test name comes from the folder path.
  if (folder.kind !== "run") {
    const id = `${folder.kind}|folder name`;
    const evil = `evil<img src=x onerror="window.__xss.push('${id}')">`;
    yield { id, files: Object.fromEntries(Object.entries(folder.files).map(([k, v]) => [k.replace(/^clean-[a-z]+\//, `${evil}/`), v])), shown: evil };
  }
}

test("hostile values in every field of every input file: no report runs script, and what it shows is shown as text", async () => {
  const tally = { variants: 0, rejected: 0, rendered: 0, shown: 0 };
  const problems = [];
  for (const folder of folders) {
    for (const v of variants(folder)) {
      tally.variants++;
      let html;
      try {
        html = await (await folder.load(v.files)).toHTML();
      } catch (e) {
        // Refused as input (a string where the loader wants a number): no report, nothing to run.
        tally.rejected++;
        continue;
      }
      tally.rendered++;
      const value = v.shown ?? hostile(v.id);
      const check = await page.evaluate(async ({ html, id, value }) => {
        window.__xss = [];
        document.open();
        document.write(html);
        document.close();
        await new Promise((r) => setTimeout(r, 20)); // an <img onerror> fires after loading fails
        const fromData = document.querySelectorAll("img, script, iframe, object, embed, [onerror], [onload], [data-xss]").length;
        const text = document.documentElement.textContent;
        // As is, or inside the report's JSON dump of the stats (JSON-escaped there).
        return { ran: window.__xss.length, fromData, visible: text.includes(value) || text.includes(JSON.stringify(value).slice(1, -1)) };
      }, { html, id: v.id, value });
      if (check.ran || check.fromData) problems.push(`${v.id}: ${check.ran} script(s) ran, ${check.fromData} element(s) from data`);
      // Written into the report at all ⇒ shown as the exact text (escaped, not dropped or mangled).
      if (html.includes(v.id)) {
        if (!check.visible) problems.push(`${v.id}: written into the report but not visible as text`);
        else tally.shown++;
      }
    }
  }
  console.log(`# hostile report inputs: ${JSON.stringify(tally)}`);
  assert.deepEqual(problems, []);
  // The test must reach the reports: most variants load, and many put the value on the page.
  assert.ok(tally.rendered > tally.variants / 2, JSON.stringify(tally));
  assert.ok(tally.shown >= 10, JSON.stringify(tally));
});
