//! `ParseOptions::limits` on real snapshots and profiles: an oversized file
//! is refused with the offset of what went over, a file within the limits
//! reads as without them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{load, testdata, Oracle};
use heapgraph_core::{BuildError, Limits};
use heapgraph_v8::{
    parse, parse_heapprofile, parse_heapprofile_with, parse_snapshot, ParseOptions, V8Error,
    V8ErrorKind,
};

fn with(limits: Limits) -> ParseOptions {
    ParseOptions::default().with_limits(limits)
}

fn limit_exceeded(error: &V8Error) -> (&'static str, u64) {
    match &error.kind {
        V8ErrorKind::Graph(BuildError::LimitExceeded { what, limit }) => (what, *limit),
        other => panic!("not a limit error: {other:?} ({error})"),
    }
}

/// The offset of value number `index` of the integer array under `key`.
fn array_value_offset(bytes: &[u8], key: &str, index: usize) -> usize {
    let needle = format!("\"{key}\":");
    let mut pos = memchr::memmem::find(bytes, needle.as_bytes()).unwrap() + needle.len();
    while bytes[pos] != b'[' {
        pos += 1;
    }
    pos += 1;
    let mut seen = 0;
    loop {
        while matches!(bytes[pos], b' ' | b'\n' | b'\r' | b'\t' | b',') {
            pos += 1;
        }
        if seen == index {
            return pos;
        }
        while bytes[pos].is_ascii_digit() {
            pos += 1;
        }
        seen += 1;
    }
}

/// The offset of each string's opening quote in the `strings` array.
fn string_offsets(bytes: &[u8]) -> Vec<usize> {
    let mut pos = memchr::memmem::find(bytes, b"\"strings\":").unwrap() + 10;
    let mut offsets = Vec::new();
    while bytes[pos] != b'[' {
        pos += 1;
    }
    pos += 1;
    loop {
        match bytes[pos] {
            b'"' => {
                offsets.push(pos);
                pos += 1;
                while bytes[pos] != b'"' {
                    pos += if bytes[pos] == b'\\' { 2 } else { 1 };
                }
                pos += 1;
            }
            b']' => return offsets,
            _ => pos += 1,
        }
    }
}

#[test]
fn declared_counts_over_the_limits_are_refused_up_front() {
    let bytes = load(&testdata("node20-planted.heapsnapshot.gz"));
    let reference = parse_snapshot(&bytes).unwrap();
    let nodes = reference.graph.node_count() as u64;
    let edges = reference.graph.edge_count() as u64;
    assert_eq!(reference.header.node_count, Some(nodes));
    assert_eq!(reference.header.edge_count, Some(edges));

    let error = parse(&bytes, &with(Limits::default().with_max_nodes(nodes - 1))).unwrap_err();
    assert_eq!(limit_exceeded(&error), ("nodes", nodes - 1));
    let at = error.offset as usize;
    let declared = format!("{nodes}");
    assert!(
        bytes[..at].ends_with(b"\"node_count\":") && bytes[at..].starts_with(declared.as_bytes()),
        "{error}"
    );
    assert!(error.to_string().ends_with(&format!("at byte {at}")));

    let error = parse(&bytes, &with(Limits::default().with_max_edges(edges - 1))).unwrap_err();
    assert_eq!(limit_exceeded(&error), ("edges", edges - 1));
    let at = error.offset as usize;
    assert!(bytes[..at].ends_with(b"\"edge_count\":"), "{error}");
    assert!(bytes[at..].starts_with(format!("{edges}").as_bytes()));

    // Exactly at the limits: the same graph as without limits.
    let exact = Limits::default()
        .with_max_nodes(nodes)
        .with_max_edges(edges);
    let snapshot = parse(&bytes, &with(exact)).unwrap();
    assert_eq!(snapshot.graph.node_count() as u64, nodes);
    assert_eq!(snapshot.graph.edge_count() as u64, edges);
    assert_eq!(
        snapshot.graph.edge_targets(),
        reference.graph.edge_targets()
    );
}

