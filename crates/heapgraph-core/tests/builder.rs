//! The builder on hand-built graphs: CSR layout, dangling edges, roots,
//! interning, memory budget, and a property test against a naive edge list.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // may panic: not library code

use heapgraph_core::{
    EdgeIndex, EdgeKind, EdgeLabel, Format, GraphBuilder, HeapGraph, NodeIndex, NodeKind, RootKind,
    StringId,
};
use proptest::prelude::*;

fn node(builder: &mut GraphBuilder, name: &str, id: u64, size: u64) -> NodeIndex {
    let name = builder.intern(name.as_bytes()).unwrap();
    builder.add_node(NodeKind::Object, name, id, size).unwrap()
}

fn targets(graph: &HeapGraph, n: NodeIndex) -> Vec<u32> {
    graph.edges(n).map(|e| e.target.as_u32()).collect()
}

#[test]
fn in_order_edges_form_csr() {
    let mut b = GraphBuilder::new(Format::Synthetic);
    let root = node(&mut b, "(root)", 1, 0);
    let a = node(&mut b, "A", 3, 10);
    let c = node(&mut b, "C", 5, 20);
    let prop = b.intern(b"x").unwrap();
    b.add_named_edge(root, a, EdgeKind::Shortcut, prop).unwrap();
    b.add_indexed_edge(root, c, EdgeKind::Element, 7).unwrap();
    b.add_named_edge(c, a, EdgeKind::Property, prop).unwrap();
    let g = b.finish().unwrap();

    assert_eq!(g.node_count(), 3);
    assert_eq!(g.edge_count(), 3);
    assert_eq!(g.edge_starts(), &[0, 2, 2, 3]);
    assert_eq!(targets(&g, root), vec![1, 2]);
    assert_eq!(targets(&g, a), Vec::<u32>::new());
    assert_eq!(targets(&g, c), vec![1]);
    assert_eq!(g.edge_label(EdgeIndex::new(1)), EdgeLabel::Index(7));
    assert_eq!(g.edge_label(EdgeIndex::new(0)), EdgeLabel::Name(prop));
    assert_eq!(g.edge_label_str(EdgeIndex::new(1)), "[7]");
    assert_eq!(g.edge_label_str(EdgeIndex::new(2)), "x");
    assert_eq!(g.edge_source(EdgeIndex::new(2)), c);
    assert_eq!(g.edge_source(EdgeIndex::new(0)), root);
    assert_eq!(g.total_self_size(), 30);
    assert_eq!(g.node_by_object_id(5), Some(c));
    assert_eq!(g.node_by_object_id(4), None);
    assert_eq!(g.diagnostics().dangling_edges, 0);
}

#[test]
fn out_of_order_edges_are_sorted_stably() {
    let mut b = GraphBuilder::new(Format::Synthetic);
    let ids: Vec<_> = (0..4).map(|i| node(&mut b, "N", i, 1)).collect();
    // Edges from node 2 first, then node 1, then node 2 again.
    b.add_indexed_edge(ids[2], ids[3], EdgeKind::Element, 0)
        .unwrap();
    b.add_indexed_edge(ids[1], ids[0], EdgeKind::Element, 1)
        .unwrap();
    b.add_indexed_edge(ids[2], ids[1], EdgeKind::Element, 2)
        .unwrap();
    b.add_indexed_edge(ids[1], ids[3], EdgeKind::Element, 3)
        .unwrap();
    let g = b.finish().unwrap();
    assert_eq!(targets(&g, ids[1]), vec![0, 3]);
    assert_eq!(targets(&g, ids[2]), vec![3, 1]);
    let labels: Vec<_> = g.edges(ids[2]).map(|e| e.label).collect();
    assert_eq!(labels, vec![EdgeLabel::Index(0), EdgeLabel::Index(2)]);
}

