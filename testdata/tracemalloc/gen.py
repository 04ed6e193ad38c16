"""Generates the tracemalloc test dumps and Python's own expected output.

Run from this directory:  python3 gen.py
(CPython 3.11 wrote the committed files; any 3.9+ works.)

Every workload runs code compiled under fake filenames (/srv/...), so the
dumps do not depend on where they were made. For each snapshot X:

  X.p5.pickle   Snapshot.dump() (protocol 5)
  X.p0.pickle / X.p2.pickle   pickle.dump(snapshot, f, 0 / 2), some workloads
  X.t3.pickle   the same traces as CPython 3.6-3.8 3-tuples, one workload
  X.golden      Python's output on the loaded snapshot (see below)

and for each pair (A, B), B_vs_A.golden holds B.compare_to(A, ...).

Golden format: sections that start with a line "== <what>", then one line
per output string. Each string is encoded as UTF-8 with surrogatepass (so
lone surrogates keep their bytes) and escaped: backslash -> \\\\, newline -> \\n.
"""

import ctypes
import fnmatch
import linecache
import os
import pickle
import random
import sys
import tracemalloc
import types

OUT = os.path.dirname(os.path.abspath(__file__))

# Python's linecache would print source lines of real files; the Rust side
# formats without sources, so neither does the golden.
linecache.getline = lambda *args, **kwargs: ""

MODELS = """
def make_small(n):
    out = []
    for i in range(n):
        out.append(str(i) * 3)
    return out

def make_dicts(n):
    return [{'k': i, 'v': [i]} for i in range(n)]

def make_blobs(n, size):
    return [bytearray(size) for _ in range(n)]
"""

VIEWS = """
import models

def handle(n):
    a = models.make_small(n)
    b = models.make_dicts(n // 4)
    return a, b

def handle_big():
    return models.make_blobs(8, 200_000)
"""

REC = """
def recurse(depth, acc):
    acc.append(bytearray(32 * (depth + 1)))
    if depth > 0:
        recurse(depth - 1, acc)
    return acc

def ping(n, acc):
    acc.append(str(n) * 5)
    if n > 0:
        pong(n - 1, acc)

def pong(n, acc):
    acc.append([n] * 3)
    if n > 0:
        ping(n - 1, acc)
"""

TRACK = """
import ctypes
track = ctypes.pythonapi.PyTraceMalloc_Track
track.argtypes = [ctypes.c_uint, ctypes.c_size_t, ctypes.c_size_t]
untrack = ctypes.pythonapi.PyTraceMalloc_Untrack
untrack.argtypes = [ctypes.c_uint, ctypes.c_size_t]

def track_blocks(domain, base, sizes):
    for i, size in enumerate(sizes):
        track(domain, base + i * 64, size)

def untrack_blocks(domain, base, n):
    for i in range(n):
        untrack(domain, base + i * 64)
"""

WEIRD = """
def alloc(n):
    return [str(i) + 'x' for i in range(n)]
"""


def load(name, filename, src):
    mod = types.ModuleType(name)
    mod.__file__ = filename
    sys.modules[name] = mod
    exec(compile(src, filename, "exec"), mod.__dict__)
    return mod


def esc(s):
    b = s.encode("utf-8", "surrogatepass")
    return b.replace(b"\\", b"\\\\").replace(b"\n", b"\\n")


class Golden:
    def __init__(self, path):
        self.f = open(path, "wb")

    def section(self, header, lines):
        self.f.write(b"== " + header.encode() + b"\n")
        for line in lines:
            self.f.write(esc(line) + b"\n")

    def close(self):
        self.f.close()


FILTERS = [
    # (description, filters); description syntax is parsed by the Rust test:
    # F|inclusive|pattern|lineno or -|all_frames|domain or -   D|inclusive|domain
    "F|1|/srv/app/*|-|0|-",
    "F|0|/srv/app/models.py|-|0|-",
    "F|1|*models.py|5|0|-",
    "F|1|/srv/lib/*|-|1|-",
    "F|0|*views*|-|1|-",
    "F|1|/srv/[a-l]*/*.py|-|0|-",
    "F|1|/srv/app/models.pyc|-|0|-",
    "F|1|*|-|0|4294967295",
    "F|0|*track*|-|0|4294967295",
    "D|1|4294967295",
    "D|0|0",
    "F|1|/srv/app/*|-|0|- ; F|1|/srv/lib/*|-|0|- ; F|0|*views.py|-|1|-",
    "F|1|*caf?/*|-|0|-",
    "F|1|/srv/we[!x]ird*|-|0|-",
]


