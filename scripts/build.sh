#!/usr/bin/env bash
# Builds the npm package in pkg/ (wasm + JS API + TypeScript types) and the llm-sim binary.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "[build] $*"; }

log "llm-sim (cargo --profile sim)"
cargo build --quiet --profile sim -p llm-sim

log "wasm (cargo --release --target wasm32-unknown-unknown)"
cargo build --quiet --release --lib --target wasm32-unknown-unknown -p llmeter-wasm

rm -rf pkg && mkdir -p pkg
wasm-bindgen --target web --weak-refs --out-dir pkg --out-name llmeter_wasm \
  target/wasm32-unknown-unknown/release/llmeter_wasm.wasm
# npm binaryen, after wasm-bindgen (Debian's binaryen 108 silently breaks modules).
node_modules/.bin/wasm-opt -O3 --strip-debug --strip-producers --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
  pkg/llmeter_wasm_bg.wasm -o pkg/llmeter_wasm_bg.wasm

cp js/index.js pkg/index.js
node_modules/.bin/tsc -p js/tsconfig.json
cp js/package.json pkg/package.json
cp README.md pkg/README.md 2>/dev/null || true
# Optional HF tokenizers: a separate wasm module, loaded only when used.
bash scripts/build-tokenizers.sh

raw=$(stat -c %s pkg/llmeter_wasm_bg.wasm)
gz=$(gzip -9 -c pkg/llmeter_wasm_bg.wasm | wc -c)
log "core pkg/llmeter_wasm_bg.wasm: $raw bytes raw, $gz bytes gzipped"
