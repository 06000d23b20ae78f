// The wasm package in a real workerd against a real llm-sim: it loads there (no
// import.meta.url: the wasm URL is only built when needed) and its measurements agree with the
// simulator's ground truth. The bench's worker (scripts/bench/workerd/worker.js) is the harness.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startSim } from "./sim.js";
import { startWorkerd } from "./workerd.js";
import { groundTruthErrors } from "./bare.js";

let sim, workerd;
before(async () => {
  sim = await startSim(["--ttft-ms", "20", "--itl-ms", "2"]);
  workerd = await startWorkerd();
});
after(async () => {
  await workerd?.stop();
  await sim?.stop();
});

test("workerd: the engine runs, every request completes, and no timing is earlier than the server's", async () => {
  const r = await workerd.run({ kind: "engine", base: sim.base, clients: 3, perClient: 2, maxTokens: 8 });
  assert.equal(r.samples.length, 6);
  for (const s of r.samples) {
    assert.equal(s.out, 8);
    assert.ok(s.ttft > 0 && s.ttlt >= s.ttft, JSON.stringify(s));
  }
  assert.equal(new Set(r.samples.map((s) => s.id)).size, 6);
  const errors = await groundTruthErrors(sim, r.samples);
  assert.equal(errors.n, 6);
  // workerd's clock only moves with I/O, so a client can be late but never early.
  assert.ok(errors.ttft >= 0 && errors.ttlt >= 0, JSON.stringify(errors));
});
