#!/bin/sh
# Regenerates testdata/hprof/hotspot-jdk17-shapes.hprof(.gz) with its two class histograms.
# Needs a JDK 17 (java, javac, jcmd) on PATH.
# Usage: gen-hotspot.sh [outdir] [cacheEntries chainLength extraBlobs] [heap]
# Env: NAME (file stem), JAVA_OPTS (extra JVM flags, e.g. -XX:-UseCompressedOops).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/..}
entries=${2:-200}
chain=${3:-1000}
extra=${4:-0}
heap=${5:-32m}
name=${NAME:-hotspot-jdk17-shapes}
work=$(mktemp -d)
mkdir -p "$out"
javac -d "$work" "$here/HeapShapes.java"
# shellcheck disable=SC2086
java -Xmx"$heap" -XX:+UseSerialGC ${JAVA_OPTS:-} -cp "$work" HeapShapes "$entries" "$chain" "$extra" > "$work/out.txt" &
jpid=$!
trap 'kill $jpid 2>/dev/null || true' EXIT
i=0
until grep -q READY "$work/out.txt" 2>/dev/null; do
  i=$((i + 1)); [ $i -lt 600 ] || { kill $jpid; exit 1; }; sleep 0.1
done
# Histograms just before and just after the dump: classes whose counts differ
# were touched by the attach/dump machinery and are excluded by the test.
jcmd $jpid GC.class_histogram > "$out/$name.histo-before.txt"
rm -f "$work/dump.hprof"
jcmd $jpid GC.heap_dump -all=false "$work/dump.hprof" > /dev/null
jcmd $jpid GC.class_histogram > "$out/$name.histo-after.txt"
kill $jpid || true
wait $jpid 2>/dev/null || true
if [ "$(stat -c %s "$work/dump.hprof")" -gt 2000000 ]; then
  gzip -9 -c "$work/dump.hprof" > "$out/$name.hprof.gz"
else
  cp "$work/dump.hprof" "$out/$name.hprof"
fi
rm -rf "$work"
ls -l "$out/$name".*
