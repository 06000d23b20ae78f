// @ts-check
/**
 * Crash recovery for a wasm engine module (the core, or an optional engine such as the AWS
 * build). The engine does not panic on external data; if it fails anyway (a bug, out of
 * memory), every pending call is rejected with the reason instead of never settling, in-flight
 * fetches are aborted, and a fresh instance is created for the next call. JS calls into the
 * engine from event sources go through `guard` (the fetch pump, the engine's task queue) so that
 * a trap becomes this rejection rather than an uncaught error that ends a Node process or a
 * worker. Each engine module has its own handler: a crash of one leaves the others running.
 * @internal
 */

/**
 * @typedef {Object} CrashHandler
 * @property {<T>(promise: Promise<T>) => Promise<T>} tracked runs `promise` so that a crash rejects it
 * @property {<F extends (...args: any[]) => void>(f: F) => F} guard wraps a callback entering the engine from an event source
 * @property {(cause: unknown) => void} crashed reports a failure: reject what is pending, re-create the instance
 * @property {(f: () => void) => void} whenCrashed cleanup to run on a crash (the pump aborts its fetches)
 * @property {(f: () => void) => void} afterReset set-up to repeat on each fresh instance
 */

/**
 * The crash handler of one engine module.
 * @param {() => void} resetState the module's `__wbg_reset_state` (a fresh instance)
 * @returns {CrashHandler}
 */
export function createCrashHandler(resetState) {
  /** @type {Set<(reason: Error) => void>} */
  const pending = new Set();
  /** @type {Set<() => void>} */
  const onCrash = new Set();
  /** @type {Set<() => void>} */
  const onReset = new Set();
  let resetting = false;

  /** @param {unknown} cause a panic's message or the trap caught */
  function crashed(cause) {
    const message = typeof cause === "string" ? cause : `llmeter-wasm engine failed: ${/** @type {any} */ (cause)?.message ?? cause}`;
    const error = new Error(`${message} — the run was stopped and the engine restarted; please report this bug`);
    for (const reject of pending) reject(error);
    pending.clear();
    for (const f of onCrash) { try { f(); } catch { /* cleanup is best effort */ } }
    if (!resetting) {
      resetting = true;
      // Once the failing call has unwound.
      queueMicrotask(() => {
        resetting = false;
        try {
          resetState();
          for (const f of onReset) f();
        } catch { /* not initialised yet */ }
      });
    }
  }

  return {
    tracked(promise) {
      return new Promise((resolve, reject) => {
        pending.add(reject);
        promise.then(resolve, reject).finally(() => pending.delete(reject));
      });
    },
    guard(f) {
      return /** @type {typeof f} */ ((...args) => {
        try {
          f(...args);
        } catch (e) {
          // A callback of an instance already replaced: nothing to do, nothing to report.
          if (/previous WASM instance/i.test(String(/** @type {any} */ (e)?.message))) return;
          crashed(e);
        }
      });
    },
    crashed,
    whenCrashed: (f) => void onCrash.add(f),
    afterReset: (f) => void onReset.add(f),
  };
}
