// The playground (www/dist) opens a fleet, in headless Chromium: from a fleet link (presigned
// GET URLs on a real S3, SeaweedFS, with CORS for the playground's origin) and from picked shard
// zips; the merged result shows its per-label table and per-label charts. Shards are run in
// Node against llm-sim.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startSim } from "./sim.js";
import { startS3 } from "./s3.js";
import { launchChromium } from "./browser.js";
import { serveWww } from "../../scripts/serve-www.mjs";
import { OpenAIEndpoint, Runner, Result } from "../../pkg/index.js";
import { toZip, upload } from "../../pkg/store.js";
import { fleetLink, uploadShard } from "../../pkg/fleet.js";

let sim, s3, site, browser, page, shards;
before(async () => {
  sim = await startSim(["--ttft-ms", "10", "--itl-ms", "1", "--seed", "2"]);
  site = await serveWww(0);
  s3 = await startS3(site.origin);
  browser = await launchChromium();
  page = await browser.newPage();
  page.on("pageerror", (e) => console.log("# page error:", e.message));
  await page.goto(`${site.origin}/`);
  await page.waitForFunction(() => window.playground?.ready === true);
  const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: sim.base, model: "sim-model" }) });
  const payload = { messages: [{ role: "user", content: "hi" }], max_tokens: 4 };
  shards = await Promise.all([["eu-1", "eu", 3], ["us-1", "us", 2], ["us-2", "us", 2]].map(([shardId, label, n]) => runner.run({ clients: 1, nRequests: n, payload, shard: { testId: "www-fleet", shardId, label } })));
});
after(async () => {
  await browser?.close();
  await s3?.stop();
  await site?.close();
  await sim?.stop();
});

async function labelRows() {
  await page.waitForSelector("#labels-block:not([hidden])");
  return page.$$eval("#labels-table tbody tr", (rows) => rows.map((r) => [r.querySelector("th").textContent, r.querySelectorAll("td")[0].textContent]));
}

test("a fleet link: the playground merges the shards from S3 and shows them per label", async () => {
  const presign = async (key, contentType) => (await s3.call("presign", { key, content_type: contentType })).url;
  const presignGet = async (key) => (await s3.call("presign", { key, method: "get_object" })).url;
  for (const s of shards) await uploadShard(s, { presign, prefix: "fleets/" });
  const link = await fleetLink({ testId: "www-fleet", prefix: "fleets/", list: async (p) => Object.keys((await s3.call("list", { prefix: p })).keys), presignGet });
  assert.equal(Object.keys(link.objects).length, 3 * 8);
  await upload({ "fleet-link.json": JSON.stringify(link) }, { presign, prefix: "fleets/www-fleet/" });
  await page.click("#fleet summary");
  await page.fill("#fleet-link", await presignGet("fleets/www-fleet/fleet-link.json"));
  await page.click("#fleet-open-link");
  assert.deepEqual(await labelRows(), [["eu", "3"], ["us", "4"]]);
  await page.waitForFunction(() => /Merged 3 shards of “www-fleet”: 7 requests, 2 labels/.test(document.querySelector("#fleet-status").textContent));
  // The package's per-label charts are drawn.
  await page.waitForSelector("#charts [id$='time_to_first_token_by_label'], #charts figure");
  const chartIds = await page.$$eval("#charts [id]", (els) => els.map((e) => e.id));
  assert.ok(chartIds.some((id) => id.includes("time_to_first_token_by_label")), chartIds.join(", "));
  const merged = await Result.merge(shards);
  assert.equal(await page.textContent("#results-title"), "Results");
  assert.equal(merged.summary.total_requests, 7);
});

test("picked shard zips: merged in the page", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "www-fleet-"));
  const files = [];
  for (const s of shards.slice(0, 2)) {
    const file = path.join(dir, `${s.shard.shard_id}.zip`);
    writeFileSync(file, await toZip(s, { folder: s.shard.shard_id }));
    files.push(file);
  }
  await page.setInputFiles("#fleet-files", files);
  assert.deepEqual(await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll("#labels-table tbody tr")].map((r) => [r.querySelector("th").textContent, r.querySelectorAll("td")[0].textContent]);
    return rows.length === 2 && rows[1][1] === "2" ? rows : null;
  }).then((h) => h.jsonValue()), [["eu", "3"], ["us", "2"]]);
});
