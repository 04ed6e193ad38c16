"""`Snapshot.query`: SQL over a dump from Python, equal to the CLI's
`query --json`; and a dataset written by `export --dataset` in DuckDB,
giving the same answer as `heapgraph query --dataset`."""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow as pa
import pytest

import heapgraph

from conftest import HPROF, REPO, TESTDATA, TM_1, TM_A, V8, snap

QUERIES = {
    HPROF: "SELECT class, count, retained_size FROM classes ORDER BY retained_size DESC, class LIMIT 20",
    V8: "SELECT kind, count(*) AS n, sum(retained_size) AS retained FROM nodes GROUP BY kind ORDER BY kind",
    TM_1: "SELECT file, line, size, count FROM sites ORDER BY size DESC, file, line",
}


@pytest.mark.parametrize("path", list(QUERIES), ids=lambda p: p.name)
def test_query_equals_the_cli(cli, path: Path) -> None:
    sql = QUERIES[path]
    table = snap(path).query(sql)
    assert isinstance(table, pa.Table)
    rows = cli.json("query", path, sql)["rows"]
    assert len(rows) > 2
    assert table.to_pylist() == rows


def test_query_shares_the_analysis() -> None:
    s = heapgraph.open(HPROF)
    by_sql = s.query("SELECT class, count, shallow_size, retained_size FROM classes")
    by_method = s.histogram(sort="retained")
    key = lambda r: r["class"]  # noqa: E731
    got = sorted(by_sql.to_pylist(), key=key)
    expected = sorted(
        ({k: r[k] for k in ("class", "count", "shallow_size", "retained_size")} for r in by_method.to_pylist()),
        key=key,
    )
    assert got == expected


def test_query_errors_are_analysis_errors() -> None:
    with pytest.raises(heapgraph.AnalysisError, match="no_such_table"):
        snap(TM_A).query("SELECT * FROM no_such_table")


def test_a_dataset_in_duckdb_answers_like_heapgraph(cli, tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    del duckdb
    sys.path.insert(0, str(REPO / "examples" / "sql"))
    import duckdb_fleet
    from fleet_query import recipe

    series = sorted((TESTDATA / "hprof" / "paths").glob("*.hprof.gz"))
    assert len(series) == 3
    dataset = tmp_path / "fleet"
    cli.json("export", "--dataset", dataset, *series)
    sql = recipe()
    expected = cli.json("query", "--dataset", dataset, sql)["rows"]
    got = duckdb_fleet.connect(dataset).execute(sql).fetchall()
    assert [tuple(r.values()) for r in expected] == [tuple(r) for r in got]
    assert expected[0]["growth"] > 100
