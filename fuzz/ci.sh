#!/usr/bin/env bash
# Builds every fuzz target on stable Rust (no sanitizer: `-s none`) and runs
# each for ${FUZZ_SECONDS:-60} seconds, ${FUZZ_JOBS:-nproc} at a time, from corpora
# seeded out of testdata/ (seed.sh). Fails if any target crashes, times
# out (-timeout, seconds per input) or exceeds -rss_limit_mb; the failing
# inputs are left in fuzz/artifacts/<target>/ for `cargo fuzz tmin`.
# Each run's full libFuzzer output is in fuzz/corpus/<target>.log and a line
# per run (target, seconds, end time, exit status) in fuzz/corpus/runs.tsv.
#
#   FUZZ_SECONDS=60 fuzz/ci.sh            # all targets
#   FUZZ_SECONDS=300 fuzz/ci.sh analysis  # some targets
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
seconds="${FUZZ_SECONDS:-60}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz/ci.sh: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

./seed.sh >/dev/null
cat dict/v8.dict dict/hprof.dict dict/pickle.dict > corpus/all.dict

start=$SECONDS
cargo fuzz build -s none
echo "fuzz/ci.sh: built all targets in $((SECONDS - start)) s"

if [ $# -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(cargo fuzz list); fi

# One libFuzzer process per target, FUZZ_JOBS of them at a time (default:
# one per core; each process is single-threaded), so CI gives every target
# its full time without the wall time growing with the number of targets.
jobs="${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}"

run_target() {
  local t=$1 dict status t0=$SECONDS
  case "$t" in
    parse_v8|parse_v8_heapprofile) dict=dict/v8.dict ;;
    parse_hprof) dict=dict/hprof.dict ;;
    parse_tracemalloc) dict=dict/pickle.dict ;;
    analysis|series|redact) dict=corpus/all.dict ;;
    *) dict= ;;
  esac
  set +e
  cargo fuzz run -s none "$t" "corpus/$t" -- \
    -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 \
    -print_final_stats=1 ${dict:+-dict=$dict} > "corpus/$t.log" 2>&1
  status=$?
  set -e
  echo -e "$t\t$seconds\t$(date -u +%FT%TZ)\t$status" >> corpus/runs.tsv
  echo "$status" > "corpus/$t.status"
  echo "fuzz/ci.sh: $t done in $((SECONDS - t0)) s (exit $status)"
}

echo "fuzz/ci.sh: ${#targets[@]} targets, ${seconds} s each, $jobs at a time"
running=0
for t in "${targets[@]}"; do
  rm -f "corpus/$t.status"
  run_target "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait

failed=()
for t in "${targets[@]}"; do
  echo "--- $t"
  grep -E '^#[0-9]+ +DONE|panicked|^SUMMARY|Test unit written|^stat::(number_of_executed_units|peak_rss_mb)' "corpus/$t.log" || true
  status=$(cat "corpus/$t.status" 2>/dev/null || echo missing)
  if [ "$status" != 0 ] || grep -qE 'panicked|Test unit written|ERROR: libFuzzer' "corpus/$t.log"; then
    failed+=("$t")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz/ci.sh: FAILED: ${failed[*]} (inputs in fuzz/artifacts/)"
  exit 1
fi
echo "fuzz/ci.sh: ${#targets[@]} targets ran ${seconds} s each without a crash"
