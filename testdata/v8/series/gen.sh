#!/usr/bin/env bash
# Regenerates the leak series: three Node snapshots of one process, gzipped.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
node --expose-gc leak-series.js "$tmp"
for name in baseline target final; do
    gzip -9 -n -c "$tmp/$name.heapsnapshot" > "node20-leak-$name.heapsnapshot.gz"
done
rm -rf "$tmp"
node --version > node-version.txt
