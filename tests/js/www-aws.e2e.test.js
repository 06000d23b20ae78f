// The playground's AWS families (Bedrock Converse, Bedrock InvokeModel with its body formats,
// SageMaker) end to end in headless Chromium against llm-sim's Bedrock and SageMaker routes,
// which check SigV4 signatures (with a session token) and a Bedrock API key as AWS does: their
// own fields, note and presets; runs (and a latency heatmap) signed in the page by the AWS engine
// module, which the worker downloads only for these families; credentials kept in memory only (not in storage,
// history or the share link); AWS's refusals and a missing credential explained; a Bedrock
// endpoint without CORS explained for its request.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { mkdirSync, readFileSync } from "node:fs";
import { startSim, ROOT } from "./sim.js";
import { launchChromium } from "./browser.js";
import { serveWww } from "../../scripts/serve-www.mjs";

const KEY_ID = "AKIDPLAYGROUNDE2E";
const SECRET = "aws-secret-e2e-do-not-store";
const TOKEN = "aws-session-token-e2e-do-not-store";
const BEDROCK_KEY = "ABSK-bedrock-key-e2e-do-not-store";
const SECRETS = [KEY_ID, SECRET, TOKEN, BEDROCK_KEY];
const CLAUDE = "anthropic.claude-3-haiku-20240307-v1:0";
const SHOTS = path.join(ROOT, "out/screenshots");

let sim, noCors, site, browser, context, page;
/** Every URL the pages (and their workers) requested. */
const fetched = [];

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  sim = await startSim(["--aws-access-key-id", KEY_ID, "--aws-secret-access-key", SECRET, "--aws-session-token", TOKEN, "--bedrock-api-key", BEDROCK_KEY, "--ttft-ms", "30", "--itl-ms", "3"]);
  noCors = await startSim(["--no-cors"]);
  site = await serveWww(0);
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  context.on("request", (r) => fetched.push(r.url()));
  page = await context.newPage();
  page.on("pageerror", (e) => console.log("# page error:", e.message));
  await page.goto(`${site.origin}/`);
  await page.waitForFunction(() => window.playground?.ready === true);
});
after(async () => {
  await browser?.close();
  await site?.close();
  await sim?.stop();
  await noCors?.stop();
});

const text = (sel) => page.textContent(sel);
const payload = async () => JSON.parse(await page.inputValue("#payload"));
const visible = (sel) => page.isVisible(sel);
const awsEngineFetched = () => fetched.some((u) => u.endsWith("/pkg/llmeter_wasm_aws_bg.wasm"));

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

/** The responses the ResultStore saved for a run (`everythingStored()`'s text). */
function storedResponses(stored, runName) {
  const [runs, batches] = JSON.parse(stored);
  const id = runs.find((r) => r.name === runName)?.id;
  return batches.filter((b) => b.runId === id).flatMap((b) => b.responses.split("\n").filter(Boolean).map((line) => JSON.parse(line)));
}

/** An AWS family with llm-sim as its endpoint URL; credentials as given (absent ones emptied). */
async function configureAws(family, { model, endpointUrl = sim.url, region = "us-east-1", keyId = "", secret = "", token = "", apiKey = "", clients = 2, perClient = 3, runName }) {
  await page.selectOption("#endpoint-type", family);
  await page.check('input[name="experiment"][value="load"]');
  await page.check('input[name="load"][value="clients"]');
  await page.fill("#model", model);
  await page.fill("#family-region", region);
  await page.fill("#family-endpointUrl", endpointUrl);
  await page.fill("#family-accessKeyId", keyId);
  await page.fill("#family-secretAccessKey", secret);
  await page.fill("#family-sessionToken", token);
  if (await page.$("#family-apiKey")) await page.fill("#family-apiKey", apiKey);
  await page.selectOption("#preset", "short");
  await page.fill("#clients", String(clients));
  await page.check('input[name="mode"][value="requests"]');
  await page.fill("#amount", String(perClient));
  await page.fill("#run-name", runName);
}

