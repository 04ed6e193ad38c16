"""Turns the runs of benches/compare/run.sh into a Markdown table.

    python3 table.py RESULTS_DIR

RESULTS_DIR/runs.tsv has one line per timed run:
    id  file  bytes  task  tool  threads  exit  loadavg_before
and RESULTS_DIR/time/<id>.txt is the `/usr/bin/time -v` report of that run.
The ratio columns compare heapgraph's fastest run (by wall time) on the same file and task
with each other tool: tool wall / heapgraph wall, tool CPU / heapgraph CPU, and heapgraph's
peak RSS / the tool's peak RSS.
"""
import os
import sys


def parse_time(path):
    wall = cpu = rss = None
    signal = None
    status = None
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                line = line.strip()
                key, _, value = line.partition(": ")
                if key == "User time (seconds)":
                    cpu = (cpu or 0.0) + float(value)
                elif key == "System time (seconds)":
                    cpu = (cpu or 0.0) + float(value)
                elif key.startswith("Elapsed (wall clock) time"):
                    value = line.rsplit(" ", 1)[-1]
                    parts = [float(p) for p in value.split(":")]
                    wall = 0.0
                    for p in parts:
                        wall = wall * 60 + p
                elif key == "Maximum resident set size (kbytes)":
                    rss = int(value) * 1024
                elif key == "Exit status":
                    status = int(value)
                elif line.startswith("Command terminated by signal"):
                    signal = int(line.rsplit(" ", 1)[-1])
    except FileNotFoundError:
        pass
    return wall, cpu, rss, status, signal


def size(n):
    if n is None:
        return "–"
    for unit, div in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= div:
            return f"{n / div:.2f} {unit}" if n < 10 * div else f"{n / div:.1f} {unit}" if n < 100 * div else f"{n / div:.0f} {unit}"
    return f"{n} B"


def secs(s):
    return "–" if s is None else f"{s:.2f} s" if s < 10 else f"{s:.1f} s"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "–"
    r = a / b
    return f"{r:.2f}×" if r < 10 else f"{r:.1f}×"


def main(results):
    rows = []
    with open(os.path.join(results, "runs.tsv"), encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            rid, file, nbytes, task, tool, threads, code, load = line.rstrip("\n").split("\t")
            wall, cpu, rss, status, signal = parse_time(os.path.join(results, "time", rid + ".txt"))
            code = int(code)
            ok = code == 0 and status == 0
            if ok:
                note = ""
            elif code == 124:
                note = "timed out"
            elif signal is not None:
                note = f"killed by signal {signal}"
            else:
                note = f"failed (exit {status if status is not None else code})"
            rows.append(dict(file=file, bytes=int(nbytes), task=task, tool=tool, threads=threads,
                             wall=wall, cpu=cpu, rss=rss, ok=ok, note=note, load=load))

    out = ["| file | size | work | tool | threads | wall | CPU (user+sys) | peak RSS | tool wall / hg wall"
           " | tool CPU / hg CPU | hg RSS / tool RSS | load before |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    groups = []
    for r in rows:
        key = (r["file"], r["task"])
        if key not in groups:
            groups.append(key)
    for key in groups:
        members = [r for r in rows if (r["file"], r["task"]) == key]
        hg = [r for r in members if r["tool"].startswith("heapgraph") and r["ok"]]
        best = min(hg, key=lambda r: r["wall"]) if hg else None
        for r in members:
            is_hg = r["tool"].startswith("heapgraph")
            if is_hg or best is None or not r["ok"]:
                rw = rc = rr = "—"
            else:
                rw = ratio(r["wall"], best["wall"])
                rc = ratio(r["cpu"], best["cpu"])
                rr = ratio(best["rss"], r["rss"])
            wall = secs(r["wall"]) if r["ok"] else f"{r['note']} after {secs(r['wall'])}"
            out.append("| " + " | ".join([
                os.path.basename(r["file"]), size(r["bytes"]), r["task"], r["tool"], r["threads"],
                wall, secs(r["cpu"]), size(r["rss"]), rw, rc, rr, r["load"]]) + " |")
    print("\n".join(out))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
