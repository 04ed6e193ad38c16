#!/usr/bin/env bash
# One HotSpot dump of Workers.java (see there), taken with jcmd GC.heap_dump
# (live objects only) and gzipped. Needs a JDK 17 (java, javac, jcmd).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
jpid=
trap 'kill $jpid 2>/dev/null || true; rm -rf "$work"' EXIT
javac -d "$work" "$here/Workers.java"
java -Xmx32m -XX:+UseSerialGC -XX:+UseCompressedOops -Xint -cp "$work" Workers > "$work/out.txt" &
jpid=$!
until grep -q READY "$work/out.txt" 2>/dev/null; do sleep 0.1; done
jcmd $jpid GC.heap_dump "$work/workers.hprof" > /dev/null
jcmd $jpid Thread.print > "$work/threads.txt"
gzip -9 -n -c "$work/workers.hprof" > "$here/hotspot-jdk17-workers.hprof.gz"
# What the JVM itself says of the threads, to check the dump against.
grep -A3 -E '^"(worker-[0-9]|waiter|blocked)"' "$work/threads.txt" | grep -v '^--$' > "$here/jcmd-thread-print.txt"
java -version 2>&1 | head -1 > "$here/java-version.txt"
ls -l "$here"/*.hprof.gz
