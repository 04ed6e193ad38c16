#!/usr/bin/env bash
# Side-by-side comparison of heapgraph with the tools people use today (issue 11).
#
#   benches/compare/run.sh                 default scale (V8 ≈ 100 MB, HPROF ≈ 300 MB, tracemalloc 35 + 65 MB, app 51 + 63 MB)
#   SCALE=full benches/compare/run.sh      the issue's scale (V8 ≈ 550 MB, HPROF ≈ 2 GB, tracemalloc 35 + 65 MB)
#   SCALE=ram benches/compare/run.sh       HPROF ≈ 2 GB and ≈ 6 GB, heapgraph alone, unconstrained and in a
#                                          memory cgroup of RAM_LIMIT (default 2G; needs root and cgroup v1 or v2)
#
# Environment:
#   SCALE               default | full | huge (full, but a 2.5 GB V8 snapshot and no JS tools) | ram | small (a smoke test of the script itself)
#   RAM_LIMIT           the memory cgroup's limit for SCALE=ram (default 2G)
#   RAM_BIG             SCALE=ram: 0 leaves out the ≈ 6 GB dump (default 1)
#   RAM_PEERS           SCALE=ram: 1 also runs hprof-analyzer on the ≈ 2 GB dump, unconstrained and
#                       in the same cgroup (default 0)
#   HEAPGRAPH_BENCH_DIR scratch dir for tools, dumps and results (default ~/.cache/heapgraph/bench);
#                       nothing is written into the repository
#   ONLY                formats to run, comma separated: v8,hprof,tm (default all three)
#   HG_THREADS          thread counts heapgraph runs with (--threads N), default "1 2"
#   BENCH_TIMEOUT       seconds before a single run is killed (default 3600)
#   HEAPGRAPH_BIN       use this heapgraph binary instead of building target/release/heapgraph
#   STEPS               which steps to run, comma separated: install,generate,time (default all)
#
# Steps: install the other tools into $HEAPGRAPH_BENCH_DIR/tools (idempotent), generate the dumps
# (cached by parameters), time every tool with /usr/bin/time -v on the same work, print a
# Markdown table (also written to the results dir with the machine description and load).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
SCALE="${SCALE:-default}"
BENCH_DIR="${HEAPGRAPH_BENCH_DIR:-$HOME/.cache/heapgraph/bench}"
TOOLS="$BENCH_DIR/tools"
DATA="$BENCH_DIR/data"
ONLY="${ONLY:-v8,hprof,tm}"
HG_THREADS="${HG_THREADS:-1 2}"
BENCH_TIMEOUT="${BENCH_TIMEOUT:-3600}"
STEPS="${STEPS:-install,generate,time}"

DEVTOOLS_VERSION="${DEVTOOLS_VERSION:-1.0.1705227}"
ESBUILD_VERSION="${ESBUILD_VERSION:-0.28.2}"
MEMLAB_VERSION="${MEMLAB_VERSION:-2.0.5}"
HPROF_ANALYZER_VERSION="${HPROF_ANALYZER_VERSION:-0.3.2}"
HPROF_SLURP_VERSION="${HPROF_SLURP_VERSION:-0.10.0}"
NODE_HEAP_MB="${NODE_HEAP_MB:-16384}"

case "$SCALE" in
  small)   V8_OBJECTS=30000;   HP_ENTRIES=10000;   HP_CHAIN=10000;   HP_EXTRA=200000;   HP_HEAP=256m; TM_REPS="4 8" ;;
  default) V8_OBJECTS=300000;  HP_ENTRIES=100000;  HP_CHAIN=100000;  HP_EXTRA=2000000;  HP_HEAP=1g;   TM_REPS="50 203" ;;
  full)    V8_OBJECTS=1650000; HP_ENTRIES=1000000; HP_CHAIN=1000000; HP_EXTRA=12500000; HP_HEAP=4g;   TM_REPS="50 203" ;;
  # The issue's 2.5 GB V8 snapshot: heapgraph alone (not the JavaScript
  # tools, which take ~4.4x the JSON in heap), to show it completes in RAM.
  huge)    V8_OBJECTS=7500000; HP_ENTRIES=1000000; HP_CHAIN=1000000; HP_EXTRA=12500000; HP_HEAP=4g;   TM_REPS="50 203"; JS_TOOLS=0 ;;
  # A dump larger than the memory it is given: the full-scale HPROF and one
  # three times its size, each run unconstrained and in a memory cgroup of
  # RAM_LIMIT, heapgraph alone (HPROF only).
  ram)     V8_OBJECTS=0;       HP_ENTRIES=1000000; HP_CHAIN=1000000; HP_EXTRA=12500000; HP_HEAP=4g;   TM_REPS="50 203"
           ONLY=hprof; RAM_LIMIT="${RAM_LIMIT:-2G}"
           HP_BIG_ENTRIES=3000000; HP_BIG_CHAIN=3000000; HP_BIG_EXTRA=37500000; HP_BIG_HEAP=12g ;;
  *) echo "run.sh: SCALE must be small, default, full, huge or ram" >&2; exit 2 ;;