def parse_filter(desc):
    out = []
    for part in desc.split(" ; "):
        f = part.split("|")
        if f[0] == "D":
            out.append(tracemalloc.DomainFilter(f[1] == "1", int(f[2])))
        else:
            out.append(tracemalloc.Filter(
                f[1] == "1", f[2],
                lineno=None if f[3] == "-" else int(f[3]),
                all_frames=f[4] == "1",
                domain=None if f[5] == "-" else int(f[5])))
    return out


def write_golden(name, snap):
    g = Golden(os.path.join(OUT, name + ".golden"))
    g.section("count", [str(len(snap.traces))])
    g.section("total", [str(sum(t.size for t in snap.traces))])
    g.section("traceback_limit", [str(snap.traceback_limit)])
    g.section("total_nframe", [str(sum(t.traceback.total_nframe for t in snap.traces)),
                               str(sum(t.traceback.total_nframe != len(t.traceback) for t in snap.traces))])
    for key in ("lineno", "filename", "traceback"):
        for cumulative in (False, True):
            if key == "traceback" and cumulative:
                continue
            stats = snap.statistics(key, cumulative)
            g.section("stats %s %d" % (key, cumulative), [str(s) for s in stats])
    stats = snap.statistics("traceback")
    for rank, stat in enumerate(stats[:6]):
        for limit, mrf in ((None, False), (None, True), (2, False), (-2, True), (1, True), (0, False)):
            g.section("format %d %s %d" % (rank, "-" if limit is None else limit, mrf),
                      stat.traceback.format(limit, mrf))
    for desc in FILTERS:
        filtered = snap.filter_traces(parse_filter(desc))
        g.section("filter lineno " + desc, [str(s) for s in filtered.statistics("lineno")])
        g.section("filter traceback " + desc, [str(s) for s in filtered.statistics("traceback")])
    g.close()


def write_compare(name, new, old):
    g = Golden(os.path.join(OUT, name + ".golden"))
    for key in ("lineno", "filename", "traceback"):
        for cumulative in (False, True):
            if key == "traceback" and cumulative:
                continue
            diffs = new.compare_to(old, key, cumulative)
            g.section("compare %s %d" % (key, cumulative), [str(s) for s in diffs])
    g.close()


def save(name, snap, protocols=(5,)):
    for p in protocols:
        path = os.path.join(OUT, "%s.p%d.pickle" % (name, p))
        if p == 5:
            snap.dump(path)
        else:
            with open(path, "wb") as f:
                pickle.dump(snap, f, p)
    loaded = tracemalloc.Snapshot.load(os.path.join(OUT, "%s.p%d.pickle" % (name, protocols[0])))
    write_golden(name, loaded)
    return loaded


def keep_srv(snap):
    """Keeps traces made under /srv and renames this script's frames to
    "gen.py" (CPython records it by absolute path), keeping tracebacks shared
    the way CPython shares them."""
    snap = snap.filter_traces([tracemalloc.Filter(True, "/srv/*", all_frames=True)])
    me = os.path.abspath(__file__)
    short = sys.intern("gen.py")
    cache = {}

    def relocate(tb):
        key = id(tb)
        if key not in cache:
            cache[key] = (tb, tuple((short if f == me else f, line) for f, line in tb))
        return cache[key][1]

    traces = [(d, s, relocate(tb), n) for d, s, tb, n in snap.traces._traces]
    return tracemalloc.Snapshot(traces, snap.traceback_limit)


def fnmatch_cases():
    """Random patterns and names with fnmatchcase's verdict, for the Rust port."""
    rng = random.Random(6)
    alphabet = "ab-]![*?\\/z"
    lines = []
    for _ in range(3000):
        pat = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 7)))
        name = "".join(rng.choice("ab-]![/z\\\n") for _ in range(rng.randint(0, 5)))
        lines.append(b"%d\t%s\t%s" % (fnmatch.fnmatchcase(name, pat), esc(pat), esc(name)))
        # A name shaped like the pattern, so that many cases match.
        name = pat.replace("*", "ab").replace("?", "z").replace("!", "b")
        lines.append(b"%d\t%s\t%s" % (fnmatch.fnmatchcase(name, pat), esc(pat), esc(name)))
    with open(os.path.join(OUT, "fnmatch_cases.txt"), "wb") as f:
        f.write(b"\n".join(lines) + b"\n")


