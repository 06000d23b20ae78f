// Headless Chromium for the bench: the bench page (main thread) and its dedicated Web Worker,
// with no DevTools attached.
//
// Why not Playwright here: a DevTools client (Playwright enables the Network domain on every page
// and worker) makes the renderer report every request and every body chunk over CDP, on the
// thread that stamps arrivals. With it attached, every loop's TTFT error at 64 clients (h2) was
// ~30 ms instead of ~20, and the spread from run to run ~3× as wide; the browser's own switches
// made no difference (docs/SCALE.md). Users run without it, so the bench measures without it:
// Chromium is started on the page's URL, and the page asks this process for each run over HTTP
// (a long poll) and posts its samples back. The tests keep Playwright.
import { createServer } from "node:http";
import { spawn, execFileSync } from "node:child_process";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { staticHandler, CHROMIUM_ARGS } from "../../tests/js/browser.js";
import { processTree, threadCpuMs } from "./proc.mjs";

const CONTROL = "/bench-control";
const START_TIMEOUT_MS = 60_000;

export async function startBrowser() {
  const serveFile = staticHandler();
  /** Runs waiting for the page, and the page's one waiting request for the next run. */
  const queue = [];
  let waiting = null;
  /** @type {Map<number, {where: string, resolve: Function, reject: Function, cpuBefore?: number}>} */
  const running = new Map();
  let nextId = 0;
  let hello;
  const helloSeen = new Promise((resolve) => (hello = resolve));
  let thread = null; // the page's main thread in /proc, once known

  const handOut = () => {
    if (!waiting || queue.length === 0) return;
    const job = queue.shift();
    const res = waiting;
    waiting = null;
    const entry = running.get(job.id);
    if (entry.where === "page" && thread) entry.cpuBefore = threadCpuMs(thread);
    res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify(job));
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, "http://x");
    if (!url.pathname.startsWith(CONTROL)) return serveFile(req, res);
    let body = "";
    for await (const c of req) body += c;
    const what = url.pathname.slice(CONTROL.length);
    if (what === "/hello") {
      hello(JSON.parse(body));
      return res.writeHead(204).end();
    }
    if (what === "/next") {
      waiting = res;
      return handOut();
    }
    if (what === "/done") {
      const { id, ok, value, error } = JSON.parse(body);
      const job = running.get(id);
      running.delete(id);
      const cpuAfter = thread ? threadCpuMs(thread) : undefined;
      res.writeHead(204).end();
      if (!job) return;
      if (!ok) return job.reject(new Error(`bench page: ${error}`));
      const threadCpu = job.cpuBefore !== undefined && cpuAfter !== undefined ? { threadCpuMs: cpuAfter - job.cpuBefore } : {};
      return job.resolve({ ...value, ...threadCpu });
    }
    res.writeHead(404).end();
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const origin = `http://127.0.0.1:${server.address().port}`;

  const binary = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  const profile = await mkdtemp(path.join(os.tmpdir(), "llmeter-bench-chromium-"));
  const chromium = spawn(binary,
    ["--headless", ...CHROMIUM_ARGS, "--ignore-certificate-errors", `--user-data-dir=${profile}`, `${origin}/scripts/bench/pages/bench.html?control=${CONTROL}`],
    { stdio: ["ignore", "ignore", "pipe"], detached: true });
  let stderr = "";
  chromium.stderr.on("data", (d) => (stderr = (stderr + d).slice(-2000)));
  let exited = null;
  const exit = new Promise((resolve) => chromium.once("exit", resolve));
  chromium.on("exit", (code, signal) => {
    exited = `chromium exited (${signal ?? code}): ${stderr.trim().split("\n").slice(-3).join(" | ")}`;
    for (const job of running.values()) job.reject(new Error(exited));
    running.clear();
  });
  const stop = async () => {
    try {
      process.kill(-chromium.pid, "SIGKILL");
    } catch {}
    if (chromium.exitCode === null && chromium.signalCode === null) await exit;
    waiting?.writeHead(503).end();
    server.closeAllConnections?.();
    await new Promise((r) => server.close(r));
    await rm(profile, { recursive: true, force: true });
  };

  let timer;
  const { userAgent, webdriver } = await Promise.race([
    helloSeen,
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(exited ?? `the bench page did not start in ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS))),
  ]).catch(async (e) => {
    await stop();
    throw e;
  }).finally(() => clearTimeout(timer));
  thread = await pageThread(chromium.pid);

  return {
    /** `navigator.webdriver` in the page: false, as no automation drives it. */
    webdriver,
    // The user agent gives only the major version (156.0.0.0): the binary says the rest.
    version: /([\d.]+\.[\d.]+)/.exec(execFileSync(binary, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }))?.[1] ?? userAgent,
    /**
     * One loop in the page's main thread or its worker. Page runs carry the main thread's CPU
     * time around the run (`threadCpuMs`, from Linux's schedstat; the control request and the
     * answer's transfer are counted in every loop alike).
     * @param {"page"|"worker"} where
     */
    run(where, spec) {
      if (exited) return Promise.reject(new Error(exited));
      return new Promise((resolve, reject) => {
        const id = nextId++;
        running.set(id, { where, resolve, reject });
        queue.push({ id, where, spec });
        handOut();
      });
    },
    stop,
  };
}

/** The bench page's main thread: the main thread of the renderer that runs the page's worker
 * (the page starts it as it loads), else of the busiest renderer; never the browser UI's own
 * (`--top-chrome-webui`: the new headless mode has one). Null off Linux. */
async function pageThread(browserPid) {
  let best = null;
  for (const { pid } of processTree(browserPid)) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (!cmdline.includes("--type=renderer") || cmdline.includes("--top-chrome-webui") || cmdline.includes("--extension-process")) continue;
    const threads = await readdir(`/proc/${pid}/task`).catch(() => []);
    const names = await Promise.all(threads.map((t) => readFile(`/proc/${pid}/task/${t}/comm`, "utf8").catch(() => "")));
    const rank = [names.some((n) => n.startsWith("DedicatedWorker")) ? 1 : 0, threadCpuMs(pid) ?? -1];
    if (!best || rank[0] > best.rank[0] || (rank[0] === best.rank[0] && rank[1] > best.rank[1])) best = { pid, rank };
  }
  return best?.pid ?? null;
}
