//! Property test: random small graphs written as V8 JSON (random column
//! order, whitespace, escaped or raw strings) read back identically.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{MiniSnapshot, EDGE_TYPES, NODE_TYPES};
use heapgraph_core::{EdgeLabel, NodeIndex};
use heapgraph_v8::parse_snapshot;
use proptest::prelude::*;

fn mini() -> impl Strategy<Value = MiniSnapshot> {
    let strings = prop::collection::vec(
        prop_oneof![
            "[a-zA-Z0-9 _()<>/@.-]{0,12}",
            "\\PC{0,6}",
            prop::sample::select(vec![
                "\u{1F600} pair".to_string(),
                "quote \" back \\ nl \n tab \t".to_string(),
                "é日本".to_string(),
                "\u{1}\u{1f}".to_string(),
            ]),
        ],
        1..12,
    );
    (strings, 1usize..25, any::<bool>(), 0usize..3, any::<u64>())
        .prop_flat_map(|(mut strings, n, ascii_only, sep, seed)| {
            strings.insert(0, "<dummy>".to_string());
            let s = strings.len() as u64;
            let node = (0u64..16, 0..s, 0u64..1 << 40, 0u64..1 << 40, 0u64..3);
            let edge = (0u64..7, 0u64..1000, 0..n as u64);
            (
                Just(strings),
                prop::collection::vec(node, n),
                prop::collection::vec(prop::collection::vec(edge, 0..5), n),
                Just(ascii_only),
                Just(sep),
                Just(seed),
            )
        })
        .prop_map(|(strings, nodes, mut edges, ascii_only, sep, seed)| {
            let s = strings.len() as u64;
            for list in &mut edges {
                for e in list.iter_mut() {
                    // Named kinds carry string indices.
                    if !matches!(EDGE_TYPES[e.0 as usize], "element" | "hidden") {
                        e.1 %= s;
                    }
                }
            }
            let mut node_fields = vec!["type", "name", "id", "self_size", "edge_count"];
            if seed & 1 == 1 {
                node_fields.push("trace_node_id");
            }
            node_fields.push("detachedness");
            // A seeded rotation/swap of the column order.
            let len = node_fields.len();
            node_fields.rotate_left((seed >> 1) as usize % len);
            node_fields.swap((seed >> 8) as usize % len, (seed >> 16) as usize % len);
            MiniSnapshot {
                node_fields,
                nodes,
                edges,
                strings,
                ascii_only,
                separator: ["", "\n", " \r\n\t"][sep],
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn written_graphs_read_back(mini in mini()) {
        let json = mini.to_json();
        let snapshot = parse_snapshot(&json).unwrap();
        let graph = &snapshot.graph;
        prop_assert_eq!(graph.node_count(), mini.nodes.len());
        prop_assert!(snapshot.warnings.is_empty());
        for (k, &(ty, name, id, size, detached)) in mini.nodes.iter().enumerate() {
            let n = NodeIndex::new(k as u32);
            prop_assert_eq!(graph.kind(n).as_str().replace('_', " ").replace("wasm", "wasm object"),
                NODE_TYPES[ty as usize]);
            prop_assert_eq!(graph.strings().bytes(graph.name(n)), mini.strings[name as usize].as_bytes());
            prop_assert_eq!(graph.object_id(n), id);
            prop_assert_eq!(graph.self_size(n), size);
            prop_assert_eq!(
                snapshot.detachedness.as_ref().unwrap()[k],
                heapgraph_core::DomState::from_v8(detached)
            );
            let got: Vec<_> = graph.edges(n).collect();
            prop_assert_eq!(got.len(), mini.edges[k].len());
            for (edge, &(ety, label, target)) in got.iter().zip(&mini.edges[k]) {
                prop_assert_eq!(edge.kind.as_str(), EDGE_TYPES[ety as usize]);
                prop_assert_eq!(edge.target.index() as u64, target);
                match edge.label {
                    EdgeLabel::Index(i) => prop_assert_eq!(u64::from(i), label),
                    EdgeLabel::Name(s) => prop_assert_eq!(
                        graph.strings().bytes(s), mini.strings[label as usize].as_bytes()),
                }
            }
        }
    }
}
