#!/usr/bin/env bash
# Builds the optional Hugging Face tokenizer support into pkg/ as a SEPARATE wasm module
# (llmeter_tokenizers_bg.wasm) with its JS API (tokenizer.js, tokenizer.d.ts). The core module
# never links it; tokenizer.js instantiates it on first use. Run after scripts/build.sh, which
# starts by emptying pkg/.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "[build-tokenizers] $*"; }

log "wasm (cargo --release --target wasm32-unknown-unknown -p llmeter-tokenizers)"
cargo build --quiet --release --lib --target wasm32-unknown-unknown -p llmeter-tokenizers
target_dir="${CARGO_TARGET_DIR:-target}"

mkdir -p pkg
wasm-bindgen --target web --weak-refs --out-dir pkg --out-name llmeter_tokenizers \
  "$target_dir/wasm32-unknown-unknown/release/llmeter_tokenizers.wasm"
# npm binaryen, after wasm-bindgen (Debian's binaryen 108 silently breaks modules).
node_modules/.bin/wasm-opt -Oz --strip-debug --strip-producers --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
  pkg/llmeter_tokenizers_bg.wasm -o pkg/llmeter_tokenizers_bg.wasm

cp js/tokenizer.js pkg/tokenizer.js
# Its own tsconfig: js/tsconfig.json lists only what scripts/build.sh has put in pkg/ by then.
node_modules/.bin/tsc -p js/tsconfig.tokenizer.json

size_line() {
  local file="$1"
  echo "$file: $(stat -c %s "$file") bytes raw, $(gzip -9 -c "$file" | wc -c) bytes gzipped"
}
log "$(size_line pkg/llmeter_tokenizers_bg.wasm)"
if [ -f pkg/llmeter_wasm_bg.wasm ]; then log "core for comparison: $(size_line pkg/llmeter_wasm_bg.wasm)"; fi
