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
mkdir -p www/dist/pkg/endpoints www/dist/pkg/store www/dist/pkg/fleet
cp pkg/endpoints/*.js www/dist/pkg/endpoints/
cp pkg/store/*.js www/dist/pkg/store/
cp pkg/fleet/*.js www/dist/pkg/fleet/
cp node_modules/plotly.js-dist-min/plotly.min.js www/dist/vendor/plotly.min.js
# The security and isolation headers for static hosts that read a _headers file (www/README.md).
node --input-type=module -e 'import { headersFile } from "./scripts/serve-www.mjs"; import { readFileSync, writeFileSync } from "node:fs"; writeFileSync("www/dist/_headers", headersFile(readFileSync("www/dist/index.html", "utf8")));' 
echo "[build-www] www/dist: $(du -sh www/dist | cut -f1) (serve with: node scripts/serve-www.mjs)"
