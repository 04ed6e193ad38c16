//! Real snapshots from Node 20, Chromium 156 and Bun, checked against an
//! independent plain `serde_json` reader and against objects the generator
//! scripts planted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{load, testdata, Oracle};
use heapgraph_core::{EdgeKind, EdgeLabel, Format, NodeIndex, NodeKind, RootKind};
use heapgraph_v8::{parse_snapshot, Producer, V8Snapshot, V8Warning};

fn kind_name(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Hidden => "hidden",
        NodeKind::Array => "array",
        NodeKind::String => "string",
        NodeKind::Object => "object",
        NodeKind::Code => "code",
        NodeKind::Closure => "closure",
        NodeKind::RegExp => "regexp",
        NodeKind::Number => "number",
        NodeKind::Native => "native",
        NodeKind::Synthetic => "synthetic",
        NodeKind::ConsString => "concatenated string",
        NodeKind::SlicedString => "sliced string",
        NodeKind::Symbol => "symbol",
        NodeKind::BigInt => "bigint",
        NodeKind::ObjectShape => "object shape",
        NodeKind::Wasm => "wasm object",
        _ => "?",
    }
}

/// Compares every node and every edge with the oracle.
fn check_against_oracle(snapshot: &V8Snapshot, oracle: &Oracle) {
    let graph = &snapshot.graph;
    assert_eq!(graph.format(), Format::V8HeapSnapshot);
    assert_eq!(graph.node_count(), oracle.node_count());
    assert_eq!(graph.edge_count(), oracle.edge_count());
    assert_eq!(graph.diagnostics().dangling_edges, 0);
    for ordinal in 0..oracle.node_count() {
        let node = NodeIndex::new(ordinal as u32);
        assert_eq!(
            kind_name(graph.kind(node)),
            oracle.node_type(ordinal),
            "node {ordinal}"
        );
        assert_eq!(
            graph.name_str(node),
            oracle.node_name(ordinal),
            "node {ordinal}"
        );
        assert_eq!(graph.object_id(node), oracle.node_field(ordinal, "id"));
        assert_eq!(
            graph.self_size(node),
            oracle.node_field(ordinal, "self_size")
        );
        assert_eq!(
            graph.out_degree(node) as u64,
            oracle.node_field(ordinal, "edge_count")
        );
    }
    let mut edges = oracle.edge_list().into_iter();
    for node in graph.nodes() {
        for edge in graph.edges(node) {
            let (source, ty, label, target) = edges.next().unwrap();
            assert_eq!(source, node.index());
            assert_eq!(edge.kind.as_str(), ty);
            assert_eq!(edge.target.index(), target);
            let shown = match edge.label {
                EdgeLabel::Index(i) => i.to_string(),
                EdgeLabel::Name(s) => graph.strings().get(s).into_owned(),
            };
            assert_eq!(shown, label);
        }
    }
    assert!(edges.next().is_none());
}

fn count_named(snapshot: &V8Snapshot, kind: NodeKind, name: &str) -> usize {
    let graph = &snapshot.graph;
    graph
        .nodes()
        .filter(|&n| graph.kind(n) == kind && graph.name_str(n) == name)
        .count()
}

/// The target of the first edge of `node` labelled `name`.
fn child(snapshot: &V8Snapshot, node: NodeIndex, name: &str) -> Option<NodeIndex> {
    let graph = &snapshot.graph;
    graph
        .edges(node)
        .find(|e| matches!(e.label, EdgeLabel::Name(s) if graph.strings().get(s) == name))
        .map(|e| e.target)
}

fn check_gc_roots(snapshot: &V8Snapshot) {
    let graph = &snapshot.graph;
    let gc_roots = graph
        .edges(NodeIndex::ROOT)
        .map(|e| e.target)
        .find(|&t| graph.name_str(t) == "(GC roots)")
        .expect("root holds (GC roots)");
    let children: Vec<NodeIndex> = graph.edges(gc_roots).map(|e| e.target).collect();
    assert!(!children.is_empty());
    let mut expected: Vec<NodeIndex> = Vec::new();
    for &c in &children {
        if graph.kind(c) == NodeKind::Synthetic {
            assert_eq!(
                graph.root_kind(c),
                Some(RootKind::Engine),
                "{}",
                graph.name_str(c)
            );
            expected.push(c);
        } else {
            // Bun: a root object; `(GC roots)` is the group.
            assert_eq!(graph.root_kind(c), None, "{}", graph.name_str(c));
            expected.push(gc_roots);
        }
    }
    expected.sort();
    expected.dedup();
    assert_eq!(graph.root_groups().len(), expected.len());
    for (group, kind) in graph.root_groups() {
        assert_eq!(*kind, RootKind::Engine);
        assert!(expected.contains(group));
    }
}

