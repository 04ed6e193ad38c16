"""Shared fixtures: the test dumps of testdata/ and the heapgraph CLI.

The CLI comparisons run `heapgraph --json ...` with the binary named by
$HEAPGRAPH_CLI, or `$CARGO_TARGET_DIR/debug/heapgraph`, or
`<repo>/target/debug/heapgraph`; they are skipped when none exists.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any, List, Optional

import pytest

import heapgraph

REPO = Path(__file__).resolve().parents[3]
TESTDATA = REPO / "testdata"

HPROF = TESTDATA / "hprof" / "hotspot-jdk17-shapes.hprof.gz"
HPROF_ANDROID = TESTDATA / "hprof" / "android-art-1.0.3.hprof"
HPROF_ANDROID_SPLIT = TESTDATA / "hprof" / "android-art-1.0.3-split.hprof"
V8 = TESTDATA / "v8" / "node20-planted.heapsnapshot.gz"
V8_TRACKED = TESTDATA / "v8" / "node20-tracked.heapsnapshot.gz"
V8_PROFILE = TESTDATA / "v8" / "node20-sampling.heapprofile"
TM_1 = TESTDATA / "tracemalloc" / "mixed_1.p5.pickle"
TM_2 = TESTDATA / "tracemalloc" / "mixed_2.p5.pickle"
TM_A = TESTDATA / "tracemalloc" / "app_a.p5.pickle"
TM_B = TESTDATA / "tracemalloc" / "app_b.p5.pickle"

V8_CHROME = TESTDATA / "v8" / "chrome-numeric-internals.heapsnapshot.gz"
V8_BUN = TESTDATA / "v8" / "bun-baseline.heapsnapshot.gz"
V8_CHROME_PROFILE = TESTDATA / "v8" / "chrome.heapprofile"

# One dump of each format (and the sampling profile).
ALL_DUMPS = [HPROF, V8, V8_PROFILE, TM_1]
GRAPH_DUMPS = [
    HPROF, HPROF_ANDROID, V8, V8_TRACKED, V8_PROFILE, TM_1, TM_A,
    V8_CHROME, V8_BUN, V8_CHROME_PROFILE,
]

# NetBeans' JDK 8 HPROF comes from another project's repository and is never
# copied into this one: it is read from the shared corpus beside the
# repository (../shared/corpus) where present.
CORPUS = REPO.parent / "shared" / "corpus"
NETBEANS = CORPUS / "hprof" / "netbeans-jdk8-64bit.hprof"
if NETBEANS.is_file():
    GRAPH_DUMPS.append(NETBEANS)


def _cli_path() -> Optional[Path]:
    candidates = []
    if os.environ.get("HEAPGRAPH_CLI"):
        candidates.append(Path(os.environ["HEAPGRAPH_CLI"]))
    if os.environ.get("CARGO_TARGET_DIR"):
        candidates.append(Path(os.environ["CARGO_TARGET_DIR"]) / "debug" / "heapgraph")
    candidates.append(REPO / "target" / "debug" / "heapgraph")
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return c
    return None


class Cli:
    """Runs the heapgraph binary."""

    def __init__(self, binary: Path) -> None:
        self.binary = binary

    def run(self, *args: Any) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.binary), "--quiet", *[str(a) for a in args]],
            capture_output=True,
            text=True,
            timeout=120,
        )

    def json(self, *args: Any) -> Any:
        done = self.run("--json", *args)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


@pytest.fixture(scope="session")
def cli() -> Cli:
    binary = _cli_path()
    if binary is None:
        pytest.skip("the heapgraph CLI binary is not built (cargo build -p heapgraph-cli)")
    return Cli(binary)


_CACHE: dict = {}


def snap(path: Path, **options: Any) -> heapgraph.Snapshot:
    """An opened snapshot, cached per path and options for the session."""
    key = (str(path), tuple(sorted(options.items())))
    if key not in _CACHE:
        _CACHE[key] = heapgraph.open(path, **options)
    return _CACHE[key]


def ids(paths: List[Path]) -> List[str]:
    return [p.name for p in paths]
