"""Generates a three-snapshot tracemalloc series for traceback growth tests.

Run from this directory:  python3 series_gen.py
Writes series-1.p5.pickle, series-2.p5.pickle, series-3.p5.pickle.

The workload (compiled under the fake filename /srv/app/store.py, so the
dumps do not depend on where they were made) allocates every record through
one helper, make_record(), from two callers:

- remember(): appends 200 records per step to a list that is never trimmed
  (the leak);
- refresh(): replaces a buffer of 300 records every step (churns at a
  steady size).

Each record is two memory blocks (the bytearray and its buffer), and
tracemalloc keeps 3 frames. By innermost line (tracemalloc's 'lineno'),
make_record()'s line grows 1000 -> 1400 -> 1800 blocks and cannot say why;
by traceback only remember()'s grows, 400 -> 800 -> 1200, while refresh()'s
stays at 600.
"""

import tracemalloc

SOURCE = '''
def make_record(i):
    return bytearray(64)

HISTORY = []
BUFFER = []

def remember(n):
    for i in range(n):
        HISTORY.append(make_record(i))

def refresh(n):
    BUFFER[:] = [make_record(i) for i in range(n)]

def step():
    refresh(300)
    remember(200)
'''


def main():
    namespace = {}
    code = compile(SOURCE, "/srv/app/store.py", "exec")
    tracemalloc.start(3)
    exec(code, namespace)
    for n in (1, 2, 3):
        namespace["step"]()
        snapshot = tracemalloc.take_snapshot()
        # Only the workload's own allocations: no frame of this script.
        snapshot = snapshot.filter_traces(
            [
                tracemalloc.Filter(True, "/srv/app/store.py", all_frames=True),
                tracemalloc.Filter(False, "*series_gen.py", all_frames=True),
            ]
        )
        snapshot.dump(f"series-{n}.p5.pickle")
    tracemalloc.stop()


if __name__ == "__main__":
    main()
