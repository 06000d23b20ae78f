# One shard of a fleet per invocation (worker.js), with plain workerd (npm `workerd`), from the
# repository root after `bash scripts/build.sh`:
#   node_modules/.bin/workerd serve examples/workerd-fleet/config.capnp --socket-addr http=127.0.0.1:8788
#   node examples/workerd-fleet/driver.mjs   (triggers the invocations and merges; see its header)
# tests/js/fleet.edge.test.js runs exactly this config against llm-sim and SeaweedFS.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .shardWorker),
    # Outgoing fetches (the endpoint, the store) go here. workerd blocks private addresses
    # (127.0.0.1) by default; allowing "private" lets the example reach llm-sim and a local S3.
    (name = "internet", network = (allow = ["public", "private"])),
  ],
  sockets = [ (name = "http", address = "*:8788", http = (), service = "main") ],
);

const shardWorker :Workerd.Worker = (
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
    (name = "llmeter-wasm/store.js", esModule = embed "../../pkg/store.js"),
    (name = "llmeter-wasm/store/files.js", esModule = embed "../../pkg/store/files.js"),
    (name = "llmeter-wasm/store/idb.js", esModule = embed "../../pkg/store/idb.js"),
    (name = "llmeter-wasm/store/init.js", esModule = embed "../../pkg/store/init.js"),
    (name = "llmeter-wasm/store/recorder.js", esModule = embed "../../pkg/store/recorder.js"),
    (name = "llmeter-wasm/store/result-store.js", esModule = embed "../../pkg/store/result-store.js"),
    (name = "llmeter-wasm/store/upload.js", esModule = embed "../../pkg/store/upload.js"),
    (name = "llmeter-wasm/store/zip.js", esModule = embed "../../pkg/store/zip.js"),
    (name = "llmeter-wasm/llmeter_store.js", esModule = embed "../../pkg/llmeter_store.js"),
    (name = "llmeter-wasm/fleet.js", esModule = embed "../../pkg/fleet.js"),
    (name = "llmeter-wasm/fleet/collect.js", esModule = embed "../../pkg/fleet/collect.js"),
    (name = "llmeter-wasm/fleet/edge.js", esModule = embed "../../pkg/fleet/edge.js"),
    (name = "llmeter-wasm/fleet/init.js", esModule = embed "../../pkg/fleet/init.js"),
    (name = "llmeter-wasm/fleet/merge.js", esModule = embed "../../pkg/fleet/merge.js"),
    (name = "llmeter-wasm/fleet/plan.js", esModule = embed "../../pkg/fleet/plan.js"),
    (name = "llmeter-wasm/fleet/shard.js", esModule = embed "../../pkg/fleet/shard.js"),
    (name = "llmeter-wasm/fleet/workers.js", esModule = embed "../../pkg/fleet/workers.js"),
    (name = "llmeter-wasm/llmeter_fleet.js", esModule = embed "../../pkg/llmeter_fleet.js"),
    (name = "llmeter-wasm/llmeter_wasm_bg.wasm", wasm = embed "../../pkg/llmeter_wasm_bg.wasm"),
    (name = "llmeter-wasm/llmeter_store_bg.wasm", wasm = embed "../../pkg/llmeter_store_bg.wasm"),
    (name = "llmeter-wasm/llmeter_fleet_bg.wasm", wasm = embed "../../pkg/llmeter_fleet_bg.wasm"),
  ],
  compatibilityDate = "2025-09-01",
  # A worker's secrets: the endpoint's key (none for llm-sim); SUBREQUEST_LIMIT on a Paid plan.
  bindings = [ (name = "API_KEY", text = "") ],
  globalOutbound = "internet",
);