#[test]
fn node20_planted_objects() {
    let bytes = load(&testdata("node20-planted.heapsnapshot.gz"));
    let snapshot = parse_snapshot(&bytes).unwrap();
    let oracle = Oracle::new(&bytes);
    check_against_oracle(&snapshot, &oracle);
    check_gc_roots(&snapshot);
    let graph = &snapshot.graph;

    assert_eq!(snapshot.producer, Producer::Node);
    assert_eq!(graph.info().producer, "Node.js (V8)");
    assert!(snapshot.ids_stable_across_snapshots());
    assert_eq!(snapshot.header.node_count, Some(oracle.node_count() as u64));
    assert!(snapshot.warnings.is_empty(), "{:?}", snapshot.warnings);
    assert_eq!(snapshot.meta.node_types.len(), 16);
    assert_eq!(
        snapshot.detachedness.as_ref().map(Vec::len),
        Some(graph.node_count())
    );
    assert_eq!(
        snapshot.locations.len(),
        oracle.json["locations"].as_array().unwrap().len() / 4
    );
    // V8 records positions for closures and for objects (their
    // constructor's position).
    for loc in &snapshot.locations {
        let kind = graph.kind(loc.node);
        assert!(
            matches!(kind, NodeKind::Closure | NodeKind::Object),
            "{kind:?}"
        );
    }
    assert_eq!(graph.kind(NodeIndex::ROOT), NodeKind::Synthetic);

    // Planted objects.
    assert_eq!(count_named(&snapshot, NodeKind::Object, "Order"), 1000);
    // Node 20: the root's only shortcut is `global`.
    let shortcuts: Vec<_> = graph
        .edges(NodeIndex::ROOT)
        .filter(|e| e.kind == EdgeKind::Shortcut)
        .collect();
    assert_eq!(shortcuts.len(), 1);
    let global = shortcuts[0].target;
    assert_eq!(graph.name_str(global), "global");
    let orders = child(&snapshot, global, "plantedOrders").unwrap();
    assert_eq!(graph.name_str(orders), "Array");
    let map = child(&snapshot, global, "plantedMap").unwrap();
    assert_eq!(graph.name_str(map), "Map");
    let closure = child(&snapshot, global, "plantedClosure").unwrap();
    assert_eq!(graph.kind(closure), NodeKind::Closure);
    assert_eq!(graph.name_str(closure), "counterClosure");
    let context = child(&snapshot, closure, "context").unwrap();
    let captured = graph
        .edges(context)
        .find(|e| e.kind == EdgeKind::Context && graph.edge_label_str(e.index) == "capturedState");
    assert!(
        captured.is_some(),
        "closure context captures `capturedState`"
    );
    assert!(snapshot.locations.iter().any(|l| l.node == closure));

    // The WeakMap pair: two internal edges into the value, from key and table.
    let value_edges: Vec<_> = graph
        .nodes()
        .flat_map(|n| graph.edges(n).map(move |e| (n, e)))
        .filter(|(_, e)| {
            e.kind == EdgeKind::Internal
                && graph
                    .edge_label_str(e.index)
                    .contains("part of key (WeakKey @")
        })
        .collect();
    assert_eq!(value_edges.len(), 2, "key and table edges");
    assert!(value_edges
        .iter()
        .all(|(_, e)| graph.name_str(e.target) == "WeakValue"));
    let key = child(&snapshot, global, "plantedWeakKey").unwrap();
    assert!(value_edges.iter().any(|(src, _)| *src == key));

    // The 5000-character string is cut at 1024 by V8.
    let long = child(&snapshot, global, "plantedLongString").unwrap();
    assert_eq!(graph.kind(long), NodeKind::String);
    assert_eq!(
        graph.strings().bytes(graph.name(long)),
        [b'L'; 1024].as_slice()
    );
    // V8 writes U+1F600 as the single escape \uF600 and a lone surrogate
    // as `?`: the decoded bytes keep exactly that.
    let emoji = child(&snapshot, global, "plantedEmoji").unwrap();
    let bytes = graph.strings().bytes(graph.name(emoji));
    assert!(
        bytes.starts_with("emoji \u{F600} lone ??? end 1".as_bytes()),
        "{bytes:?}"
    );
}

