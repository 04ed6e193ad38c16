#!/usr/bin/env bash
# The fleet recipe of docs/sql.md in Apache Spark (PySpark, local mode) over
# a dataset of testdata's three-dump HPROF series, against `heapgraph query
# --dataset`. PySpark is a ~300 MB wheel: this step runs only when a venv
# with it is cached, and says how to make one otherwise.
#
#   bash .ci/spark-check.sh HEAPGRAPH_BINARY
set -euo pipefail

cd "$(dirname "$0")/.."
heapgraph="$1"
venv="${HEAPGRAPH_CACHE:-$HOME/.cache/heapgraph}/pyspark-venv"
if ! "$venv/bin/python" -c 'import pyspark' 2>/dev/null; then
    echo "skipped: PySpark is not cached in $venv (make it with: python3 -m venv $venv && $venv/bin/pip install pyspark pyarrow)"
    exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$heapgraph" --quiet export --dataset "$work/fleet" testdata/hprof/paths/*.hprof.gz
sql="$(python3 -c 'import sys; sys.path.insert(0, "examples/sql"); from fleet_query import recipe; print(recipe())')"
"$heapgraph" --quiet query --csv --dataset "$work/fleet" "$sql" | tail -n +2 | tr ',' '\t' > "$work/heapgraph.tsv"
"$venv/bin/python" examples/sql/spark_fleet.py "$work/fleet" > "$work/spark.tsv"
if ! diff "$work/heapgraph.tsv" "$work/spark.tsv"; then
    echo "Spark and heapgraph disagree on the fleet recipe (< heapgraph, > Spark)" >&2
    exit 1
fi
echo "Spark $("$venv/bin/python" -c 'import pyspark; print(pyspark.__version__)') agrees with heapgraph query --dataset:"
cat "$work/spark.tsv"