esac
# tracemalloc, application-shaped (app_gen.py SCALE: thousands of requests):
# 8 is ~1.4 M traces, 300 k distinct tracebacks, ~63 MB; 6.5 the same run earlier.
if [[ "$SCALE" == small ]]; then TM_APP_SCALES="0.3 0.4"; else TM_APP_SCALES="6.5 8"; fi

has() { [[ ",$ONLY," == *",$1,"* ]]; }
step() { [[ ",$STEPS," == *",$1,"* ]]; }
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

mkdir -p "$TOOLS" "$DATA"

# ---------------------------------------------------------------------------------------------
# 1. Tools (idempotent: each step is skipped when its result exists).
# ---------------------------------------------------------------------------------------------
cargo_tool() { # name version
  local name=$1 version=$2
  if [[ ! -x "$TOOLS/bin/$name" ]]; then
    log "cargo install $name $version (hprof-analyzer takes 13–25 min to compile on 2 cores)"
    CARGO_TARGET_DIR="$TOOLS/cargo-target-$name" cargo install --locked --quiet --root "$TOOLS" "$name@$version"
  fi
}

install_devtools() {
  local dir="$TOOLS/devtools-$DEVTOOLS_VERSION"
  mkdir -p "$dir"
  if [[ ! -d "$dir/package/front_end" ]]; then
    log "npm pack chrome-devtools-frontend@$DEVTOOLS_VERSION"
    (cd "$dir" && npm pack --silent "chrome-devtools-frontend@$DEVTOOLS_VERSION" >/dev/null \
       && tar xzf "chrome-devtools-frontend-$DEVTOOLS_VERSION.tgz")
  fi
  # locales.js is generated at DevTools build time; the worker needs none of its values.
  local locales="$dir/package/front_end/core/i18n/locales.js"
  if [[ ! -f "$locales" ]]; then
    cat > "$locales" <<'JS'
export const LOCALES = ['en-US'];
export const BUNDLED_LOCALES = ['en-US'];
export const DEFAULT_LOCALE = 'en-US';
export const REMOTE_FETCH_PATTERN = '';
export const LOCAL_FETCH_PATTERN = '';
JS
  fi
  if [[ ! -x "$TOOLS/esbuild/node_modules/.bin/esbuild" ]]; then
    log "npm install esbuild@$ESBUILD_VERSION"
    mkdir -p "$TOOLS/esbuild"
    (cd "$TOOLS/esbuild" && npm init -y >/dev/null \
       && npm install --silent --no-audit --no-fund "esbuild@$ESBUILD_VERSION")
  fi
  # Always rebundle: cheap, and picks up edits to the driver.
  cp "$HERE/devtools-driver.ts" "$dir/package/front_end/heapgraph_bench_driver.ts"
  # Node 20 lacks Promise.withResolvers (ES2024); DevTools uses it.
  local banner='if(!Promise.withResolvers){Promise.withResolvers=function(){let resolve,reject;const promise=new Promise((a,b)=>{resolve=a;reject=b;});return {promise,resolve,reject};};}'
  "$TOOLS/esbuild/node_modules/.bin/esbuild" "$dir/package/front_end/heapgraph_bench_driver.ts" \
    --bundle --platform=node --format=esm --target=node20 --log-level=warning \
    --banner:js="$banner" --outfile="$TOOLS/devtools-driver.mjs"
}

install_memlab() {
  local dir="$TOOLS/memlab-$MEMLAB_VERSION"
  if [[ ! -d "$dir/node_modules/@memlab/heap-analysis" ]]; then
    log "npm install @memlab/heap-analysis@$MEMLAB_VERSION (scripts off: no browser download)"
    mkdir -p "$dir"
    (cd "$dir" && npm init -y >/dev/null \
       && npm install --silent --no-audit --no-fund --ignore-scripts "@memlab/heap-analysis@$MEMLAB_VERSION")
  fi
}

