// The one rule for stopping what the tests start: asked first, killed when it will not stop,
// never waited on without a bound.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { stopProcess, hasExited, within } from "./process.js";

/** A Node child that prints "ready" once its SIGTERM handler (if any) is installed. */
async function child(source) {
  const proc = spawn(process.execPath, ["-e", `${source}; console.log("ready"); setInterval(() => {}, 1000);`], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise((r) => proc.stdout.once("data", r));
  return proc;
}

test("a child that stops when asked is stopped by SIGTERM, not killed", async () => {
  const proc = await child("");
  assert.equal(await stopProcess(proc, { graceMs: 10_000 }), true);
  assert.equal(proc.signalCode, "SIGTERM");
});

test("a child that ignores SIGTERM is killed once the grace is over, and the wait ends", async () => {
  const proc = await child(`process.on("SIGTERM", () => {})`);
  const t0 = Date.now();
  assert.equal(await stopProcess(proc, { graceMs: 300 }), false);
  assert.ok(Date.now() - t0 >= 300);
  assert.equal(proc.signalCode, "SIGKILL");
  assert.ok(hasExited(proc));
});

test("stopping a child that has already exited returns at once", async () => {
  const proc = spawn(process.execPath, ["-e", "process.exit(3)"]);
  await new Promise((r) => proc.once("exit", r));
  assert.equal(await stopProcess(proc, { ask: () => assert.fail("asked a dead process") }), true);
});

test("within: a promise's value in time, undefined after the bound", async () => {
  assert.equal(await within(1_000, Promise.resolve(7)), 7);
  const t0 = Date.now();
  assert.equal(await within(50, new Promise(() => {})), undefined);
  assert.ok(Date.now() - t0 >= 45);
});
