// The playground's endpoint families (www/src/families.js) end to end in headless Chromium
// against llm-sim: each family shows its own fields, note and presets; a run with the Responses
// and the Anthropic family in the engine worker; the key stays in memory (not in storage or the
// share link), the family's own settings travel in the share link. The custom family (the
// declarative CustomEndpoint) runs llm-sim's made-up /v1/generate API with its default paths;
// its header values stay in memory.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startSim } from "./sim.js";
import { launchChromium } from "./browser.js";
import { serveWww } from "../../scripts/serve-www.mjs";
import { GENERATE_READ, GENERATE_TEMPLATE } from "./families.js";

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

/** The responses the ResultStore saved for a run (`everythingStored()`'s text). */
function storedResponses(stored, runName) {
  const [runs, batches] = JSON.parse(stored);
  const id = runs.find((r) => r.name === runName)?.id;
  return batches.filter((b) => b.runId === id).flatMap((b) => b.responses.split("\n").filter(Boolean).map((line) => JSON.parse(line)));
}

test("the custom family runs llm-sim's /v1/generate with read paths; header values are never stored or shared", async () => {
  const HEADER_SECRET = "custom-header-e2e-do-not-store";
  await page.selectOption("#endpoint-type", "custom");
  const fields = await page.$$eval("#family-fields input, #family-fields select, #family-fields textarea", (i) => i.map((x) => `${x.id}:${x.type}`));
  assert.deepEqual(fields, ["family-url:url", "family-framing:select-one", "family-read:textarea", "family-payloadTemplate:textarea", "family-stream:checkbox", "family-ttftVisibleTokensOnly:checkbox"]);
  assert.deepEqual([await page.isVisible("#base-url"), await page.isVisible("#api-key")], [false, false]);
  assert.match(await text("#family-note"), /read with the paths.*Extra headers: their values are secrets.*POST \/v1\/generate/s);
  // Filled for the made-up API: the same reading the Node tests check against the function.
  assert.deepEqual(JSON.parse(await page.inputValue("#family-read")), GENERATE_READ);
  assert.deepEqual(JSON.parse(await page.inputValue("#family-payloadTemplate")), GENERATE_TEMPLATE);
  assert.deepEqual(JSON.parse(await page.inputValue("#payload")), { prompt: "In two sentences, what is time to first token?", max_new_tokens: 64, stream: true });
  assert.match(await text("#payload-status"), /^✓ 1 payload/);

  await page.fill("#family-url", `${sim.base}/generate`);
  await page.fill("#model", "sim-gen");
  await page.click("details:has(#headers) > summary");
  await page.fill("#headers", `X-Team: ${HEADER_SECRET}`);
  // Invalid JSON is caught in the form, a bad path by the engine: both mark the field.
  await page.fill("#family-read", "{ text: ");
  await page.click("#start");
  await page.waitForFunction(() => !document.getElementById("problem").hidden);
  assert.match(await text("#problem"), /Read paths \(JSON\) is not valid JSON/);
  assert.equal(await page.getAttribute("#family-read", "aria-invalid"), "true");
  await page.fill("#family-read", JSON.stringify({ ...GENERATE_READ, text: "a..b" }));
  await page.click("#start");
  await page.waitForFunction(() => /unexpected '\.' at character 3/.test(document.getElementById("problem").textContent));
  assert.equal(await page.getAttribute("#family-read", "aria-invalid"), "true");
  await page.fill("#family-read", JSON.stringify(GENERATE_READ, null, 2));

  await page.selectOption("#preset", "short");
  await page.fill("#clients", "2");
  await page.check('input[name="mode"][value="requests"]');
  await page.fill("#amount", "3");
  await page.fill("#run-name", "e2e-custom");
  await sim.clear();
  await page.click("#start");
  await page.waitForFunction(() => /^Finished/.test(document.getElementById("live-state").textContent), null, { timeout: 60_000 });
  assert.equal(await text("#live-completed"), "6", await text("#live-state"));
  assert.equal(await text("#live-failed"), "0");
  const records = await sim.requests();
  assert.equal(records.length, 6);
  assert.ok(records.every((r) => r.output_tokens === 64 && r.stream), JSON.stringify(records[0]));

  const stored = await everythingStored();
  assert.ok(stored.includes("CustomEndpoint"), "the run is in the history as CustomEndpoint");
  const saved = storedResponses(stored, "e2e-custom");
  assert.deepEqual(saved.map((r) => r.id.replace(/^gen-/, "")).sort(), records.map((r) => r.id).sort(), "ids read by the id path");
  assert.ok(saved.every((r) => r.num_tokens_output === 64 && r.num_tokens_input === records[0].input_tokens && r.error === null && r.time_to_first_token > 0.03), JSON.stringify(saved[0]));
  assert.ok(!stored.includes(HEADER_SECRET), "a header value reached storage");

  await page.click("#share");
  const link = page.url();
  assert.ok(!link.includes(HEADER_SECRET), "a header value is in the share link");
  const config = JSON.parse(Buffer.from(link.split("#config=")[1], "base64url").toString());
  assert.equal(config.endpointType, "custom");
  assert.deepEqual(config.headerNames, ["X-Team"]);
  assert.equal(config.familyOptions.url, `${sim.base}/generate`);
  assert.deepEqual(JSON.parse(config.familyOptions.read), GENERATE_READ);
  const fresh = await context.newPage();
  await fresh.goto(link);
  await fresh.waitForFunction(() => window.playground?.ready === true);
  assert.equal(await fresh.inputValue("#endpoint-type"), "custom");
  assert.equal(await fresh.inputValue("#family-url"), `${sim.base}/generate`);
  assert.equal(await fresh.inputValue("#headers"), "X-Team: ", "the header's name came back, not its value");
  await fresh.close();
});
