"""Snapshot.sites against CPython's own tracemalloc on the same files, and
against the CLI's `sites --json` for V8 dumps."""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any, List, Tuple

import pytest

import heapgraph
from conftest import TESTDATA, TM_1, TM_2, TM_A, TM_B, V8_PROFILE, V8_TRACKED, HPROF, ids, snap

TM = TESTDATA / "tracemalloc"
PICKLES = [
    TM_1,
    TM / "mixed_1.p2.pickle",
    TM / "mixed_1.p0.pickle",
    TM_2,
    TM_A,
    TM / "app_a.p2.pickle",
    TM_B,
    TM / "empty.p5.pickle",
]
KEYS = [("lineno", False), ("lineno", True), ("filename", False), ("filename", True), ("traceback", False)]

# The filter sets of testdata/tracemalloc/gen.py, as tracemalloc objects.
F, D = tracemalloc.Filter, tracemalloc.DomainFilter
FILTER_SETS: List[List[Any]] = [
    [F(True, "/srv/app/*")],
    [F(False, "/srv/app/models.py")],
    [F(True, "*models.py", lineno=5)],
    [F(True, "/srv/lib/*", all_frames=True)],
    [F(False, "*views*", all_frames=True)],
    [F(True, "/srv/[a-l]*/*.py")],
    [F(True, "/srv/app/models.pyc")],
    [F(True, "*", domain=4294967295)],
    [F(False, "*track*", domain=4294967295)],
    [D(True, 4294967295)],
    [D(False, 0)],
    [F(True, "/srv/app/*"), F(True, "/srv/lib/*"), F(False, "*views.py", all_frames=True)],
    [F(True, "*caf?/*")],
    [F(True, "/srv/we[!x]ird*")],
]


def text(name: str) -> str:
    """Arrow strings are UTF-8: lone surrogates become U+FFFD, as Rust's
    from_utf8_lossy turns the WTF-8 bytes into replacement characters."""
    return name.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def frames(traceback: Any) -> List[Tuple[str, int]]:
    return [(text(f.filename), f.lineno) for f in traceback]


def ours(table: Any) -> List[Tuple]:
    rows = []
    for r in table.to_pylist():
        tb = [(f["filename"], f["lineno"]) for f in r["traceback"]]
        last = tb[-1] if tb else (None, None)
        assert (r["filename"], r["lineno"]) == last
        rows.append((tb, r["size"], r["count"]) + ((r["size_diff"], r["count_diff"]) if "size_diff" in r else ()))
    return rows


def python_stats(stats: Any) -> List[Tuple]:
    return [(frames(s.traceback), s.size, s.count) for s in stats]


def python_diffs(diffs: Any) -> List[Tuple]:
    return [(frames(d.traceback), d.size, d.count, d.size_diff, d.count_diff) for d in diffs]


@pytest.mark.parametrize("path", PICKLES, ids=ids(PICKLES))
@pytest.mark.parametrize("key,cumulative", KEYS)
def test_statistics_equal_pythons(path: Path, key: str, cumulative: bool) -> None:
    expected = tracemalloc.Snapshot.load(str(path)).statistics(key, cumulative)
    table = snap(path).sites(by=key, cumulative=cumulative)
    assert ours(table) == python_stats(expected)
    meta = heapgraph.metadata(table)
    assert meta["key_type"] == key
    traces = tracemalloc.Snapshot.load(str(path)).traces
    assert int(meta["allocation_count"]) == len(traces)
    assert int(meta["total_size"]) == sum(t.size for t in traces)


def test_the_dumps_hold_what_the_comparison_needs() -> None:
    stats = tracemalloc.Snapshot.load(str(TM_1)).statistics("traceback")
    assert len(stats) > 20
    assert any("\udce9" in f.filename for s in stats for f in s.traceback)
    assert any(len(s.traceback) > 10 for s in stats)


@pytest.mark.parametrize("n", range(len(FILTER_SETS)))
@pytest.mark.parametrize("key", ["lineno", "traceback"])
def test_filtered_statistics_equal_pythons(n: int, key: str) -> None:
    filters = FILTER_SETS[n]
    for path in (TM_1, TM_A):
        expected = tracemalloc.Snapshot.load(str(path)).filter_traces(filters).statistics(key)
        got = ours(snap(path).sites(by=key, filters=filters))
        assert got == python_stats(expected), (path.name, n)


def test_string_filters_are_inclusive_patterns() -> None:
    expected = tracemalloc.Snapshot.load(str(TM_A)).filter_traces([F(True, "/srv/app/*")]).statistics("lineno")
    assert ours(snap(TM_A).sites(filters=["/srv/app/*"])) == python_stats(expected)
    with pytest.raises(TypeError):
        snap(TM_A).sites(filters=[42])


@pytest.mark.parametrize("new,old", [(TM_2, TM_1), (TM_B, TM_A), (TM_1, TM_1)], ids=["mixed", "app", "same"])
@pytest.mark.parametrize("key,cumulative", KEYS)
def test_compare_to_equals_pythons(new: Path, old: Path, key: str, cumulative: bool) -> None:
    py_new = tracemalloc.Snapshot.load(str(new))
    py_old = tracemalloc.Snapshot.load(str(old))
    expected = py_new.compare_to(py_old, key, cumulative)
    table = snap(new).sites(by=key, cumulative=cumulative, compare_to=snap(old))
    assert table.column_names[-2:] == ["size_diff", "count_diff"]
    assert ours(table) == python_diffs(expected)


def test_top_and_errors(cli) -> None:
    full = snap(TM_1).sites()
    assert snap(TM_1).sites(top=5).equals(full.slice(0, 5))
    with pytest.raises(heapgraph.AnalysisError, match="cumulative") as info:
        snap(TM_1).sites(by="traceback", cumulative=True)
    done = cli.run("sites", "--by", "traceback", "--cumulative", TM_1)
    assert done.stderr.strip() == f"heapgraph: error: {info.value}"
    with pytest.raises(heapgraph.AnalysisError, match="same format"):
        snap(TM_1).sites(compare_to=snap(V8_PROFILE))
    with pytest.raises(heapgraph.AnalysisError, match="by must be"):
        snap(TM_1).sites(by="line")


SITE_DUMPS = [V8_PROFILE, V8_TRACKED, TM_1, HPROF]


@pytest.mark.parametrize("path", SITE_DUMPS, ids=ids(SITE_DUMPS))
@pytest.mark.parametrize("key,cumulative", KEYS)
def test_sites_match_the_cli(cli, path: Path, key: str, cumulative: bool) -> None:
    args = ["sites", "--by", key] + (["--cumulative"] if cumulative else []) + [path]
    expected = cli.json(*args)
    table = snap(path).sites(by=key, cumulative=cumulative)
    got = [
        {"traceback": r["traceback"], "size": r["size"], "count": r["count"]}
        for r in table.to_pylist()
    ]
    assert got == expected["statistics"]
    meta = heapgraph.metadata(table)
    assert int(meta["allocation_count"]) == expected["allocation_count"]
    assert int(meta["total_size"]) == expected["total_size"]
    if path != HPROF:
        assert len(got) > 0


def test_compare_to_matches_the_cli_on_v8(cli) -> None:
    expected = cli.json("sites", "--compare", V8_PROFILE, V8_PROFILE)
    table = snap(V8_PROFILE).sites(compare_to=snap(V8_PROFILE))
    got = [
        {k: r[k] for k in ("traceback", "size", "count", "size_diff", "count_diff")}
        for r in table.to_pylist()
    ]
    assert got == expected["statistics"] and len(got) > 0
