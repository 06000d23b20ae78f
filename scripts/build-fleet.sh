#!/usr/bin/env bash
# Fleets (exact merge of shards, plans, keys, workers) and loading result folders: a SEPARATE
# wasm module (llmeter_fleet_bg.wasm) with its JS API (fleet.js and fleet/), loaded only when a
# merge, a fleet, `workers: N` or `Result.fromFiles` is used, so the core module does not grow.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-module.sh llmeter-fleet llmeter_fleet -Oz fleet.js $(cd js && ls fleet/*.js)
node scripts/package-types.mjs
