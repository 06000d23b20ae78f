// Headless Chromium for the bench: the bench page (main thread) and its dedicated Web Worker.
import { startStatic, launchChromium } from "../../tests/js/browser.js";

export async function startBrowser() {
  const site = await startStatic();
  const browser = await launchChromium(["--ignore-certificate-errors"]);
  const page = await browser.newPage();
  await page.goto(`${site.origin}/scripts/bench/pages/bench.html`);
  await page.waitForFunction(() => window.ready === true);
  // The page's main-thread CPU time (DevTools' TaskDuration in thread ticks): what a loop costs
  // the thread its TTFT stamps wait on (docs/SCALE.md). Counted around the whole `evaluate`, so
  // each loop also carries the same DevTools call and the answer's transfer.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Performance.enable", { timeDomain: "threadTicks" });
  const taskMs = async () => (await cdp.send("Performance.getMetrics")).metrics.find((m) => m.name === "TaskDuration").value * 1000;
  return {
    version: browser.version(),
    /** @param {"page"|"worker"} where */
    async run(where, spec) {
      if (where === "worker") return page.evaluate((s) => window.benchWorker(s), spec);
      const before = await taskMs();
      const r = await page.evaluate((s) => window.benchPage(s), spec);
      return { ...r, threadCpuMs: (await taskMs()) - before };
    },
    async stop() {
      await browser.close();
      await site.close();
    },
  };
}
