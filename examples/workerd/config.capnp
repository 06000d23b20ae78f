# Runs the example with plain workerd (npm `workerd`), from the repository root after
# `bash scripts/build.sh`:
#   node_modules/.bin/workerd serve examples/workerd/config.capnp --socket-addr http=127.0.0.1:8787
#   curl 'http://127.0.0.1:8787/?baseUrl=http://127.0.0.1:8000/v1&model=sim-model'
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .benchmarkWorker),
    # Outgoing fetches go here. workerd blocks private addresses (127.0.0.1) by default;
    # allowing "private" lets the example reach a local endpoint such as llm-sim.
    (name = "internet", network = (allow = ["public", "private"])),
  ],
  sockets = [ (name = "http", address = "*:8787", http = (), service = "main") ],
);

const benchmarkWorker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    # The package under the names the worker imports it by (what a bundler would resolve).
    (name = "llmeter-wasm", esModule = "export * from \"llmeter-wasm/index.js\";"),
    (name = "llmeter-wasm/index.js", esModule = embed "../../pkg/index.js"),
    (name = "llmeter-wasm/loader.js", esModule = embed "../../pkg/loader.js"),
    (name = "llmeter-wasm/core.js", esModule = embed "../../pkg/core.js"),
    (name = "llmeter-wasm/crash.js", esModule = embed "../../pkg/crash.js"),
    (name = "llmeter-wasm/engines.js", esModule = embed "../../pkg/engines.js"),
    (name = "llmeter-wasm/pump.js", esModule = embed "../../pkg/pump.js"),
    (name = "llmeter-wasm/node-http.js", esModule = embed "../../pkg/node-http.js"),
    (name = "llmeter-wasm/endpoints/endpoint.js", esModule = embed "../../pkg/endpoints/endpoint.js"),
    (name = "llmeter-wasm/endpoints/openai.js", esModule = embed "../../pkg/endpoints/openai.js"),
    (name = "llmeter-wasm/endpoints/openai-responses.js", esModule = embed "../../pkg/endpoints/openai-responses.js"),
    (name = "llmeter-wasm/endpoints/anthropic.js", esModule = embed "../../pkg/endpoints/anthropic.js"),
    (name = "llmeter-wasm/endpoints/custom.js", esModule = embed "../../pkg/endpoints/custom.js"),
    (name = "llmeter-wasm/endpoints/bedrock.js", esModule = embed "../../pkg/endpoints/bedrock.js"),
    (name = "llmeter-wasm/endpoints/sagemaker.js", esModule = embed "../../pkg/endpoints/sagemaker.js"),
    (name = "llmeter-wasm/experiments.js", esModule = embed "../../pkg/experiments.js"),
    (name = "llmeter-wasm/result-loader.js", esModule = embed "../../pkg/result-loader.js"),
    (name = "llmeter-wasm/report.js", esModule = embed "../../pkg/report.js"),
    (name = "llmeter-wasm/callbacks.js", esModule = embed "../../pkg/callbacks.js"),
    (name = "llmeter-wasm/output.js", esModule = embed "../../pkg/output.js"),
    (name = "llmeter-wasm/llmeter_wasm.js", esModule = embed "../../pkg/llmeter_wasm.js"),
    (name = "llmeter-wasm/llmeter_wasm_bg.wasm", wasm = embed "../../pkg/llmeter_wasm_bg.wasm"),
  ],
  compatibilityDate = "2025-09-01",
  globalOutbound = "internet",
);
