// One way for a test to drive the three browser engines, so each suite is written once and runs
// in all of them: Debian's Chromium through playwright-core, Firefox ESR through puppeteer-core
// over WebDriver BiDi, and WebKitGTK's MiniBrowser through WebKitWebDriver (selenium-webdriver)
// on a private Xvfb display. Recipes: ../shared/reference/runtimes.md, "Three browser engines".
//
// A page offers goto, evaluate(fn, arg), waitFor(fn, arg), reload, worker() (a module Web
// Worker evaluating functions the same way) and close. Functions are sent as source text with
// their argument as JSON, and results come back as JSON in every engine — so a test sees the
// same values whichever driver carried them (no driver-specific handling of undefined, NaN or
// Dates). Each newPage() is a fresh browsing context with its own storage.
import { spawn } from "node:child_process";
import { describe } from "node:test";
import puppeteer from "puppeteer-core";
import { Builder } from "selenium-webdriver";
import { launchChromium } from "./browser.js";
import { freePort, stopProcess } from "./process.js";

export const ALL_ENGINES = ["chromium", "firefox", "webkit"];
/** The engines to test: all three, or a comma-separated subset in LLMETER_ENGINES (for local runs). */
export const ENGINES = (process.env.LLMETER_ENGINES ?? ALL_ENGINES.join(",")).split(",").map((e) => e.trim()).filter(Boolean);
for (const e of ENGINES) if (!ALL_ENGINES.includes(e)) throw new Error(`LLMETER_ENGINES: unknown engine "${e}" (use ${ALL_ENGINES.join(", ")})`);

export const FIREFOX_PATH = process.env.FIREFOX_PATH ?? "/usr/bin/firefox-esr";
export const MINIBROWSER_PATH = process.env.MINIBROWSER_PATH ?? "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";
const EVAL_WORKER = "/tests/js/pages/eval-worker.js";

/** The expression that runs `fnSource` on `arg` in the page and yields `{ok, value}` or `{ok, error}` as JSON text. */
function evalExpression(fnSource, arg) {
  return `(async () => {
    try { return JSON.stringify({ ok: true, value: await (${fnSource})(${JSON.stringify(arg) ?? "undefined"}) }); }
    catch (e) { return JSON.stringify({ ok: false, error: String((e && e.stack && String(e.stack).includes(String(e.message))) ? e.stack : e) }); }
  })()`;
}

function unwrap(engine, text) {
  if (typeof text !== "string") throw new Error(`${engine}: evaluate returned ${typeof text}, not JSON text`);
  const r = JSON.parse(text);
  if (!r.ok) throw new Error(`in ${engine}: ${r.error}`);
  return r.value;
}

/** Polls `fnSource(arg)` inside the page until it is truthy; one driver round trip. */
function pollSource(fnSource, timeoutMs, intervalMs) {
  return `async (arg) => {
    const f = (${fnSource});
    const end = performance.now() + ${timeoutMs};
    for (;;) {
      const v = await f(arg);
      if (v) return v;
      if (performance.now() > end) throw new Error(${JSON.stringify(`waitFor timed out after ${timeoutMs} ms: ${fnSource.slice(0, 160)}`)});
      await new Promise((r) => setTimeout(r, ${intervalMs}));
    }
  }`;
}

