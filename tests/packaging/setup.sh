#!/usr/bin/env bash
# Installs the packaging apps' dependencies (Vite, webpack, esbuild, Next.js, TypeScript, publint,
# arethetypeswrong, …) from this folder's lock file. Called by scripts/setup.sh; quick when the
# lock file has not changed.
set -euo pipefail
cd "$(dirname "$0")"
lock_sha=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f node_modules/.lock.sha ] || [ "$(cat node_modules/.lock.sha)" != "$lock_sha" ]; then
  echo "[setup] npm ci (tests/packaging)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sha" > node_modules/.lock.sha
fi