# Where `cargo build` below puts the binary (CARGO_TARGET_DIR is honoured,
# as CI sets it; a relative one is relative to the repository).
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
[[ "$TARGET_DIR" = /* ]] || TARGET_DIR="$REPO/$TARGET_DIR"
HG="${HEAPGRAPH_BIN:-$TARGET_DIR/release/heapgraph}"
if step install; then
  if [[ -z "${HEAPGRAPH_BIN:-}" ]]; then
    log "cargo build --release -p heapgraph-cli"
    (cd "$REPO" && cargo build --release --quiet -p heapgraph-cli)
  fi
  if has hprof && [[ "$SCALE" != ram ]]; then
    cargo_tool hprof-analyzer "$HPROF_ANALYZER_VERSION"
    cargo_tool hprof-slurp "$HPROF_SLURP_VERSION"
  fi
  if [[ "$SCALE" == ram && "${RAM_PEERS:-0}" == 1 ]]; then
    cargo_tool hprof-analyzer "$HPROF_ANALYZER_VERSION"
  fi
  if has v8; then
    install_devtools
    install_memlab
  fi
fi

# ---------------------------------------------------------------------------------------------
# 2. Dumps (cached by their generator parameters).
# ---------------------------------------------------------------------------------------------
V8_FILE="$DATA/node20-items-$V8_OBJECTS.heapsnapshot"
HP_FILE="$DATA/hotspot17-$HP_ENTRIES-$HP_CHAIN-$HP_EXTRA.hprof"
read -r TM_OLD_REPS TM_NEW_REPS <<< "$TM_REPS"
TM_OLD="$DATA/tracemalloc-reps$TM_OLD_REPS-seed0.pickle"
TM_NEW="$DATA/tracemalloc-reps$TM_NEW_REPS-seed1.pickle"
read -r TM_APP_OLD_SCALE TM_APP_NEW_SCALE <<< "$TM_APP_SCALES"
TM_APP_OLD="$DATA/tracemalloc-app$TM_APP_OLD_SCALE-seed0.pickle"
TM_APP_NEW="$DATA/tracemalloc-app$TM_APP_NEW_SCALE-seed0.pickle"

if step generate && has v8 && [[ ! -s "$V8_FILE" ]]; then
  log "generating $V8_FILE"
  node --expose-gc --max-old-space-size="$NODE_HEAP_MB" "$REPO/benches/v8/gen-big.js" "$V8_FILE.tmp" "$V8_OBJECTS" >/dev/null
  mv "$V8_FILE.tmp" "$V8_FILE"
fi
if step generate && has hprof && [[ ! -s "$HP_FILE" ]]; then
  log "generating $HP_FILE"
  "$HERE/gen-hprof.sh" "$HP_FILE" "$HP_ENTRIES" "$HP_CHAIN" "$HP_EXTRA" "$HP_HEAP" >/dev/null
fi
if [[ "$SCALE" == ram ]]; then
  HP_BIG_FILE="$DATA/hotspot17-$HP_BIG_ENTRIES-$HP_BIG_CHAIN-$HP_BIG_EXTRA.hprof"
  if step generate && [[ ! -s "$HP_BIG_FILE" ]]; then
    log "generating $HP_BIG_FILE"
    "$HERE/gen-hprof.sh" "$HP_BIG_FILE" "$HP_BIG_ENTRIES" "$HP_BIG_CHAIN" "$HP_BIG_EXTRA" "$HP_BIG_HEAP" >/dev/null
  fi
fi
if step generate && has tm; then
  for pair in "$TM_OLD_REPS:0:$TM_OLD" "$TM_NEW_REPS:1:$TM_NEW"; do
    IFS=: read -r reps seed file <<< "$pair"
    if [[ ! -s "$file" ]]; then
      log "generating $file"
      python3 "$REPO/testdata/tracemalloc/bench_gen.py" "$file.tmp" "$reps" "$seed" >/dev/null
      mv "$file.tmp" "$file"
    fi
  done
  # The application-shaped pair (app_gen.py): distinct deep tracebacks; the
  # old dump is the same process earlier (a prefix of the same requests).
  for pair in "$TM_APP_OLD_SCALE:$TM_APP_OLD" "$TM_APP_NEW_SCALE:$TM_APP_NEW"; do
    IFS=: read -r scale file <<< "$pair"
    if [[ ! -s "$file" ]]; then
      log "generating $file"
      python3 "$REPO/testdata/tracemalloc/app_gen.py" "$file.tmp" "$scale" 0 >/dev/null
      mv "$file.tmp" "$file"
    fi
  done
fi

# ---------------------------------------------------------------------------------------------
# 3. Timing.
# ---------------------------------------------------------------------------------------------
if ! step time; then
  log "done (STEPS=$STEPS)"
  exit 0
fi
RESULTS="$BENCH_DIR/results/$(date -u +%Y%m%dT%H%M%SZ)-$SCALE"
mkdir -p "$RESULTS/time" "$RESULTS/logs"
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "command: SCALE=$SCALE ONLY=$ONLY HG_THREADS=\"$HG_THREADS\" benches/compare/run.sh"
  echo "heapgraph: $(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo '?') ($HG)"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "memory: $(free -h | awk '/^Mem:/ {print $2 " total, " $7 " available"}')"
  echo "kernel: $(uname -sr)"
  echo "node: $(node --version), python: $(python3 --version 2>&1), java: $(java -version 2>&1 | head -1)"
  if has hprof; then
    echo "hprof-analyzer: $HPROF_ANALYZER_VERSION, hprof-slurp: $HPROF_SLURP_VERSION"
  fi
  if has v8; then
    echo "chrome-devtools-frontend: $DEVTOOLS_VERSION, memlab (@memlab/heap-analysis): $MEMLAB_VERSION"
  fi
} > "$RESULTS/machine.txt"

# Load average every 5 s for the whole timing phase.
( while sleep 5; do echo "$(date -u +%H:%M:%S) $(cut -d' ' -f1-3 /proc/loadavg)"; done ) > "$RESULTS/loadavg.log" &
SAMPLER=$!
trap 'kill $SAMPLER 2>/dev/null || true' EXIT

printf '# id\tfile\tbytes\ttask\ttool\tthreads\texit\tloadavg_before\n' > "$RESULTS/runs.tsv"
RUN=0
measure() { # files task tool threads -- command...   (files: one path, or OLD|NEW for a pair)
  local files=$1 task=$2 tool=$3 threads=$4; shift 5
  RUN=$((RUN + 1))
  local f label="" bytes=0
  IFS='|' read -r -a list <<< "$files"
  for f in "${list[@]}"; do
    cat "$f" > /dev/null   # same warm page cache for every tool
    label="${label:+$label + }$(basename "$f")"
    bytes=$((bytes + $(stat -c %s "$f")))
  done
  local id
  id=$(printf '%02d-%s' "$RUN" "$(echo "$tool-$task" | tr -c 'A-Za-z0-9._-' '_')")
  local load code=0
  load=$(cut -d' ' -f1 /proc/loadavg)
  log "$tool ($threads thr) $task $label"
  timeout "$BENCH_TIMEOUT" /usr/bin/time -v -o "$RESULTS/time/$id.txt" "$@" \
    > "$RESULTS/logs/$id.out" 2> "$RESULTS/logs/$id.err" || code=$?
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$label" "$bytes" "$task" "$tool" \
    "$threads" "$code" "$load" >> "$RESULTS/runs.tsv"
  [[ $code -eq 0 ]] || log "  exit $code (see $RESULTS/logs/$id.err)"
}
heapgraph_runs() { # file task -- heapgraph arguments...
  local file=$1 task=$2; shift 3
  local t
  for t in $HG_THREADS; do
    measure "$file" "$task" heapgraph "$t" -- "$HG" --quiet --threads "$t" "$@"
  done
}

if has tm; then
  heapgraph_runs "$TM_OLD" "statistics('lineno')" -- sites "$TM_OLD"
  measure "$TM_OLD" "statistics('lineno')" "CPython tracemalloc" 1 -- python3 "$HERE/tm_stats.py" "$TM_OLD"
  heapgraph_runs "$TM_NEW" "statistics('lineno')" -- sites "$TM_NEW"
  measure "$TM_NEW" "statistics('lineno')" "CPython tracemalloc" 1 -- python3 "$HERE/tm_stats.py" "$TM_NEW"
  heapgraph_runs "$TM_OLD|$TM_NEW" "compare_to" -- sites --compare "$TM_OLD" "$TM_NEW"
  measure "$TM_OLD|$TM_NEW" "compare_to" "CPython tracemalloc" 1 -- python3 "$HERE/tm_stats.py" --compare "$TM_OLD" "$TM_NEW"
  heapgraph_runs "$TM_APP_NEW" "statistics('lineno')" -- sites "$TM_APP_NEW"
  measure "$TM_APP_NEW" "statistics('lineno')" "CPython tracemalloc" 1 -- python3 "$HERE/tm_stats.py" "$TM_APP_NEW"
  heapgraph_runs "$TM_APP_OLD|$TM_APP_NEW" "compare_to" -- sites --compare "$TM_APP_OLD" "$TM_APP_NEW"
  measure "$TM_APP_OLD|$TM_APP_NEW" "compare_to" "CPython tracemalloc" 1 -- python3 "$HERE/tm_stats.py" --compare "$TM_APP_OLD" "$TM_APP_NEW"
fi
if has v8; then
  heapgraph_runs "$V8_FILE" "full analysis" -- summary "$V8_FILE"
  if [[ "${JS_TOOLS:-1}" == 1 ]]; then
    measure "$V8_FILE" "full analysis" "DevTools worker" 1 -- \
      node --max-old-space-size="$NODE_HEAP_MB" "$TOOLS/devtools-driver.mjs" "$V8_FILE"
    measure "$V8_FILE" "full analysis" "memlab" 1 -- env NODE_PATH="$TOOLS/memlab-$MEMLAB_VERSION/node_modules" \
      node --max-old-space-size="$NODE_HEAP_MB" "$HERE/memlab-driver.js" "$V8_FILE"
  fi
fi
# A memory cgroup limited to $RAM_LIMIT (v1 or v2): inside it only
# file-backed pages can be given back under pressure (these machines have
# no swap). Prints its directory.
memory_cgroup() {
  local group
  if [[ -d /sys/fs/cgroup/memory ]]; then
    group=/sys/fs/cgroup/memory/heapgraph-bench
    mkdir -p "$group" && echo "$RAM_LIMIT" > "$group/memory.limit_in_bytes"
  else
    group=/sys/fs/cgroup/heapgraph-bench
    mkdir -p "$group" && echo "$RAM_LIMIT" > "$group/memory.max"
  fi
  echo "$group"
}
if [[ "$SCALE" == ram ]]; then
  ram_files=("$HP_FILE")
  [[ "${RAM_BIG:-1}" == 0 ]] || ram_files+=("$HP_BIG_FILE")
  for file in "${ram_files[@]}"; do
    measure "$file" "full analysis" heapgraph 2 -- "$HG" --quiet summary "$file"
    cp "$RESULTS/logs/$(printf '%02d' "$RUN")-"*.out "$RESULTS/unconstrained.out"
    group=$(memory_cgroup)
    # The shell moves itself into the cgroup, then becomes heapgraph.
    measure "$file" "full analysis" "heapgraph, $RAM_LIMIT cgroup" 2 -- \
      bash -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$group" "$HG" --quiet summary "$file"
    if cmp -s "$RESULTS/unconstrained.out" "$RESULTS/logs/$(printf '%02d' "$RUN")-"*.out; then
      log "  same output as unconstrained"
    else
      log "  output differs from the unconstrained run (or the run failed)"
    fi
  done
  if [[ "${RAM_PEERS:-0}" == 1 ]]; then
    [[ -x "$TOOLS/bin/hprof-analyzer" ]] || log "hprof-analyzer is not installed: its rows will fail"
    measure "$HP_FILE" "full analysis" "hprof-analyzer" 1 -- \
      "$TOOLS/bin/hprof-analyzer" "$HP_FILE" "$RESULTS/logs/hprof-analyzer.report.json"
    group=$(memory_cgroup)
    measure "$HP_FILE" "full analysis" "hprof-analyzer, $RAM_LIMIT cgroup" 1 -- \
      bash -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$group" \
      "$TOOLS/bin/hprof-analyzer" "$HP_FILE" "$RESULTS/logs/hprof-analyzer.limited.report.json"
  fi
elif has hprof; then
  heapgraph_runs "$HP_FILE" "full analysis" -- summary "$HP_FILE"
  [[ -x "$TOOLS/bin/hprof-analyzer" ]] || log "hprof-analyzer is not installed: its rows will fail"
  measure "$HP_FILE" "full analysis" "hprof-analyzer" 1 -- "$TOOLS/bin/hprof-analyzer" "$HP_FILE" "$RESULTS/logs/hprof-analyzer.report.json"
  heapgraph_runs "$HP_FILE" "histogram" -- histogram --shallow "$HP_FILE"
  measure "$HP_FILE" "histogram" "hprof-slurp" 3 -- "$TOOLS/bin/hprof-slurp" "$HP_FILE"
fi

kill $SAMPLER 2>/dev/null || true
python3 "$HERE/table.py" "$RESULTS" > "$RESULTS/table.md"
awk '{print $2}' "$RESULTS/loadavg.log" | sort -n | awk '{a[NR]=$1; s+=$1} END {if (NR) printf "load average (1 min) during timing: min %s, mean %.2f, max %s (%d samples)\n", a[1], s/NR, a[NR], NR}' \
  >> "$RESULTS/machine.txt"
cat "$RESULTS/machine.txt"
echo
cat "$RESULTS/table.md"
echo
log "results in $RESULTS"
