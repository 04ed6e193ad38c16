#!/usr/bin/env bash
# Three HotSpot dumps of SessionServer (see SessionServer.java), one per
# step, taken with jcmd GC.heap_dump (live objects only) and gzipped.
# Needs a JDK 17 (java, javac, jcmd) on PATH.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
javac -d "$work" "$here/SessionServer.java"
mkfifo "$work/in"
java -Xmx32m -XX:+UseSerialGC -cp "$work" SessionServer 3 < "$work/in" > "$work/out.txt" &
jpid=$!
exec 3> "$work/in"
for step in 1 2 3; do
    until grep -q "STEP $step" "$work/out.txt" 2>/dev/null; do sleep 0.1; done
    jcmd $jpid GC.heap_dump "$work/step$step.hprof" > /dev/null
    gzip -9 -n -c "$work/step$step.hprof" > "$here/hotspot-jdk17-sessions-$step.hprof.gz"
    echo next >&3
done
exec 3>&-
wait $jpid || true
java -version 2>&1 | head -1 > "$here/java-version.txt"
ls -l "$here"/*.hprof.gz
