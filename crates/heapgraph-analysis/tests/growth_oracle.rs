//! Property tests: retention signatures and their per-signature totals
//! against slow, obviously-correct oracles on random graphs with a few class
//! and field names.
//!
//! * Signatures: each node's shortest path (breadth first from the root,
//!   first found wins, as documented) written out in full as text; nodes
//!   with equal text must share a signature, nodes with different text must
//!   not, and the signature's own text must be that text.
//! * Totals: counts, shallow and retained sums by brute force; and the
//!   reason retained sizes may simply be added: no member of a signature
//!   has a strict dominator (walked one by one up the tree) with the same
//!   signature.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // may panic: not library code

use std::collections::HashMap;

use heapgraph_analysis::leaks::growth::RetentionSignatures;
use heapgraph_analysis::HeapAnalysis;
use heapgraph_core::{EdgeIndex, EdgeKind, Format, GraphBuilder, HeapGraph, NodeIndex, NodeKind};
use proptest::prelude::*;

#[derive(Clone, Debug)]
struct Spec {
    /// Per node: class (0..3) and size.
    nodes: Vec<(u8, u64)>,
    /// `(source, target, label)`: label 0..2 a field name, 3 an element
    /// index (source-local), 4 a numeric property name.
    edges: Vec<(u32, u32, u8)>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (1usize..30).prop_flat_map(|n| {
        let nodes = prop::collection::vec((0u8..3, 0u64..100), n);
        let edges = prop::collection::vec((0..n as u32, 0..n as u32, 0u8..5), 0..n * 3);
        (nodes, edges).prop_map(|(nodes, edges)| Spec { nodes, edges })
    })
}

fn build(spec: &Spec) -> HeapGraph {
    let mut b = GraphBuilder::new(Format::Synthetic);
    let classes = [b"Alpha", b"Betaa", b"Gamma"].map(|c| b.intern(c).unwrap());
    let root = b.intern(b"(root)").unwrap();
    let fields = [b"next", b"data", b"left"].map(|f| b.intern(f).unwrap());
    let numeric = b.intern(b"17").unwrap();
    for (i, &(class, size)) in spec.nodes.iter().enumerate() {
        let (kind, name) = if i == 0 {
            (NodeKind::Synthetic, root)
        } else {
            (NodeKind::Object, classes[class as usize])
        };
        b.add_node(kind, name, i as u64 + 1, size).unwrap();
    }
    for (k, &(s, t, label)) in spec.edges.iter().enumerate() {
        match label {
            0..=2 => b.push_edge(s, t, EdgeKind::Property, fields[label as usize].as_u32()),
            3 => b.push_edge(s, t, EdgeKind::Element, k as u32),
            _ => b.push_edge(s, t, EdgeKind::Property, numeric.as_u32()),
        }
        .unwrap();
    }
    b.finish().unwrap()
}

/// Each node's path text, by its own breadth-first search.
fn oracle_texts(analysis: &HeapAnalysis<'_>) -> Vec<Option<String>> {
    let graph = analysis.graph();
    let edges = analysis.policy().path_edges(graph);
    let n = graph.node_count();
    let mut parent: Vec<Option<(usize, EdgeIndex)>> = vec![None; n];
    let mut seen = vec![false; n];
    seen[0] = true;
    let mut queue = std::collections::VecDeque::from([0usize]);
    while let Some(v) = queue.pop_front() {
        for e in graph.edge_range(NodeIndex::new(v as u32)) {
            let t = graph.edge_targets()[e as usize].index();
            if edges.contains(e) && !seen[t] {
                seen[t] = true;
                parent[t] = Some((v, EdgeIndex::new(e)));
                queue.push_back(t);
            }
        }
    }
    (0..n)
        .map(|v| {
            if !seen[v] {
                return None;
            }
            let mut steps = Vec::new();
            let mut x = v;
            while let Some((p, e)) = parent[x] {
                let label = match graph.edge_kind(e) {
                    EdgeKind::Element => "[]".to_string(),
                    _ => {
                        let name = graph.edge_label_str(e).into_owned();
                        if name.bytes().all(|b| b.is_ascii_digit()) {
                            "[]".to_string()
                        } else {
                            name
                        }
                    }
                };
                let class = analysis.class_name(NodeIndex::new(x as u32));
                let class = if class.is_empty() {
                    graph.name_str(NodeIndex::new(x as u32)).into_owned()
                } else {
                    class.to_string()
                };
                steps.push(format!(" -[{label}]-> {class}"));
                x = p;
            }
            steps.reverse();
            Some(format!("(root){}", steps.concat()))
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn signatures_group_exactly_the_nodes_with_equal_paths(spec in spec()) {
        let graph = build(&spec);
        let analysis = HeapAnalysis::new(&graph);
        let signatures = RetentionSignatures::compute(&analysis);
        let texts = oracle_texts(&analysis);
        let mut by_text: HashMap<&str, u32> = HashMap::new();
        for v in graph.nodes() {
            let sig = signatures.of(v);
            match &texts[v.index()] {
                None => prop_assert_eq!(sig, None),
                Some(text) => {
                    let sig = sig.unwrap();
                    prop_assert_eq!(&signatures.text(&analysis, sig), text);
                    let first = *by_text.entry(text.as_str()).or_insert(sig);
                    prop_assert_eq!(first, sig, "{}", text);
                }
            }
        }
        // Different texts, different signatures.
        let distinct: std::collections::HashSet<u32> = by_text.values().copied().collect();
        prop_assert_eq!(distinct.len(), by_text.len());
    }

    #[test]
    fn totals_add_up_members_none_of_which_dominates_another(spec in spec()) {
        let graph = build(&spec);
        let analysis = HeapAnalysis::new(&graph);
        let signatures = RetentionSignatures::compute(&analysis);
        let totals = signatures.totals(&analysis);
        let mut expected = vec![(0u64, 0u64, 0u64); signatures.len()];
        for v in graph.nodes() {
            let Some(s) = signatures.of(v) else { continue };
            if !analysis.dominator_tree().contains(v) {
                continue;
            }
            let e = &mut expected[s as usize];
            e.0 += 1;
            e.1 += analysis.shallow_size(v);
            e.2 += analysis.retained_size(v);
            let mut d = analysis.immediate_dominator(v);
            while let Some(x) = d {
                prop_assert_ne!(signatures.of(x), Some(s), "{} dominates {}", x.index(), v.index());
                d = analysis.immediate_dominator(x);
            }
        }
        for (s, t) in totals.iter().enumerate() {
            prop_assert_eq!((t.count, t.shallow_size, t.retained_size), expected[s], "signature {}", s);
        }
    }
}
