#!/usr/bin/env bash
# Creates (or reuses) .venv with the Python reference packages used by the tests.
# Idempotent: re-installs only when tests/python/requirements.txt changed.
set -euo pipefail
cd "$(dirname "$0")/.."
REQ=tests/python/requirements.txt
STAMP=.venv/.requirements.sha
want=$(sha256sum "$REQ" | cut -d' ' -f1)
if [ -x .venv/bin/python ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  exit 0
fi
echo "[python-env] creating .venv with $(python3 --version)"
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r "$REQ"
echo "$want" > "$STAMP"
