#!/usr/bin/env bash
# One HotSpot dump of Secrets.java (see there): planted secrets, each with the
# marker PLANTED, taken with jcmd GC.heap_dump (live objects only) and
# gzipped. After the dump the program prints what it planted, and this script
# checks that against the designed values, and that the gzipped dump stays
# at most 800 KB. Needs a JDK 17 (java, javac, jcmd) on PATH.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
jpid=
trap 'kill $jpid 2>/dev/null || true; rm -rf "$work"' EXIT
javac -encoding UTF-8 -d "$work" "$here/Secrets.java"
mkfifo "$work/in"
java -Xmx64m -XX:+UseSerialGC -XX:+UseCompressedOops -Dsun.stdout.encoding=UTF-8 -cp "$work" Secrets \
    < "$work/in" > "$work/out.txt" &
jpid=$!
exec 3> "$work/in"
until grep -q READY "$work/out.txt" 2>/dev/null; do sleep 0.1; done
jcmd $jpid GC.heap_dump "$work/secrets.hprof" > /dev/null
gzip -9 -n -c "$work/secrets.hprof" > "$here/hotspot-jdk17-secrets.hprof.gz"
echo dumped >&3
exec 3>&-
wait $jpid
diff - <(grep '^SECRET ' "$work/out.txt") <<'END'
SECRET password hunter2-PLANTED-password-7Q4z
SECRET passphrase pässwörd-PLANTED-€-ünïcødé-3Kx9
SECRET token tok_PLANTED_9f8e7d6c5b4a3928
SECRET pin PIN-PLANTED-55173
SECRET session sess_PLANTED_a1b2c3d4e5f6
SECRET apiKey key_PLANTED_0a9b8c7d6e5f
SECRET dup dup-PLANTED-value true
END
size=$(stat -c %s "$here/hotspot-jdk17-secrets.hprof.gz")
if [ "$size" -gt 819200 ]; then
    echo "hotspot-jdk17-secrets.hprof.gz is $size bytes, over 800 KB" >&2
    exit 1
fi
java -version 2>&1 | head -1 > "$here/java-version.txt"
ls -l "$here"/*.hprof.gz
