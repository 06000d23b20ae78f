#!/usr/bin/env bash
# Benchmarks (outside the test suite): llmeter-wasm against the bare fetch loop of each runtime
# (Node, Chromium page and Web Worker, workerd) and Python LLMeter, against one llm-sim.
# Prints one table, writes out/bench/latest.{json,md}. Flags: --quick, --readme, --only=SECTIONS.
# BENCH_SKIP_BUILD=1 skips setup and build (pkg/ and target/sim must be current).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  bash scripts/setup.sh
  bash scripts/build.sh
fi
export LLM_SIM_BIN="$PWD/target/sim/llm-sim"
node scripts/bench.mjs "$@"
