#!/usr/bin/env bash
# Creates (or reuses) the peer tools' venvs for the bench's peers section: AIPerf in .venv-aiperf,
# GuideLLM in .venv-guidellm, each pinned (scripts/bench/peers/<tool>.requirements.txt, with
# every dependency held by <tool>.constraints.txt). Each takes about 3–6 minutes the first time;
# both install at once. Idempotent: re-installs only when a pin file changed. The test suite
# never needs them (scripts/setup.sh does not call this).
set -euo pipefail
cd "$(dirname "$0")/../.."

install() {
  local tool=$1 venv=".venv-$1" dir=scripts/bench/peers
  local want
  want=$(cat "$dir/$tool.requirements.txt" "$dir/$tool.constraints.txt" | sha256sum | cut -d' ' -f1)
  if [ -x "$venv/bin/$tool" ] && [ "$(cat "$venv/.requirements.sha" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  echo "[peers-env] installing $tool into $venv (a few minutes, once)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    -r "$dir/$tool.requirements.txt" -c "$dir/$tool.constraints.txt"
  echo "$want" > "$venv/.requirements.sha"
  echo "[peers-env] $tool ready"
}

install aiperf > >(sed 's/^/[aiperf] /') 2>&1 &
a=$!
install guidellm > >(sed 's/^/[guidellm] /') 2>&1 &
g=$!
status=0
wait "$a" || { echo "[peers-env] AIPerf install failed"; status=1; }
wait "$g" || { echo "[peers-env] GuideLLM install failed"; status=1; }
exit "$status"
