// The servers and browsers the tests start (llm-sim, workerd, SeaweedFS, MLflow, Chromium, Vite,
// Next): a port to give them, and one rule to stop them, every wait bounded — a process that
// hangs while closing must not hang its test file (CI once lost a whole file of bundler tests
// to one).
import { createServer } from "node:net";

/** A loopback port nobody listens on: bound, then closed (a server is told to use it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = /** @type {import("node:net").AddressInfo} */ (s.address());
      s.close(() => resolve(port));
    });
  });
}

/** True once `proc` has exited (by itself or by a signal). */
export const hasExited = (proc) => proc.exitCode !== null || proc.signalCode !== null;

/**
 * Asks `proc` to stop (`ask`, SIGTERM by default) and resolves once it has exited; if it is
 * still running `graceMs` later, kills it (`kill`, SIGKILL by default) and waits `graceMs` more.
 * @param {import("node:child_process").ChildProcess} proc
 * @param {{ ask?: () => unknown, kill?: () => unknown, graceMs?: number }} [options]
 * @returns {Promise<boolean>} whether it stopped when asked (false: it had to be killed)
 */
export async function stopProcess(proc, { ask = () => proc.kill("SIGTERM"), kill = () => proc.kill("SIGKILL"), graceMs = 5_000 } = {}) {
  if (!proc || hasExited(proc)) return true;
  const exited = new Promise((r) => proc.once("exit", () => r(true)));
  await ask();
  if (await within(graceMs, exited)) return true;
  kill();
  await within(graceMs, exited);
  return false;
}

/** `promise`'s value, or undefined after `ms` (its timer cleared either way: no wait left behind). */
export async function within(ms, promise) {
  let timer;
  try {
    return await Promise.race([promise, new Promise((r) => (timer = setTimeout(r, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
