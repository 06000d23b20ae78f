// Chromium driven over the raw DevTools protocol, for tests that need real tab visibility.
// Playwright keeps every page "visible" (its focus emulation holds each page as captured), so a
// background tab never becomes hidden there; with plain CDP, activating another tab hides this
// one exactly as in a user's browser (Chromium's new headless mode behaves like a window).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, readFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { CHROMIUM_ARGS } from "./browser.js";
import { stopProcess } from "./process.js";

// The WebSocket client Playwright ships (Node 20 has no global WebSocket without a flag).
const { ws: WebSocket } = createRequire(import.meta.url)("playwright-core/lib/utilsBundle");

/** @returns {Promise<{ port: number, newTab: (url: string) => Promise<Tab>, close: () => Promise<void> }>} */
export async function launchRawChromium() {
  const dir = mkdtempSync(path.join(tmpdir(), "cdp-chromium-"));
  const proc = spawn(process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", ["--headless=new", ...CHROMIUM_ARGS, "--remote-debugging-port=0", `--user-data-dir=${dir}`, "about:blank"], { stdio: "ignore" });
  const portFile = path.join(dir, "DevToolsActivePort");
  const deadline = Date.now() + 20_000;
  while (!existsSync(portFile) || readFileSync(portFile, "utf8").split("\n").length < 2) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error("chromium did not open its DevTools port");
    await new Promise((r) => setTimeout(r, 50));
  }
  const port = Number(readFileSync(portFile, "utf8").split("\n")[0]);
  const http = (p, method = "GET") => fetch(`http://127.0.0.1:${port}${p}`, { method }).then((r) => r.json());
  return {
    port,
    async newTab(url) {
      // Opened blank, then navigated: /json/new would cut the URL at its fragment.
      const tab = await Tab.open(await http("/json/new?about:blank", "PUT"), http);
      await tab.goto(url);
      return tab;
    },
    async close() {
      await stopProcess(proc);
      // Chromium's helpers (crash handler, utility processes) can still be writing into the
      // profile for a moment after the browser exits: retry, then leave the temporary folder
      // rather than fail the suite on it.
      for (let attempt = 0; ; attempt++) {
        try {
          rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
          return;
        } catch {
          if (attempt >= 5) return;
          await new Promise((r) => setTimeout(r, 300));
        }
      }
    },
  };
}

export class Tab {
  static async open(target, http) {
    const socket = new WebSocket(target.webSocketDebuggerUrl, { perMessageDeflate: false });
    await new Promise((resolve, reject) => { socket.once("open", resolve); socket.once("error", reject); });
    const tab = new Tab(target, socket, http);
    await tab.send("Page.enable");
    await tab.send("Runtime.enable");
    return tab;
  }

  constructor(target, socket, http) {
    this.id = target.id;
    this.socket = socket;
    this.http = http;
    this.next = 1;
    this.waiting = new Map();
    this.listeners = new Set();
    socket.on("message", (data) => {
      const m = JSON.parse(String(data));
      if (m.id && this.waiting.has(m.id)) {
        const { resolve, reject } = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        if (m.error) reject(new Error(`${m.error.message}`));
        else resolve(m.result);
      } else if (m.method) for (const l of this.listeners) l(m);
    });
  }

  send(method, params = {}) {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Evaluates an expression (awaiting a promise) and returns its value. */
  async evaluate(expression) {
    const r = await this.send("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true });
    if (r.exceptionDetails) throw new Error(r.exceptionDetails.exception?.description ?? r.exceptionDetails.text);
    return r.result.value;
  }

  /** Navigates and waits for the load event. */
  async goto(url) {
    const loaded = this.loadEvent();
    await this.send("Page.navigate", { url });
    await loaded;
  }

  /** Reloads the page (a new page view) and waits for the load event. */
  async reload() {
    const loaded = this.loadEvent();
    await this.send("Page.reload", {});
    await loaded;
  }

  loadEvent() {
    return new Promise((resolve) => {
      const on = (m) => { if (m.method === "Page.loadEventFired") { this.listeners.delete(on); resolve(); } };
      this.listeners.add(on);
    });
  }

  /** Brings this tab to the front: the tab that was in front becomes hidden. */
  async activate() {
    await fetch(`http://127.0.0.1:${new URL(this.socket.url).port}/json/activate/${this.id}`);
  }

  async close() {
    this.socket.close();
    await fetch(`http://127.0.0.1:${new URL(this.socket.url).port}/json/close/${this.id}`);
  }
}
