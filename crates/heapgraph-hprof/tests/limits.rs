//! `HprofOptions::limits` on a real JDK 17 dump: nodes refused in the
//! index pass at the record that crossed the bound, edges in the edge pass,
//! string bytes as they are interned.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

mod common;

use common::*;
use heapgraph_core::{BuildError, Limits, NodeKind};
use heapgraph_hprof::{parse, scan, HprofErrorKind, HprofOptions};

fn options(limits: Limits) -> HprofOptions {
    HprofOptions::default().with_limits(limits)
}

#[test]
fn max_nodes_is_refused_at_the_record_that_crosses_it() {
    let bytes = testdata("hotspot-jdk17-shapes.hprof.gz");
    let full = parse(&bytes, &HprofOptions::default()).unwrap();
    let graph = full.graph();
    let (_, objects) = scan(&bytes).unwrap();
    assert_eq!(objects, 15240);
    let root_groups = graph
        .nodes()
        .filter(|&n| graph.kind(n) == NodeKind::RootGroup)
        .count() as u64;
    assert_eq!(graph.node_count() as u64, 1 + objects + root_groups);

    let mut last_offset = 0;
    for max_nodes in [2u64, 10, 1000, 15240] {
        let error = parse(
            &bytes,
            &options(Limits::default().with_max_nodes(max_nodes)),
        )
        .unwrap_err();
        assert_eq!(
            error.kind,
            HprofErrorKind::Graph(BuildError::LimitExceeded {
                what: "nodes",
                limit: max_nodes
            })
        );
        // The offset is that of the object record (a heap sub-record tag)
        // that made root + objects exceed the limit.
        let tag = bytes[error.offset as usize];
        assert!(
            matches!(tag, 0x20..=0x23),
            "tag 0x{tag:02x} at {}",
            error.offset
        );
        assert!(error.offset > last_offset);
        last_offset = error.offset;
        assert!(error
            .to_string()
            .contains("nodes exceeds the configured limit"));
        // Exactly `max_nodes - 1` objects fit before it: the prefix up to the
        // offset holds them.
        let prefix = &bytes[..error.offset as usize];
        let lenient = HprofOptions::default().with_lenient(true);
        let cut = parse(prefix, &lenient).unwrap();
        let g = cut.graph();
        let cut_objects = g
            .nodes()
            .filter(|&n| n.index() != 0 && g.kind(n) != NodeKind::RootGroup)
            .count() as u64;
        assert_eq!(cut_objects, max_nodes - 1, "max_nodes {max_nodes}");
    }
    // Room for every object but not the root groups finish appends: the
    // builder refuses at finish.
    let error = parse(
        &bytes,
        &options(Limits::default().with_max_nodes(1 + objects)),
    )
    .unwrap_err();
    assert!(matches!(
        error.kind,
        HprofErrorKind::Graph(BuildError::LimitExceeded { what: "nodes", .. })
    ));
    // Exactly enough.
    let exact = parse(
        &bytes,
        &options(Limits::default().with_max_nodes(graph.node_count() as u64)),
    )
    .unwrap();
    assert_eq!(exact.graph().node_count(), graph.node_count());
}

#[test]
fn max_edges_is_refused_in_the_edge_pass() {
    let bytes = testdata("hotspot-jdk17-shapes.hprof.gz");
    let full = parse(&bytes, &HprofOptions::default()).unwrap();
    let edges = full.graph().edge_count() as u64;
    assert!(edges > 20_000, "{edges}");
    let error = parse(&bytes, &options(Limits::default().with_max_edges(5000))).unwrap_err();
    assert_eq!(
        error.kind,
        HprofErrorKind::Graph(BuildError::LimitExceeded {
            what: "edges",
            limit: 5000
        })
    );
    // At the heap sub-record whose reference was the 5001st edge.
    let tag = bytes[error.offset as usize];
    assert!(matches!(tag, 0x20..=0x23), "tag 0x{tag:02x}");
    let ok = parse(&bytes, &options(Limits::default().with_max_edges(edges))).unwrap();
    assert_eq!(ok.graph().edge_count() as u64, edges);
    assert!(parse(
        &bytes,
        &options(Limits::default().with_max_edges(edges - 1))
    )
    .is_err());
}

#[test]
fn max_string_bytes_is_enforced_by_the_interner() {
    let bytes = testdata("hotspot-jdk17-shapes.hprof.gz");
    let full = parse(&bytes, &HprofOptions::default()).unwrap();
    let total: u64 = full
        .graph()
        .strings()
        .iter()
        .map(|(_, text)| text.len() as u64)
        .sum();
    assert!(total > 10_000, "{total}");
    let error = parse(
        &bytes,
        &options(Limits::default().with_max_string_bytes(2000)),
    )
    .unwrap_err();
    match &error.kind {
        HprofErrorKind::Graph(BuildError::TooManyStrings(e)) => {
            assert_eq!(e.byte_limit(), Some(2000))
        }
        other => panic!("{other:?}"),
    }
    // Class names are interned first: the error names a CLASS DUMP.
    assert_eq!(bytes[error.offset as usize], 0x20);
    assert!(error
        .to_string()
        .contains("string bytes exceed the configured limit of 2000"));
    parse(
        &bytes,
        &options(Limits::default().with_max_string_bytes(total)),
    )
    .unwrap();
}