#[test]
fn node20_tracked_allocation_stacks() {
    let bytes = load(&testdata("node20-tracked.heapsnapshot.gz"));
    let snapshot = parse_snapshot(&bytes).unwrap();
    let oracle = Oracle::new(&bytes);
    check_against_oracle(&snapshot, &oracle);
    let graph = &snapshot.graph;

    // Node's header lies about trace_function_count; the array wins.
    let infos = oracle.json["trace_function_infos"]
        .as_array()
        .unwrap()
        .len()
        / 6;
    assert_eq!(snapshot.trace_function_infos.len(), infos);
    let header = oracle.json["snapshot"]["trace_function_count"]
        .as_u64()
        .unwrap();
    assert_ne!(header, infos as u64);
    assert!(snapshot.warnings.contains(&V8Warning::CountMismatch {
        field: "trace_function_count",
        header,
        actual: infos as u64,
    }));

    // Every trace node is read: count them in the oracle's nested tree.
    fn count_tree(v: &serde_json::Value) -> usize {
        let a = v.as_array().unwrap();
        a.chunks(5).map(|r| 1 + count_tree(&r[4])).sum()
    }
    assert_eq!(
        snapshot.trace_nodes.len(),
        count_tree(&oracle.json["trace_tree"])
    );
    let total: u64 = snapshot.trace_nodes.iter().map(|t| t.count).sum();
    assert!(total > 300);

    // The 300 `Tracked` objects were allocated in `allocateTracked`.
    let tracked: Vec<NodeIndex> = graph
        .nodes()
        .filter(|&n| graph.kind(n) == NodeKind::Object && graph.name_str(n) == "Tracked")
        .collect();
    assert_eq!(tracked.len(), 300);
    for &n in &tracked {
        let stack = graph.node_stack(n).expect("tracked objects have stacks");
        let stacks = graph.stacks();
        let innermost = stacks.frame(stacks.innermost_frame(stack));
        assert_eq!(graph.strings().get(innermost.function), "allocateTracked");
        assert!(graph.strings().get(innermost.file).ends_with("gen_node.js"));
        assert!(innermost.line > 0, "trace lines are 1-based");
        // The node's trace_node_id names the same stack.
        let ordinal = n.index();
        let trace_id = oracle.node_field(ordinal, "trace_node_id");
        assert_eq!(
            snapshot.trace_node_by_id(trace_id).unwrap().stack,
            Some(stack)
        );
    }
    let with_stacks = graph
        .nodes()
        .filter(|&n| graph.node_stack(n).is_some())
        .count();
    let oracle_with_ids = (0..oracle.node_count())
        .filter(|&k| oracle.node_field(k, "trace_node_id") != 0)
        .count();
    assert_eq!(with_stacks, oracle_with_ids);
}

#[test]
fn chromium156_numeric_internals() {
    let bytes = load(&testdata("chrome-numeric-internals.heapsnapshot.gz"));
    let snapshot = parse_snapshot(&bytes).unwrap();
    let oracle = Oracle::new(&bytes);
    check_against_oracle(&snapshot, &oracle);
    check_gc_roots(&snapshot);
    let graph = &snapshot.graph;
    assert_eq!((graph.node_count(), graph.edge_count()), (78_936, 304_611));
    assert_eq!(snapshot.producer, Producer::Chromium);
    assert_eq!(snapshot.extra_native_bytes, Some(0));
    assert_eq!(count_named(&snapshot, NodeKind::Object, "Order"), 600);
    assert_eq!(snapshot.meta.location_fields.len(), 5);
    assert_eq!(snapshot.locations.len(), 8110 / 5);
    // V8 15.6 locations also name the script's node.
    let raw = oracle.json["locations"].as_array().unwrap();
    for (loc, rec) in snapshot.locations.iter().zip(raw.chunks(5)) {
        let script = loc.script_object.unwrap();
        assert_eq!(script.index() as u64, rec[2].as_u64().unwrap() / 6);
        assert_eq!(loc.node.index() as u64, rec[0].as_u64().unwrap() / 6);
        assert_eq!(u64::from(loc.line), rec[3].as_u64().unwrap());
    }

    // Scope sections, signed.
    let scopes = snapshot.scopes.as_ref().unwrap();
    let raw = |k: &str| -> Vec<i64> {
        oracle.json[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect()
    };
    assert_eq!(scopes.scopes.values, raw("scopes"));
    assert_eq!(scopes.context_vars.values, raw("scope_context_vars"));
    assert_eq!(scopes.uses.values, raw("scope_uses"));
    assert!(scopes.scopes.values.contains(&-2));
    assert_eq!(scopes.scopes.fields[1], "scope_id");

    // DOM nodes are `native`, with detachedness.
    let natives = graph
        .nodes()
        .filter(|&n| graph.kind(n) == NodeKind::Native)
        .count();
    assert!(natives > 0);
    let detachedness = snapshot.detachedness.as_ref().unwrap();
    assert!(detachedness
        .iter()
        .any(|&d| d != heapgraph_core::DomState::Unknown));
}

#[test]
fn bun_baseline() {
    let bytes = load(&testdata("bun-baseline.heapsnapshot.gz"));
    let snapshot = parse_snapshot(&bytes).unwrap();
    let oracle = Oracle::new(&bytes);
    check_against_oracle(&snapshot, &oracle);
    check_gc_roots(&snapshot);
    let graph = &snapshot.graph;
    assert_eq!((graph.node_count(), graph.edge_count()), (72_473, 183_248));
    assert_eq!(snapshot.producer, Producer::Bun);
    assert!(!snapshot.ids_stable_across_snapshots());
    assert_eq!(count_named(&snapshot, NodeKind::Object, "User"), 2_500);
    assert_eq!(count_named(&snapshot, NodeKind::Object, "Order"), 4_999);
    // Bun's ids are consecutive.
    let ids: Vec<u64> = graph.object_ids().collect();
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1));
    // No native or array nodes.
    assert!(!graph.kinds().contains(&NodeKind::Native));
    assert!(!graph.kinds().contains(&NodeKind::Array));
    // (GC roots) holds 586 root objects directly: it is the one root group.
    assert_eq!(graph.root_groups().len(), 1);
    assert_eq!(graph.name_str(graph.root_groups()[0].0), "(GC roots)");
}

