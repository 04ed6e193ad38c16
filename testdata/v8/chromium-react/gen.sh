#!/usr/bin/env bash
# Regenerates the React leak series: three heap snapshots of page.html taken
# over CDP by ../chromium-series/cdp-driver.mjs, gzipped with `gzip -9 -n`.
# Needs /usr/bin/chromium (Debian package `chromium`), node v20 and npm (it
# fetches React's UMD builds from the npm registry; they are not committed).
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent react@18.3.1 react-dom@18.3.1 >/dev/null \
    && tar xzf react-18.3.1.tgz package/umd/react.development.js \
    && mv package/umd/react.development.js . \
    && tar xzf react-dom-18.3.1.tgz package/umd/react-dom.development.js \
    && mv package/umd/react-dom.development.js .)
cp page.html "$tmp/page.html"
node --experimental-websocket ../chromium-series/cdp-driver.mjs "$tmp/out" "${CHROMIUM:-/usr/bin/chromium}" "$tmp/page.html"
for name in baseline target final; do
    gzip -9 -n -c "$tmp/out/$name.heapsnapshot" > "react-$name.heapsnapshot.gz"
    printf '%s: %s bytes, %s gzipped\n' "$name" "$(wc -c < "$tmp/out/$name.heapsnapshot")" \
        "$(wc -c < "react-$name.heapsnapshot.gz")"
done
cp "$tmp/out/version.txt" chromium-version.txt
