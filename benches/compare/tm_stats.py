"""CPython's own tracemalloc on a Snapshot.dump() pickle (the reference heapgraph is timed against).

    python3 tm_stats.py FILE                 load + statistics('lineno'), prints the top 10
    python3 tm_stats.py --compare OLD NEW    load both + compare_to(old, 'lineno'), prints the top 10
"""
import sys
import tracemalloc


def main(argv):
    if argv[:1] == ["--compare"] and len(argv) == 3:
        old = tracemalloc.Snapshot.load(argv[1])
        new = tracemalloc.Snapshot.load(argv[2])
        rows = new.compare_to(old, "lineno")
    elif len(argv) == 1:
        rows = tracemalloc.Snapshot.load(argv[0]).statistics("lineno")
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print(len(rows), "rows")
    for row in rows[:10]:
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