#[test]
fn arrays_over_the_limits_fail_at_the_first_record_too_many() {
    let original = load(&testdata("node20-tracked.heapsnapshot.gz"));
    let oracle = Oracle::new(&original);
    let nodes = oracle.node_count();
    let edges = oracle.edge_count();
    // A header that understates both counts (the arrays win).
    let text = String::from_utf8(original).unwrap();
    let lying = text
        .replacen(&format!("\"node_count\":{nodes}"), "\"node_count\":10", 1)
        .replacen(&format!("\"edge_count\":{edges}"), "\"edge_count\":10", 1);
    assert_ne!(lying, text);
    let bytes = lying.into_bytes();

    let limit = nodes - 7;
    let error = parse(
        &bytes,
        &with(Limits::default().with_max_nodes(limit as u64)),
    )
    .unwrap_err();
    assert_eq!(limit_exceeded(&error), ("nodes", limit as u64));
    assert_eq!(
        error.offset as usize,
        array_value_offset(&bytes, "nodes", limit * oracle.nf())
    );

    let limit = edges / 2;
    let error = parse(
        &bytes,
        &with(Limits::default().with_max_edges(limit as u64)),
    )
    .unwrap_err();
    assert_eq!(limit_exceeded(&error), ("edges", limit as u64));
    assert_eq!(
        error.offset as usize,
        array_value_offset(&bytes, "edges", limit * oracle.edge_fields.len())
    );

    let ok = Limits::default()
        .with_max_nodes(nodes as u64)
        .with_max_edges(edges as u64);
    let snapshot = parse(&bytes, &with(ok)).unwrap();
    assert_eq!(snapshot.graph.node_count(), nodes);
    assert_eq!(snapshot.graph.edge_count(), edges);
}

#[test]
fn string_bytes_over_the_limit_fail_at_the_string_that_went_over() {
    let bytes = load(&testdata("node20-planted.heapsnapshot.gz"));
    let reference = parse_snapshot(&bytes).unwrap();
    let table = reference.graph.strings();
    let lengths: Vec<u64> = table.iter().map(|(_, s)| s.len() as u64).collect();
    let total: u64 = lengths.iter().sum();
    let offsets = string_offsets(&bytes);
    // V8 string i is the graph's string i + 1 (0 is heapgraph's own "").
    assert_eq!(offsets.len() + 1, lengths.len());

    // Stop in the middle of the table: the first string whose bytes do
    // not fit any more is named.
    let k = lengths.len() / 2;
    let k = k + lengths[k..].iter().position(|&l| l > 0).unwrap();
    let limit = lengths[..=k].iter().sum::<u64>() - 1;
    let error = parse(
        &bytes,
        &with(Limits::default().with_max_string_bytes(limit)),
    )
    .unwrap_err();
    match &error.kind {
        V8ErrorKind::Graph(BuildError::TooManyStrings(e)) => {
            assert_eq!(e.byte_limit(), Some(limit))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(error.offset as usize, offsets[k - 1], "{error}");

    let snapshot = parse(
        &bytes,
        &with(Limits::default().with_max_string_bytes(total)),
    )
    .unwrap();
    assert_eq!(snapshot.graph.strings().len(), table.len());
}

#[test]
fn profile_limits() {
    let bytes = load(&testdata("node20-sampling.heapprofile"));
    let reference = parse_heapprofile(&bytes).unwrap();
    let samples = reference.samples.len();
    assert!(samples > 10);
    // The root, the `(Allocations)` group and a block per sample; an edge
    // to the group and one to each block.
    assert_eq!(reference.graph.node_count(), samples + 2);
    assert_eq!(reference.graph.edge_count(), samples + 1);
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let last_sample_at = {
        let needle = b"\"samples\":";
        let start = memchr::memmem::find(&bytes, needle).unwrap();
        let opens: Vec<usize> = memchr::memchr_iter(b'{', &bytes[start..])
            .map(|i| start + i)
            .collect();
        assert!(opens.len() >= samples, "{}", json["samples"]);
        opens[samples - 1]
    };

    let error = parse_heapprofile_with(
        &bytes,
        &with(Limits::default().with_max_nodes(samples as u64 + 1)),
    )
    .unwrap_err();
    assert_eq!(limit_exceeded(&error), ("nodes", samples as u64 + 1));
    assert_eq!(error.offset as usize, last_sample_at, "{error}");

    let error = parse_heapprofile_with(
        &bytes,
        &with(Limits::default().with_max_edges(samples as u64)),
    )
    .unwrap_err();
    assert_eq!(limit_exceeded(&error), ("edges", samples as u64));
    assert_eq!(error.offset as usize, last_sample_at, "{error}");

    let error = parse_heapprofile_with(&bytes, &with(Limits::default().with_max_string_bytes(16)))
        .unwrap_err();
    assert!(
        matches!(&error.kind, V8ErrorKind::Graph(BuildError::TooManyStrings(e)) if e.byte_limit() == Some(16)),
        "{error}"
    );
    assert!((error.offset as usize) < bytes.len());

    let exact = Limits::default()
        .with_max_nodes(samples as u64 + 2)
        .with_max_edges(samples as u64 + 1);
    let profile = parse_heapprofile_with(&bytes, &with(exact)).unwrap();
    assert_eq!(profile.graph.node_count(), samples + 2);
}
