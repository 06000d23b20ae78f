#!/usr/bin/env bash
# The main job: set up, build, start llm-sim, benchmark it through the wasm package in headless
# Chromium and in Node, print what was measured and write LLMeter-format results to out/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
export LLM_SIM_BIN="$PWD/target/sim/llm-sim"
node scripts/demo.mjs "$@"
