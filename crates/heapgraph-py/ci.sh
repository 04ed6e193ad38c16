#!/usr/bin/env bash
# Builds the heapgraph Python package and tests it: pytest (against the CLI's
# --json output and CPython's tracemalloc) and the example notebook.
#
#   bash crates/heapgraph-py/ci.sh
#
# The virtualenv lives in ${HEAPGRAPH_CACHE:-$HOME/.cache/heapgraph}/venv and
# is reused; Rust builds share ${CARGO_TARGET_DIR:-<repo>/target} with the
# workspace. Set PYTHON to choose the interpreter (default python3, >= 3.9).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${HEAPGRAPH_CACHE:-$HOME/.cache/heapgraph}"
VENV="$CACHE/venv"
PYTHON="${PYTHON:-python3}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
export PYTHONDONTWRITEBYTECODE=1
export PIP_DISABLE_PIP_VERSION_CHECK=1

# Minimal versions that have what the package and tests use (pyarrow >= 15:
# RecordBatchReader.from_stream on the Arrow PyCapsule interface).
REQUIREMENTS=(
  "maturin>=1.5,<2"
  "pytest>=7"
  "pyarrow>=15"
  "pandas>=1.5"
  "matplotlib>=3.5"
  "nbclient>=0.7"
  "nbformat>=5.7"
  "ipykernel>=6"
)

step() { printf '\n== heapgraph-py: %s (%ss)\n' "$1" "$SECONDS"; }

step "virtualenv $VENV"
if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c 'import sys; assert sys.version_info >= (3, 9)' 2>/dev/null; then
  rm -rf "$VENV"
  mkdir -p "$CACHE"
  "$PYTHON" -m venv "$VENV"
fi
export VIRTUAL_ENV="$VENV"
export PATH="$VENV/bin:$PATH"
# Reinstall the tools only when the list changes.
STAMP="$VENV/.heapgraph-requirements"
WANT="$(printf '%s\n' "${REQUIREMENTS[@]}")"
if [[ ! -f "$STAMP" ]] || [[ "$(cat "$STAMP")" != "$WANT" ]]; then
  python -m pip install --quiet --upgrade pip
  python -m pip install --quiet "${REQUIREMENTS[@]}"
  printf '%s\n' "$WANT" > "$STAMP"
fi

step "build the heapgraph CLI (for the --json comparisons)"
(cd "$REPO" && cargo build --quiet -p heapgraph-cli)
export HEAPGRAPH_CLI="$CARGO_TARGET_DIR/debug/heapgraph"

step "build and install the extension (maturin develop)"
(cd "$HERE" && maturin develop --quiet)

step "pytest"
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

step "done"