#[test]
fn edges_to_nodes_added_later_are_kept() {
    let mut b = GraphBuilder::new(Format::Synthetic);
    b.push_edge(0, 1, EdgeKind::Internal, 0).unwrap();
    b.push_edge(1, 0, EdgeKind::Internal, 0).unwrap();
    node(&mut b, "(root)", 0, 0);
    node(&mut b, "Late", 9, 4);
    let g = b.finish().unwrap();
    assert_eq!(g.edge_count(), 2);
    assert_eq!(targets(&g, NodeIndex::new(1)), vec![0]);
}

#[test]
fn dangling_edges_are_counted_not_fatal() {
    let mut b = GraphBuilder::new(Format::Synthetic);
    let root = node(&mut b, "(root)", 0, 0);
    let a = node(&mut b, "A", 1, 8);
    b.add_named_edge(root, a, EdgeKind::Property, StringId::EMPTY)
        .unwrap();
    b.push_edge(1, 99, EdgeKind::Property, 0).unwrap();
    b.push_edge(1, 0, EdgeKind::Property, 0).unwrap();
    b.push_edge(77, 0, EdgeKind::Property, 0).unwrap();
    b.count_unresolved_reference();
    let g = b.finish().unwrap();
    assert_eq!(g.edge_count(), 2);
    assert_eq!(g.diagnostics().dangling_edges, 2);
    assert_eq!(g.diagnostics().first_dangling_edge, Some((1, 99)));
    assert_eq!(g.diagnostics().unresolved_references, 1);
    assert_eq!(targets(&g, a), vec![0]);
}

#[test]
fn gc_roots_are_grouped_by_kind_and_deduplicated() {
    let mut b = GraphBuilder::new(Format::Hprof);
    let root = node(&mut b, "(root)", 0, 0);
    let x = node(&mut b, "X", 0x10, 16);
    let y = node(&mut b, "Y", 0x20, 16);
    b.add_gc_root(y, RootKind::ThreadObject);
    b.add_gc_root(x, RootKind::JniGlobal);
    b.add_gc_root(y, RootKind::JniGlobal);
    b.add_gc_root(x, RootKind::JniGlobal);
    let g = b.finish().unwrap();

    assert_eq!(g.diagnostics().duplicate_roots, 1);
    assert_eq!(g.root_groups().len(), 2);
    let groups: Vec<_> = g.edges(root).map(|e| e.target).collect();
    assert_eq!(groups.len(), 2);
    let jni = groups
        .iter()
        .copied()
        .find(|&n| g.root_kind(n) == Some(RootKind::JniGlobal))
        .unwrap();
    assert_eq!(g.kind(jni), NodeKind::RootGroup);
    assert_eq!(g.name_str(jni), "(JNI Global)");
    assert_eq!(targets(&g, jni), vec![x.as_u32(), y.as_u32()]);
    assert_eq!(g.root_kind(x), None);
    let retainers_of_y: Vec<_> = g.retainers().of(y).map(|(s, _)| s).collect();
    assert_eq!(retainers_of_y.len(), 2);
}

#[test]
fn gc_root_on_a_node_never_added_is_dangling_not_a_root_group() {
    // Found by the `dominators` fuzz target: index 2 is the first root-group
    // node `finish` appends, so the root used to become a self loop on it.
    let mut b = GraphBuilder::new(Format::Synthetic);
    node(&mut b, "(root)", 0, 0);
    let x = node(&mut b, "X", 1, 8);
    b.add_gc_root(NodeIndex::new(2), RootKind::JniGlobal);
    b.add_gc_root(x, RootKind::JniGlobal);
    let g = b.finish().unwrap();
    assert_eq!(g.node_count(), 3);
    let (group, _) = g.root_groups()[0];
    assert_eq!(targets(&g, group), vec![x.as_u32()]);
    assert_eq!(g.diagnostics().dangling_edges, 1);
}

