#!/usr/bin/env bash
# Benchmarks (outside the test suite): llmeter-wasm against a plain JavaScript client and the bare
# fetch loop of each runtime (Node, Chromium page and Web Worker, workerd), and against peer tools
# (Python LLMeter, AIPerf, GuideLLM), with one llm-sim.
# Prints the tables, writes out/bench/latest.{json,md}. Flags: --quick, --readme, --only=SECTIONS.
# BENCH_SKIP_BUILD=1 skips setup and build (pkg/ and target/sim must be current). The peer tools'
# venvs (.venv-aiperf, .venv-guidellm) are installed whenever the peers section runs (once; a
# no-op afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  bash scripts/setup.sh
  bash scripts/build.sh
fi
only=""
for a in "$@"; do
  case "$a" in --only=*) only="${a#--only=}" ;; esac
done
if [ -z "$only" ] || [[ ",$only," == *,peers,* ]]; then
  bash scripts/bench/peers-env.sh
fi
export LLM_SIM_BIN="$PWD/target/sim/llm-sim"
node scripts/bench.mjs "$@"
