// The whole webpack set-up: an entry and an output folder, nothing for .wasm.
import path from "node:path";

export default {
  mode: "production",
  context: import.meta.dirname,
  entry: "./main.js",
  output: { path: path.join(import.meta.dirname, "dist"), clean: true },
};
