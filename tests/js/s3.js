// Real S3 (SeaweedFS `weed mini`) for upload tests, through tests/python/s3_helper.py.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import path from "node:path";
import { ROOT } from "./sim.js";
import { stopProcess, within } from "./process.js";

/**
 * @param {string} origin the test page origin allowed by the bucket's CORS rules
 * @returns {Promise<{endpoint: string, bucket: string, call: (cmd: string, args?: object) => Promise<any>, stop: () => Promise<void>}>}
 */
export async function startS3(origin, bucket = "results") {
  const proc = spawn(path.join(ROOT, ".venv/bin/python"), [path.join(ROOT, "tests/python/s3_helper.py")], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: proc.stdout });
  const waiting = [];
  lines.on("line", (l) => waiting.shift()?.(JSON.parse(l)));
  let chain = Promise.resolve();
  const call = (cmd, args = {}) => {
    const p = chain.then(() => new Promise((resolve, reject) => {
      waiting.push((reply) => (reply.error ? reject(new Error(`s3_helper ${cmd}: ${reply.error}`)) : resolve(reply)));
      proc.stdin.write(JSON.stringify({ cmd, ...args }) + "\n");
    }));
    chain = p.catch(() => {});
    return p;
  };
  const started = await call("start", { origin, bucket });
  return {
    ...started,
    call,
    // Asked through its own protocol (it stops SeaweedFS), then its stdin closed.
    stop: () => stopProcess(proc, { ask: async () => { await within(10_000, call("stop").catch(() => {})); proc.stdin.end(); } }),
  };
}

/** Python `llmeter` stats against ours: same keys LLMeter has; numbers within 1e-9; datetimes as instants. */
export function assertSameStats(assert, ours, theirs, label) {
  const bad = [];
  for (const [key, b] of Object.entries(theirs)) {
    if (key === "output_path") continue;
    const a = ours[key];
    if (typeof b === "number" && typeof a === "number") {
      if (Math.abs(a - b) > 1e-9 * Math.max(1, Math.abs(b))) bad.push(`${key}: ours=${a} llmeter=${b}`);
    } else if (typeof b === "string" && typeof a === "string" && /^\d{4}-\d\d-\d\dT/.test(b)) {
      if (Date.parse(a) !== Date.parse(b.replace(/\+00:00$/, "Z"))) bad.push(`${key}: ours=${a} llmeter=${b}`);
    } else if (JSON.stringify(a ?? null) !== JSON.stringify(b ?? null)) bad.push(`${key}: ours=${JSON.stringify(a)} llmeter=${JSON.stringify(b)}`);
  }
  assert.deepEqual(bad, [], `${label}: stats differ from Python llmeter`);
}
