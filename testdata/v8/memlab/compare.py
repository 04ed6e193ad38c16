#!/usr/bin/env python3
"""Compares heapgraph's `leaks --json --top 0` with memlab's findings
(memlab-leaks.js) on one snapshot series: leaked object ids, and how the
clusters split them.

Usage: compare.py NAME MEMLAB.json HEAPGRAPH.json

Exits 1 when the leaked ids differ. Cluster partitions may differ (memlab
groups traces by a similarity score, heapgraph by equal traces), so those
differences are printed, not failed: for each memlab cluster, which
heapgraph clusters its members fall in.
"""
import json
import sys


def main():
    name, memlab_file, ours_file = sys.argv[1:4]
    memlab = json.load(open(memlab_file))
    ours = json.load(open(ours_file))
    mode = memlab["mode"]
    ours_ids = sorted(i for c in ours["clusters"] for i in c["member_ids"])
    theirs = set(memlab["leak_ids"])
    mine = set(ours_ids)
    # memlab clusters a random sample of 5000 traces when there are more
    # (its maxSamplesForClustering): then its leaks are a subset of ours.
    sampled = len(theirs) == 5000 and theirs <= mine
    ok = (theirs == mine or sampled) and ours["candidate_count"] == memlab["candidate_count"]
    print(f"{name} [{mode}]: candidates memlab {memlab['candidate_count']} heapgraph "
          f"{ours['candidate_count']}; leaks memlab {len(theirs)} heapgraph {len(mine)}; "
          f"clusters memlab {len(memlab['clusters'])} heapgraph {len(ours['clusters'])}; "
          f"{'ids EQUAL' if theirs == mine else 'ids EQUAL up to memlab sampling 5000' if sampled else 'ids DIFFER'}")
    for label, ids in (("only memlab", theirs - mine), ("only heapgraph", mine - theirs)):
        if ids:
            print(f"  {label}: {len(ids)} ids, e.g. {sorted(ids)[:10]}")
    cluster_of = {}
    for k, c in enumerate(ours["clusters"]):
        for i in c["member_ids"]:
            cluster_of[i] = k
    for k, c in enumerate(memlab["clusters"][:15]):
        split = {}
        for i in c["member_ids"]:
            split[cluster_of.get(i, "-")] = split.get(cluster_of.get(i, "-"), 0) + 1
        parts = ", ".join(
            f"#{j + 1 if j != '-' else '-'}:{n}" for j, n in sorted(split.items(), key=lambda x: -x[1])[:6])
        same = (len(split) == 1 and "-" not in split
                and ours["clusters"][next(iter(split))]["count"] == c["count"])
        sizes = ""
        if len(split) == 1 and "-" not in split:
            o = ours["clusters"][next(iter(split))]
            sizes = f"; heapgraph #{next(iter(split)) + 1}: {o['count']} / {o['retained_size']} B"
        print(f"  memlab cluster {k + 1}: {c['count']} / {c['retained_size']} B -> heapgraph {parts}"
              f"{' (same cluster)' if same else ''}{sizes}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