/** Starts the run and waits for its end; the sim's ground truth of what it received. */
async function run(expected) {
  await sim.clear();
  const before = await text("#live-state");
  await page.click("#start");
  // This run's end: a state other than the one before the click (the previous run's "Finished"
  // would match at once) that is finished or stopped — or a refusal before the run started,
  // shown as the page's problem.
  // First the state leaves the one before the click (a run this short may already have ended).
  await page.waitForFunction((before) => document.getElementById("live-state").textContent !== before, before, { timeout: 10_000 }).catch(() => {});
  await page.waitForFunction(() => {
    const state = document.getElementById("live-state").textContent;
    const problem = document.getElementById("problem");
    const refused = /^Idle/.test(state) && problem && !problem.hidden && problem.textContent.trim() !== "";
    return /^(Finished|Stopped)/.test(state) || refused;
  }, null, { timeout: 60_000 });
  const state = await text("#live-state");
  assert.equal(await text("#live-completed"), String(expected), `${state} ${(await page.isVisible("#problem")) ? await text("#problem") : ""}`);
  assert.equal(await text("#live-failed"), "0");
  return sim.requests();
}

test("each AWS family shows its own fields, note and presets; an untouched preset follows the family and the body format", async () => {
  const families = await page.$$eval("#endpoint-type option", (o) => o.map((x) => x.value));
  assert.deepEqual(families, ["openai", "openai-responses", "anthropic", "bedrockConverse", "bedrockInvoke", "sagemaker", "custom"]);
  await page.selectOption("#endpoint-type", "openai");
  await page.selectOption("#preset", "short");

  await page.selectOption("#endpoint-type", "bedrockConverse");
  assert.equal(await text("#model-label"), "Model ID");
  assert.deepEqual([await visible("#base-url"), await visible("#api-key"), await visible("#family-region"), await visible("#family-apiKey")], [false, false, true, true]);
  const fields = await page.$$eval("#family-fields input, #family-fields select", (i) => i.map((x) => `${x.id}:${x.type}`));
  assert.deepEqual(fields, ["family-region:text", "family-endpointUrl:url", "family-accessKeyId:password", "family-secretAccessKey:password", "family-sessionToken:password", "family-apiKey:password", "family-stream:checkbox", "family-ttftVisibleTokensOnly:checkbox"]);
  assert.match(await text("#family-note"), /signed in this page \(SigV4\).*in memory only.*short-lived credentials/s);
  // The untouched chat preset became Converse's (LLMeter's payload).
  assert.deepEqual(await payload(), { messages: [{ role: "user", content: [{ text: "In two sentences, what is time to first token?" }] }], inferenceConfig: { maxTokens: 64 } });
  assert.match(await text("#payload-status"), /^✓ 1 payload/);
  await page.fill("#payload", JSON.stringify({ messages: [{ role: "user", content: [{ text: "hi" }] }] }));
  assert.match(await text("#payload-status"), /sets no inferenceConfig\.maxTokens: output length is up to the server/);
  await page.fill("#payload", JSON.stringify({ prompt: "hi" }));
  assert.match(await text("#payload-status"), /has no "messages" array, which Converse requires/);
  await page.selectOption("#preset", "short");
  // A typed secret stays on this page while the family changes (same field), never elsewhere.
  await page.fill("#family-secretAccessKey", "typed-in-memory");

  await page.selectOption("#endpoint-type", "bedrockInvoke");
  assert.equal(await page.inputValue("#family-secretAccessKey"), "typed-in-memory");
  assert.equal(await page.inputValue("#family-bodyFormat"), "openai");
  assert.deepEqual(await payload(), { messages: [{ role: "user", content: [{ text: "In two sentences, what is time to first token?", type: "text" }] }], max_tokens: 64 });
  // The rendered fields (a select among them) pass axe-core with no serious or critical violation.
  await page.evaluate(readFileSync(path.join(ROOT, "node_modules/axe-core/axe.min.js"), "utf8"));
  const axe = await page.evaluate(() => window.axe.run(document.getElementById("config"), { resultTypes: ["violations"] }));
  assert.deepEqual(axe.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id}: ${v.help}`), []);
  await page.selectOption("#family-bodyFormat", "anthropic");
  assert.deepEqual(await payload(), { anthropic_version: "bedrock-2023-05-31", max_tokens: 64, messages: [{ role: "user", content: [{ type: "text", text: "In two sentences, what is time to first token?" }] }] });
  await page.fill("#payload", JSON.stringify({ anthropic_version: "bedrock-2023-05-31", messages: [{ role: "user", content: "hi" }] }));
  assert.match(await text("#payload-status"), /sets no max_tokens, which this API requires/);
  await page.selectOption("#family-bodyFormat", "titan");
  // A payload the user wrote stays when the body format changes; the presets follow it.
  assert.equal((await payload()).anthropic_version, "bedrock-2023-05-31");
  assert.match(await text("#payload-status"), /has no "inputText", which Titan Text requires/);
  await page.selectOption("#preset", "mixed");
  assert.match(await text("#payload-status"), /✓ 3 payloads \(JSONL\)/);
  assert.match(await page.inputValue("#payload"), /^\{"inputText":"Name three prime numbers\.","textGenerationConfig":\{"maxTokenCount":32\}\}\n/);
  await page.selectOption("#family-bodyFormat", "llama");
  assert.deepEqual(await payload(), { prompt: "In two sentences, what is time to first token?", max_gen_len: 64 });

  await page.selectOption("#endpoint-type", "sagemaker");
  assert.equal(await text("#model-label"), "SageMaker endpoint name");
  assert.equal(await page.$("#family-apiKey"), null, "SageMaker takes no Bedrock API key");
  assert.equal(await page.$("#family-ttftVisibleTokensOnly"), null, "SageMaker has no hidden reasoning");
  assert.deepEqual(await payload(), { inputs: "In two sentences, what is time to first token?", parameters: { max_new_tokens: 64, details: true } });
  await page.fill("#payload", JSON.stringify({ inputs: "hi", parameters: {} }));
  assert.match(await text("#payload-status"), /sets no parameters\.max_new_tokens/);
  await page.selectOption("#preset", "short");

  await page.selectOption("#endpoint-type", "openai");
  assert.deepEqual([await visible("#base-url"), await visible("#api-key"), await text("#model-label")], [true, true, "Model"]);
  assert.equal(await page.$$eval("#family-fields input", (i) => i.length), 0);
  assert.deepEqual((await payload()).messages, [{ role: "user", content: "In two sentences, what is time to first token?" }]);
  assert.ok(!awsEngineFetched(), "the AWS engine is not downloaded until an AWS family runs");
});

test("a Bedrock Converse run signed in the page (session token): ids from AWS's header, keys never stored or shared", async () => {
  await configureAws("bedrockConverse", { model: CLAUDE, keyId: KEY_ID, secret: SECRET, token: TOKEN, runName: "e2e-bedrock-converse" });
  const seen = await run(6);
  assert.ok(awsEngineFetched(), "the worker loaded the AWS engine");
  assert.equal(seen.length, 6);
  assert.ok(seen.every((r) => r.model === CLAUDE && r.stream && r.output_tokens === 64 && r.status === 200), JSON.stringify(seen[0]));
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SHOTS, "20-bedrock-run.png"), fullPage: true });
  // The results name where the requests went; the responses are the sim's (x-amzn-RequestId).
  assert.match(await text("#results-meta"), new RegExp(`model ${CLAUDE.replace(/[.:]/g, "\\$&")} · ${sim.url.replace(/[.:/]/g, "\\$&")}`));
  const stored = await everythingStored();
  assert.ok(stored.includes("e2e-bedrock-converse") && stored.includes("BedrockConverseStream"), "the run is in the history as LLMeter's class");
  const saved = storedResponses(stored, "e2e-bedrock-converse");
  assert.deepEqual(saved.map((r) => r.id).sort(), seen.map((r) => r.id).sort(), "each response's id is its x-amzn-RequestId");
  assert.ok(saved.every((r) => r.num_tokens_output === 64 && r.error === null && r.time_to_first_token > 0.02 && r.time_to_first_token < r.time_to_last_token), JSON.stringify(saved[0]));
  for (const secret of SECRETS) assert.ok(!stored.includes(secret), `${secret} reached storage`);

  await page.click("#share");
  const link = page.url();
  for (const secret of SECRETS) assert.ok(!link.includes(secret), `${secret} in the share link`);
  const config = JSON.parse(Buffer.from(link.split("#config=")[1], "base64url").toString());
  assert.equal(config.endpointType, "bedrockConverse");
  assert.equal(config.model, CLAUDE);
  assert.deepEqual(config.familyOptions, { region: "us-east-1", endpointUrl: sim.url, stream: true, ttftVisibleTokensOnly: true });
  const fresh = await context.newPage();
  await fresh.goto(link);
  await fresh.waitForFunction(() => window.playground?.ready === true);
  assert.equal(await fresh.inputValue("#endpoint-type"), "bedrockConverse");
  assert.equal(await fresh.inputValue("#family-region"), "us-east-1");
  assert.equal(await fresh.inputValue("#family-endpointUrl"), sim.url);
  for (const id of ["accessKeyId", "secretAccessKey", "sessionToken", "apiKey"]) assert.equal(await fresh.inputValue(`#family-${id}`), "", `${id} came back from the link`);
  await fresh.close();
});

