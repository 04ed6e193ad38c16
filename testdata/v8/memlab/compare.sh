#!/usr/bin/env bash
# Runs memlab (from npm) and heapgraph on the Chromium and Node leak series in
# testdata/v8 and compares leaked object ids and clusters, for memlab's
# default leak filter and for --trace-all-objects (heapgraph --all-objects).
#
# Usage: testdata/v8/memlab/compare.sh [HEAPGRAPH_BINARY]
# memlab is installed once into $MEMLAB_DIR (default ~/.cache/heapgraph/memlab).
# Exits non-zero when any series' leaked ids differ.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
v8=$(dirname "$here")
heapgraph=${1:-heapgraph}
memlab_dir=${MEMLAB_DIR:-$HOME/.cache/heapgraph/memlab}
memlab_version=2.0.5
if [ ! -f "$memlab_dir/node_modules/@memlab/core/package.json" ] ||
   [ "$(node -p "require('$memlab_dir/node_modules/@memlab/core/package.json').version")" != "$memlab_version" ]; then
    mkdir -p "$memlab_dir"
    (cd "$memlab_dir" && [ -f package.json ] || (cd "$memlab_dir" && npm init -y >/dev/null))
    (cd "$memlab_dir" && PUPPETEER_SKIP_DOWNLOAD=1 PUPPETEER_SKIP_CHROMIUM_DOWNLOAD=1 \
        npm install --no-audit --no-fund --ignore-scripts "memlab@$memlab_version" >/dev/null)
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for series in chromium-series/chromium chromium-orders/orders chromium-react/react series/node20-leak; do
    name=$(basename "$series")
    for s in baseline target final; do
        gunzip -c "$v8/$series-$s.heapsnapshot.gz" > "$tmp/$name-$s.heapsnapshot"
    done
    for mode in memlab all; do
        flag=""; arg=""
        if [ "$mode" = all ]; then flag="--all-objects"; arg="all"; fi
        node --max-old-space-size=4096 "$here/memlab-leaks.js" "$memlab_dir" \
            "$tmp/$name-baseline.heapsnapshot" "$tmp/$name-target.heapsnapshot" \
            "$tmp/$name-final.heapsnapshot" "$tmp/$name-$mode.memlab.json" "$tmp/work-$name-$mode" $arg \
            > "$tmp/$name-$mode.memlab.log" 2>&1 || { cat "$tmp/$name-$mode.memlab.log"; exit 1; }
        "$heapgraph" leaks --json --top 0 $flag "$tmp/$name-baseline.heapsnapshot" \
            "$tmp/$name-target.heapsnapshot" "$tmp/$name-final.heapsnapshot" > "$tmp/$name-$mode.heapgraph.json"
        python3 "$here/compare.py" "$name" "$tmp/$name-$mode.memlab.json" "$tmp/$name-$mode.heapgraph.json" || status=1
    done
done
exit $status
