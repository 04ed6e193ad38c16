//! `ParseOptions::limits` on real dumps: traces beyond `max_nodes - 1` or
//! `max_edges` and strings beyond `max_string_bytes` are refused with an
//! error at the offset of the trace tuple or string that went over, in
//! memory and streaming alike; a dump exactly at the limits is accepted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use heapgraph_core::{BuildError, Limits};
use heapgraph_tracemalloc::{
    parse, parse_file, parse_reader, ParseOptions, TracemallocError, TracemallocErrorKind as Kind,
};

fn path(name: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/tracemalloc"
    ))
    .join(name)
}

fn with(limits: Limits) -> ParseOptions {
    ParseOptions::default().with_limits(limits)
}

/// Parses in memory and streaming, checks both agree, returns the result.
fn both(bytes: &[u8], options: &ParseOptions) -> Result<usize, TracemallocError> {
    let whole = parse(bytes, options).map(|s| s.trace_count());
    let streamed = parse_reader(bytes, Some(bytes.len() as u64), options).map(|s| s.trace_count());
    assert_eq!(whole, streamed);
    whole
}

/// The opcodes that complete a trace tuple: TUPLE (4-tuples), TUPLE3.
const TUPLE_OPS: [u8; 2] = [b't', 0x87];

#[test]
fn traces_beyond_max_nodes_or_max_edges_are_refused_at_their_tuple() {
    for name in ["app_a.p5.pickle", "mixed_1.p0.pickle", "mixed_1.t3.pickle"] {
        let bytes = std::fs::read(path(name)).unwrap();
        let traces = parse(&bytes, &ParseOptions::default())
            .unwrap()
            .trace_count();
        assert!(traces > 20, "{name}: {traces}");
        // Exactly enough: the root plus one node per trace, one edge each.
        let exact = Limits::default()
            .with_max_nodes(traces as u64 + 1)
            .with_max_edges(traces as u64);
        assert_eq!(both(&bytes, &with(exact)), Ok(traces));
        let mut last_offset = 0;
        for allowed in [0, 1, 7, traces / 2, traces - 1] {
            let limits = Limits::default().with_max_nodes(allowed as u64 + 1);
            let err = both(&bytes, &with(limits)).unwrap_err();
            assert_eq!(
                err.kind,
                Kind::Graph(BuildError::LimitExceeded {
                    what: "nodes",
                    limit: allowed as u64 + 1
                }),
                "{name}: {err}"
            );
            // The offset is the opcode that built trace number `allowed`.
            let op = bytes[err.offset as usize];
            assert!(TUPLE_OPS.contains(&op), "{name}: {err}: opcode {op:#x}");
            assert_eq!(err.opcode, Some(op));
            assert!(err.offset > last_offset, "{name}: {err}");
            last_offset = err.offset;
            assert!(
                err.to_string().starts_with(&format!(
                    "nodes exceeds the configured limit of {}",
                    allowed + 1
                )),
                "{err}"
            );
            assert!(err
                .to_string()
                .ends_with(&format!("at byte {}", err.offset)));
            // The same trace is refused by the edge limit.
            let edges = Limits::default().with_max_edges(allowed as u64);
            let by_edges = both(&bytes, &with(edges)).unwrap_err();
            assert_eq!(by_edges.offset, err.offset);
            assert_eq!(
                by_edges.kind,
                Kind::Graph(BuildError::LimitExceeded {
                    what: "edges",
                    limit: allowed as u64
                })
            );
        }
    }
}

#[test]
fn strings_beyond_max_string_bytes_are_refused_at_their_opcode() {
    for name in ["app_a.p5.pickle", "mixed_1.p0.pickle", "mixed_1.p2.pickle"] {
        let bytes = std::fs::read(path(name)).unwrap();
        let snap = parse(&bytes, &ParseOptions::default()).unwrap();
        let total: u64 = snap.strings().iter().map(|(_, s)| s.len() as u64).sum();
        assert!(total > 40, "{name}: {total}");
        let exact = Limits::default().with_max_string_bytes(total);
        assert_eq!(both(&bytes, &with(exact)), Ok(snap.trace_count()));
        for limit in [0, 10, total / 2, total - 1] {
            let options = with(Limits::default().with_max_string_bytes(limit));
            let err = both(&bytes, &options).unwrap_err();
            let Kind::Graph(BuildError::TooManyStrings(too_many)) = &err.kind else {
                panic!("{name}: {err}");
            };
            assert_eq!(too_many.byte_limit(), Some(limit));
            // A string opcode: SHORT_BINUNICODE, BINUNICODE(8), UNICODE.
            let op = bytes[err.offset as usize];
            assert!(
                [0x8c, b'X', 0x8d, b'V'].contains(&op),
                "{name}: {err}: {op:#x}"
            );
            assert!(err
                .to_string()
                .ends_with(&format!("at byte {}", err.offset)));
        }
    }
}

#[test]
fn the_file_reader_takes_the_same_limits() {
    let file = path("app_b.p5.pickle");
    let traces = parse(&std::fs::read(&file).unwrap(), &ParseOptions::default())
        .unwrap()
        .trace_count();
    let ok = parse_file(&file, &ParseOptions::default()).unwrap();
    assert_eq!(ok.trace_count(), traces);
    let err = parse_file(&file, &with(Limits::default().with_max_nodes(2))).unwrap_err();
    assert!(matches!(
        err.kind,
        Kind::Graph(BuildError::LimitExceeded { what: "nodes", .. })
    ));
}

/// A snapshot read exactly within `max_string_bytes` has no room for its
/// graph's `file:line` node names: building the graph is refused with the
/// builder's error (every time it is asked), never a silent empty graph;
/// the trace table and its statistics stay usable. With room, it builds.
#[test]
fn a_graph_beyond_the_limits_is_an_error() {
    let bytes = std::fs::read(path("mixed_1.p5.pickle")).unwrap();
    let snap = parse(&bytes, &ParseOptions::default()).unwrap();
    let total: u64 = snap.strings().iter().map(|(_, s)| s.len() as u64).sum();
    let tight = parse(
        &bytes,
        &with(Limits::default().with_max_string_bytes(total)),
    )
    .unwrap();
    assert_eq!(tight.trace_count(), snap.trace_count());
    for _ in 0..2 {
        match tight.graph() {
            Err(BuildError::TooManyStrings(too_many)) => {
                assert_eq!(too_many.byte_limit(), Some(total));
            }
            other => panic!("{other:?}"),
        }
    }
    let graph = snap.graph().unwrap();
    let names: u64 = graph.strings().iter().map(|(_, s)| s.len() as u64).sum();
    let roomy = parse(
        &bytes,
        &with(Limits::default().with_max_string_bytes(names)),
    )
    .unwrap();
    assert_eq!(roomy.graph().unwrap().node_count(), graph.node_count());
}
