// Headless Chromium for the bench: the bench page (main thread) and its dedicated Web Worker.
import { startStatic, launchChromium } from "../../tests/js/browser.js";

export async function startBrowser() {
  const site = await startStatic();
  const browser = await launchChromium(["--ignore-certificate-errors"]);
  const page = await browser.newPage();
  await page.goto(`${site.origin}/scripts/bench/pages/bench.html`);
  await page.waitForFunction(() => window.ready === true);
  return {
    version: browser.version(),
    /** @param {"page"|"worker"} where */
    run: (where, spec) => page.evaluate(([w, s]) => (w === "page" ? window.benchPage(s) : window.benchWorker(s)), [where, spec]),
    async stop() {
      await browser.close();
      await site.close();
    },
  };
}
