#!/usr/bin/env bash
# The whole test suite: set-up, build, native Rust tests (core + simulator), a fuzz smoke run, the wasm package in
# Node, Deno, workerd and the three browser engines (Chromium, Firefox, WebKit) against llm-sim,
# the packed package in bundlers and runtimes (tests/packaging), and the Python cross-checks.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
export LLM_SIM_BIN="$PWD/target/sim/llm-sim"

echo "== native tests (cargo test --workspace)"
cargo test --workspace

echo "== fuzz smoke: every target in fuzz/fuzz_targets/, 60 s each, fails on a crash (fuzz/smoke.sh)"
bash fuzz/smoke.sh

echo "== TypeScript declarations type-check a typical use (tsc --noEmit)"
node_modules/.bin/tsc -p tests/js/tsconfig.json

echo "== wasm package in Node, Deno, workerd, Chromium, Firefox and WebKit (node --test)"
# The timeout bounds each test file as a whole too: the browser files run three engines (~1.5–4 min under load).
node --test --test-timeout=600000 tests/js/*.test.js

echo "== the packed npm package in Vite, webpack, esbuild, Next.js, Node, Deno, workerd; types; publint, attw"
bash tests/packaging/run.sh

echo "== Python cross-checks (pytest)"
.venv/bin/python -m pytest tests/python -q
