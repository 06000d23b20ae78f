// Starts a real llm-sim process for a test and talks to its ground-truth API.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import path from "node:path";
import assert from "node:assert/strict";
import { stopProcess } from "./process.js";
import { simId } from "./families.js";

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


/**
 * Asserts that a run's `count` responses all succeeded and each matches its llm-sim record:
 * `outputTokens` tokens (the record's count, and as many words of text) and, when given,
 * `inputTokens`. Returns the records by id, for the timing checks.
 * @param {any} result @param {any[]} records
 * @param {{ count: number, outputTokens: number, inputTokens?: number }} want
 */
export function assertMatchesTruth(result, records, { count, outputTokens, inputTokens }) {
  assert.equal(result.responses.length, count);
  assert.equal(result.stats.failed_requests, 0, result.responses.find((r) => r.error)?.error);
  const byId = new Map(records.map((r) => [r.id, r]));
  for (const r of result.responses) {
    const rec = byId.get(simId(r.id));
    assert.ok(rec, `no record for ${r.id}`);
    assert.deepEqual([r.num_tokens_output, r.num_tokens_output], [rec.output_tokens, outputTokens]);
    if (inputTokens !== undefined) assert.deepEqual([r.num_tokens_input, r.num_tokens_input], [rec.input_tokens, inputTokens]);
    assert.equal(r.response_text.trim().split(/\s+/).length, outputTokens);
  }
  return byId;
}
