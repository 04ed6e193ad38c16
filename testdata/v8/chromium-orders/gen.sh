#!/usr/bin/env bash
# Regenerates the orders leak series: three heap snapshots of page.html taken
# over CDP by ../chromium-series/cdp-driver.mjs, gzipped with `gzip -9 -n`.
# Needs /usr/bin/chromium (Debian package `chromium`) and node v20.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
node --experimental-websocket ../chromium-series/cdp-driver.mjs "$tmp" "${CHROMIUM:-/usr/bin/chromium}" page.html
for name in baseline target final; do
    gzip -9 -n -c "$tmp/$name.heapsnapshot" > "orders-$name.heapsnapshot.gz"
    printf '%s: %s bytes, %s gzipped\n' "$name" "$(wc -c < "$tmp/$name.heapsnapshot")" \
        "$(wc -c < "orders-$name.heapsnapshot.gz")"
done
cp "$tmp/version.txt" chromium-version.txt