#[test]
fn deno2_orders() {
    let bytes = load(&testdata("deno2-orders.heapsnapshot.gz"));
    let snapshot = parse_snapshot(&bytes).unwrap();
    let oracle = Oracle::new(&bytes);
    check_against_oracle(&snapshot, &oracle);
    check_gc_roots(&snapshot);
    let graph = &snapshot.graph;
    assert_eq!(snapshot.producer, Producer::Deno);
    assert!(snapshot.ids_stable_across_snapshots());
    assert_eq!(snapshot.extra_native_bytes, Some(0));
    assert_eq!(snapshot.meta.node_fields.len(), 6);
    assert_eq!(snapshot.meta.location_fields.len(), 5);
    assert_eq!(count_named(&snapshot, NodeKind::Object, "Order"), 700);
    // Deno: every id is odd.
    assert!(graph.object_ids().all(|id| id % 2 == 1));
    assert!(!graph.has_node_stacks());
}

/// Julia writes V8's format with its own node types and `from_node` as the
/// edge target type: it is named, its `array` nodes are objects, the root's
/// direct references are roots, and so are objects nothing references
/// (with a warning), as in `julia-empty-repl.heapsnapshot` of the external
/// corpus (Julia's 2021 writer).
#[test]
fn julia_snapshots_are_recognised_with_their_roots() {
    let json = br#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],
"node_types":[["synthetic","object","string","array","symbol","native"],"string","number","number","number","number","number"],
"edge_fields":["type","name_or_index","to_node"],
"edge_types":[["internal","property","element","hidden"],"string_or_number","from_node"]},"node_count":5,"edge_count":4},
"nodes":[0,1,0,1,1,0,0, 1,2,8,16,1,0,0, 3,3,16,257,1,0,0, 1,4,24,16,0,0,0, 1,5,32,24,1,0,0],
"edges":[0,6,7, 1,7,14, 2,0,21, 1,7,21],
"strings":["","(internal root)","Module","Array{Any, 1}","Base.IdDict{Any, Any}","Base.RefValue","main_module","x"]}"#;
    let snapshot = parse_snapshot(json).unwrap();
    assert_eq!(snapshot.producer, Producer::Julia);
    assert!(!snapshot.ids_stable_across_snapshots());
    let graph = &snapshot.graph;
    assert_eq!(graph.info().producer, "Julia");
    let array = NodeIndex::new(2);
    assert_eq!(graph.name_str(array), "Array{Any, 1}");
    assert_eq!(graph.kind(array), NodeKind::Object);
    // Module is held by the root; RefValue (node 4) by nothing.
    let mut roots: Vec<(RootKind, u32)> = graph
        .root_groups()
        .iter()
        .flat_map(|&(group, kind)| graph.edges(group).map(move |e| (kind, e.target.as_u32())))
        .collect();
    let mut expected = vec![(RootKind::Engine, 1), (RootKind::Unknown, 4)];
    roots.sort();
    expected.sort();
    assert_eq!(roots, expected);
    assert!(snapshot
        .warnings
        .contains(&V8Warning::JuliaUnrecordedRoots { count: 1 }));
}
