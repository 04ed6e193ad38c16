#!/usr/bin/env bash
# Seeds the fuzz corpora (git-ignored fuzz/corpus/<target>/) from testdata/
# and ../shared/corpus/ (when present): small files as they are, large ones
# shrunk (V8 snapshots to their first 150 nodes with the producer's real
# meta) or cut to their first 64 KiB (HPROF: real records up to the cut).
# Idempotent; run from anywhere. Needs python3 for the snapshot shrinker.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
shared="$repo/../shared/corpus"
corpus="$here/corpus"
max=65536

for t in parse_v8 parse_v8_heapprofile parse_hprof parse_tracemalloc analysis dominators series redact; do
  mkdir -p "$corpus/$t"
done

# Real files, from the repository and (if present) the shared corpus.
files() {
  find "$repo/testdata" -type f \( -name "$1" -o -name "$1.gz" \) -not -path '*/node_modules/*'
  if [ -d "$shared" ]; then
    find "$shared" -type f \( -name "$1" -o -name "$1.gz" \)
  fi
}

# Copy the decompressed file, or its first 64 KiB when larger.
put() { # target source
  local dst="$corpus/$1/$(basename "${2%.gz}")"
  if [[ $2 == *.gz ]]; then
    (gzip -dc "$2" || true) | head -c "$max" > "$dst"
  else
    head -c "$max" "$2" > "$dst"
  fi
  cp "$dst" "$corpus/analysis/$1-$(basename "$dst")"
}

while read -r f; do
  out="$corpus/parse_v8/$(basename "${f%.gz}")"
  if python3 "$here/scripts/shrink_snapshot.py" "$f" "$out" 150 2>/dev/null; then
    cp "$out" "$corpus/analysis/parse_v8-$(basename "$out")"
  else
    # A real file that is invalid as published (the shared corpus has one:
    # edges that point past its nodes) cannot be shrunk: seed its start.
    rm -f "$out"
    echo "seed.sh: $(basename "$f") cannot be shrunk; seeding its first $max bytes" >&2
    put parse_v8 "$f"
  fi
done < <(files '*.heapsnapshot')
while read -r f; do put parse_v8_heapprofile "$f"; done < <(files '*.heapprofile')
while read -r f; do put parse_hprof "$f"; done < <(files '*.hprof')
while read -r f; do put parse_tracemalloc "$f"; done < <(files '*.pickle')

# One gzip seed so the analysis target reaches the decompressor.
for f in "$corpus"/parse_tracemalloc/mixed_1.p5.pickle; do
  [ -f "$f" ] && gzip -9nc "$f" > "$corpus/analysis/gzip-mixed_1.p5.pickle.gz"
done

# Series for the `series` target: testdata's series of one process joined
# by the separator (fuzz/src/lib.rs), and one of mixed formats.
join() { # output inputs...
  local out=$1 first=1
  shift
  : > "$out"
  for f in "$@"; do
    [ -f "$f" ] || { rm -f "$out"; return 0; }
    [ $first -eq 1 ] || printf '\n--heapgraph-next-dump--\n' >> "$out"
    cat "$f" >> "$out"
    first=0
  done
}
tm="$corpus/parse_tracemalloc" v8="$corpus/parse_v8"
join "$corpus/series/tracemalloc-series" "$tm"/series-{1,2,3}.p5.pickle
join "$corpus/series/tracemalloc-pair" "$tm"/app_a.p5.pickle "$tm"/app_b.p5.pickle
join "$corpus/series/v8-leak-series" "$v8"/node20-leak-{baseline,target,final}.heapsnapshot
join "$corpus/series/chromium-series" "$v8"/chromium-{baseline,target,final}.heapsnapshot
join "$corpus/series/mixed-formats" "$corpus"/parse_hprof/android-art-1.0.3.hprof "$tm"/series-1.p5.pickle

# Hand-made graphs for the structure-aware target (layout: fuzz/src/lib.rs).
d="$corpus/dominators"
printf '\x03\x00\x01\x02\x03\x04\x00\x01\x02\x00\x02\x02\x01\x03\x02\x02\x03\x02' > "$d/diamond"
printf '\x05\x03\x01\x01\x01\x01\x01\x01\x00\x01\x02\x01\x02\x02\x02\x03\x02\x03\x04\x02\x04\x05\x02' > "$d/chain"
printf '\x04\x02\x00\x05\x06\x07\x00\x01\x06\x02\x03\x02\x03\x02\x02\x01\x02\x02' > "$d/weak-and-garbage"
printf '\x06\x03\x00\x01\x01\x01\x01\x01\x01\x00\x01\x02\x03\x04\x02\x04\x03\x02\x05\xf0\x00\x02\xf1' > "$d/roots-and-cycle"

for t in "$corpus"/*/; do
  printf '%-22s %4d files\n' "$(basename "$t")" "$(find "$t" -type f | wc -l)"
done

# The redact target starts from every parser's seeds (plain files only:
# redaction reads gzip through a scratch file, not from memory), not from
# what fuzzing added to their corpora (files named by a 40-digit hash).
for t in parse_v8 parse_v8_heapprofile parse_hprof parse_tracemalloc; do
  find "$corpus/$t" -maxdepth 1 -type f -regextype posix-extended -not -regex '.*/[0-9a-f]{40}' \
    -exec cp {} "$corpus/redact/" \;
done
