# workerd serve config.capnp --socket-addr http=127.0.0.1:<port>   (after node build.mjs)
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    # Lets the worker reach llm-sim on 127.0.0.1 (workerd blocks private addresses by default).
    (name = "internet", network = (allow = ["public", "private"])),
  ],
  sockets = [ (name = "http", address = "*:8787", http = (), service = "main") ],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "dist/worker.js"),
    (name = "llmeter_wasm_bg.wasm", wasm = embed "dist/llmeter_wasm_bg.wasm"),
    (name = "llmeter_store_bg.wasm", wasm = embed "dist/llmeter_store_bg.wasm"),
  ],
  compatibilityDate = "2025-09-01",
  globalOutbound = "internet",
);
