// The same app with workers built as ES modules: Vite's default (iife) cannot split a worker,
// so the Probe's worker would also carry the package's lazily loaded code (report, fleet).
import config from "./vite.config.js";

export default { ...config, worker: { format: "es" } };
