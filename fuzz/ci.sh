#!/usr/bin/env bash
# Builds every fuzz target on stable Rust (no sanitizer: `-s none`) and runs
# each for ${FUZZ_SECONDS:-60} seconds, one after the other, from corpora
# seeded out of testdata/ (seed.sh). Fails if any target crashes, times
# out (-timeout, seconds per input) or exceeds -rss_limit_mb; the failing
# inputs are left in fuzz/artifacts/<target>/ for `cargo fuzz tmin`.
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
failed=()
for t in "${targets[@]}"; do
  case "$t" in
    parse_v8|parse_v8_heapprofile) dict=dict/v8.dict ;;
    parse_hprof) dict=dict/hprof.dict ;;
    parse_tracemalloc) dict=dict/pickle.dict ;;
    analysis) dict=corpus/all.dict ;;
    *) dict= ;;
  esac
  echo "fuzz/ci.sh: $t for ${seconds} s"
  t0=$SECONDS
  if ! cargo fuzz run -s none "$t" "corpus/$t" -- \
      -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 \
      -print_final_stats=1 ${dict:+-dict=$dict} 2>&1 | tee "corpus/$t.log" | grep -E '^(#[0-9]+ +(DONE|INITED)|==|SUMMARY|stat::number_of_executed_units|Running|artifact_prefix|Test unit written)|panicked|Failed'; then
    :
  fi
  if grep -qE 'panicked|Test unit written|ERROR: libFuzzer|==[0-9]+== ERROR' "corpus/$t.log"; then
    failed+=("$t")
  fi
  echo "fuzz/ci.sh: $t done in $((SECONDS - t0)) s"
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz/ci.sh: FAILED: ${failed[*]} (inputs in fuzz/artifacts/)"
  exit 1
fi
echo "fuzz/ci.sh: ${#targets[@]} targets ran ${seconds} s each without a crash"