def main():
    sys.path.insert(0, OUT)
    models = load("models", "/srv/app/models.py", MODELS)
    views = load("views", "/srv/app/views.py", VIEWS)
    rec = load("rec", "/srv/lib/rec.py", REC)
    track = load("track", "/srv/native/track.py", TRACK)
    weird_mods = [
        load("w_long", "/srv/" + "long_directory_name/" * 20 + "deep.py", WEIRD),
        load("w_bytes", "/srv/caf\udce9/\udcff\udcfe.py", WEIRD),
        load("w_emoji", "/srv/emoji_\U0001F600_\u00e9.py", WEIRD),
        load("w_newline", "/srv/we\\ird\nname.py", WEIRD),
    ]

    # Workload "app": many small objects, > 1000 traces, a pair A -> B.
    tracemalloc.start(8)
    keep_a = views.handle(1600)
    snap_a = keep_srv(tracemalloc.take_snapshot())
    keep_b = views.handle(900)
    del keep_a[0][:500]
    big = views.handle_big()
    snap_b = keep_srv(tracemalloc.take_snapshot())
    tracemalloc.stop()
    a = save("app_a", snap_a, (5, 2))
    b = save("app_b", snap_b, (5,))
    write_compare("app_b_vs_a", b, a)
    del keep_b, big

    # Workload "mixed": recursion (cumulative double counting), custom
    # domains including 2**32-1, sizes >= 2**31, weird filenames.
    tracemalloc.start(16)
    acc = []
    rec.recurse(30, acc)
    rec.ping(12, acc)
    track.track_blocks(2**32 - 1, 0x10000000, [100, 2**31, 5000])
    track.track_blocks(389047, 0x20000000, [4096] * 3)
    track.track_blocks(0, 0x30000000, [2**33 + 7])
    weird = [m.alloc(40) for m in weird_mods]
    snap_m1 = keep_srv(tracemalloc.take_snapshot())
    rec.recurse(10, acc)
    track.untrack_blocks(389047, 0x20000000, 3)
    track.track_blocks(7, 0x40000000, [123456789])
    del weird[1]
    snap_m2 = keep_srv(tracemalloc.take_snapshot())
    track.untrack_blocks(2**32 - 1, 0x10000000, 3)
    track.untrack_blocks(0, 0x30000000, 1)
    track.untrack_blocks(7, 0x40000000, 1)
    tracemalloc.stop()
    m1 = save("mixed_1", snap_m1, (5, 0, 2))
    m2 = save("mixed_2", snap_m2, (5,))
    write_compare("mixed_2_vs_1", m2, m1)
    # The same traces as 3.6-3.8 wrote them: (domain, size, traceback).
    t3 = tracemalloc.Snapshot([t[:3] for t in snap_m1.traces._traces],
                              snap_m1.traceback_limit)
    with open(os.path.join(OUT, "mixed_1.t3.pickle"), "wb") as f:
        pickle.dump(t3, f, 4)

    # Workload "empty": 0 traces.
    tracemalloc.start(1)
    empty = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(True, "/nowhere/*")])
    tracemalloc.stop()
    save("empty", empty, (5, 0))

    # Hand-made: one frame tuple object shared by several tracebacks (CPython
    # never shares frames, but pickles of hand-built snapshots may).
    f = ("/srv/shared.py", 1)
    shared = tracemalloc.Snapshot(
        [(0, 10, (f,), 1), (0, 20, (("/srv/y.py", 2), f), 2), (3, 30, (f, f), 2)], 4)
    save("shared_frames", shared, (5, 2))

    # Python's output on the shared corpus dumps (CPython 3.9-3.14 wrote them).
    corpus = os.path.join(OUT, "..", "..", "..", "shared", "corpus", "tracemalloc")
    for name in sorted(os.listdir(corpus)):
        if name.endswith(".pickle"):
            snap = tracemalloc.Snapshot.load(os.path.join(corpus, name))
            write_golden("corpus_" + name[: -len(".pickle")], snap)

    fnmatch_cases()


if __name__ == "__main__":
    main()
