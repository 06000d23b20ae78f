// run.mjs as one file for a serverless function (esbuild, platform node): the .wasm files are not
// copied next to the bundle, so in Node the package loads its inlined copies.
import * as esbuild from "esbuild";

await esbuild.build({
  absWorkingDir: import.meta.dirname,
  entryPoints: ["run.mjs"],
  bundle: true,
  platform: "node",
  format: "esm",
  outfile: "dist/run.mjs",
  logLevel: "warning",
});
