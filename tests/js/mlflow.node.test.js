// MlflowCallback against a real MLflow tracking server (PyPI `mlflow`, pinned, in .venv-mlflow
// by scripts/python-env.sh): a run logs LLMeter's params and numeric stats into the active run
// (runId), or into a nested run named after the LLMeter run; the test reads them back through
// MLflow's REST API.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startSim, ROOT } from "./sim.js";
import { OpenAIEndpoint, Runner, MlflowCallback, CostModel, OutputTokens } from "../../pkg/index.js";
import { freePort, stopProcess } from "./process.js";

const MLFLOW = path.join(ROOT, ".venv-mlflow/bin/mlflow");
let sim, server, base;


before(async () => {
  assert.ok(existsSync(MLFLOW), `${MLFLOW} is missing: run bash scripts/python-env.sh`);
  sim = await startSim(["--ttft-ms", "3", "--itl-ms", "1", "--seed", "2"]);
  const dir = mkdtempSync(path.join(tmpdir(), "llmeter-mlflow-"));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  // Its own process group, so the server and its workers end together.
  server = spawn(MLFLOW, ["server", "--host", "127.0.0.1", "--port", String(port), "--workers", "1",
    "--backend-store-uri", `sqlite:///${path.join(dir, "mlflow.db")}`, "--default-artifact-root", path.join(dir, "artifacts")],
  { cwd: dir, stdio: "ignore", detached: true });
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`mlflow server exited with ${server.exitCode}`);
    try { if ((await fetch(`${base}/health`)).ok) break; } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error("mlflow server did not start within 90 s");
    await new Promise((r) => setTimeout(r, 250));
  }
});

after(async () => {
  await sim?.stop();
  // The whole process group: MLflow's server runs its workers as children.
  const group = (signal) => { try { process.kill(-server.pid, signal); } catch { /* gone */ } };
  if (server) await stopProcess(server, { ask: () => group("SIGTERM"), kill: () => group("SIGKILL") });
});

/** @param {string} p @param {unknown} [body] */
async function api(p, body) {
  const r = await fetch(`${base}/api/2.0/mlflow/${p}`, body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  assert.ok(r.ok, `${p}: ${r.status} ${await r.clone().text()}`);
  return r.json();
}

const getRun = async (id) => (await api(`runs/get?run_id=${id}`)).run;
const params = (run) => Object.fromEntries((run.data.params ?? []).map((p) => [p.key, p.value]));
const metrics = (run) => Object.fromEntries((run.data.metrics ?? []).map((m) => [m.key, m]));

test("MlflowCallback logs LLMeter's params and numeric stats into the active run, read back from MLflow", async () => {
  const active = (await api("runs/create", { experiment_id: "0", run_name: "benchmarks", start_time: Date.now() })).run.info.run_id;
  const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: sim.base, model: "sim" }) });
  const result = await runner.run({
    clients: 2, nRequests: 3, runName: "logged", payload: { messages: [{ role: "user", content: "hi" }], max_tokens: 3 },
    // The CostModel runs first (LLMeter's order), so its keys are among the metrics.
    callbacks: [new CostModel({ requestDims: [new OutputTokens(10)] }), new MlflowCallback({ trackingUri: base, runId: active, step: 7 })],
  });
  const run = await getRun(active);
  assert.deepEqual(params(run), {
    total_requests: "6", clients: "2", n_requests: "3", model_id: "sim", output_path: "None",
    endpoint_name: "openai", provider: "openai", run_name: "logged", run_description: "None",
  });
  const m = metrics(run);
  // Every numeric stat but the params, with its value and step.
  const expected = Object.entries(result.stats).filter(([k, v]) => typeof v === "number" && !["total_requests", "clients", "n_requests"].includes(k));
  assert.deepEqual(Object.keys(m).sort(), expected.map(([k]) => k).sort());
  for (const [k, v] of expected) {
    assert.equal(m[k].value, v, k);
    assert.equal(m[k].step, 7);
  }
  assert.ok("cost_total" in m && "time_to_first_token-p50" in m && "total_test_time" in m);
  assert.ok(!("start_time" in m) && !("run_name" in m));
  assert.equal(run.info.status, "RUNNING", "the active run is the caller's to end");
});

test("nested: a child run named after the LLMeter run, finished", async () => {
  const parent = (await api("runs/create", { experiment_id: "0", run_name: "sweep", start_time: Date.now() })).run.info.run_id;
  const cb = new MlflowCallback({ trackingUri: base, runId: parent, nested: true });
  const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: sim.base, model: "sim" }), callbacks: [cb] });
  const result = await runner.run({ clients: 1, nRequests: 2, runName: "child-run", payload: { messages: [{ role: "user", content: "hi" }], max_tokens: 2 } });
  const child = await getRun(cb.lastRunId);
  assert.notEqual(cb.lastRunId, parent);
  assert.equal(child.info.run_name, "child-run");
  assert.equal(child.info.status, "FINISHED");
  assert.equal(Object.fromEntries(child.data.tags.map((t) => [t.key, t.value]))["mlflow.parentRunId"], parent);
  assert.equal(params(child).run_name, "child-run");
  assert.equal(metrics(child)["failed_requests"].value, result.stats.failed_requests);
  // A server error is the callback's failure: a warning on the result, not a crash.
  const broken = await runner.run({ clients: 1, nRequests: 1, payload: { messages: [{ role: "user", content: "hi" }] }, callbacks: [new MlflowCallback({ trackingUri: base, runId: "no-such-run" })] });
  assert.ok(broken.info.warnings.some((w) => /MlflowCallback: afterRun failed: MLflow runs\/log-batch answered/.test(w)), broken.info.warnings.join("\n"));
});
