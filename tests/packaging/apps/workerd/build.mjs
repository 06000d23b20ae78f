// Bundles worker.js as wrangler does: workerd's export conditions, `.wasm` imports left as
// imports of the copied files, which config.capnp declares as wasm modules.
import * as esbuild from "esbuild";

await esbuild.build({
  absWorkingDir: import.meta.dirname,
  entryPoints: ["worker.js"],
  bundle: true,
  format: "esm",
  platform: "neutral",
  conditions: ["workerd", "worker", "browser"],
  outdir: "dist",
  loader: { ".wasm": "copy" },
  assetNames: "[name]",
  logLevel: "warning",
});