test("InvokeModel (Claude body) with a Bedrock API key, and SageMaker without streaming", async () => {
  await configureAws("bedrockInvoke", { model: CLAUDE, apiKey: BEDROCK_KEY, clients: 1, perClient: 2, runName: "e2e-bedrock-invoke" });
  await page.selectOption("#family-bodyFormat", "anthropic");
  await page.selectOption("#preset", "short");
  const invoke = await run(2);
  assert.ok(invoke.every((r) => r.model === CLAUDE && r.stream && r.output_tokens === 64), JSON.stringify(invoke[0]));

  await configureAws("sagemaker", { model: "e2e-tgi-endpoint", keyId: KEY_ID, secret: SECRET, token: TOKEN, clients: 1, perClient: 2, runName: "e2e-sagemaker" });
  await page.uncheck("#family-stream");
  const sagemaker = await run(2);
  assert.ok(sagemaker.every((r) => !r.stream && r.output_tokens === 64 && r.status === 200), JSON.stringify(sagemaker[0]));
  const stored = await everythingStored();
  assert.ok(stored.includes("BedrockInvokeStream") && stored.includes("SageMakerEndpoint"), "both runs are in the history as LLMeter's classes");
  for (const secret of SECRETS) assert.ok(!stored.includes(secret), `${secret} reached storage`);
  // The history row names the endpoint: the endpoint URL, and SageMaker's endpoint name.
  await page.getByRole("button", { name: "Open run “e2e-sagemaker”" }).click();
  await page.waitForFunction(() => /e2e-sagemaker/.test(document.getElementById("results-meta").textContent));
  assert.match(await text("#results-meta"), /model e2e-tgi-endpoint · http:\/\/127\.0\.0\.1:\d+/);
  await page.check("#family-stream");
});

