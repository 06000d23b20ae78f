// An entry and an output folder, nothing for .wasm, workers or the service worker. The plugin
// only puts index.html into the output folder, as html-webpack-plugin would: the page must be
// served from the folder the service worker is emitted into (its scope).
import path from "node:path";
import { readFileSync } from "node:fs";

export default {
  mode: "production",
  context: import.meta.dirname,
  entry: "./main.js",
  output: { path: path.join(import.meta.dirname, "dist"), clean: true },
  plugins: [{
    apply(compiler) {
      const { Compilation, sources } = compiler.webpack;
      compiler.hooks.thisCompilation.tap("page", (compilation) => {
        compilation.hooks.processAssets.tap({ name: "page", stage: Compilation.PROCESS_ASSETS_STAGE_ADDITIONAL }, () => {
          compilation.emitAsset("index.html", new sources.RawSource(readFileSync(path.join(import.meta.dirname, "index.html"))));
        });
      });
    },
  }],
};
