// The bench's Chromium (scripts/bench/browser.mjs): a real headless Chromium with no DevTools
// attached, driven by its page over HTTP. Its loops run against llm-sim in the page and in the
// page's worker; a run that fails rejects with the page's error and the next run still works.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { startBrowser } from "../../scripts/bench/browser.mjs";
import { truthErrors } from "../../scripts/bench/stats.mjs";
import { startSim } from "./sim.js";

test("bench Chromium: loops in page and worker with no automation attached, page thread CPU, failures reported", async () => {
  const sim = await startSim(["--ttft-ms", "20", "--itl-ms", "2"]);
  const browser = await startBrowser();
  try {
    assert.match(browser.version, /^\d+\.\d+\.\d+\.\d+$/);
    assert.equal(browser.webdriver, false, "no automation drives the page");
    const spec = { base: sim.base, clients: 2, perClient: 2, maxTokens: 4 };
    for (const [where, kind] of [["page", "engine"], ["page", "bare"], ["worker", "engine"], ["worker", "plain"]]) {
      const r = await browser.run(where, { ...spec, kind });
      assert.equal(r.samples.length, 4, `${where} ${kind}`);
      const records = await sim.requests();
      await sim.clear();
      assert.equal(records.length, 4);
      // Every sample is one of llm-sim's requests, stamped after its first token was sent.
      const e = truthErrors(r.samples, records);
      assert.ok(e.ttftP50 > 0 && e.ttftP50 < 1000, `${where} ${kind}: TTFT error ${e.ttftP50} ms`);
      if (kind === "engine") assert.equal(r.protocol, "http/1.1");
      // The page's own thread: a run costs it several ms (an idle renderer's thread ~0.3).
      if (where === "page" && existsSync("/proc/self/task")) assert.ok(r.threadCpuMs > 2 && r.threadCpuMs < 10_000, `page thread CPU ${r.threadCpuMs} ms`);
      else assert.equal(r.threadCpuMs, undefined);
    }
    // Nothing listens on the simulator's port once it is stopped: every request fails, the
    // engine's loop throws, the page answers with its error.
    const dead = await startSim([]);
    const deadBase = dead.base;
    await dead.stop();
    await assert.rejects(browser.run("page", { ...spec, kind: "engine", base: deadBase }), /bench page: .*engine: 4 failed/s);
    const again = await browser.run("worker", { ...spec, kind: "bare" });
    assert.equal(again.samples.length, 4);
    await sim.clear();
  } finally {
    await browser.stop();
    await sim.stop();
  }
  await assert.rejects(browser.run("page", { base: sim.base, clients: 1, perClient: 1, maxTokens: 2, kind: "bare" }), /chromium exited/);
});
