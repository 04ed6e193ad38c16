"""heapgraph.diff, heapgraph.leaks and heapgraph.trend against the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import pytest

import heapgraph
from conftest import (
    HPROF,
    HPROF_ANDROID,
    HPROF_ANDROID_SPLIT,
    TM_1,
    TM_2,
    TM_A,
    TM_B,
    TESTDATA,
    V8,
    V8_PROFILE,
    V8_TRACKED,
    snap,
)

PAIRS = [
    (V8, V8_TRACKED),
    (V8_TRACKED, V8),
    (HPROF_ANDROID, HPROF_ANDROID_SPLIT),
    (HPROF, HPROF_ANDROID),
    (TM_1, TM_2),
    (TM_A, TM_B),
]


def pair_id(pair: Any) -> str:
    return f"{pair[0].name}->{pair[1].name}"


@pytest.mark.parametrize("pair", PAIRS, ids=[pair_id(p) for p in PAIRS])
def test_diff_matches_the_cli(cli, pair: Any) -> None:
    old, new = pair
    expected = cli.json("diff", "--top", "0", old, new)
    table = heapgraph.diff(snap(old), snap(new))
    assert table.to_pylist() == expected["classes"]
    if old.name.startswith("node20") or old.name.startswith("mixed"):
        assert len(expected["classes"]) > 0
    assert heapgraph.metadata(table)["matching"] == expected["matching"]
    # Paths work too and give the same table.
    assert heapgraph.diff(old, new, top=3).to_pylist() == expected["classes"][:3]


def test_diff_of_stable_ids_counts_new_and_deleted_objects() -> None:
    table = heapgraph.diff(snap(V8), snap(V8_TRACKED))
    assert heapgraph.metadata(table)["matching"] == "id"
    assert sum(v or 0 for v in table.column("new_objects").to_pylist()) > 0
    table = heapgraph.diff(snap(TM_1), snap(TM_2))
    assert heapgraph.metadata(table)["matching"] == "class"
    assert table.column("new_objects").null_count == table.num_rows


def test_diff_of_different_formats_raises(cli) -> None:
    with pytest.raises(heapgraph.AnalysisError) as info:
        heapgraph.diff(snap(HPROF), snap(V8))
    assert cli.run("diff", HPROF, V8).stderr.strip() == f"heapgraph: error: {info.value}"
    with pytest.raises(TypeError):
        heapgraph.diff(snap(HPROF), 42)  # type: ignore[arg-type]


LEAK_CASES = [
    (V8, V8_TRACKED, V8_TRACKED),
    (V8, V8_TRACKED, V8),
    (HPROF_ANDROID, HPROF, HPROF),
    (TM_1, TM_2, TM_2),
    (TM_A, TM_B, TM_B),
]


def cluster(r: Dict[str, Any]) -> Dict[str, Any]:
    keys = ["class", "count", "object_count", "retained_size", "detached_dom", "shape"]
    out = {k: r[k] for k in keys}
    out["example"] = {
        f: r["example_" + f]
        for f in ["index", "id", "kind", "class", "name", "shallow_size", "retained_size"]
    }
    out["path_ids"] = r["path_ids"]
    out["member_ids"] = r["member_ids"]
    return out


@pytest.mark.parametrize("all_objects", [False, True], ids=["memlab", "all_objects"])
@pytest.mark.parametrize("case", LEAK_CASES, ids=["-".join(p.name for p in c) for c in LEAK_CASES])
def test_leaks_match_the_cli(cli, case: Any, all_objects: bool) -> None:
    flags = ["--all-objects"] if all_objects else []
    expected = cli.json("leaks", "--top", "0", *flags, *case)
    table = heapgraph.leaks(*(snap(p) for p in case), all_objects=all_objects)
    meta = heapgraph.metadata(table)
    assert meta["matching"] == expected["matching"]
    assert int(meta["candidate_count"]) == expected["candidate_count"]
    if expected["matching"] == "id":
        want = []
        for c in expected["clusters"]:
            item = {k: c[k] for k in ["class", "count", "object_count", "retained_size", "detached_dom", "shape"]}
            item["example"] = c["example"]
            item["path_ids"] = [step["node"]["id"] for step in c["path"]]
            item["member_ids"] = c["member_ids"]
            want.append(item)
        assert [cluster(r) for r in table.to_pylist()] == want
    else:
        want = [
            {
                "class": g["class"],
                "baseline_count": g["counts"][0],
                "target_count": g["counts"][1],
                "final_count": g["counts"][2],
                "baseline_shallow_size": g["shallow_sizes"][0],
                "target_shallow_size": g["shallow_sizes"][1],
                "final_shallow_size": g["shallow_sizes"][2],
            }
            for g in expected["growing_classes"]
        ]
        assert table.to_pylist() == want


def test_leaks_find_clusters_in_v8() -> None:
    # memlab's default filter keeps detached nodes only (in Node: embedder
    # objects V8 marks detached); every object gives more.
    default = heapgraph.leaks(snap(V8), snap(V8_TRACKED), snap(V8_TRACKED))
    assert all(r["detached_dom"] for r in default.to_pylist())
    table = heapgraph.leaks(snap(V8), snap(V8_TRACKED), snap(V8_TRACKED), all_objects=True)
    assert table.num_rows > default.num_rows
    meta = heapgraph.metadata(table)
    assert int(meta["candidate_count"]) > 0
    members = sum(len(r["member_ids"]) for r in table.to_pylist())
    assert members == int(meta["leak_count"])
    # Ignoring every name leaves nothing, and counts it.
    none = heapgraph.leaks(snap(V8), snap(V8_TRACKED), snap(V8_TRACKED), all_objects=True, ignore=["*"])
    assert none.num_rows == 0
    assert int(heapgraph.metadata(none)["ignored_count"]) == members
    with pytest.raises(heapgraph.AnalysisError, match="same format"):
        heapgraph.leaks(snap(V8), snap(HPROF), snap(V8))


TRENDS: List[List[Path]] = [
    [HPROF_ANDROID, HPROF_ANDROID_SPLIT, HPROF],
    [V8, V8_TRACKED, V8],
    [TM_A, TM_1, TM_2, TM_B],
    [V8_PROFILE, V8_PROFILE],
]


@pytest.mark.parametrize("series", TRENDS, ids=["hprof", "v8", "tracemalloc", "heapprofile"])
def test_trend_matches_the_cli(cli, series: List[Path]) -> None:
    expected = cli.json("trend", "--top", "0", *series)
    # Mixed: opened snapshots and paths (opened one at a time).
    items: List[Any] = [snap(p) if i % 2 == 0 else p for i, p in enumerate(series)]
    table = heapgraph.trend(items)
    assert table.to_pylist() == expected["classes"]
    assert len(expected["classes"]) > 0
    assert table.column("counts")[0].as_py().__len__() == len(series)


def test_trend_errors(cli) -> None:
    with pytest.raises(heapgraph.AnalysisError, match="at least 2"):
        heapgraph.trend([snap(HPROF)])
    with pytest.raises(heapgraph.AnalysisError) as info:
        heapgraph.trend([HPROF, V8])
    assert cli.run("trend", HPROF, V8).stderr.strip() == f"heapgraph: error: {info.value}"
    with pytest.raises(heapgraph.ReadError):
        heapgraph.trend([HPROF, HPROF.with_name("missing.hprof")])


def test_leak_members_list_every_member_of_every_cluster() -> None:
    case = (snap(V8), snap(V8_TRACKED), snap(V8_TRACKED))
    clusters = heapgraph.leaks(*case, all_objects=True).to_pylist()
    members = heapgraph.leak_members(*case, all_objects=True).to_pylist()
    assert len(members) == sum(len(c["member_ids"]) for c in clusters) > 0
    for rank, c in enumerate(clusters, start=1):
        ids = [m["id"] for m in members if m["cluster"] == rank]
        assert ids == c["member_ids"]
    assert all(m["shallow_size"] >= 0 and m["class"] is not None for m in members)


def test_growing_paths_name_the_leaking_path_not_the_churning_one() -> None:
    steps = [TESTDATA / f"hprof/paths/hotspot-jdk17-sessions-{n}.hprof.gz" for n in (1, 2, 3)]
    rows = heapgraph.growing_paths(steps).to_pylist()
    assert len(rows) == 1
    assert rows[0]["counts"] == [300, 600, 900]
    assert rows[0]["class"] == "SessionServer$Session"
    assert "-[AUDIT_LOG]->" in rows[0]["shape"] and "ACTIVE" not in rows[0]["shape"]
    tm = [TESTDATA / f"tracemalloc/series-{n}.p5.pickle" for n in (1, 2, 3)]
    rows = heapgraph.growing_paths(tm).to_pylist()
    assert [r["counts"] for r in rows] == [[400, 800, 1200]]


def test_redact_keeps_the_analysis_and_drops_the_values(tmp_path: Path, cli: Any) -> None:
    """heapgraph.redact equals `heapgraph redact --json`, and the redacted
    dump has the same histogram and duplicate-string groups."""
    source = TESTDATA / "hprof" / "secrets" / "hotspot-jdk17-secrets.hprof.gz"
    out = tmp_path / "redacted.hprof"
    report = heapgraph.redact(source, out, names=True, salt="py")
    expected = cli.json("redact", str(source), "-o", str(tmp_path / "cli.hprof"), "--names", "--salt", "py")
    for key in ["values", "value_bytes", "unused_scrubbed", "hashes_cleared", "names_replaced", "names_kept"]:
        assert report[key] == expected[key], key
    assert report["salted"] and report["names"]
    assert report["names_map"]["Secrets"] != "Secrets"
    # Same salt, same bytes as the CLI.
    assert out.read_bytes() == (tmp_path / "cli.hprof").read_bytes()
    assert b"hunter2" not in out.read_bytes()
    original = heapgraph.open(source).histogram().to_pylist()
    redacted = heapgraph.open(out).histogram().to_pylist()
    numbers = lambda rows: sorted((r["count"], r["shallow_size"], r["retained_size"]) for r in rows)
    assert numbers(original) == numbers(redacted)
    with pytest.raises(heapgraph.InvalidDumpError):
        bad = tmp_path / "cut.hprof"
        bad.write_bytes(out.read_bytes()[:100000])
        heapgraph.redact(bad, tmp_path / "cut-out.hprof")
    assert not (tmp_path / "cut-out.hprof").exists()
