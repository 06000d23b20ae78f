// esbuild has no support for `new URL("….wasm", import.meta.url)`: the `file` loader emits the
// .wasm and gives its URL, which the worker passes to `init(url)`. The store's wasm comes inlined
// instead (`….wasm.base64.js`: no loader needed). Chunks go to a sub-folder, as in many set-ups.
import { writeFileSync } from "node:fs";
import * as esbuild from "esbuild";

const { metafile } = await esbuild.build({
  absWorkingDir: import.meta.dirname,
  entryPoints: ["worker.js"],
  bundle: true,
  format: "esm",
  splitting: true,
  minify: true,
  outdir: "dist",
  chunkNames: "chunks/[name]-[hash]",
  loader: { ".wasm": "file" },
  logLevel: "warning",
  metafile: true,
});
writeFileSync("meta.json", JSON.stringify(metafile)); // what each output imports (for the size report)