#[test]
fn dangling_edges_stay_dangling_when_root_groups_are_appended() {
    // Found by the `dominators` fuzz target: edges to and from index 2, a
    // node never added, used to land on the root group `finish` appends there.
    let mut b = GraphBuilder::new(Format::Synthetic);
    let root = node(&mut b, "(root)", 0, 0);
    let x = node(&mut b, "X", 1, 8);
    b.push_edge(0, 2, EdgeKind::Property, 0).unwrap();
    b.push_edge(2, 1, EdgeKind::Property, 0).unwrap();
    b.push_edge(1, 0, EdgeKind::Property, 0).unwrap(); // out of source order
    b.add_gc_root(x, RootKind::JniGlobal);
    let g = b.finish().unwrap();
    let (group, _) = g.root_groups()[0];
    assert_eq!(group.index(), 2);
    assert_eq!(targets(&g, root), vec![2]); // only the root-group edge
    assert_eq!(targets(&g, group), vec![x.as_u32()]);
    assert_eq!(targets(&g, x), vec![0]);
    assert_eq!(g.diagnostics().dangling_edges, 2);
}

#[test]
fn empty_builder_gets_a_root() {
    let g = GraphBuilder::new(Format::Synthetic).finish().unwrap();
    assert_eq!(g.node_count(), 1);
    assert_eq!(g.name_str(NodeIndex::ROOT), "(root)");
    assert_eq!(g.edge_starts(), &[0, 0]);
}

#[test]
fn interning_is_shared_by_nodes_and_edges() {
    let mut b = GraphBuilder::new(Format::Synthetic);
    let a1 = b.intern(b"Order").unwrap();
    let a2 = b.intern(b"Order").unwrap();
    assert_eq!(a1, a2);
    let n1 = b.add_node(NodeKind::Object, a1, 1, 1).unwrap();
    let n2 = b.add_node(NodeKind::Object, a2, 2, 1).unwrap();
    let g = b.finish().unwrap();
    assert_eq!(g.name(n1), g.name(n2));
    assert_eq!(g.strings().len(), 2); // "" and "Order"
}

#[test]
fn limits_refuse_oversized_graphs() {
    let mut b = GraphBuilder::new(Format::Synthetic).with_limits(
        heapgraph_core::Limits::default()
            .with_max_nodes(2)
            .with_max_edges(1),
    );
    node(&mut b, "(root)", 0, 0);
    node(&mut b, "A", 1, 1);
    let err = b
        .add_node(NodeKind::Object, StringId::EMPTY, 2, 1)
        .unwrap_err();
    assert_eq!(err.to_string(), "nodes exceeds the configured limit of 2");
    b.push_edge(0, 1, EdgeKind::Property, 0).unwrap();
    assert!(b.push_edge(0, 1, EdgeKind::Property, 0).is_err());
}

#[test]
fn limits_refuse_too_many_string_bytes() {
    let limits = heapgraph_core::Limits::default().with_max_string_bytes(10);
    let mut b = GraphBuilder::new(Format::Synthetic).with_limits(limits);
    b.intern(b"0123456").unwrap();
    // Equal strings cost nothing more.
    b.intern(b"0123456").unwrap();
    b.strings().push_unique(b"789").unwrap();
    let err = b.intern(b"x").unwrap_err();
    assert_eq!(
        err.to_string(),
        "string bytes exceed the configured limit of 10"
    );
    let err = b.strings().push_unique(b"y").unwrap_err();
    assert_eq!(err.byte_limit(), Some(10));
    assert!(limits.check_declared_nodes(u64::from(u32::MAX)).is_err());
    assert!(limits.check_declared_edges(5).is_ok());
    let other = heapgraph_core::Limits::default()
        .with_max_nodes(7)
        .with_max_string_bytes(20);
    let both = limits.tightest(other);
    assert_eq!(
        (both.max_nodes, both.max_edges, both.max_string_bytes),
        (7, u64::from(u32::MAX - 1), 10)
    );
    assert_eq!(other.tightest(limits), both);
    let small = limits.with_max_edges(4);
    assert_eq!(
        small.check_declared_edges(5).unwrap_err().to_string(),
        "edges exceeds the configured limit of 4"
    );
}

