#!/usr/bin/env bash
# Builds the playground (www/src) into www/dist: a static folder any host can serve, with the
# package (pkg/) and Plotly (from node_modules) copied in. Needs pkg/ built first.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f pkg/index.js ] || { echo "[build-www] pkg/ is not built: run scripts/build.sh" >&2; exit 1; }
rm -rf www/dist && mkdir -p www/dist/vendor www/dist/pkg
cp www/src/*.html www/src/*.css www/src/*.js www/dist/
cp -r www/src/texts www/dist/texts
# (not the base64 copies of the .wasm files: for Node server bundles only)
find pkg -maxdepth 1 \( -name "*.wasm" -o -name "*.js" ! -name "*.base64.js" \) -exec cp {} www/dist/pkg/ \;
cp node_modules/plotly.js-dist-min/plotly.min.js www/dist/vendor/plotly.min.js
echo "[build-www] www/dist: $(du -sh www/dist | cut -f1) (serve with: node scripts/serve-www.mjs)"
