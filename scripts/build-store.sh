#!/usr/bin/env bash
# Result store, zip export/import and upload: a SEPARATE wasm module (llmeter_store_bg.wasm) with
# its JS API (store.js), loaded only when store.js is used, so the core module does not grow.
set -euo pipefail
cd "$(dirname "$0")/.."
# store.js is the entry; store/ holds one file per concern (zip, upload, IndexedDB, recorder).
bash scripts/build-module.sh llmeter-store llmeter_store -Oz store.js $(cd js && ls store/*.js)
node scripts/package-types.mjs
