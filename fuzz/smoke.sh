#!/usr/bin/env bash
# Fuzz smoke run: every target in fuzz/fuzz_targets/ for a short time; fails on any crash, panic,
# failed assertion, or an input that takes longer than FUZZ_INPUT_TIMEOUT seconds (a hang).
#   bash fuzz/smoke.sh                 60 s per target (FUZZ_SECONDS), up to nproc at a time
#   FUZZ_SECONDS=600 bash fuzz/smoke.sh
#   bash fuzz/smoke.sh result_files   only the targets named
# Long runs (millions of executions): FUZZ_RUNS=10000000 FUZZ_SECONDS=0 bash fuzz/smoke.sh <target>
#
# Each target starts from its committed seeds (fuzz/seeds/<target>/, read-only) and its local
# corpus (fuzz/corpus/<target>/, git-ignored, grows across runs); fuzz/dicts/<target>.dict is used
# when present. A crashing input is saved in fuzz/artifacts/<target>/ and its log is printed.
#
# Built without a sanitizer (the fuzzed crates have no `unsafe`; AddressSanitizer would slow each
# execution about 2.5× for nothing) and with debug assertions, so integer overflow panics.
# Needs nightly Rust and cargo-fuzz (installed by scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")"
seconds="${FUZZ_SECONDS:-60}"
runs="${FUZZ_RUNS:-0}"
input_timeout="${FUZZ_INPUT_TIMEOUT:-10}"
jobs="${FUZZ_JOBS:-$(nproc)}"
build_flags=(--sanitizer none --debug-assertions)

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for f in fuzz_targets/*.rs; do targets+=("$(basename "$f" .rs)"); done
fi
log() { echo "[fuzz] $*"; }

# Without a name, cargo fuzz builds every target of fuzz/Cargo.toml; a file in fuzz_targets/
# without its [[bin]] entry then fails at its run below.
log "building (cargo +nightly fuzz build)"
cargo +nightly fuzz build "${build_flags[@]}"

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
# A target whose first input loads large fixtures gets more time per input (tokenizer_fast_path
# builds five Llama 3 tokenizers on its first input: seconds on a loaded machine, and libFuzzer's
# timeout firing there has been seen to deadlock instead of reporting).
input_timeout_of() {
  case "$1" in
    tokenizer_fast_path) echo $((input_timeout > 120 ? input_timeout : 120)) ;;
    *) echo "$input_timeout" ;;
  esac
}
# The tokenizers crate may start worker threads; one thread keeps runs deterministic.
export RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false

run_one() {
  local t="$1" dirs=("corpus/$t") opts=(-timeout="$(input_timeout_of "$1")" -print_final_stats=1)
  # A time-bound run that does not end (a hang the input timeout missed) fails instead of
  # stalling the test command: libFuzzer's own budget plus 10 minutes for start-up and exit.
  local guard=()
  [ "$seconds" != 0 ] && guard=(timeout --kill-after=10 $((seconds + 600)))
  mkdir -p "corpus/$t"
  [ -d "seeds/$t" ] && dirs+=("seeds/$t")
  [ "$seconds" != 0 ] && opts+=(-max_total_time="$seconds")
  [ "$runs" != 0 ] && opts+=(-runs="$runs")
  [ -f "dicts/$t.dict" ] && opts+=(-dict="dicts/$t.dict")
  local start=$SECONDS
  if "${guard[@]}" cargo +nightly fuzz run "${build_flags[@]}" "$t" "${dirs[@]}" -- "${opts[@]}" >"$logs/$t.log" 2>&1; then
    local execs
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t.log" | tail -1)
    log "$t: ok, ${execs:-?} executions in $((SECONDS - start)) s, corpus $(ls "corpus/$t" | wc -l) inputs ($(du -sk "corpus/$t" | cut -f1) KB)"
  else
    log "$t: FAILED (its log's end below; the input is saved in fuzz/artifacts/$t/)"
    grep -v '^#[0-9]' "$logs/$t.log" | tail -60
    return 1
  fi
}

# Up to $jobs targets at a time.
failed=0
running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "$jobs" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
  run_one "$t" &
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
if [ "$failed" != 0 ]; then log "a fuzz target failed"; exit 1; fi
log "all ${#targets[@]} targets ran without a crash"
