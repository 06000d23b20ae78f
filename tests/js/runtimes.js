// Runs each example in examples/ in its real runtime and returns the result JSON it produced:
// Node and Deno as scripts, workerd as a served worker, a page and a Web Worker in headless
// Chromium.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import path from "node:path";
import { createRequire } from "node:module";
import { ROOT } from "./sim.js";
import { stopProcess } from "./process.js";

const require = createRequire(import.meta.url);
export const DENO_BIN = path.join(ROOT, "node_modules/.bin/deno");
export const WORKERD_BIN = require("workerd").default;

/** Runs a command to completion; resolves with stdout, rejects with stderr on failure. */
export function run(cmd, args, { cwd = ROOT, env = {}, timeoutMs = 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "", err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.on("exit", (code) => {
      clearTimeout(timer);
      code === 0 ? resolve({ stdout: out, stderr: err }) : reject(new Error(`${cmd} ${args.join(" ")} exited ${code}: ${err}`));
    });
  });
}

export async function runNodeExample(base, clients, nRequests) {
  const { stdout } = await run(process.execPath, ["examples/node/run.mjs", base, "sim-model", String(clients), String(nRequests)]);
  return JSON.parse(stdout);
}

export const DENO_ENV = { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" };

export async function runDenoExample(base, clients, nRequests) {
  const { stdout } = await run(DENO_BIN, ["run", "--allow-net=127.0.0.1", `--allow-read=${path.join(ROOT, "pkg")}`, "--allow-env=OPENAI_API_KEY", "run.js", base, "sim-model", String(clients), String(nRequests)], { cwd: path.join(ROOT, "examples/deno"), env: DENO_ENV });
  return JSON.parse(stdout);
}

/**
 * Serves a workerd config on an ephemeral port (read from workerd's control fd).
 * @returns {Promise<{origin: string, stop: () => Promise<void>}>}
 */
export async function startWorkerd(config) {
  const proc = spawn(WORKERD_BIN, ["serve", config, "--socket-addr", "http=127.0.0.1:0", "--control-fd", "3"], { cwd: ROOT, stdio: ["ignore", "inherit", "inherit", "pipe"] });
  const lines = createInterface({ input: proc.stdio[3] });
  const port = await new Promise((resolve, reject) => {
    proc.once("exit", (code) => reject(new Error(`workerd exited early with ${code}`)));
    lines.on("line", (line) => {
      const msg = JSON.parse(line);
      if (msg.event === "listen" && msg.socket === "http") resolve(msg.port);
    });
  });
  return {
    origin: `http://127.0.0.1:${port}`,
    stop: () => stopProcess(proc),
  };
}

/** Loads an example page with `?…&run=1` and waits for the result it publishes. */
export async function runPageExample(browser, origin, pagePath, params) {
  const page = await browser.newPage();
  try {
    const q = new URLSearchParams({ ...params, run: "1" });
    await page.goto(`${origin}/${pagePath}?${q}`);
    await page.waitForFunction(() => window.lastResult !== undefined, null, { timeout: 60_000 });
    return await page.evaluate(() => window.lastResult);
  } finally {
    await page.close();
  }
}
