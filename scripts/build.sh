#!/usr/bin/env bash
# Builds the npm package in pkg/ (wasm + JS API + TypeScript types) and the llm-sim binary.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "[build] $*"; }

log "llm-sim (cargo --profile sim)"
cargo build --quiet --profile sim -p llm-sim

rm -rf pkg && mkdir -p pkg
bash scripts/build-module.sh llmeter-wasm llmeter_wasm -O3 index.js core.js pump.js endpoints/endpoint.js endpoints/openai.js \
  loader.js result-loader.js experiments.js report.js

node_modules/.bin/tsc -p js/tsconfig.json
cp js/package.json pkg/package.json
cp README.md pkg/README.md 2>/dev/null || true
# Optional HF tokenizers: a separate wasm module, loaded only when used.
bash scripts/build-tokenizers.sh
# Optional result store / zip / upload: a separate wasm module, loaded only when used.
bash scripts/build-store.sh

raw=$(stat -c %s pkg/llmeter_wasm_bg.wasm)
gz=$(gzip -9 -c pkg/llmeter_wasm_bg.wasm | wc -c)
log "core pkg/llmeter_wasm_bg.wasm: $raw bytes raw, $gz bytes gzipped"

# The playground (static site in www/dist).
bash scripts/build-www.sh