/** What every engine's page offers on top of `run(expression)`, `goto`, `reload` and `close`. */
function makePage(engine, driver) {
  let workers = 0;
  const page = {
    engine,
    /** The underlying playwright page, puppeteer page or selenium driver, for engine-specific extras. */
    raw: driver.raw,
    goto: (url) => driver.goto(url),
    reload: () => driver.reload(),
    close: () => driver.close(),
    /** Runs `fn(arg)` in the page (awaited); its result comes back through JSON. */
    async evaluate(fn, arg) {
      return unwrap(engine, await driver.run(evalExpression(String(fn), arg)));
    },
    /** Resolves with the first truthy `fn(arg)`, polled in the page every `interval` ms. */
    async waitFor(fn, arg, { timeout = 30_000, interval = 20 } = {}) {
      return page.evaluate(pollSource(String(fn), timeout, interval), arg);
    },
    /**
     * Starts a module Web Worker (tests/js/pages/eval-worker.js, same origin as the page) whose
     * `evaluate(fn, arg)` runs `fn` inside the worker; globals it sets persist between calls.
     */
    async worker() {
      const id = `w${workers++}`;
      await page.evaluate(({ id, url }) => new Promise((resolve, reject) => {
        const w = new Worker(url, { type: "module" });
        (window.__engineWorkers ??= {})[id] = w;
        w.onmessage = ({ data }) => (data.ready ? resolve(true) : reject(new Error(`unexpected ${JSON.stringify(data)}`)));
        w.onerror = (e) => reject(new Error(`module worker failed to start: ${e.message}`));
      }), { id, url: EVAL_WORKER });
      return {
        evaluate: async (fn, arg) => unwrap(engine, await page.evaluate(({ id, src, arg }) => new Promise((resolve) => {
          const w = window.__engineWorkers[id];
          const call = Math.random().toString(36).slice(2);
          const onMessage = ({ data }) => {
            if (data.call !== call) return;
            w.removeEventListener("message", onMessage);
            resolve(data.result);
          };
          w.addEventListener("message", onMessage);
          w.postMessage({ call, src, arg });
        }), { id, src: String(fn), arg })),
        terminate: () => page.evaluate((id) => { window.__engineWorkers[id].terminate(); delete window.__engineWorkers[id]; }, id),
      };
    },
  };
  return page;
}


const children = new Set();
process.on("exit", () => { for (const p of children) p.kill("SIGKILL"); });
function child(cmd, args, options) {
  const p = spawn(cmd, args, options);
  children.add(p);
  p.once("exit", () => children.delete(p));
  return p;
}
const stopChild = (p) => stopProcess(p, { graceMs: 3_000 });

async function launchChromiumEngine({ insecureCerts }) {
  const browser = await launchChromium(insecureCerts ? ["--ignore-certificate-errors"] : []);
  return {
    version: `Chromium ${browser.version()}`,
    async newPage() {
      const context = await browser.newContext();
      const p = await context.newPage();
      p.on("pageerror", (e) => console.log("# chromium page error:", e.message));
      return { raw: p, run: (expr) => p.evaluate(expr), goto: (url) => p.goto(url).then(() => {}), reload: () => p.reload().then(() => {}), close: () => context.close() };
    },
    close: () => browser.close(),
  };
}

async function launchFirefox({ insecureCerts }) {
  const browser = await puppeteer.launch({
    browser: "firefox",
    executablePath: FIREFOX_PATH,
    headless: true,
    protocol: "webDriverBiDi",
    // Puppeteer's BiDi network events add ~4 ms to every measured TTFT in Firefox.
    networkEnabled: false,
    acceptInsecureCerts: insecureCerts,
  });
  const version = await browser.version(); // "firefox/153.8.0"
  return {
    version: `Firefox ${version.split("/")[1] ?? version}`,
    async newPage() {
      const context = await browser.createBrowserContext();
      const p = await context.newPage();
      p.on("pageerror", (e) => console.log("# firefox page error:", e.message));
      return { raw: p, run: (expr) => p.evaluate(expr), goto: (url) => p.goto(url, { waitUntil: "load" }).then(() => {}), reload: () => p.reload({ waitUntil: "load" }).then(() => {}), close: () => context.close() };
    },
    close: () => browser.close(),
  };
}

/**
 * JavaScriptCore's BBQ tier (WebKitGTK 2.50.6) miscompiles the engine now and then: wrong values
 * (a run's options read back as zeros) or out-of-bounds traps, in ~3% of a fresh page's runs,
 * never with BBQ off (README, "WebKitGTK 2.50's first wasm JIT"). The suites run WebKit with it
 * off — interpreter, then OMG — unless LLMETER_WEBKIT_BBQ=1 (to check a new WebKit).
 */
const WEBKIT_JIT = process.env.LLMETER_WEBKIT_BBQ === "1" ? {} : { JSC_useBBQJIT: "false" };

