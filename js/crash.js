// @ts-check
/**
 * Crash recovery for the core wasm module. The engine does not panic on external data; if it
 * fails anyway (a bug, out of memory), every pending call is rejected with the reason instead of
 * never settling, in-flight fetches are aborted, and a fresh instance is created for the next
 * call. JS calls into the engine from event sources go through `guard` (the fetch pump, the
 * engine's task queue) so that a trap becomes this rejection rather than an uncaught error
 * that ends a Node process or a worker.
 * @internal
 */
import { __wbg_reset_state } from "./llmeter_wasm.js";

/** @type {Set<(reason: Error) => void>} */
const pending = new Set();
/** @type {Set<() => void>} */
const onCrash = new Set();
/** @type {Set<() => void>} */
const onReset = new Set();
let resetting = false;

/**
 * Runs `promise` so that an engine crash rejects it.
 * @template T @param {Promise<T>} promise @returns {Promise<T>}
 */
export function tracked(promise) {
  return new Promise((resolve, reject) => {
    pending.add(reject);
    promise.then(resolve, reject).finally(() => pending.delete(reject));
  });
}

/** Registers cleanup to run on a crash (the pump aborts its fetches). @param {() => void} f */
export function whenCrashed(f) {
  onCrash.add(f);
}

/** Registers set-up to repeat on each fresh instance. @param {() => void} f */
export function afterReset(f) {
  onReset.add(f);
}

/**
 * The engine failed: reject what is pending and re-create the instance once the failing call
 * has unwound.
 * @param {unknown} cause a panic's message or the trap caught
 */
export function crashed(cause) {
  const message = typeof cause === "string" ? cause : `llmeter-wasm engine failed: ${/** @type {any} */ (cause)?.message ?? cause}`;
  const error = new Error(`${message} — the run was stopped and the engine restarted; please report this bug`);
  for (const reject of pending) reject(error);
  pending.clear();
  for (const f of onCrash) { try { f(); } catch { /* cleanup is best effort */ } }
  if (!resetting) {
    resetting = true;
    queueMicrotask(() => {
      resetting = false;
      try {
        __wbg_reset_state();
        for (const f of onReset) f();
      } catch { /* not initialised yet */ }
    });
  }
}

/**
 * Wraps a callback that enters the engine from an event source: a trap in it becomes a crash
 * report instead of an uncaught error.
 * @template {(...args: any[]) => void} F @param {F} f @returns {F}
 */
export function guard(f) {
  return /** @type {F} */ ((...args) => {
    try {
      f(...args);
    } catch (e) {
      // A callback of an instance already replaced: nothing to do, nothing to report.
      if (/previous WASM instance/i.test(String(/** @type {any} */ (e)?.message))) return;
      crashed(e);
    }
  });
}
