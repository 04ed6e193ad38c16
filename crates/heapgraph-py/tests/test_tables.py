"""Every Snapshot table against the CLI's --json output and exports."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import heapgraph
from conftest import GRAPH_DUMPS, HPROF, TM_1, V8, V8_PROFILE, ids, snap

NODE_FIELDS = ["index", "id", "kind", "class", "name", "shallow_size", "retained_size"]


def node(row: Dict[str, Any], prefix: str = "") -> Dict[str, Any]:
    return {f: row[prefix + f] for f in NODE_FIELDS}


@pytest.mark.parametrize("path", GRAPH_DUMPS, ids=ids(GRAPH_DUMPS))
@pytest.mark.parametrize("sort", ["retained", "shallow", "count"])
def test_histogram_matches_the_cli(cli, path: Path, sort: str) -> None:
    expected = cli.json("histogram", "--sort", sort, "--top", "0", path)
    table = snap(path).histogram(sort=sort)
    assert table.column_names == ["class", "count", "shallow_size", "retained_size"]
    assert table.to_pylist() == expected["classes"]
    assert len(expected["classes"]) > 0
    assert sum(table.column("count").to_pylist()) == expected["total_count"]


def test_histogram_top_and_pattern(cli) -> None:
    expected = cli.json("histogram", "--top", "5", "--class", "java.util.*", HPROF)
    got = snap(HPROF).histogram(top=5, pattern="java.util.*").to_pylist()
    assert got == expected["classes"]
    assert all(r["class"].startswith("java.util.") for r in got) and len(got) == 5
    with pytest.raises(heapgraph.AnalysisError, match="sort must be"):
        snap(HPROF).histogram(sort="size")


@pytest.mark.parametrize("path", GRAPH_DUMPS, ids=ids(GRAPH_DUMPS))
@pytest.mark.parametrize("what", ["nodes", "edges", "classes"])
def test_tables_equal_the_cli_parquet_export(cli, tmp_path: Path, path: Path, what: str) -> None:
    out = tmp_path / f"{what}.parquet"
    done = cli.run("export", "--what", what, "-o", out, path)
    assert done.returncode == 0, done.stderr
    exported = pq.read_table(out)
    s = snap(path)
    table = {"nodes": s.nodes, "edges": s.edges, "classes": s.histogram}[what]()
    assert table.column_names == exported.column_names
    assert table.num_rows == exported.num_rows > 0
    assert table.cast(exported.schema).equals(exported)
    if what == "nodes":
        assert table.column_names == [
            "index", "id", "kind", "name", "self_size", "shallow_size",
            "retained_size", "dominator_id", "distance",
        ]
        assert table.num_rows == s.node_count
        # The root retains everything reachable.
        assert table.column("retained_size")[0].as_py() == s.summary()["reachable_size"]


def flatten(tree: List[Dict[str, Any]], depth: int = 0, parent: Any = None) -> List[Dict[str, Any]]:
    rows = []
    for n in tree:
        rows.append(dict(node(n), depth=depth, parent_id=parent))
        rows.extend(flatten(n["children"], depth + 1, n["id"]))
    return rows


def test_duplicate_arrays_match_the_cli(cli) -> None:
    plugins = HPROF.parent / "loaders" / "hotspot-jdk17-plugins.hprof.gz"
    expected = cli.json("strings", "--arrays", "--top", 0, plugins)
    rows = snap(plugins).duplicate_arrays().to_pylist()
    assert [{k: v for k, v in r.items()} for r in rows] == [
        {k: v for k, v in a.items() if k != "contents_hex"} for a in expected["arrays"]
    ]
    assert (rows[0]["type"], rows[0]["length"], rows[0]["count"]) == ("byte[]", 1000, 50)


def test_android_leaks_match_the_cli(cli) -> None:
    dump = HPROF.parent / "android-leaks" / "android-art-lifecycle.hprof"
    expected = cli.json("android-leaks", dump)["leaks"]
    rows = snap(dump).android_leaks().to_pylist()
    assert [(r["id"], r["reason"], r["library_leak"], r["gc_root"]) for r in rows] == [
        (l["id"], l["reason"], l["library_leak"], l["gc_root"]) for l in expected
    ]
    assert [r["path_ids"] for r in rows] == [[p["source_id"] for p in l["path"]] for l in expected]
    assert len(rows) == 7 and sum(r["library_leak"] for r in rows) == 2


def test_collections_match_the_cli(cli) -> None:
    dump = HPROF.parent / "collections" / "hotspot-jdk17-collections.hprof.gz"
    expected = cli.json("collections", "--top", 0, dump)
    table = snap(dump).collections()
    assert table.to_pylist() == expected["groups"]
    meta = heapgraph.metadata(table)
    assert meta["wasted_bytes"] == str(expected["wasted_bytes"])
    assert meta["collection_count"] == str(expected["collection_count"])


def test_threads_match_the_cli(cli) -> None:
    workers = HPROF.parent / "threads" / "hotspot-jdk17-workers.hprof.gz"
    expected = []
    for t in cli.json("threads", workers)["threads"]:
        common = dict(thread_id=t["id"], thread_name=t["thread_name"], state=t["state"],
                      retained_size=t["retained_size"])
        if not t["frames"]:
            expected.append(dict(common, depth=None, function=None, file=None, line=None,
                                 local_ids=None, locals_retained_size=None))
        for f in t["frames"]:
            expected.append(dict(common, depth=f["depth"], function=f["function"], file=f["file"],
                                 line=f["line"], local_ids=[l["id"] for l in f["locals"]],
                                 locals_retained_size=f["locals_retained_size"]))
    table = snap(workers).threads()
    assert table.to_pylist() == expected
    hold = [r for r in expected if r["function"] == "Workers.hold"]
    assert sorted(r["locals_retained_size"] for r in hold) == [10256, 20496, 30736]
    with pytest.raises(heapgraph.AnalysisError):
        snap(V8).threads()


def test_top_consumers_match_the_cli(cli) -> None:
    plugins = HPROF.parent / "loaders" / "hotspot-jdk17-plugins.hprof.gz"
    for by in ("package", "classloader"):
        expected = cli.json("histogram", "--by", by, "--top", 0, plugins)
        table = snap(plugins).top_consumers(by=by)
        assert table.to_pylist() == expected["groups"]
        assert heapgraph.metadata(table)["by"] == by
    with pytest.raises(heapgraph.AnalysisError):
        snap(V8).top_consumers()
    with pytest.raises(heapgraph.AnalysisError):
        snap(plugins).top_consumers(by="module")


def test_dominators_by_class_match_the_cli(cli) -> None:
    # HeapShapes' 200 cache values, each held by its own HashMap entry; and
    # looking through java.* collections, by the class whose static field
    # holds the map.
    for skip in ([], ["java.*"]):
        args = [a for glob in skip for a in ("--skip", glob)]
        expected = cli.json("dominators", "--of-class", "HeapShapes$CacheValue", *args, HPROF)
        table = snap(HPROF).dominators_by_class("HeapShapes$CacheValue", skip=skip)
        assert table.to_pylist() == expected["rows"]
        assert heapgraph.metadata(table)["member_count"] == "200"
        assert [r["class"] for r in expected["rows"]] == (
            ["class HeapShapes"] if skip else ["java.util.HashMap$Node"]
        )


@pytest.mark.parametrize("path", GRAPH_DUMPS, ids=ids(GRAPH_DUMPS))
def test_dominators_match_the_cli(cli, path: Path) -> None:
    for top, depth in [(10, 1), (5, 3)]:
        expected = cli.json("dominators", "--top", top, "--depth", depth, path)
        table = snap(path).dominators(top=top, depth=depth)
        got = [dict(node(r), depth=r["depth"], parent_id=r["parent_id"]) for r in table.to_pylist()]
        assert got == flatten(expected["dominators"])
        assert len(got) > 0
        assert heapgraph.metadata(table)["total_size"] == str(expected["total_size"])


def retainer_cases() -> List[Any]:
    # Objects with retainers: the top dominators and a few of their children.
    cases = []
    for path in [HPROF, V8, TM_1]:
        s = snap(path)
        rows = s.dominators(top=3, depth=2).to_pylist()
        for r in rows[:4]:
            cases.append((path, r["id"]))
    return cases


@pytest.mark.parametrize("path,object_id", retainer_cases())
def test_retainers_match_the_cli(cli, path: Path, object_id: int) -> None:
    expected = cli.json("retainers", "--paths", "2", path, str(object_id))
    s = snap(path)
    table = s.retainers(object_id, paths=2)
    rows = table.to_pylist()
    direct = [r for r in rows if r["path"] is None]
    assert [
        {"edge_kind": r["edge_kind"], "edge_name": r["edge_name"], "strong": r["strong"], "source": node(r)}
        for r in direct
    ] == expected["retainers"]
    paths: Dict[int, list] = {}
    for r in rows:
        if r["path"] is not None:
            paths.setdefault(r["path"], []).append(r)
    got_paths = [
        [{"edge_kind": r["edge_kind"], "edge_name": r["edge_name"], "node": node(r)} for r in sorted(steps, key=lambda r: r["step"])]
        for _, steps in sorted(paths.items())
    ]
    assert got_paths == [p for p in expected["paths"] if p]
    assert heapgraph.metadata(table)["path_count"] == str(len(expected["paths"]))
    obj = s.object(object_id)
    assert node(obj) == expected["object"]
    dominator = expected["dominator"]
    assert obj["dominator_id"] == (None if dominator is None else dominator["id"])
    # Ids in the CLI's notations.
    assert s.retainers(f"0x{object_id:x}", paths=0).equals(s.retainers(object_id, paths=0))
    assert s.retainers(f"@{object_id}", paths=0).num_rows == len(expected["retainers"])


def test_unknown_object_ids_raise(cli) -> None:
    s = snap(HPROF)
    with pytest.raises(heapgraph.ObjectNotFoundError) as info:
        s.retainers(12345)
    assert isinstance(info.value, LookupError)
    done = cli.run("retainers", HPROF, "12345")
    assert done.stderr.strip() == f"heapgraph: error: {info.value}"
    with pytest.raises(ValueError, match="not a number"):
        s.retainers("twelve")
    with pytest.raises(heapgraph.ObjectNotFoundError):
        s.object(-1)


@pytest.mark.parametrize("path", GRAPH_DUMPS, ids=ids(GRAPH_DUMPS))
@pytest.mark.parametrize("threshold", [0.10, 0.02])
def test_suspects_match_the_cli(cli, path: Path, threshold: float) -> None:
    expected = cli.json("suspects", "--threshold", threshold * 100, path)
    table = snap(path).suspects(threshold=threshold)
    meta = heapgraph.metadata(table)
    assert int(meta["total_size"]) == expected["total_size"]
    got = []
    for r in table.to_pylist():
        item = {
            "kind": r["kind"],
            "class": r["class"],
            "retained_size": r["retained_size"],
            "share": r["share"],
            "object": node(r, "object_"),
            "instance_count": r["instance_count"],
            "accumulation_point": None
            if r["accumulation_point_id"] is None
            else node(r, "accumulation_point_"),
            "path_ids": r["path_ids"],
        }
        got.append(item)
    want = [
        dict(
            {k: v for k, v in e.items() if k != "path"},
            path_ids=None if e["path"] is None else [step["node"]["id"] for step in e["path"]],
        )
        for e in expected["suspects"]
    ]
    assert got == want


def test_suspects_are_found_on_the_hprof_dump() -> None:
    table = snap(HPROF).suspects()
    assert table.num_rows >= 1
    with pytest.raises(heapgraph.AnalysisError):
        snap(HPROF).suspects(threshold=1.5)


@pytest.mark.parametrize("path", [HPROF, V8], ids=ids([HPROF, V8]))
def test_duplicate_strings_match_the_cli(cli, path: Path) -> None:
    expected = cli.json("strings", "--top", "0", path)
    table = snap(path).duplicate_strings()
    assert table.column_names == ["value", "count", "total_size", "wasted_size", "example_ids"]
    assert table.to_pylist() == expected["strings"]
    assert table.num_rows == expected["duplicate_values"] > 0
    meta = heapgraph.metadata(table)
    assert int(meta["wasted_size"]) == expected["wasted_size"]
    assert snap(path).duplicate_strings(top=3).to_pylist() == expected["strings"][:3]


@pytest.mark.parametrize("path", [TM_1, V8_PROFILE], ids=ids([TM_1, V8_PROFILE]))
def test_duplicate_strings_need_string_objects(cli, path: Path) -> None:
    with pytest.raises(heapgraph.AnalysisError) as info:
        snap(path).duplicate_strings()
    assert cli.run("strings", path).stderr.strip() == f"heapgraph: error: {info.value}"


def test_tables_convert_to_pandas() -> None:
    df = snap(V8).nodes().to_pandas()
    assert list(df.columns)[:3] == ["index", "id", "kind"]
    reachable = df[df["distance"].notna()]
    assert len(reachable) > 0
    assert (reachable["retained_size"] >= reachable["shallow_size"]).all()
    assert isinstance(snap(V8).histogram(), pa.Table)