async function launchWebKit({ insecureCerts }) {
  // MiniBrowser has no headless mode: a private virtual display (Xvfb picks a free number).
  const xvfb = child("Xvfb", ["-displayfd", "1", "-screen", "0", "1360x1024x24", "-nolisten", "tcp"], { stdio: ["ignore", "pipe", "inherit"] });
  const display = await new Promise((resolve, reject) => {
    xvfb.once("exit", (code) => reject(new Error(`Xvfb exited early with ${code}`)));
    xvfb.stdout.once("data", (d) => resolve(d.toString().trim()));
  }).catch(async (e) => { await stopChild(xvfb); throw e; });
  const capabilities = {
    browserName: "MiniBrowser",
    acceptInsecureCerts: insecureCerts,
    "webkitgtk:browserOptions": { binary: MINIBROWSER_PATH, args: ["--automation"] },
  };
  // WebKitWebDriver serves one session at a time: each page gets its own driver and session,
  // i.e. its own MiniBrowser with its own storage (about a second to start).
  // A session that does not come within 30 s (seen once in a full-suite run: the driver took the
  // connection and never answered) is given up with its driver, and a new driver tried, twice.
  const session = async () => {
    for (let driver = 1; ; driver++) {
      const box = { proc: null };
      const pending = driverSession(box);
      const timedOut = new Promise((r) => setTimeout(() => r(null), 30_000).unref());
      const s = await Promise.race([pending, timedOut]);
      if (s) return s;
      pending.then((late) => end(late), () => {});
      if (box.proc) await stopChild(box.proc);
      if (driver >= 3) throw new Error("WebKitWebDriver did not start a session within 30 s, three times");
    }
  };
  const driverSession = async (box) => {
    const port = await freePort();
    const proc = child("WebKitWebDriver", [`--port=${port}`], { env: { ...process.env, DISPLAY: `:${display}`, ...WEBKIT_JIT }, stdio: ["ignore", "ignore", "inherit"] });
    box.proc = proc;
    for (let attempt = 0; ; attempt++) {
      try {
        const d = await new Builder().usingServer(`http://127.0.0.1:${port}`).withCapabilities(capabilities).build();
        await d.manage().setTimeouts({ script: 600_000, pageLoad: 60_000 });
        return { d, proc };
      } catch (e) {
        // The driver needs a moment to listen after it starts.
        if (attempt >= 100 || proc.exitCode !== null) {
          await stopChild(proc);
          throw e;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const end = async ({ d, proc }) => {
    await d.quit().catch(() => {});
    await stopChild(proc);
  };
  let spare;
  try {
    spare = await session();
  } catch (e) {
    await stopChild(xvfb);
    throw e;
  }
  const version = (await spare.d.getCapabilities()).get("browserVersion");
  const open = new Set([spare]);
  return {
    version: `WebKitGTK ${version}`,
    async newPage() {
      const s = spare ?? (await session());
      spare = null;
      open.add(s);
      const { d } = s;
      return {
        raw: d,
        run: (expr) => d.executeAsyncScript(`const done = arguments[arguments.length - 1]; (${expr}).then(done, (e) => done(JSON.stringify({ ok: false, error: String(e) })));`),
        goto: (url) => d.get(url),
        reload: () => d.navigate().refresh(),
        close: async () => { open.delete(s); await end(s); },
      };
    },
    async close() {
      for (const s of open) await end(s);
      open.clear();
      await stopChild(xvfb);
    },
  };
}

const LAUNCH = { chromium: launchChromiumEngine, firefox: launchFirefox, webkit: launchWebKit };

/**
 * Starts one engine. `insecureCerts` accepts llm-sim's self-signed certificate (its h2 port).
 * @param {"chromium"|"firefox"|"webkit"} engine
 * @returns {Promise<{engine: string, version: string, newPage: () => Promise<ReturnType<typeof makePage>>, close: () => Promise<void>}>}
 */
export async function launchEngine(engine, { insecureCerts = false } = {}) {
  const b = await LAUNCH[engine]({ insecureCerts });
  return {
    engine,
    version: b.version,
    async newPage(url) {
      const page = makePage(engine, await b.newPage());
      if (url) await page.goto(url);
      return page;
    },
    close: () => b.close(),
  };
}

/**
 * Defines `suite(engine)` once per engine as a `describe` block named after it. `parallel` runs
 * the engines' blocks at the same time — for functional suites, each with its own servers;
 * suites that measure timing keep one engine at a time (2 cores).
 */
export function forEachEngine(suite, { parallel = false } = {}) {
  describe("browser engines", { concurrency: parallel ? ENGINES.length : 1 }, () => {
    // Within an engine, one test at a time (suites inherit their parent's concurrency otherwise).
    for (const engine of ENGINES) describe(engine, { concurrency: 1 }, () => suite(engine));
  });
}
