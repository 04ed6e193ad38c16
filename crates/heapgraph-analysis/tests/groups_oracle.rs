//! Property tests: groupings of objects against slow, obviously-correct
//! oracles on random graphs with three classes.
//!
//! * `HeapAnalysis::sum_by_group` (class histogram, top consumers): count
//!   and shallow size by brute force; retained size over the members that
//!   no other member of their group dominates, found by walking each
//!   member's whole chain of dominators.
//! * Immediate dominators grouped by class: the oracle charges each member
//!   by walking `immediate_dominator` one step at a time (past skipped
//!   classes), counts rows by brute force, and decides "counted once" by
//!   walking every object's whole chain of dominators: a member counts when
//!   no other member is among its strict dominators, a dominator when no
//!   other dominator of its row is.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // may panic: not library code

use std::collections::{BTreeMap, BTreeSet};

use heapgraph_analysis::dominator_classes::{
    immediate_dominators_by_class, DominatorClassRow, GC_ROOTS,
};
use heapgraph_analysis::HeapAnalysis;
use heapgraph_core::{EdgeKind, Format, GraphBuilder, HeapGraph, NodeIndex, NodeKind};
use proptest::prelude::*;

#[derive(Clone, Debug)]
struct Spec {
    /// Per node: class (0..3) and size.
    nodes: Vec<(u8, u64)>,
    edges: Vec<(u32, u32)>,
    /// Which class is the set of members, which (if any) is skipped.
    member_class: u8,
    skipped_class: Option<u8>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (2usize..30).prop_flat_map(|n| {
        let nodes = prop::collection::vec((0u8..3, 0u64..100), n);
        let edges = prop::collection::vec((0..n as u32, 1..n as u32), 0..n * 3);
        (nodes, edges, 0u8..3, prop::option::of(0u8..3)).prop_map(
            |(nodes, edges, member_class, skipped_class)| Spec {
                nodes,
                edges,
                member_class,
                skipped_class,
            },
        )
    })
}

const CLASSES: [&str; 3] = ["Alpha", "Betaa", "Gamma"];

fn build(spec: &Spec) -> HeapGraph {
    let mut b = GraphBuilder::new(Format::Synthetic);
    let classes = CLASSES.map(|c| b.intern(c.as_bytes()).unwrap());
    let root = b.intern(b"(root)").unwrap();
    let field = b.intern(b"f").unwrap();
    for (i, &(class, size)) in spec.nodes.iter().enumerate() {
        let (kind, name) = if i == 0 {
            (NodeKind::Synthetic, root)
        } else {
            (NodeKind::Object, classes[class as usize])
        };
        b.add_node(kind, name, i as u64 + 1, size).unwrap();
    }
    for &(s, t) in &spec.edges {
        b.push_edge(s, t, EdgeKind::Property, field.as_u32())
            .unwrap();
    }
    b.finish().unwrap()
}

/// Strict dominators of `node`, nearest first.
fn chain(analysis: &HeapAnalysis<'_>, node: NodeIndex) -> Vec<NodeIndex> {
    let mut out = Vec::new();
    let mut x = analysis.immediate_dominator(node);
    while let Some(d) = x {
        out.push(d);
        x = analysis.immediate_dominator(d);
    }
    out
}

fn oracle(
    analysis: &HeapAnalysis<'_>,
    members: &[NodeIndex],
    skipped: Option<&str>,
) -> Vec<DominatorClassRow> {
    let class = |n: NodeIndex| -> Option<String> {
        (n.index() != 0).then(|| analysis.class_name(n).to_string())
    };
    let mut charged: BTreeMap<NodeIndex, Option<NodeIndex>> = BTreeMap::new();
    for &m in members {
        let mut to = None;
        for d in chain(analysis, m) {
            match class(d) {
                Some(c) if Some(c.as_str()) == skipped => continue,
                Some(_) => {
                    to = Some(d);
                    break;
                }
                None => break,
            }
        }
        charged.insert(m, to);
    }
    let row_of = |d: Option<NodeIndex>| d.and_then(class).unwrap_or_else(|| GC_ROOTS.to_string());
    let mut names: BTreeSet<String> = BTreeSet::new();
    for &d in charged.values() {
        names.insert(row_of(d));
    }
    let mut rows: Vec<DominatorClassRow> = names
        .into_iter()
        .map(|name| {
            let in_row: Vec<NodeIndex> = charged
                .iter()
                .filter(|(_, &d)| row_of(d) == name)
                .map(|(&m, _)| m)
                .collect();
            let dominators: BTreeSet<NodeIndex> =
                in_row.iter().filter_map(|m| charged[m]).collect();
            let member_set: BTreeSet<NodeIndex> = charged.keys().copied().collect();
            DominatorClassRow {
                class: name.clone(),
                dominators: dominators.len() as u64,
                dominators_retained_size: dominators
                    .iter()
                    .filter(|&&d| !chain(analysis, d).iter().any(|a| dominators.contains(a)))
                    .map(|&d| analysis.retained_size(d))
                    .sum(),
                dominated: in_row.len() as u64,
                dominated_shallow_size: in_row.iter().map(|&m| analysis.shallow_size(m)).sum(),
                dominated_retained_size: in_row
                    .iter()
                    .filter(|&&m| !chain(analysis, m).iter().any(|a| member_set.contains(a)))
                    .map(|&m| analysis.retained_size(m))
                    .sum(),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.dominated_retained_size
            .cmp(&a.dominated_retained_size)
            .then(b.dominated.cmp(&a.dominated))
            .then_with(|| a.class.cmp(&b.class))
    });
    rows
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn immediate_dominators_by_class_equal_the_oracle(spec in spec()) {
        let graph = build(&spec);
        let analysis = HeapAnalysis::new(&graph);
        let member_class = CLASSES[spec.member_class as usize];
        let members: Vec<NodeIndex> = graph
            .nodes()
            .filter(|&n| n.index() != 0 && analysis.class_name(n) == member_class)
            .filter(|&n| analysis.dominator_tree().contains(n))
            .collect();
        let skipped = spec.skipped_class.map(|c| CLASSES[c as usize]);
        let rows = immediate_dominators_by_class(&analysis, &members, |c| Some(c) == skipped);
        prop_assert_eq!(rows, oracle(&analysis, &members, skipped));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Groups made of arbitrary nodes (here: by size modulo three, so a
    /// group mixes classes and dominates itself in places).
    #[test]
    fn sums_by_group_equal_the_oracle(spec in spec()) {
        let graph = build(&spec);
        let analysis = HeapAnalysis::new(&graph);
        let group_of = |n: NodeIndex| -> Option<u32> {
            (n.index() != 0 && analysis.dominator_tree().contains(n))
                .then(|| (graph.self_size(n) % 3) as u32)
        };
        let sums = analysis.sum_by_group(3, group_of);
        for (group, sums) in sums.iter().enumerate() {
            let members: Vec<NodeIndex> =
                graph.nodes().filter(|&n| group_of(n) == Some(group as u32)).collect();
            prop_assert_eq!(sums.count, members.len() as u64);
            prop_assert_eq!(
                sums.shallow_size,
                members.iter().map(|&n| analysis.shallow_size(n)).sum::<u64>()
            );
            let once: u64 = members
                .iter()
                .filter(|&&m| !chain(&analysis, m).iter().any(|a| members.contains(a)))
                .map(|&m| analysis.retained_size(m))
                .sum();
            prop_assert_eq!(sums.retained_size, once);
        }
    }
}