test("a latency heatmap over InvokeModel (Nova body): the sim gets each cell's input and output lengths", async () => {
  await configureAws("bedrockInvoke", { model: "amazon.nova-micro-v1:0", region: "us-west-2", keyId: KEY_ID, secret: SECRET, token: TOKEN, runName: "e2e-bedrock-heatmap" });
  await page.selectOption("#family-bodyFormat", "nova");
  await page.check('input[name="experiment"][value="heatmap"]');
  await page.selectOption("#hm-source", "bundled");
  await page.selectOption("#hm-tokenizer", "whitespace");
  await page.fill("#hm-inputs", "10, 50");
  await page.fill("#hm-outputs", "8, 16");
  await page.fill("#hm-per-cell", "1");
  await page.fill("#hm-clients", "2");
  const seen = await run(4);
  assert.deepEqual(seen.map((r) => [r.input_tokens, r.output_tokens]).sort((a, b) => a[0] - b[0] || a[1] - b[1]), [[10, 8], [10, 16], [50, 8], [50, 16]]);
  assert.ok(seen.every((r) => r.model === "amazon.nova-micro-v1:0" && r.stream));
  await page.check('input[name="experiment"][value="load"]');
});

test("AWS's refusal of a wrong secret key is shown in botocore's words; a missing credential marks its field", async () => {
  await configureAws("bedrockConverse", { model: CLAUDE, keyId: KEY_ID, secret: "not-the-secret", token: TOKEN, clients: 1, perClient: 2, runName: "e2e-bedrock-refused" });
  await sim.clear();
  await page.click("#start");
  await page.waitForFunction(() => /^Finished/.test(document.getElementById("live-state").textContent), null, { timeout: 60_000 });
  assert.equal(await text("#live-failed"), "2");
  await page.waitForSelector("#problem:not([hidden])");
  const refused = await text("#problem");
  assert.match(refused, /Every request failed\. The first error:/);
  assert.match(refused, /An error occurred \(InvalidSignatureException\) when calling the ConverseStream operation: The request signature we calculated does not match/);
  assert.equal((await sim.requests()).length, 0, "refused requests are not recorded by the sim");

  await configureAws("bedrockConverse", { model: CLAUDE, keyId: KEY_ID, runName: "e2e-bedrock-no-secret" });
  await page.click("#start");
  await page.waitForSelector("#problem:not([hidden])");
  assert.match(await text("#problem"), /The run could not start\..*secretAccessKey: is required: give accessKeyId and secretAccessKey \(SigV4\), or apiKey \(a Bedrock API key\)/s);
  assert.equal(await page.getAttribute("#family-secretAccessKey", "aria-invalid"), "true");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "family-secretAccessKey");
  // The form's own checks: a region, an endpoint URL that is a URL.
  await configureAws("bedrockConverse", { model: CLAUDE, region: "", endpointUrl: "llm-sim", keyId: KEY_ID, secret: SECRET, runName: "e2e-bedrock-bad-form" });
  await page.click("#start");
  await page.waitForSelector("#problem:not([hidden])");
  const form = await text("#problem");
  assert.match(form, /Region is required\./);
  assert.match(form, /Endpoint URL \(optional\) must be an http:\/\/ or https:\/\/ URL\./);
  assert.equal(await page.getAttribute("#family-region", "aria-invalid"), "true");
});

