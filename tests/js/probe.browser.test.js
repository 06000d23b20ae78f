// Probe (llmeter-wasm/probe.js) in real Chromium tabs, whose visibility changes as a user's do
// (raw CDP; see cdp.js): a hidden tab sends nothing, a visible idle tab sends one compact shard
// that the collector merges (counts = llm-sim's ground truth; no prompt or response text), a tab
// hidden while measuring drops its measurement, and the daily budget holds across reloads.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startSim } from "./sim.js";
import { startCollector, compact } from "./collector.js";
import { startStatic } from "./browser.js";
import { launchRawChromium } from "./cdp.js";
import { Result } from "../../pkg/index.js";
import { Probe } from "../../pkg/probe.js";

let sim, slowSim, site, chromium, collector;

before(async () => {
  sim = await startSim(["--ttft-ms", "20", "--itl-ms", "2", "--seed", "8"]);
  slowSim = await startSim(["--ttft-ms", "3000", "--itl-ms", "2"]);
  site = await startStatic();
  collector = await startCollector();
  chromium = await launchRawChromium();
});
after(async () => {
  await chromium?.close();
  await collector?.close();
  await site?.close();
  await slowSim?.stop();
  await sim?.stop();
});

const options = (testId, extra = {}) => ({
  testId, label: "eu-west", sampleRate: 1, requestsPerView: 1, requestsPerDay: 5, beaconUrl: collector.url,
  endpoint: { kind: "openai", baseUrl: sim.base, model: "sim-model" },
  payload: { messages: [{ role: "user", content: "private prompt text" }], max_tokens: 6 },
  ...extra,
});
const pageUrl = (o) => `${site.origin}/tests/js/pages/probe.html#${encodeURIComponent(JSON.stringify(o))}`;
const ofTest = (testId) => collector.ofTest(testId);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Opens a page and waits until its module has run (with a service worker: until it controls the page). */
async function open(o, url = pageUrl(o)) {
  const tab = await chromium.newTab(url);
  for (let i = 0; i < 200 && !(await tab.evaluate("window.ready === true").catch(() => false)); i++) await sleep(50);
  assert.equal(await tab.evaluate("window.ready === true"), true, `${url.split("#")[0]} became ready`);
  return tab;
}

test("a hidden tab sends nothing; once visible and idle it sends one shard, which the collector merges", async () => {
  await sim.clear();
  const tab = await open(options("hidden-then-visible"));
  const other = await chromium.newTab(`${site.origin}/tests/js/pages/blank.html`);
  await sleep(300);
  assert.equal(await tab.evaluate("document.visibilityState"), "hidden");
  await tab.evaluate("void window.startProbe()");
  await sleep(1500);
  assert.equal(ofTest("hidden-then-visible").length, 0, "nothing sent from a hidden tab");
  assert.equal((await sim.requests()).length, 0, "not a single request from a hidden tab");
  await tab.activate();
  const outcome = await tab.evaluate("window.outcome");
  assert.deepEqual({ sent: outcome.sent, reason: outcome.reason, requests: outcome.requests }, { sent: true, reason: "sent", requests: 1 });
  assert.deepEqual(await tab.evaluate("window.visibility"), ["hidden", "visible"]);
  for (let i = 0; i < 50 && ofTest("hidden-then-visible").length === 0; i++) await sleep(50);
  const [beacon] = ofTest("hidden-then-visible");
  assert.match(beacon.type, /^text\/plain/);
  assert.ok(!beacon.body.includes("private prompt text"), "no prompt in the shard");
  const shard = compact(beacon.body);
  assert.equal(shard.format, "llmeter-shard/1");
  assert.equal(shard.responses[0].response_text, null);
  assert.equal(shard.responses[0].input_payload, null);
  assert.match(shard.shard.runtime, /Chrom/);
  assert.equal(shard.shard.label, "eu-west");
  // The collector merges what it received; the counts are the simulator's.
  const merged = await Result.merge(ofTest("hidden-then-visible").map((b) => b.body));
  const truth = (await sim.requests()).filter((r) => r.outcome === "completed");
  assert.equal(merged.summary.total_requests, truth.length);
  assert.equal(merged.stats.total_output_tokens, truth.reduce((a, r) => a + r.output_tokens, 0));
  assert.equal(merged.stats.by_label["eu-west"].total_requests, 1);
  await other.close();
  await tab.close();
});

