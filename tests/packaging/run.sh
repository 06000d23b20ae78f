#!/usr/bin/env bash
# The packaging suite: packs pkg/ and installs the tarball next to the apps' pinned dependencies
# (prepare.mjs), then builds each app in a fresh folder and runs it against llm-sim (node --test),
# and prints each app's bundle sizes (sizes.mjs). Needs scripts/setup.sh (which runs setup.sh here) and
# scripts/build.sh first; `bash scripts/test.sh` does all of it.
set -euo pipefail
cd "$(dirname "$0")/../.."
export LLM_SIM_BIN="${LLM_SIM_BIN:-$PWD/target/sim/llm-sim}"
node tests/packaging/prepare.mjs
# The size table is printed whatever the tests did (an app whose test failed says so in it).
status=0
node --test --test-timeout=600000 tests/packaging/*.test.js || status=$?
node tests/packaging/sizes.mjs
exit "$status"
