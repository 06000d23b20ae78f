#!/usr/bin/env bash
# Builds the npm package in pkg/ (wasm + JS API + TypeScript types) and the llm-sim binary.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "[build] $*"; }

log "llm-sim (cargo --profile sim)"
cargo build --quiet --profile sim -p llm-sim

rm -rf pkg && mkdir -p pkg
# The entries import each other's modules (index.js → fleet/, fleet/ → store/): declarations are
# emitted once, after every module is in pkg/.
export LLMETER_DEFER_TYPES=1
# Every endpoint class in js/endpoints/ ships: adding one needs no change here.
# wasm-opt -O3, not -Os: -Os is 0.9 KB gzipped smaller and as fast per request (A/B, 2026-12-03),
# but the open loop's schedule lag p99 doubled (scripts/bench/lag.mjs: -Os 2.05 / 2.16 ms at
# 50 / 200 req/s, -O3 1.42 / 1.70 and 1.32 / 1.43), with more GC pauses over 2 ms; measured
# again 2026-12-03 (second session): -Os 1.54 / 1.45 and 2.28 / 2.57, -O3 1.40 / 1.17 and 1.64 / 1.71.
# --converge repeats the passes until the size stops falling (-0.6 KB gz). --low-memory-unused
# lets wasm-opt fold constant offsets into loads and stores (-1.4 KB gz): it assumes nothing
# lives in the first 1 KB of memory, which holds for Rust's layout (the 1 MB stack sits first and
# grows down towards 0; nothing is ever stored at a null-adjacent address).
ENGINE_OPT="-O3 --converge --low-memory-unused"
bash scripts/build-module.sh llmeter-wasm llmeter_wasm "$ENGINE_OPT" index.js core.js crash.js engines.js pump.js $(cd js && ls endpoints/*.js) \
  loader.js node-http.js no-inline.js result-loader.js experiments.js report.js callbacks.js output.js probe.js probe-worker.js probe-rules.js probe-measure.js probe-sw.js
node scripts/patch-glue.mjs pkg/llmeter_wasm.js
# The AWS engine (Bedrock, SageMaker): the same engine with the AWS endpoints, a separate wasm
# module loaded only through llmeter-wasm/aws.js (they would take the core past its budget).
CARGO_FEATURES=aws bash scripts/build-module.sh llmeter-wasm llmeter_wasm_aws "$ENGINE_OPT" aws.js
node scripts/patch-glue.mjs pkg/llmeter_wasm_aws.js

# The package's own README (for npm users; the repository's README is for contributors).
cp js/package.json js/README.md LICENSE js/types.d.ts pkg/
# Optional HF tokenizers: a separate wasm module, loaded only when used.
bash scripts/build-tokenizers.sh
# Optional result store / zip / upload: a separate wasm module, loaded only when used.
bash scripts/build-store.sh
# Optional fleets (merge, plans, workers): a separate wasm module, loaded only when used.
bash scripts/build-fleet.sh
# Declarations from the JSDoc (checks the JS too), without what is marked @internal.
LLMETER_DEFER_TYPES= node scripts/package-types.mjs
# The Probe's worker as one file (see the script for why).
node scripts/bundle-probe-worker.mjs

raw=$(stat -c %s pkg/llmeter_wasm_bg.wasm)
gz=$(gzip -9 -c pkg/llmeter_wasm_bg.wasm | wc -c)
log "core pkg/llmeter_wasm_bg.wasm: $raw bytes raw, $gz bytes gzipped"
log "AWS engine pkg/llmeter_wasm_aws_bg.wasm: $(stat -c %s pkg/llmeter_wasm_aws_bg.wasm) bytes raw, $(gzip -9 -c pkg/llmeter_wasm_aws_bg.wasm | wc -c) bytes gzipped"

# The playground (static site in www/dist).
bash scripts/build-www.sh