#[test]
fn memory_budget_per_node_and_edge() {
    // A chain with 3 edges per node, like a real heap's average degree.
    let n = 100_000u32;
    let mut b = GraphBuilder::new(Format::Synthetic);
    b.reserve(n as usize, 3 * n as usize);
    let name = b.intern(b"Node").unwrap();
    for i in 0..n {
        b.add_node(NodeKind::Object, name, u64::from(i), 32)
            .unwrap();
    }
    for i in 0..n {
        for k in 1..=3 {
            b.push_edge(i, (i + k) % n, EdgeKind::Property, 0).unwrap();
        }
    }
    let g = b.finish().unwrap();
    let memory = g.heap_bytes();
    println!(
        "frozen graph: {:.2} bytes/node, {:.2} bytes/edge ({} nodes, {} edges)",
        memory.bytes_per_node(),
        memory.bytes_per_edge(),
        memory.nodes,
        memory.edges
    );
    assert!(memory.bytes_per_node() <= 32.0, "{memory:?}");
    assert!(memory.bytes_per_edge() <= 12.0, "{memory:?}");
}

#[test]
fn graph_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<HeapGraph>();
}

/// A random edge list over `n` nodes, some targets dangling.
fn arbitrary_edges() -> impl Strategy<Value = (u32, Vec<(u32, u32, u8)>)> {
    (1u32..40).prop_flat_map(|n| {
        let edge = (0..n + 3, 0..n + 3, 0u8..11);
        (Just(n), proptest::collection::vec(edge, 0..120))
    })
}

proptest! {
    /// The CSR graph lists, per source, exactly the valid edges in insertion
    /// order, and retainers are their exact reverse.
    #[test]
    fn csr_equals_naive_adjacency((n, edges) in arbitrary_edges()) {
        let mut b = GraphBuilder::new(Format::Synthetic);
        for i in 0..n {
            b.add_node(NodeKind::Object, StringId::EMPTY, u64::from(i), 1).unwrap();
        }
        for &(s, t, k) in &edges {
            b.push_edge(s, t, EdgeKind::from_code(k).unwrap(), s * 1000 + t).unwrap();
        }
        let g = b.finish().unwrap();
        let mut expected_dangling = 0u64;
        let mut naive: Vec<Vec<(u32, u8, u32)>> = vec![Vec::new(); n as usize];
        for &(s, t, k) in &edges {
            if s < n && t < n {
                naive[s as usize].push((t, k, s * 1000 + t));
            } else {
                expected_dangling += 1;
            }
        }
        prop_assert_eq!(g.diagnostics().dangling_edges, expected_dangling);
        for node in g.nodes() {
            let got: Vec<_> = g.edge_range(node).map(|e| {
                let e = EdgeIndex::new(e);
                let label = match g.edge_label(e) {
                    EdgeLabel::Index(i) => i,
                    EdgeLabel::Name(s) => s.as_u32(),
                };
                (g.edge_target(e).as_u32(), g.edge_kind(e).code(), label)
            }).collect();
            prop_assert_eq!(&got, &naive[node.index()]);
            for e in g.edge_range(node) {
                prop_assert_eq!(g.edge_source(EdgeIndex::new(e)), node);
            }
        }
        for node in g.nodes() {
            // Every retainer is an edge into the node from its source, in
            // ascending edge order.
            let pairs: Vec<_> = g.retainers().of(node).collect();
            prop_assert_eq!(pairs.len(), g.retainers().count(node));
            for window in pairs.windows(2) {
                prop_assert!(window[0].1 < window[1].1);
            }
            for &(source, edge) in &pairs {
                prop_assert_eq!(g.edge_target(edge), node);
                prop_assert!(g.edge_range(source).contains(&edge.as_u32()));
            }
            let mut got: Vec<_> = g.retainers().of(node).map(|(s, _)| s.as_u32()).collect();
            got.sort_unstable();
            let mut want: Vec<u32> = naive.iter().enumerate()
                .flat_map(|(s, out)| out.iter().filter(|e| e.0 == node.as_u32()).map(move |_| s as u32))
                .collect();
            want.sort_unstable();
            prop_assert_eq!(got, want);
        }
    }
}
