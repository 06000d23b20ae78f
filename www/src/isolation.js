// Cross-origin isolation for a fine clock: served with COOP + COEP headers (scripts/serve-www.mjs,
// or a host configured as in www/README.md), the page is isolated already. On a static host that
// cannot set headers, the service worker (sw.js?isolate=1) adds them: registered on the first
// visit, it takes effect after one reload, which this module does once per tab.
const RELOADED = "llmeter.isolation-reload";

/**
 * Makes sure the page is cross-origin isolated where it can be. Resolves when nothing more is
 * to be done (the page stays as it is), or reloads the page (then never resolves).
 * @returns {Promise<"isolated" | "reloading" | "unavailable">}
 */
export async function ensureIsolation() {
  if (globalThis.crossOriginIsolated) return "isolated";
  const sw = navigator.serviceWorker;
  if (!window.isSecureContext || !sw) return "unavailable";
  // Already controlled and still not isolated: the host or the browser does not allow it.
  if (sw.controller && sessionStorage.getItem(RELOADED)) return "unavailable";
  try {
    const registration = await sw.register(new URL("./sw.js?isolate=1", import.meta.url), { scope: "./" });
    await waitActive(registration);
  } catch {
    return "unavailable";
  }
  if (sessionStorage.getItem(RELOADED)) return "unavailable";
  sessionStorage.setItem(RELOADED, "1");
  location.reload();
  return new Promise(() => {});
}

/** @param {ServiceWorkerRegistration} registration */
function waitActive(registration) {
  if (registration.active) return Promise.resolve();
  const worker = registration.installing ?? registration.waiting;
  return new Promise((resolve, reject) => {
    worker?.addEventListener("statechange", () => {
      if (worker.state === "activated") resolve(undefined);
      if (worker.state === "redundant") reject(new Error("the service worker could not be installed"));
    });
  });
}

/**
 * Whether the endpoint's server answers at all, asked from the service worker (see sw.js): a page
 * under COEP cannot send the no-cors probe itself. `null` when no service worker can tell.
 * @param {string} url
 * @returns {Promise<boolean | null>}
 */
export async function probeFromServiceWorker(url) {
  const sw = navigator.serviceWorker;
  if (!window.isSecureContext || !sw) return null;
  try {
    // Registered only for this when the page is isolated by headers (no fetch handler then).
    const registration = (await sw.getRegistration("./")) ?? (await sw.register(new URL("./sw.js", import.meta.url), { scope: "./" }));
    await waitActive(registration);
    const worker = registration.active;
    if (!worker) return null;
    const channel = new MessageChannel();
    const answer = new Promise((resolve) => {
      channel.port1.onmessage = (e) => resolve(typeof e.data?.reachable === "boolean" ? e.data.reachable : null);
      setTimeout(() => resolve(null), 10_000);
    });
    worker.postMessage({ type: "probe", url }, [channel.port2]);
    return await answer;
  } catch {
    return null;
  }
}
