// The playground's endpoint families (www/src/families.js) end to end in headless Chromium
// against llm-sim: each family shows its own fields, note and presets; a run with the Responses
// and the Anthropic family in the engine worker; the key stays in memory (not in storage or the
// share link), the family's own settings travel in the share link.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startSim } from "./sim.js";
import { launchChromium } from "./browser.js";
import { serveWww } from "../../scripts/serve-www.mjs";

const SECRET = "sk-family-e2e-do-not-store";
let sim, site, browser, context, page;

before(async () => {
  sim = await startSim(["--ttft-ms", "40", "--itl-ms", "4"]);
  site = await serveWww(0);
  browser = await launchChromium();
  context = await browser.newContext();
  page = await context.newPage();
  page.on("pageerror", (e) => console.log("# page error:", e.message));
  await page.goto(`${site.origin}/`);
  await page.waitForFunction(() => window.playground?.ready === true);
});
after(async () => {
  await browser?.close();
  await site?.close();
  await sim?.stop();
});

const text = (sel) => page.textContent(sel);
const presetLabels = () => page.$$eval("#preset option", (o) => o.map((x) => x.textContent));

/** Everything the page keeps: web storage and the ResultStore's IndexedDB. */
const everythingStored = () =>
  page.evaluate(
    () =>
      new Promise((resolve) => {
        const req = indexedDB.open("llmeter-results");
        req.onsuccess = () => {
          const tx = req.result.transaction(["runs", "batches"]);
          const runs = tx.objectStore("runs").getAll(), batches = tx.objectStore("batches").getAll();
          tx.oncomplete = () => resolve(JSON.stringify([runs.result, batches.result, { ...localStorage }, { ...sessionStorage }]));
        };
      }),
  );

async function runFamily(family, runName, configure = async () => {}) {
  await page.selectOption("#endpoint-type", family);
  await configure();
  await page.fill("#base-url", sim.base);
  await page.fill("#model", "sim-model");
  await page.fill("#api-key", SECRET);
  await page.selectOption("#preset", "short");
  await page.fill("#clients", "2");
  await page.check('input[name="mode"][value="requests"]');
  await page.fill("#amount", "3");
  await page.fill("#run-name", runName);
  await sim.clear();
  await page.click("#start");
  await page.waitForFunction(() => /^Finished/.test(document.getElementById("live-state").textContent), null, { timeout: 60_000 });
  assert.equal(await text("#live-completed"), "6", await text("#live-state"));
  assert.equal(await text("#live-failed"), "0");
  const records = await sim.requests();
  assert.equal(records.length, 6);
  return records;
}

test("each family shows its own fields, note and presets", async () => {
  const families = await page.$$eval("#endpoint-type option", (o) => o.map((x) => x.value));
  assert.deepEqual(families.slice(0, 3), ["openai", "openai-responses", "anthropic"]);
  assert.equal(await page.$$eval("#family-fields input", (i) => i.length), 0, "chat has no extra field");
  assert.equal(await page.isVisible("#family-note"), false);

  await page.selectOption("#endpoint-type", "anthropic");
  assert.equal(await page.inputValue("#base-url"), "https://api.anthropic.com/v1");
  assert.equal(await page.inputValue("#family-anthropicVersion"), "2023-06-01");
  assert.equal(await page.isChecked("#family-ttftVisibleTokensOnly"), true);
  assert.match(await text("#family-note"), /anthropic-dangerous-direct-browser-access: true.*any script running here could read it/s);
  assert.match(await text("#base-url-help"), /\{base URL\}\/messages/);
  assert.ok((await presetLabels()).includes("Extended thinking (budget 1024)"));
  // The preset payload followed the family: Anthropic needs max_tokens.
  assert.match(await text("#payload-status"), /^✓ 1 payload/);
  await page.fill("#payload", JSON.stringify({ messages: [{ role: "user", content: "hi" }] }));
  assert.match(await text("#payload-status"), /sets no max_tokens, which this API requires/);

  await page.selectOption("#endpoint-type", "openai-responses");
  assert.equal(await page.$$eval("#family-fields input", (i) => i.map((x) => x.id)).then((ids) => ids.join()), "family-ttftVisibleTokensOnly");
  assert.equal(await page.isVisible("#family-note"), false);
  await page.fill("#payload", JSON.stringify({ messages: [] }));
  assert.match(await text("#payload-status"), /no "input", which the Responses API requires/);
  await page.selectOption("#preset", "reasoning");
  assert.match(await page.inputValue("#payload"), /"effort": "low"/);
});

test("a Responses API run and an Anthropic run in the worker; the key is never stored", async () => {
  const responses = await runFamily("openai-responses", "e2e-responses");
  assert.ok(responses.every((r) => r.output_tokens === 64 && r.stream));
  const anthropic = await runFamily("anthropic", "e2e-anthropic", () => page.uncheck("#family-ttftVisibleTokensOnly"));
  assert.ok(anthropic.every((r) => r.output_tokens === 64 && r.model === "sim-model"));
  const stored = await everythingStored();
  assert.ok(stored.includes("AnthropicMessagesStream") && stored.includes("OpenAIResponseStreamEndpoint"), "both runs are in the history");
  assert.ok(!stored.includes(SECRET), "the API key reached storage");

  await page.click("#share");
  const config = JSON.parse(Buffer.from(page.url().split("#config=")[1], "base64url").toString());
  assert.equal(config.endpointType, "anthropic");
  assert.deepEqual(config.familyOptions, { anthropicVersion: "2023-06-01", ttftVisibleTokensOnly: false });
  assert.ok(!page.url().includes(SECRET));
  const fresh = await context.newPage();
  await fresh.goto(page.url());
  await fresh.waitForFunction(() => window.playground?.ready === true);
  assert.equal(await fresh.inputValue("#endpoint-type"), "anthropic");
  assert.equal(await fresh.inputValue("#family-anthropicVersion"), "2023-06-01");
  assert.equal(await fresh.isChecked("#family-ttftVisibleTokensOnly"), false);
  assert.equal(await fresh.inputValue("#api-key"), "");
  await fresh.close();
});
