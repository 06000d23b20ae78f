#!/usr/bin/env bash
# The packaging suite: packs pkg/ and installs the tarball next to the apps' pinned dependencies
# (prepare.mjs), then builds each app in a fresh folder and runs it against llm-sim (node --test),
# and prints each app's bundle sizes. Needs scripts/setup.sh (which runs setup.sh here) and
# scripts/build.sh first; `bash scripts/test.sh` does all of it.
set -euo pipefail
cd "$(dirname "$0")/../.."
export LLM_SIM_BIN="${LLM_SIM_BIN:-$PWD/target/sim/llm-sim}"
node tests/packaging/prepare.mjs
node --test --test-timeout=600000 tests/packaging/*.test.js
node tests/packaging/sizes.mjs
