#!/usr/bin/env bash
# Optional Hugging Face tokenizer support: a SEPARATE wasm module (llmeter_tokenizers_bg.wasm)
# with its JS API (tokenizer.js). The core module never links it; tokenizer.js instantiates it on
# first use. Run after scripts/build.sh has built the core (which empties pkg/ first).
set -euo pipefail
cd "$(dirname "$0")/.."
# Speed and size balanced (opt-level "s", wasm-opt -Os): see [profile.release-tokenizers] in Cargo.toml.
CARGO_PROFILE=release-tokenizers bash scripts/build-module.sh llmeter-tokenizers llmeter_tokenizers -Os tokenizer.js
node scripts/package-types.mjs
