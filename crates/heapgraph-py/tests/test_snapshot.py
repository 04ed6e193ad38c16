"""heapgraph.open, Snapshot properties, summary, errors and the notebook repr."""

from __future__ import annotations

import bisect
import gzip
import threading
import time
from pathlib import Path

import pyarrow as pa
import pytest

import heapgraph
from conftest import (
    ALL_DUMPS,
    GRAPH_DUMPS,
    HPROF,
    HPROF_ANDROID,
    TM_1,
    V8,
    V8_PROFILE,
    ids,
    snap,
)

FORMATS = {HPROF: "hprof", V8: "v8", V8_PROFILE: "v8_heapprofile", TM_1: "tracemalloc"}


@pytest.mark.parametrize("path", ALL_DUMPS, ids=ids(ALL_DUMPS))
def test_open_reads_every_format(path: Path) -> None:
    s = heapgraph.open(path)
    assert s.format == FORMATS[path]
    assert s.path == str(path)
    assert s.node_count > 1
    assert s.edge_count > 0
    assert s.total_size > 0
    assert isinstance(s.producer, str) and s.producer
    assert repr(s).startswith(f"<heapgraph.Snapshot {s.format} ")


@pytest.mark.parametrize("path", GRAPH_DUMPS, ids=ids(GRAPH_DUMPS))
def test_summary_matches_the_cli(cli, path: Path) -> None:
    expected = cli.json("summary", path)
    got = snap(path).summary()
    for key in (
        "file",
        "format",
        "producer",
        "node_count",
        "edge_count",
        "root_count",
        "unreachable_count",
        "total_size",
        "reachable_size",
        "dangling_edges",
        "unresolved_references",
        "warnings",
    ):
        assert got[key] == expected[key], key
    s = snap(path)
    assert (s.node_count, s.edge_count, s.total_size) == (
        expected["node_count"],
        expected["edge_count"],
        expected["total_size"],
    )


def test_size_model_and_weak_referents_change_hprof_numbers(cli) -> None:
    raw = heapgraph.open(HPROF, size_model="raw")
    mat = snap(HPROF)
    assert raw.total_size != mat.total_size
    assert raw.summary()["total_size"] == cli.json("--size-model", "raw", "summary", HPROF)["total_size"]
    ignore = heapgraph.open(HPROF, weak_referents="ignore")
    expected = cli.json("--weak-referents", "ignore", "histogram", "--top", "0", HPROF)
    assert ignore.histogram().to_pylist() == expected["classes"]
    with pytest.raises(ValueError, match="size_model"):
        heapgraph.open(HPROF, size_model="huge")
    with pytest.raises(ValueError, match="weak_referents"):
        heapgraph.open(HPROF, weak_referents="sometimes")


def test_memory_map_off_gives_the_same_graph() -> None:
    plain = Path(__file__).resolve().parents[3] / "testdata/hprof/android-art-1.0.3.hprof"
    a = heapgraph.open(plain, memory_map=False)
    b = heapgraph.open(plain)
    assert a.nodes().equals(b.nodes())


def _truncated(tmp_path: Path, source: Path, keep: float) -> Path:
    data = source.read_bytes()
    if source.suffix == ".gz":
        data = gzip.decompress(data)
    out = tmp_path / ("cut-" + source.name.replace(".gz", ""))
    out.write_bytes(data[: int(len(data) * keep)])
    return out


@pytest.mark.parametrize("path", ALL_DUMPS, ids=ids(ALL_DUMPS))
def test_truncated_dumps_raise_the_cli_message(cli, tmp_path: Path, path: Path) -> None:
    cut = _truncated(tmp_path, path, 0.6)
    with pytest.raises(heapgraph.InvalidDumpError) as info:
        heapgraph.open(cut)
    err = info.value
    assert isinstance(err, heapgraph.HeapgraphError) and isinstance(err, ValueError)
    assert str(err).startswith(f"{cut}: ")
    assert err.path == str(cut)
    assert err.offset is not None and 0 <= err.offset <= cut.stat().st_size
    done = cli.run("summary", cut)
    assert done.returncode == 1
    assert done.stderr.strip() == f"heapgraph: error: {err}"


def test_a_dump_larger_than_memory_is_refused_up_front(cli, tmp_path: Path) -> None:
    # A sparse terabyte that starts like an HPROF dump: refused from its
    # first bytes with the estimate, as the command line refuses it.
    huge = tmp_path / "huge.hprof"
    with huge.open("wb") as f:
        f.write(b"JAVA PROFILE 1.0.2\0" + (8).to_bytes(4, "big") + bytes(8))
        try:
            f.truncate(1 << 40)
        except OSError as e:
            pytest.skip(f"this filesystem cannot hold a sparse terabyte: {e}")
    started = time.monotonic()
    with pytest.raises(heapgraph.NotEnoughMemoryError) as info:
        heapgraph.open(huge)
    assert time.monotonic() - started < 5
    err = info.value
    assert isinstance(err, MemoryError) and isinstance(err, heapgraph.HeapgraphError)
    assert "needs about 1.1 TB of memory to analyse" in str(err)
    assert err.path == str(huge)
    done = cli.run("summary", huge)
    assert done.returncode == 1
    assert done.stderr.strip() == f"heapgraph: error: {err}"


