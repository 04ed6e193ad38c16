#!/usr/bin/env bash
# Regenerates the Node heap snapshots of testdata/v8/devtools with workload.js.
# Requires node v20 (the committed files were made with v20.20.2). The snapshots are
# gzipped with `gzip -9 -n` (no name/mtime in the header). After regenerating, rerun
# oracle/run-oracle.sh to refresh the DevTools goldens: the two always go together.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TMP="$(mktemp -d /tmp/heapgraph-v8-snapshots.XXXXXX)"
trap 'rm -rf "$TMP"' EXIT

node --version
# Two snapshots of one process (ids stable between them), then one taken through
# node:inspector with HeapProfiler.startTrackingHeapObjects on (allocation traces).
node --expose-gc "$HERE/workload.js" "$TMP"
node --expose-gc "$HERE/workload.js" "$TMP" --tracking

for f in node-workload-1 node-workload-2 node-tracking; do
  gzip -9 -n -c "$TMP/$f.heapsnapshot" > "$HERE/$f.heapsnapshot.gz"
  printf '%s: %s bytes, %s gzipped\n' "$f" "$(wc -c < "$TMP/$f.heapsnapshot")" "$(wc -c < "$HERE/$f.heapsnapshot.gz")"
done
