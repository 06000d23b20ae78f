#!/usr/bin/env bash
# Benchmarks (outside the test suite): the engine against a bare JavaScript fetch loop in the
# same runtime and the same run. Prints a table and writes out/bench/latest.json.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
export LLM_SIM_BIN="$PWD/target/sim/llm-sim"
node scripts/bench.mjs "$@"
