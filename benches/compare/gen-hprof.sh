#!/usr/bin/env bash
# Writes a large HotSpot HPROF for the comparison (never committed).
# Reuses testdata/hprof/gen/HeapShapes.java (the generator of the committed dump) but, unlike
# gen-hotspot.sh, keeps the dump uncompressed, waits as long as the heap takes to build and
# writes no class histograms.
#
# usage: gen-hprof.sh OUT.hprof CACHE_ENTRIES CHAIN_LENGTH EXTRA_BLOBS HEAP
set -euo pipefail
out=$1 entries=$2 chain=$3 extra=$4 heap=$5
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/../../testdata/hprof/gen/HeapShapes.java"
work="$(mktemp -d "$(dirname "$out")/hprof-gen.XXXXXX")"
javac -d "$work" "$src"
java -Xms"$heap" -Xmx"$heap" -XX:+UseSerialGC -cp "$work" HeapShapes "$entries" "$chain" "$extra" \
  > "$work/out.txt" &
jpid=$!
trap 'kill $jpid 2>/dev/null || true; rm -rf "$work"' EXIT
until grep -q READY "$work/out.txt" 2>/dev/null; do
  kill -0 $jpid 2>/dev/null || { echo "gen-hprof: the JVM exited before READY" >&2; exit 1; }
  sleep 0.5
done
rm -f "$out.tmp"
# -all=false: a full GC first, only live objects (as MAT/hprof tools see a normal dump).
jcmd $jpid GC.heap_dump -all=false "$out.tmp" > /dev/null
mv "$out.tmp" "$out"
ls -l "$out"
