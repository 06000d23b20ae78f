#!/usr/bin/env bash
# Builds one of the package's wasm modules into pkg/:
#   scripts/build-module.sh <cargo package> <out name> <wasm-opt flags> [js files to copy...]
# e.g. scripts/build-module.sh llmeter-tokenizers llmeter_tokenizers -Oz tokenizer.js
# CARGO_FEATURES=aws builds the package with those features (the AWS engine build).
# CARGO_PROFILE picks the cargo profile (default release; see the profiles in Cargo.toml).
# → pkg/<out name>.js, pkg/<out name>_bg.wasm (+ .d.ts), and each js/<file> copied to pkg/<file>
# (sub-folders kept, e.g. store/zip.js).
# Every optional module is a separate wasm file that its JS wrapper loads on first use, so the
# core package stays small (see docs/ARCHITECTURE.md).
set -euo pipefail
cd "$(dirname "$0")/.."
crate="$1"; out="$2"; opt="$3"; shift 3
log() { echo "[build:$out] $*"; }
target_dir="${CARGO_TARGET_DIR:-target}"
lib_name="${crate//-/_}"
profile="${CARGO_PROFILE:-release}"

features=()
[ -n "${CARGO_FEATURES:-}" ] && features=(--features "$CARGO_FEATURES")
log "cargo build --profile $profile --target wasm32-unknown-unknown -p $crate ${features[*]}"
cargo build --quiet --profile "$profile" --lib --target wasm32-unknown-unknown -p "$crate" "${features[@]}"
mkdir -p pkg
wasm-bindgen --target web --weak-refs --experimental-reset-state-function --out-dir pkg --out-name "$out" \
  "$target_dir/wasm32-unknown-unknown/$profile/$lib_name.wasm"
# npm binaryen, after wasm-bindgen (Debian's binaryen 108 silently breaks modules).
read -ra opt_flags <<< "$opt"
node_modules/.bin/wasm-opt "${opt_flags[@]}" --strip-debug --strip-producers --enable-bulk-memory \
  --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
  --enable-reference-types --enable-multivalue "pkg/${out}_bg.wasm" -o "pkg/${out}_bg.wasm"
# Typed `.wasm` subpath and a base64 entry for set-ups without .wasm support.
node scripts/package-wasm.mjs "$out"
for f in "$@"; do mkdir -p "pkg/$(dirname "$f")"; cp "js/$f" "pkg/$f"; done
log "pkg/${out}_bg.wasm: $(stat -c %s "pkg/${out}_bg.wasm") bytes raw, $(gzip -9 -c "pkg/${out}_bg.wasm" | wc -c) bytes gzipped"
