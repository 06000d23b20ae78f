// Starts a real llm-sim process for a test and talks to its ground-truth API.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { stopProcess } from "./process.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const SIM_BIN = process.env.LLM_SIM_BIN ?? path.join(ROOT, "target/sim/llm-sim");

/**
 * @param {string[]} args extra llm-sim flags
 * @returns {Promise<{url: string, base: string, port: number, httpsPort: number|null, httpsBase: string|null, stop: () => Promise<void>, requests: (id?: string) => Promise<any[]>, clear: () => Promise<void>}>}
 */
export async function startSim(args = []) {
  const proc = spawn(SIM_BIN, ["--port", "0", ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: proc.stdout });
  const first = await new Promise((resolve, reject) => {
    proc.once("exit", (code) => reject(new Error(`llm-sim exited early with ${code}`)));
    lines.once("line", resolve);
  });
  const listening = JSON.parse(first);
  const url = `http://127.0.0.1:${listening.http}`;
  const httpsBase = listening.https ? `https://localhost:${listening.https}/v1` : null;
  return {
    url,
    base: `${url}/v1`,
    port: listening.http,
    httpsPort: listening.https ?? null,
    httpsBase,
    async requests(id) {
      const q = id ? `?id=${encodeURIComponent(id)}` : "";
      const r = await fetch(`${url}/sim/requests${q}`);
      const body = await r.json();
      return Array.isArray(body) ? body : body.requests;
    },
    async clear() {
      await fetch(`${url}/sim/requests`, { method: "DELETE" });
    },
    stop: () => stopProcess(proc),
  };
}

/** Python-style exclusive percentile is not needed here: a plain nearest-rank median. */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
