#!/usr/bin/env bash
# Builds the heapgraph Python package as users get it and tests that:
#   1. `maturin build` makes an abi3 wheel;
#   2. the wheel is installed into a fresh virtualenv, and pytest (against the
#      CLI's --json output and CPython's tracemalloc) and the example notebook
#      run there, importing the installed package, never the source tree;
#   3. `maturin sdist` makes a source distribution, and `pip install` of it
#      builds and works (it needs only PyPI and crates.io).
#
#   bash crates/heapgraph-py/ci.sh
#
# Caches live in ${HEAPGRAPH_CACHE:-$HOME/.cache/heapgraph}: a tools venv
# (maturin), the wheel venv (recreated on every run), and Rust builds in
# ${CARGO_TARGET_DIR:-<repo>/target}, shared with the workspace. Wheels are
# built with the dev profile (`--profile dev`) so that they reuse the
# workspace's dependency builds; a release wheel is `maturin build --release`.
# Set PYTHON to choose the interpreter (default python3, >= 3.9).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${HEAPGRAPH_CACHE:-$HOME/.cache/heapgraph}"
TOOLS="$CACHE/py-tools"
VENV="$CACHE/py-wheel-venv"
DIST="$CACHE/py-dist"
PYTHON="${PYTHON:-python3}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
export PYTHONDONTWRITEBYTECODE=1
export PIP_DISABLE_PIP_VERSION_CHECK=1

step() { printf '\n== heapgraph-py: %s (%ss)\n' "$1" "$SECONDS"; }

step "tools virtualenv $TOOLS (maturin)"
MATURIN_REQ="maturin>=1.5,<2"
if [[ ! -x "$TOOLS/bin/maturin" ]] || [[ "$(cat "$TOOLS/.req" 2>/dev/null)" != "$MATURIN_REQ" ]]; then
  rm -rf "$TOOLS"
  mkdir -p "$CACHE"
  "$PYTHON" -m venv "$TOOLS"
  "$TOOLS/bin/python" -m pip install --quiet "$MATURIN_REQ"
  printf '%s\n' "$MATURIN_REQ" > "$TOOLS/.req"
fi
MATURIN="$TOOLS/bin/maturin"

step "build the heapgraph CLI (for the --json comparisons)"
(cd "$REPO" && cargo build --quiet -p heapgraph-cli)
export HEAPGRAPH_CLI="$CARGO_TARGET_DIR/debug/heapgraph"

step "maturin build: the abi3 wheel"
rm -rf "$DIST"
mkdir -p "$DIST"
(cd "$HERE" && "$MATURIN" build --quiet --profile dev --interpreter "$PYTHON" --out "$DIST")
WHEEL="$(ls "$DIST"/heapgraph-*.whl)"
case "$WHEEL" in
  *-abi3-*) echo "wheel: $(basename "$WHEEL")" ;;
  *) echo "heapgraph-py: $WHEEL is not an abi3 wheel" >&2; exit 1 ;;
esac

step "a fresh virtualenv $VENV with the wheel and the test tools"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
export VIRTUAL_ENV="$VENV"
export PATH="$VENV/bin:$PATH"
# The wheel's own dependencies come from its metadata; the extras are the
# tests' and the notebook's (pyproject.toml).
python -m pip install --quiet "$WHEEL[test,notebook]" "nbformat>=5.7"
# The package must come from the installed wheel, not the source tree.
(cd / && python - "$VENV" <<'PY'
import pathlib
import sys

import heapgraph

where = pathlib.Path(heapgraph.__file__).resolve()
venv = pathlib.Path(sys.argv[1]).resolve()
assert venv in where.parents, f"heapgraph imported from {where}, not from {venv}"
print(f"heapgraph {heapgraph.__version__} imported from {where.parent}")
PY
)

step "pytest, against the installed wheel"
status=0
(cd "$HERE" && python -m pytest -q -p no:cacheprovider tests) || status=$?
if [[ $status -eq 5 ]]; then
  echo "heapgraph-py: pytest collected no tests" >&2
  exit 1
elif [[ $status -ne 0 ]]; then
  exit "$status"
fi

step "execute examples/heapgraph-tour.ipynb"
python - "$REPO/examples/heapgraph-tour.ipynb" <<'PY'
import sys
import nbclient
import nbformat

path = sys.argv[1]
notebook = nbformat.read(path, as_version=4)
client = nbclient.NotebookClient(
    notebook, timeout=600, kernel_name="python3",
    resources={"metadata": {"path": str(__import__("pathlib").Path(path).parent)}},
)
client.execute()  # raises CellExecutionError on the first failing cell
cells = sum(1 for c in notebook.cells if c.cell_type == "code")
print(f"executed {cells} code cells of {path}")
PY

step "maturin sdist, then pip install of the sdist"
(cd "$HERE" && "$MATURIN" sdist --out "$DIST" >/dev/null)
SDIST="$(ls "$DIST"/heapgraph-*.tar.gz)"
echo "sdist: $(basename "$SDIST")"
# pip builds it in isolation with maturin from PyPI and crates from
# crates.io; the dev profile keeps the build inside the shared cache.
MATURIN_PEP517_ARGS="--profile dev" python -m pip install --quiet --force-reinstall --no-deps "$SDIST"
(cd / && python - "$REPO/testdata/tracemalloc/app_a.p5.pickle" <<'PY'
import sys

import heapgraph

snap = heapgraph.open(sys.argv[1])
sites = snap.sites(by="lineno")
assert sites.num_rows > 0, sites
print(f"the package built from the sdist reads {sys.argv[1]}: {sites.num_rows} sites")
PY
)

step "done"
