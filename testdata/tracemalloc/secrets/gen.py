"""Generates python-secrets.pickle, a tracemalloc dump with planted secrets
in its frame filenames, for heapgraph's redaction test.

Run from anywhere:  python3 testdata/tracemalloc/secrets/gen.py
(CPython 3.11 wrote the committed file.)

The secrets are the two strings

    heapgraph-secret-acme-corp   (a directory)
    planted_secret_module        (a module)

which tracemalloc records only as a filename:

    /tmp/heapgraph-secret-acme-corp/planted_secret_module.py

This script writes that module (the source is MODULE below), imports it under
tracemalloc.start(10), so its functions allocate at import time (bytes,
lists, bytearrays: about 3 900 blocks, all kept in the module global KEPT), and
dumps a snapshot filtered to the traces with a frame in the planted module or
in a neutral workload compiled under the fake filename /srv/app/plain.py (a
few hundred traces that hold no secret). This script's own frames are renamed
"gen.py", so nothing but the planted path depends on where it ran.
"""

import importlib
import os
import sys
import tracemalloc

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "python-secrets.pickle")
SECRET_DIR = "/tmp/heapgraph-secret-acme-corp"
SECRET_MODULE = "planted_secret_module"
SECRET_FILE = os.path.join(SECRET_DIR, SECRET_MODULE + ".py")
PLAIN_FILE = "/srv/app/plain.py"

MODULE = '''\
"""Planted by heapgraph's testdata/tracemalloc/secrets/gen.py."""

KEPT = []


def load_credentials(n):
    for i in range(n):
        KEPT.append(b"credential-%05d-" % i * 3)


def cache_sessions(n):
    for i in range(n):
        KEPT.append([i, "s%d" % i, None])


def buffer_tokens(n):
    KEPT.append([bytearray(48) for _ in range(n)])


load_credentials(1000)
cache_sessions(600)
buffer_tokens(400)
'''

PLAIN = '''\
ROWS = []


def fill(n):
    for i in range(n):
        ROWS.append(bytearray(24))


fill(300)
'''


def relocate(snap):
    """Renames this script's frames to "gen.py" (CPython records it by
    absolute path), keeping tracebacks shared the way CPython shares them."""
    me = os.path.abspath(__file__)
    short = sys.intern("gen.py")
    cache = {}

    def fix(tb):
        key = id(tb)
        if key not in cache:
            cache[key] = (tb, tuple((short if f == me else f, line) for f, line in tb))
        return cache[key][1]

    traces = [(d, s, fix(tb), n) for d, s, tb, n in snap.traces._traces]
    return tracemalloc.Snapshot(traces, snap.traceback_limit)


def main():
    os.makedirs(SECRET_DIR, exist_ok=True)
    with open(SECRET_FILE, "w") as f:
        f.write(MODULE)
    sys.dont_write_bytecode = True
    sys.path.insert(0, SECRET_DIR)
    sys.modules.pop(SECRET_MODULE, None)
    importlib.invalidate_caches()

    tracemalloc.start(10)
    # __import__, not importlib.import_module, whose frame would carry the
    # path of this machine's Python installation.
    module = __import__(SECRET_MODULE)
    plain = {}
    exec(compile(PLAIN, PLAIN_FILE, "exec"), plain)
    snapshot = tracemalloc.take_snapshot()
    tracemalloc.stop()

    snapshot = snapshot.filter_traces(
        [
            tracemalloc.Filter(True, SECRET_FILE, all_frames=True),
            tracemalloc.Filter(True, PLAIN_FILE, all_frames=True),
        ]
    )
    snapshot = relocate(snapshot)
    snapshot.dump(OUT)

    loaded = tracemalloc.Snapshot.load(OUT)
    secret = sum(1 for t in loaded.traces if any(f.filename == SECRET_FILE for f in t.traceback))
    print(len(loaded.traces), "traces,", secret, "with a frame in", SECRET_FILE + ",",
          len(module.KEPT), "objects in KEPT,", os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
