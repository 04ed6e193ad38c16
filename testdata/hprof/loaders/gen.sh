#!/usr/bin/env bash
# One HotSpot dump of Plugins.java (see there), taken with jcmd GC.heap_dump
# (live objects only) and gzipped. The plugin classes are compiled into a
# directory of their own, off the class path, so that only PluginLoader
# can define them. Needs a JDK 17 (java, javac, jcmd) on PATH.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'kill $jpid 2>/dev/null || true; rm -rf "$work"' EXIT
jpid=
javac -d "$work/app" "$here/Plugins.java"
javac -d "$work/plugins" "$here"/plugin/*.java
java -Xmx32m -XX:+UseSerialGC -XX:+UseCompressedOops -cp "$work/app" org.example.app.Plugins "$work/plugins" \
    > "$work/out.txt" &
jpid=$!
until grep -q READY "$work/out.txt" 2>/dev/null; do sleep 0.1; done
jcmd $jpid GC.heap_dump "$work/plugins.hprof" > /dev/null
gzip -9 -n -c "$work/plugins.hprof" > "$here/hotspot-jdk17-plugins.hprof.gz"
java -version 2>&1 | head -1 > "$here/java-version.txt"
ls -l "$here"/*.hprof.gz
