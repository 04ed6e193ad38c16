#!/usr/bin/env bash
# Runs Chrome DevTools' own heap snapshot worker (npm package chrome-devtools-frontend) on
# heap snapshots and writes golden files next to them. Third-party code is installed into a
# temporary directory and never committed; only driver.ts (ours) lives in the repository.
#
# usage: oracle/run-oracle.sh [snapshot.heapsnapshot[.gz] out-prefix]...
#   with no arguments: the committed snapshots of testdata/v8/devtools plus the Chromium
#   Chromium snapshot testdata/v8/chrome-numeric-internals.heapsnapshot.gz.
# env: DEVTOOLS_VERSION (default below), ESBUILD_VERSION, ORACLE_WORK (work dir, default mktemp).
set -euo pipefail

DEVTOOLS_VERSION="${DEVTOOLS_VERSION:-1.0.1705227}"
ESBUILD_VERSION="${ESBUILD_VERSION:-0.28.2}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DATA="$(dirname "$HERE")"
REPO="$(cd "$DATA/../../.." && pwd)"

WORK="${ORACLE_WORK:-}"
if [[ -z "$WORK" ]]; then
  WORK="$(mktemp -d /tmp/heapgraph-devtools-oracle.XXXXXX)"
  trap 'rm -rf "$WORK"' EXIT
fi
mkdir -p "$WORK"

# 1. chrome-devtools-frontend, unpacked from the registry tarball (no install scripts run).
if [[ ! -d "$WORK/package/front_end" ]]; then
  (cd "$WORK" && npm pack --silent "chrome-devtools-frontend@$DEVTOOLS_VERSION" >/dev/null \
     && tar xzf "chrome-devtools-frontend-$DEVTOOLS_VERSION.tgz")
fi
# locales.js is generated at DevTools build time; the worker needs none of its values.
LOCALES="$WORK/package/front_end/core/i18n/locales.js"
if [[ ! -f "$LOCALES" ]]; then
  cat > "$LOCALES" <<'JS'
export const LOCALES = ['en-US'];
export const BUNDLED_LOCALES = ['en-US'];
export const DEFAULT_LOCALE = 'en-US';
export const REMOTE_FETCH_PATTERN = '';
export const LOCAL_FETCH_PATTERN = '';
JS
fi

# 2. esbuild, in the work dir.
if [[ ! -x "$WORK/tools/node_modules/.bin/esbuild" ]]; then
  mkdir -p "$WORK/tools"
  (cd "$WORK/tools" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund "esbuild@$ESBUILD_VERSION")
fi

# 3. Our driver, bundled together with the worker sources it imports.
cp "$HERE/driver.ts" "$WORK/package/front_end/heapgraph_oracle_driver.ts"
# Node 20 lacks Promise.withResolvers (ES2024); DevTools uses it.
BANNER='if(!Promise.withResolvers){Promise.withResolvers=function(){let resolve,reject;const promise=new Promise((a,b)=>{resolve=a;reject=b;});return {promise,resolve,reject};};}'
"$WORK/tools/node_modules/.bin/esbuild" "$WORK/package/front_end/heapgraph_oracle_driver.ts" \
  --bundle --platform=node --format=esm --target=node20 --log-level=warning \
  --banner:js="$BANNER" --outfile="$WORK/driver.mjs"

run() {
  local input="$1" prefix="$2" source tmp
  source="$(basename "$input")"
  case "$input" in
    *.gz) tmp="$WORK/input.heapsnapshot"; gzip -dc "$input" > "$tmp"; input="$tmp" ;;
  esac
  node --max-old-space-size=4096 "$WORK/driver.mjs" "$input" "$prefix" "$DEVTOOLS_VERSION" "$source"
}

if [[ $# -gt 0 ]]; then
  while [[ $# -gt 1 ]]; do run "$1" "$2"; shift 2; done
else
  for snap in "$DATA"/*.heapsnapshot.gz; do
    base="$(basename "$snap" .heapsnapshot.gz)"
    run "$snap" "$DATA/$base"
  done
  CHROME="$REPO/testdata/v8/chrome-numeric-internals.heapsnapshot.gz"
  if [[ -f "$CHROME" ]]; then
    run "$CHROME" "$DATA/chrome-numeric-internals"
  fi
fi
