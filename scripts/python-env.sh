#!/usr/bin/env bash
# Creates (or reuses) .venv with the Python reference packages used by the tests, and
# .venv-mlflow with MLflow's tracking server (a large tree of its own, kept apart).
# Idempotent: re-installs a venv only when its requirements file changed.
set -euo pipefail
cd "$(dirname "$0")/.."

# venv <dir> <requirements file>
venv() {
  local dir="$1" req="$2"
  local stamp="$dir/.requirements.sha"
  local want
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [ -x "$dir/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  echo "[python-env] creating $dir with $(python3 --version)"
  python3 -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
}

venv .venv tests/python/requirements.txt
venv .venv-mlflow tests/python/requirements-mlflow.txt
