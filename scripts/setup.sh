#!/usr/bin/env bash
# Installs everything the build, demo and tests need on a fresh machine of this kind.
# Idempotent and quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "[setup] $*"; }

# Rust target for the wasm build.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# wasm-bindgen CLI at exactly the crate's version (they must match).
want_wb=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p' | head -1)
have_wb=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have_wb" != "$want_wb" ]; then
  log "installing wasm-bindgen-cli $want_wb (about 5 minutes, once)"
  # No --locked: a transitive version pinned in its lock file is gone from the registry.
  cargo install wasm-bindgen-cli --version "$want_wb"
fi

# Nightly Rust and cargo-fuzz for the fuzz smoke run (fuzz/smoke.sh, part of scripts/test.sh).
if ! cargo +nightly --version >/dev/null 2>&1; then
  log "installing the nightly Rust toolchain (for cargo-fuzz)"
  rustup toolchain install nightly --profile minimal
fi
want_fuzz=0.13.2
if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "$want_fuzz" ]; then
  log "installing cargo-fuzz $want_fuzz (about 2 minutes, once)"
  cargo install cargo-fuzz --version "$want_fuzz" --locked
fi

# Debian packages, after one `apt-get update` for all of them.
apt_updated=0
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if [ "$apt_updated" = 0 ]; then apt-get update -qq; apt_updated=1; fi
  apt-get install -y -qq "$@" >/dev/null
}

# Headless Chromium and its driver for browser tests.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  log "installing Debian chromium and chromium-driver"
  apt_install chromium chromium-driver
fi

# Firefox ESR and WebKitGTK for the three-engine browser tests: Firefox is driven over WebDriver
# BiDi by puppeteer-core (no geckodriver), WebKit's MiniBrowser by WebKitWebDriver under Xvfb
# (it has no headless mode). About 40 s of apt on a machine that has Chromium: reinstalling the
# six largest packages (firefox-esr, libwebkit2gtk-4.1-0, libjavascriptcoregtk-4.1-0,
# webkit2gtk-driver, xvfb, xauth) took 5 s to download 109 MB and 37 s to unpack and configure
# (2026-12-03). At most 254 packages, 250 MB, are not already there for Chromium. Debian's
# security updates replace older versions, so not pinned.
if ! command -v firefox-esr >/dev/null || ! command -v WebKitWebDriver >/dev/null || ! command -v Xvfb >/dev/null || ! command -v xauth >/dev/null; then
  log "installing Debian firefox-esr, webkit2gtk-driver, xvfb and xauth"
  apt_install --no-install-recommends firefox-esr webkit2gtk-driver xvfb xauth
fi

# npm dev dependencies (binaryen, playwright-core, puppeteer-core, selenium-webdriver, typescript)
# from the lock file. puppeteer-core downloads no browser; the variable keeps it that way.
export PUPPETEER_SKIP_DOWNLOAD=1
lock_sha=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f node_modules/.lock.sha ] || [ "$(cat node_modules/.lock.sha)" != "$lock_sha" ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sha" > node_modules/.lock.sha
fi

# The packaging tests' apps (Vite, webpack, esbuild, Next.js, TypeScript, publint, attw).
bash tests/packaging/setup.sh

# Python reference packages (openai, llmeter, tokenizers, boto3, pytest) in .venv.
bash scripts/python-env.sh
