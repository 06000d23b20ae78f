// The page's connection to the engine's dedicated worker (worker.js): starting it, sending it
// messages, and replacing it when it crashes (an uncaught error or a wasm trap in the worker
// leaves the engine unusable, and its run would never report back).

/**
 * @typedef {Object} Engine
 * @property {(message: any) => void} post throws if the message cannot be sent (not clonable,
 *   or the worker could not be loaded at all)
 */

/**
 * @param {{ onMessage: (msg: any) => void, onCrash: (reason: string, restarted: boolean) => void }} handlers
 *   `onCrash` is called after a crashed worker was replaced (`restarted`), or when the worker
 *   could not even load (then it is not retried: it would fail the same way).
 * @returns {Engine}
 */
export function startEngine({ onMessage, onCrash }) {
  /** @type {Worker} */
  let worker;
  /** Set when the worker cannot load: nothing can be sent. @type {string | null} */
  let broken = null;
  const start = () => {
    const current = new Worker(new URL("./worker.js", import.meta.url), { type: "module", name: "llmeter-engine" });
    let loaded = false;
    worker = current;
    // Messages from a worker that was already replaced are stale.
    current.onmessage = (e) => {
      if (current !== worker) return;
      if (e.data?.type === "ready") return void (loaded = true);
      if (e.data?.type === "crash") return crashed(e.data.message, loaded);
      onMessage(e.data);
    };
    // Errors the worker did not catch itself (a failed module load included).
    current.onerror = (e) => {
      e.preventDefault();
      if (current === worker) crashed(e.message || "the worker could not be loaded", loaded);
    };
    current.onmessageerror = () => current === worker && crashed("a message from the engine could not be read", loaded);
  };
  /** @param {string} reason @param {boolean} loaded */
  const crashed = (reason, loaded) => {
    worker.terminate();
    if (loaded) start();
    else broken = reason;
    onCrash(reason, loaded);
  };
  start();
  return {
    post(message) {
      if (broken) throw new Error(`the benchmark engine could not be loaded (${broken})`);
      worker.postMessage(message);
    },
  };
}