def test_unsupported_and_missing_files(cli, tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello, world\n")
    with pytest.raises(heapgraph.UnsupportedFormatError) as info:
        heapgraph.open(text)
    assert "not a supported heap dump" in str(info.value)
    assert cli.run("summary", text).stderr.strip() == f"heapgraph: error: {info.value}"
    empty = tmp_path / "empty.hprof"
    empty.write_bytes(b"")
    with pytest.raises(heapgraph.UnsupportedFormatError, match="empty"):
        heapgraph.open(empty)
    missing = tmp_path / "missing.hprof"
    with pytest.raises(heapgraph.ReadError) as info:
        heapgraph.open(missing)
    assert isinstance(info.value, OSError)
    assert cli.run("summary", missing).stderr.strip() == f"heapgraph: error: {info.value}"


@pytest.mark.parametrize("seed", range(8))
def test_corrupt_bytes_never_crash(tmp_path: Path, seed: int) -> None:
    import random

    rng = random.Random(seed)
    source = [HPROF, V8, V8_PROFILE, TM_1][seed % 4]
    data = bytearray(gzip.decompress(source.read_bytes()) if source.suffix == ".gz" else source.read_bytes())
    for _ in range(20):
        data[rng.randrange(len(data))] = rng.randrange(256)
    path = tmp_path / f"corrupt-{seed}"
    path.write_bytes(bytes(data))
    try:
        s = heapgraph.open(path)
    except heapgraph.HeapgraphError:
        return
    # A dump that still parses must still analyse.
    s.histogram()
    s.nodes()
    s.suspects()


def test_tables_are_pyarrow_and_streams_are_single_use() -> None:
    s = snap(HPROF)
    t = s.histogram(top=3)
    assert isinstance(t, pa.Table)
    assert t.column_names == ["class", "count", "shallow_size", "retained_size"]
    stream = s._native.histogram("retained", 3, None)
    assert pa.table(stream).equals(t)
    with pytest.raises(ValueError, match="already consumed"):
        stream.__arrow_c_stream__()
    assert t.to_pandas()["count"].sum() > 0


def test_analysis_runs_concurrently_without_the_gil() -> None:
    s = heapgraph.open(HPROF)  # fresh: the analysis is computed under contention
    results = []

    def work() -> None:
        results.append(s.histogram().to_pylist())

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and all(r == results[0] for r in results)


def test_parsing_and_analysis_release_the_gil() -> None:
    # While a worker thread is inside open() and the analysis, the main
    # thread must keep running Python; with the GIL held it could not.
    # One open() of the test dump can take well under 40 ms on a fast
    # machine, so the worker repeats it until the calls add up to enough
    # time to tell, and the main thread's stamps are counted inside each.
    spans = []

    def work() -> None:
        begun = time.perf_counter()
        while len(spans) < 3 or time.perf_counter() - begun < 0.3:
            start = time.perf_counter()
            heapgraph.open(V8).total_size
            spans.append((start, time.perf_counter()))

    stamps = []
    worker = threading.Thread(target=work)
    worker.start()
    while worker.is_alive():
        stamps.append(time.perf_counter())
    worker.join()
    # The stamps are in time order: count those inside each call by bisection.
    inside = sum(
        bisect.bisect_left(stamps, end - 0.005) - bisect.bisect_right(stamps, start + 0.005)
        for start, end in spans
        if end - start > 0.01
    )
    # Time inside the calls (less the margins) in which stamps could fall.
    open_time = sum(max(0.0, end - start - 0.01) for start, end in spans)
    assert open_time > 0.1, spans
    assert inside > 100, (inside, open_time)


def test_repr_html_shows_the_summary() -> None:
    page = snap(HPROF)._repr_html_()
    assert "heapgraph.Snapshot" in page
    assert "java.lang.Class" in page
    assert f"{snap(HPROF).node_count:,}" in page
    # The report page's own template (its overview rows carry raw values).
    assert f'id="ov-node_count" data-value="{snap(HPROF).node_count}"' in page
    assert "<script" not in page


def _two_heap_dumps(path: Path, out: Path) -> Path:
    """The file with a second heap dump after the first: its heap segments
    again without the last one, then HEAP DUMP END."""
    data = path.read_bytes()
    pos = data.index(b"\0") + 1 + 12
    segments = []
    while pos < len(data):
        length = int.from_bytes(data[pos + 5 : pos + 9], "big")
        if data[pos] == 0x1C:
            segments.append(data[pos : pos + 9 + length])
        pos += 9 + length
    assert len(segments) >= 2
    out.write_bytes(data + b"".join(segments[:-1]) + bytes([0x2C] + [0] * 8))
    return out


def test_open_reads_the_chosen_heap_dump(cli, tmp_path: Path) -> None:
    two = _two_heap_dumps(HPROF_ANDROID, tmp_path / "two.hprof")
    first = heapgraph.open(two)
    assert first.node_count == heapgraph.open(HPROF_ANDROID).node_count
    second = heapgraph.open(two, dump=2)
    assert second.node_count < first.node_count
    expected = cli.json("--dump", "2", "summary", two)
    for key in ("node_count", "edge_count", "root_count", "total_size", "warnings"):
        assert second.summary()[key] == expected[key], key
    assert "the file holds 2 heap dumps; dump 2 was read" in second.summary()["warnings"][0]
    with pytest.raises(heapgraph.InvalidDumpError, match="heap dump 3 was asked for"):
        heapgraph.open(two, dump=3)
    with pytest.raises(ValueError, match="from 1"):
        heapgraph.open(two, dump=0)
