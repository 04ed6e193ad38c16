#!/usr/bin/env bash
# One HotSpot dump of Holders.java (see there), taken with jcmd GC.heap_dump
# (live objects only) and gzipped; Holders' own size report is saved as
# sizes.txt. Needs a JDK 17 (java, javac, jcmd) on PATH.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
jpid=
trap 'kill $jpid 2>/dev/null || true; rm -rf "$work"' EXIT
javac -d "$work" "$here/Holders.java"
java -Xmx32m -XX:+UseSerialGC -XX:+UseCompressedOops -cp "$work" Holders > "$work/out.txt" &
jpid=$!
until grep -q READY "$work/out.txt" 2>/dev/null; do sleep 0.1; done
jcmd $jpid GC.heap_dump "$work/holders.hprof" > /dev/null
gzip -9 -n -c "$work/holders.hprof" > "$here/hotspot-jdk17-collections.hprof.gz"
grep '^SIZE ' "$work/out.txt" > "$here/sizes.txt"
java -version 2>&1 | head -1 > "$here/java-version.txt"
ls -l "$here"/*.hprof.gz
