// Bundles pkg/probe-worker.js into one file, in place. A dedicated worker's every module fetch
// costs the page's main thread (~0.1 ms each in Chromium, measured by `npm run bench`, probe
// section): the engine's graph is a dozen modules, so one file takes ~1.4 ms off a probed page
// view. Only the worker's static graph goes in; its dynamic imports (report, fleet workers,
// inlined wasm in Node) stay the package's own modules — the probe reaches none of them, and a
// second copy of the core would be a second, uninitialised engine.
import { build } from "esbuild";
import { renameSync } from "node:fs";

const out = "pkg/probe-worker.bundle.tmp.js";
await build({
  entryPoints: ["pkg/probe-worker.js"],
  outfile: out,
  bundle: true,
  format: "esm",
  target: "es2022",
  legalComments: "none",
  logLevel: "error",
  plugins: [{
    name: "keep-dynamic-imports",
    setup(b) {
      // What a probe never reaches (figures, merging, `workers: N`) is left out, not kept as a
      // dynamic import: a bundler that builds an app's workers as one file (Vite's default
      // `worker.format: "iife"`) would otherwise put all of it into the probe's worker (38.9 KB
      // gzipped instead of 13.6, tests/packaging/probe.test.js). Reached anyway, it rejects.
      b.onResolve({ filter: /^\.\/(report|fleet\/[\w-]+|llmeter_fleet)\.js$/ }, (a) =>
        a.kind === "dynamic-import" ? { path: "absent", namespace: "not-in-probe" } : undefined);
      b.onLoad({ filter: /.*/, namespace: "not-in-probe" }, () => ({
        contents: `export {}; throw new Error("not part of the Probe's worker (figures, merging, workers): use llmeter-wasm itself for those");`,
        loader: "js",
      }));
      b.onResolve({ filter: /.*/ }, (a) =>
        a.kind === "dynamic-import" || a.path.startsWith("#inline/") || a.path.startsWith("node:") ? { path: a.path, external: true } : undefined);
    },
  }],
});
renameSync(out, "pkg/probe-worker.js");
