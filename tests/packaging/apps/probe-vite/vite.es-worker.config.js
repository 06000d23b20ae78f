// The same app with workers built as ES modules: Vite's default (iife) cannot split a worker, so
// whatever a worker imports lazily is inlined; the Probe's worker must come out the same either way.
import config from "./vite.config.js";

export default { ...config, worker: { format: "es" } };
