// `output: "standalone"`: .next/standalone is a server that runs without the project's
// node_modules. Nothing for llmeter-wasm or its .wasm files.
export default {
  output: "standalone",
  // The tests build the app in a temporary folder: trace and bundle from there.
  outputFileTracingRoot: import.meta.dirname,
  turbopack: { root: import.meta.dirname },
};