test("a tab hidden while measuring drops its measurement: nothing is sent", async () => {
  const tab = await open(options("hidden-during", { endpoint: { kind: "openai", baseUrl: slowSim.base, model: "m" } }));
  await tab.evaluate("void window.startProbe()");
  await sleep(800); // the request is in flight (the endpoint answers after 3 s)
  const other = await chromium.newTab(`${site.origin}/tests/js/pages/blank.html`);
  const outcome = await tab.evaluate("window.outcome");
  assert.equal(outcome.sent, false);
  assert.equal(outcome.reason, "hidden");
  await sleep(300);
  assert.equal(ofTest("hidden-during").length, 0);
  await other.close();
  await tab.close();
});

const swPageUrl = (sw, o) => `${site.origin}/tests/js/pages/probe-sw.html?sw=${sw}#${encodeURIComponent(JSON.stringify(o))}`;
const openWithServiceWorker = (sw, o) => open(o, swPageUrl(sw, o));
/** The scripts the page itself fetched: a dedicated probe worker would be one of them. */
const pageScripts = (tab) => tab.evaluate(`performance.getEntriesByType("resource").map((e) => new URL(e.name).pathname)`);

test("in the app's service worker: the page starts no worker, the service worker sends the shard, a hidden tab's is dropped", async () => {
  await sim.clear();
  const tab = await openWithServiceWorker("serve", options("service-worker", { serviceWorker: true, requestsPerView: 2 }));
  const outcome = await tab.evaluate("window.startProbe()");
  assert.deepEqual({ sent: outcome.sent, reason: outcome.reason, requests: outcome.requests, measuredIn: outcome.measuredIn }, { sent: true, reason: "sent", requests: 2, measuredIn: "service worker" });
  assert.ok(!(await pageScripts(tab)).some((p) => p.endsWith("/probe-worker.js")), "no dedicated worker");
  for (let i = 0; i < 50 && ofTest("service-worker").length === 0; i++) await sleep(50);
  const [beacon] = ofTest("service-worker");
  const shard = compact(beacon.body);
  assert.match(shard.shard.runtime, /Chrom.*\(service worker\)/);
  assert.match(shard.shard.shard_id, /^[0-9a-f]{16}$/, "the service worker drew the shard's id");
  assert.ok(!beacon.body.includes("private prompt text"), "no prompt in the shard");
  const merged = await Result.merge([beacon.body]);
  const truth = (await sim.requests()).filter((r) => r.outcome === "completed");
  assert.equal(merged.summary.total_requests, 2);
  assert.equal(truth.length, 2);
  assert.equal(merged.stats.total_output_tokens, truth.reduce((a, r) => a + r.output_tokens, 0));
  // The service worker kept the budget in IndexedDB (the origin's, as a dedicated worker does).
  const stored = await tab.evaluate(`import("/pkg/probe-rules.js").then(({ budgetRecord }) => budgetRecord("service-worker"))`);
  assert.deepEqual(stored, { day: new Date().toISOString().slice(0, 10), count: 2 });
  await tab.close();

  // Hidden while the service worker measures: the page tells it to stop; nothing is sent.
  const slow = await openWithServiceWorker("serve", options("service-worker-hidden", { serviceWorker: true, endpoint: { kind: "openai", baseUrl: slowSim.base, model: "m" } }));
  await slow.evaluate("void window.startProbe()");
  await sleep(800); // the request is in flight (the endpoint answers after 3 s)
  const other = await chromium.newTab(`${site.origin}/tests/js/pages/blank.html`);
  const hidden = await slow.evaluate("window.outcome");
  assert.deepEqual({ sent: hidden.sent, reason: hidden.reason, measuredIn: hidden.measuredIn }, { sent: false, reason: "hidden", measuredIn: "service worker" });
  await sleep(300);
  assert.equal(ofTest("service-worker-hidden").length, 0);
  await other.close();
  await slow.close();
});

