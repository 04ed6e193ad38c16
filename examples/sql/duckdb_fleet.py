"""A heapgraph dataset in DuckDB: every table as a view over its Parquet
files with the Hive partition column ``dump``, then the fleet recipe of
docs/sql.md, unchanged.

    heapgraph export --dataset fleet/ testdata/hprof/paths/*.hprof.gz
    python examples/sql/duckdb_fleet.py fleet/
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fleet_query import TABLES, files_of, recipe  # noqa: E402


def connect(dataset: Path) -> "duckdb.DuckDBPyConnection":
    """A DuckDB connection with the dataset's tables as views."""
    con = duckdb.connect()
    for table in (*TABLES, "dumps"):
        con.execute(
            f"CREATE VIEW {table} AS SELECT * FROM "
            f"read_parquet('{files_of(dataset, table)}', hive_partitioning = true)"
        )
    return con


def main() -> None:
    con = connect(Path(sys.argv[1]))
    for row in con.execute(recipe()).fetchall():
        print(*row, sep="\t")


if __name__ == "__main__":
    main()