test("a Bedrock endpoint without CORS is explained for its request: path, SigV4 headers, exposed headers", async () => {
  await configureAws("bedrockInvoke", { model: CLAUDE, endpointUrl: noCors.url, keyId: KEY_ID, secret: SECRET, clients: 1, perClient: 2, runName: "e2e-bedrock-nocors" });
  await page.click("#start");
  await page.waitForFunction(() => !document.getElementById("problem").hidden && /CORS/.test(document.getElementById("problem").textContent), null, { timeout: 60_000 });
  const problem = await text("#problem");
  assert.match(problem, /blocked the response: the server does not allow cross-origin requests \(CORS\)/);
  assert.match(problem, /preflight OPTIONS request to \/model\/anthropic\.claude-3-haiku-20240307-v1%3A0\/invoke-with-response-stream with a 2xx status/);
  assert.match(problem, /Access-Control-Allow-Headers: authorization, content-type, x-amz-date, x-amz-security-token, x-amzn-bedrock-accept and Access-Control-Allow-Methods: POST/);
  assert.match(problem, /Access-Control-Expose-Headers: x-amzn-requestid, x-amzn-errortype/);
  assert.match(problem, /the signature covers the host name and the headers/);
  assert.ok(!/TypeError/.test(problem));
  await page.locator("#problem").scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(SHOTS, "21-bedrock-cors.png"), fullPage: true });
});
