#!/usr/bin/env python3
"""Shrinks a V8 .heapsnapshot (optionally .gz) to its first N nodes, as a
small fuzz seed that keeps the producer's real `meta`: edges to dropped
nodes are dropped, strings re-indexed to the ones still used, trace and
sample tables emptied. Usage: shrink_snapshot.py IN OUT [N]."""
import gzip
import json
import sys


def main():
    src, dst = sys.argv[1], sys.argv[2]
    keep = int(sys.argv[3]) if len(sys.argv) > 3 else 150
    opener = gzip.open if src.endswith(".gz") else open
    with opener(src, "rb") as f:
        snap = json.load(f)
    meta = snap["snapshot"]["meta"]
    nf, ef = meta["node_fields"], meta["edge_fields"]
    nw, ew = len(nf), len(ef)
    node_types, edge_types = meta["node_types"], meta["edge_types"]
    nodes, edges, strings = snap["nodes"], snap["edges"], snap["strings"]
    keep = min(keep, len(nodes) // nw)
    string_map = {}

    def s(i):
        if i not in string_map:
            string_map[i] = len(string_map)
        return string_map[i]

    out_nodes, out_edges = [], []
    e = 0
    ec_at = nf.index("edge_count")
    for n in range(len(nodes) // nw):
        row = nodes[n * nw:(n + 1) * nw]
        count = row[ec_at]
        mine = edges[e * ew:(e + count) * ew]
        e += count
        if n >= keep:
            continue
        kept = []
        for k in range(count):
            erow = list(mine[k * ew:(k + 1) * ew])
            if erow[ef.index("to_node")] // nw >= keep:
                continue
            etype = edge_types[0][erow[ef.index("type")]]
            if etype not in ("element", "hidden"):
                erow[ef.index("name_or_index")] = s(erow[ef.index("name_or_index")])
            kept.append(erow)
        for i, field in enumerate(nf):
            if field == "name" or (field == "type" and False):
                row[i] = s(row[i])
            if field == "edge_count":
                row[i] = len(kept)
            if field == "trace_node_id":
                row[i] = 0
        out_nodes.extend(row)
        for erow in kept:
            out_edges.extend(erow)
    snap["snapshot"]["node_count"] = len(out_nodes) // nw
    snap["snapshot"]["edge_count"] = len(out_edges) // ew
    snap["snapshot"]["trace_function_count"] = 0
    snap["nodes"], snap["edges"] = out_nodes, out_edges
    inv = sorted(string_map.items(), key=lambda kv: kv[1])
    snap["strings"] = [strings[i] for i, _ in inv]
    for key in ("trace_function_infos", "trace_tree", "samples", "locations"):
        if key in snap:
            snap[key] = []
    for key in ("scopes", "scope_context_vars", "scope_uses"):
        if key in snap:
            snap[key] = []
    with open(dst, "w") as f:
        # Key order as V8 writes it (snapshot first), one line per table.
        f.write("{")
        f.write(",\n".join(f"{json.dumps(k)}:{json.dumps(v, separators=(',', ':'))}"
                           for k, v in snap.items()))
        f.write("}\n")


main()