test("serviceWorker: true with no service worker in control measures in a dedicated worker; one that does not serve probes fails clearly", async () => {
  await sim.clear();
  const none = await openWithServiceWorker("none", options("no-service-worker", { serviceWorker: true }));
  const fallback = await none.evaluate("window.startProbe()");
  assert.deepEqual({ sent: fallback.sent, measuredIn: fallback.measuredIn }, { sent: true, measuredIn: "worker" });
  await none.close();

  // Its silence is bounded by the requests' own timeouts (1 s here) and 10 s.
  const bare = await openWithServiceWorker("bare", options("bare-service-worker", { serviceWorker: true, timeout: 1 }));
  const t0 = Date.now();
  const failed = await bare.evaluate("window.startProbe()");
  assert.equal(failed.sent, false);
  assert.match(failed.reason, /^failed: Error: the service worker did not answer the probe within 11 s \(its requests' timeouts and 10 s\): does it call serveProbes\(\) from llmeter-wasm\/probe-sw\.js\?$/);
  assert.ok(Date.now() - t0 >= 11_000, "it waited for the service worker");
  assert.equal((await sim.requests()).length, 1, "only the fallback's request reached the endpoint");
  await bare.close();
  assert.throws(() => new Probe({ ...options("x"), serviceWorker: "yes" }), { name: "TypeError", message: "serviceWorker must be true or false, got yes" });
});

test("the daily budget holds across reloads; the page view's budget within one", async () => {
  const o = options("budget", { requestsPerView: 1, requestsPerDay: 3 });
  const tab = await open(o);
  const reasons = [];
  const start = async () => reasons.push((await tab.evaluate("window.startProbe()")).reason);
  // A second Probe of the same test in the same page view (an app re-creating it on a route change).
  const again = async () => reasons.push((await tab.evaluate(`import("/pkg/probe.js").then(({ Probe }) => new Probe(${JSON.stringify(o)}).start())`)).reason);
  const reload = async () => {
    await tab.reload(); // a new page view, the same browser
    for (let i = 0; i < 100 && !(await tab.evaluate("window.ready === true").catch(() => false)); i++) await sleep(50);
  };
  await start();
  await again();
  await reload();
  await start();
  await reload();
  await start();
  await reload();
  await start();
  assert.deepEqual(reasons, ["sent", "over the page view's budget", "sent", "sent", "over the daily budget"]);
  for (let i = 0; i < 50 && ofTest("budget").length < 3; i++) await sleep(50);
  await sleep(200);
  assert.equal(ofTest("budget").length, 3);
  // The worker keeps the budget in IndexedDB; the page's localStorage is not touched.
  const stored = await tab.evaluate(`import("/pkg/probe-rules.js").then(({ budgetRecord }) => budgetRecord("budget"))`);
  assert.deepEqual(stored, { day: new Date().toISOString().slice(0, 10), count: 3 });
  assert.equal(await tab.evaluate(`localStorage.length`), 0);
  await tab.close();
});

test("a page view that is not sampled does nothing", async () => {
  const tab = await open(options("unsampled", { sampleRate: 0 }));
  assert.deepEqual(await tab.evaluate("window.startProbe()"), { sent: false, reason: "not sampled" });
  assert.equal(await tab.evaluate(`localStorage.getItem("llmeter-probe:unsampled")`), null);
  await tab.close();
});

test("on the page's own thread with the app's own storage: the budget is kept there, the shard goes by sendBeacon", async () => {
  const o = options("page-thread", { inWorker: false, requestsPerView: 2, requestsPerDay: 1 });
  const tab = await open(o);
  const out = await tab.evaluate(`(async () => {
    const { Probe } = await import("/pkg/probe.js");
    const saved = new Map();
    const storage = { getItem: (k) => saved.get(k) ?? null, setItem: (k, v) => saved.set(k, v) };
    const o = ${JSON.stringify(o)};
    const first = await new Probe({ ...o, storage }).start();
    const second = await new Probe({ ...o, storage }).start();
    return { first, second, saved: [...saved], local: localStorage.length };
  })()`);
  assert.deepEqual({ sent: out.first.sent, reason: out.first.reason, requests: out.first.requests }, { sent: true, reason: "sent", requests: 1 });
  assert.deepEqual(out.second, { sent: false, reason: "over the daily budget" });
  assert.deepEqual(out.saved, [["llmeter-probe:page-thread", JSON.stringify({ day: new Date().toISOString().slice(0, 10), count: 1 })]]);
  assert.equal(out.local, 0);
  for (let i = 0; i < 50 && ofTest("page-thread").length === 0; i++) await sleep(50);
  const [beacon] = ofTest("page-thread");
  assert.match(beacon.type, /^text\/plain/);
  assert.equal(compact(beacon.body).responses.length, 1);
  assert.match(compact(beacon.body).shard.shard_id, /^[0-9a-f]{16}$/);
  await tab.close();
});
