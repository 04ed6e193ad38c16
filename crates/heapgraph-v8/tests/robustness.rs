//! Truncated, corrupted and hostile input: errors with offsets, never a
//! panic; and the specific errors and warnings the reader promises.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{load, testdata};
use heapgraph_core::{EdgeKind, NodeIndex, NodeKind, RootKind};
use heapgraph_v8::{parse_heapprofile, parse_snapshot, V8ErrorKind, V8Warning};

/// A small snapshot using every section, escapes included.
const FULL: &str = r#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],
"node_types":[["hidden","array","string","object","code","closure","regexp","number","native","synthetic"],"string","number","number","number","number","number"],
"edge_fields":["type","name_or_index","to_node"],
"edge_types":[["context","element","property","internal","hidden","shortcut","weak"],"string_or_number","node"],
"trace_function_info_fields":["function_id","name","script_name","script_id","line","column"],
"trace_node_fields":["id","function_info_index","count","size","children"],
"sample_fields":["timestamp_us","last_assigned_id"],
"location_fields":["object_index","script_id","line","column"],
"scope_fields":["script_node_index","scope_id"]},
"node_count":4,"edge_count":4,"trace_function_count":2,"extra_native_bytes":77},
"nodes":[9,1,1,0,2,0,0,
9,2,3,0,1,0,0,
5,3,5,32,1,2,0,
3,4,7,24,0,0,2],
"edges":[1,1,7,5,5,14,
1,0,14,
0,6,21],
"trace_function_infos":[0,7,0,0,0,0,1,3,8,4,10,3],
"trace_tree":[1,0,1,32,[2,1,1,32,[]]],
"samples":[10,5,20,7],
"locations":[14,4,9,2],
"scopes":[14,-2,14,8],
"future_section":{"a":[1,2,{"b":"]"}]},
"strings":["<dummy>","","(GC roots)","makeThing","Wid\"get \u00e9\ud83d\ude00\ud800","global","val","(root)","file:\/\/\/x.js"]}"#;

#[test]
fn full_snapshot_reads_every_section() {
    let snapshot = parse_snapshot(FULL.as_bytes()).unwrap();
    let graph = &snapshot.graph;
    assert_eq!(graph.node_count(), 4);
    assert_eq!(graph.edge_count(), 4);
    assert_eq!(snapshot.extra_native_bytes, Some(77));
    assert_eq!(
        graph.strings().bytes(graph.name(NodeIndex::new(3))),
        b"Wid\"get \xC3\xA9\xF0\x9F\x98\x80\xED\xA0\x80"
    );
    // (GC roots) = node 1 holds a closure directly (as Bun does), so it is
    // the engine root group itself.
    assert_eq!(graph.root_kind(NodeIndex::new(1)), Some(RootKind::Engine));
    assert_eq!(graph.root_kind(NodeIndex::new(2)), None);
    let edges: Vec<_> = graph.edges(NodeIndex::ROOT).collect();
    assert_eq!(edges[1].kind, EdgeKind::Shortcut);
    assert_eq!(
        graph.strings().get(match edges[1].label {
            heapgraph_core::EdgeLabel::Name(s) => s,
            _ => unreachable!(),
        }),
        "global"
    );
    assert_eq!(snapshot.trace_function_infos.len(), 2);
    assert_eq!(snapshot.trace_nodes.len(), 2);
    let stack = graph.node_stack(NodeIndex::new(2)).unwrap();
    let frame = graph.stacks().frame(graph.stacks().innermost_frame(stack));
    assert_eq!(graph.strings().get(frame.function), "makeThing");
    assert_eq!(graph.strings().get(frame.file), "file:///x.js");
    assert_eq!((frame.line, frame.column), (10, 3));
    assert_eq!(graph.stacks().depth(stack), 1, "(root) is not a frame");
    assert_eq!(graph.node_stack(NodeIndex::new(3)), None);
    assert_eq!(snapshot.samples.len(), 2);
    assert_eq!(snapshot.samples[1].last_assigned_id, 7);
    assert_eq!(snapshot.locations[0].node, NodeIndex::new(2));
    assert_eq!(
        snapshot.scopes.as_ref().unwrap().scopes.values,
        vec![14, -2, 14, 8]
    );
    use heapgraph_core::DomState::{Detached, Unknown};
    assert_eq!(
        snapshot.detachedness.as_deref(),
        Some(&[Unknown, Unknown, Unknown, Detached][..])
    );
    assert!(snapshot
        .warnings
        .iter()
        .any(|w| matches!(w, V8Warning::UnknownSection { name, .. } if name == "future_section")));
}

#[test]
fn every_prefix_of_a_snapshot_is_an_error_at_or_before_its_end() {
    let bytes = FULL.as_bytes();
    for len in 0..bytes.len() {
        let prefix = &bytes[..len];
        match parse_snapshot(prefix) {
            Ok(_) => panic!("prefix of {len} bytes parsed"),
            Err(e) => {
                assert!(e.offset <= len as u64, "{len}: {e}");
                if let V8ErrorKind::Truncated { .. } = e.kind {
                    assert_eq!(e.offset, len as u64, "{e}");
                }
            }
        }
    }
}

#[test]
fn prefixes_of_a_real_snapshot() {
    let bytes = load(&testdata("node20-tracked.heapsnapshot.gz"));
    // The first 3000 bytes one by one (the header), then 150 cuts spread
    // over the file.
    let cuts = (0..3000).chain((1..150).map(|i| i * bytes.len() / 150));
    for len in cuts {
        let err = parse_snapshot(&bytes[..len]).unwrap_err();
        assert_eq!(err.offset, len as u64, "{len}: {err}");
        assert!(err.to_string().contains("truncated"), "{err}");
    }
}

/// A tiny deterministic generator.
fn lcg(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *state >> 33
}

#[test]
fn corrupted_bytes_never_panic() {
    let bytes = FULL.as_bytes();
    let replacements = [
        b'0', b'9', b'-', b'"', b'[', b']', b'{', b'}', b',', b'\\', 0xFF, b'x',
    ];
    for pos in 0..bytes.len() {
        for &r in &replacements {
            let mut copy = bytes.to_vec();
            copy[pos] = r;
            if let Err(e) = parse_snapshot(&copy) {
                assert!(e.offset <= copy.len() as u64);
                assert!(!e.to_string().is_empty());
            }
        }
    }
    // Some random mutations of a real file.
    let real = load(&testdata("bun-baseline.heapsnapshot.gz"));
    let mut state = 7;
    for _ in 0..25 {
        let mut copy = real.clone();
        for _ in 0..3 {
            let pos = lcg(&mut state) as usize % copy.len();
            copy[pos] = replacements[lcg(&mut state) as usize % replacements.len()];
        }
        if let Err(e) = parse_snapshot(&copy) {
            assert!(e.offset <= copy.len() as u64);
        }
    }
}

fn err_kind(json: &str) -> (u64, V8ErrorKind, String) {
    let e = parse_snapshot(json.as_bytes()).unwrap_err();
    (e.offset, e.kind.clone(), e.to_string())
}

const META: &str = r#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count"],
"node_types":[["synthetic","object"]],"edge_fields":["type","name_or_index","to_node"],
"edge_types":[["element","property"]]}},"#;

#[test]
fn specific_errors() {
    let (_, kind, text) = err_kind(&format!(
        r#"{META}"nodes":[0,0,1,0,1, 1,0,3,0,0],"edges":[0,0,7],"strings":[""]}}"#
    ));
    assert!(
        matches!(
            kind,
            V8ErrorKind::MisalignedNodePosition {
                position: 7,
                field_count: 5,
                ..
            }
        ),
        "{text}"
    );
    let json = format!(r#"{META}"nodes":[0,0,1,0,1, 1,0,3,0,0],"edges":[0,0,10],"strings":[""]}}"#);
    let (offset, kind, _) = err_kind(&json);
    assert!(matches!(
        kind,
        V8ErrorKind::IndexOutOfRange { index: 2, .. }
    ));
    assert_eq!(
        offset as usize,
        json.find("10]").unwrap(),
        "the offset of `10`"
    );
    let (_, kind, _) = err_kind(&format!(
        r#"{META}"nodes":[0,9,1,0,0],"edges":[],"strings":[""]}}"#
    ));
    assert!(matches!(
        kind,
        V8ErrorKind::IndexOutOfRange {
            what: "string index",
            index: 9,
            ..
        }
    ));
    let (_, kind, _) = err_kind(&format!(
        r#"{META}"nodes":[0,0,1,0,2],"edges":[0,0,0],"strings":[""]}}"#
    ));
    assert!(matches!(
        kind,
        V8ErrorKind::EdgeCountMismatch {
            declared: 2,
            found: 1
        }
    ));
    let (_, kind, _) = err_kind(&format!(
        r#"{META}"nodes":[0,0,1,0,0],"edges":[0,0,0],"strings":[""]}}"#
    ));
    assert!(matches!(kind, V8ErrorKind::EdgeCountMismatch { .. }));
    let (_, kind, _) = err_kind(&format!(
        r#"{META}"nodes":[0,0,1,0],"edges":[],"strings":[""]}}"#
    ));
    assert!(matches!(
        kind,
        V8ErrorKind::RaggedArray {
            len: 4,
            width: 5,
            ..
        }
    ));
    let (_, kind, _) = err_kind(&format!(
        r#"{META}"nodes":[0,0,-1,0,0],"edges":[],"strings":[""]}}"#
    ));
    assert!(
        matches!(kind, V8ErrorKind::Syntax { found: '-', .. }),
        "signed only in scopes"
    );
    let (_, kind, _) = err_kind(&format!(
        r#"{META}"nodes":[5,0,1,0,0],"edges":[],"strings":[""]}}"#
    ));
    assert!(matches!(
        kind,
        V8ErrorKind::IndexOutOfRange {
            what: "node type",
            ..
        }
    ));
    let (_, kind, _) = err_kind(&format!(r#"{META}"nodes":[],"edges":[]}}"#));
    assert_eq!(kind, V8ErrorKind::MissingSection { section: "strings" });
    let (_, kind, _) = err_kind(&format!(
        r#"{META}"nodes":[],"nodes":[],"edges":[],"strings":[]}}"#
    ));
    assert_eq!(kind, V8ErrorKind::DuplicateSection { section: "nodes" });
    let (_, kind, _) = err_kind(
        r#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size"],"node_types":[["x"]]}},"nodes":[],"edges":[],"strings":[]}"#,
    );
    assert_eq!(
        kind,
        V8ErrorKind::MissingColumn {
            list: "node_fields",
            column: "edge_count"
        }
    );
    let (offset, kind, text) = err_kind("[1,2]");
    assert_eq!(offset, 0);
    assert!(
        matches!(kind, V8ErrorKind::Syntax { found: '[', .. }),
        "{text}"
    );
    assert_eq!(
        text,
        "in section `top level`: expected `{`, found '[' at byte 0"
    );
    let (_, kind, _) = err_kind(&format!(
        r#"{META}"nodes":[0,0,1,0,0],"edges":[],"strings":["\q"]}}"#
    ));
    assert!(matches!(
        kind,
        V8ErrorKind::Syntax {
            expected: "a JSON escape",
            ..
        }
    ));
}

#[test]
fn counts_lie_arrays_win_and_root_index_swaps() {
    let json = String::from(
        r#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count"],
"node_types":[["synthetic","object"]],"edge_fields":["type","name_or_index","to_node"],
"edge_types":[["element","property"]]},"node_count":9,"edge_count":1,"root_index":10},
"nodes":[1,1,11,8,1, 1,1,13,8,0, 0,2,1,0,1],"edges":[1,3,5, 0,4,0],"strings":["<dummy>","Thing","(root)","next"]}"#,
    );
    let snapshot = parse_snapshot(json.as_bytes()).unwrap();
    let graph = &snapshot.graph;
    assert!(snapshot.warnings.contains(&V8Warning::CountMismatch {
        field: "node_count",
        header: 9,
        actual: 3
    }));
    assert!(snapshot.warnings.contains(&V8Warning::CountMismatch {
        field: "edge_count",
        header: 1,
        actual: 2
    }));
    // File node 2 (position 10) is the root, swapped with file node 0.
    assert_eq!(graph.name_str(NodeIndex::ROOT), "(root)");
    assert_eq!(graph.object_id(NodeIndex::ROOT), 1);
    assert_eq!(graph.object_id(NodeIndex::new(2)), 11);
    // Root's edge (file: node 2 -> node 0, element 4) now points at index 2.
    let root_edges: Vec<_> = graph.edges(NodeIndex::ROOT).collect();
    assert_eq!(root_edges.len(), 1);
    assert_eq!(root_edges[0].target, NodeIndex::new(2));
    // File node 0's edge (to node 1, "next") now leaves index 2.
    let moved: Vec<_> = graph.edges(NodeIndex::new(2)).collect();
    assert_eq!((moved.len(), moved[0].target), (1, NodeIndex::new(1)));
    assert_eq!(graph.edge_label_str(moved[0].index), "next");

    let bad = json.replace("\"root_index\":10", "\"root_index\":20");
    assert!(matches!(
        parse_snapshot(bad.as_bytes()).unwrap_err().kind,
        V8ErrorKind::IndexOutOfRange { .. }
    ));
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    // trace_tree 200k levels deep.
    let depth = 200_000;
    let mut tree = String::new();
    for i in 0..depth {
        tree.push_str(&format!("{},0,1,1,[", i + 1));
    }
    tree.push_str(&"]".repeat(depth));
    let json = format!(
        r#"{{"snapshot":{{"meta":{{"node_fields":["type","name","id","self_size","edge_count"],"node_types":[["synthetic"]],
"edge_fields":["type","name_or_index","to_node"],"edge_types":[["element"]],
"trace_function_info_fields":["function_id","name","script_name","script_id","line","column"],
"trace_node_fields":["id","function_info_index","count","size","children"]}}}},
"nodes":[],"edges":[],"trace_function_infos":[0,0,0,0,0,0],"trace_tree":[{tree}],"strings":[""]}}"#
    );
    let err = parse_snapshot(json.as_bytes()).unwrap_err();
    assert!(matches!(err.kind, V8ErrorKind::TooDeep { .. }), "{err}");

    let mut profile = String::from(r#"{"head":"#);
    for i in 0..depth {
        profile.push_str(&format!(r#"{{"id":{},"selfSize":0,"children":["#, i + 1));
    }
    for _ in 0..depth {
        profile.push_str("]}");
    }
    profile.push_str(r#","samples":[]}"#);
    let err = parse_heapprofile(profile.as_bytes()).unwrap_err();
    assert!(matches!(err.kind, V8ErrorKind::TooDeep { .. }), "{err}");
    // Skipping an unknown deep value is refused the same way.
    let deep = format!("{{\"x\":{}{}}}", "[".repeat(depth), "]".repeat(depth));
    assert!(matches!(
        parse_snapshot(deep.as_bytes()).unwrap_err().kind,
        V8ErrorKind::TooDeep { .. }
    ));
}

#[test]
fn every_prefix_and_corruption_of_a_profile() {
    let bytes = load(&testdata("node.heapprofile"));
    // Cuts every 7 bytes (the file is 54 KB).
    for len in (0..bytes.len()).step_by(7) {
        let err = parse_heapprofile(&bytes[..len]).unwrap_err();
        assert_eq!(err.offset, len as u64, "{len}: {err}");
    }
    let mut state = 11;
    let replacements = [
        b'0', b'-', b'"', b'[', b']', b'{', b'}', b',', b':', b'\\', 0xFF,
    ];
    for _ in 0..2000 {
        let mut copy = bytes.clone();
        let pos = lcg(&mut state) as usize % copy.len();
        copy[pos] = replacements[lcg(&mut state) as usize % replacements.len()];
        if let Err(e) = parse_heapprofile(&copy) {
            assert!(e.offset <= copy.len() as u64);
        }
    }
    assert!(matches!(
        parse_heapprofile(br#"{"samples":[]}"#).unwrap_err().kind,
        V8ErrorKind::MissingSection { section: "head" }
    ));
}

mod arbitrary {
    use super::FULL;
    use heapgraph_v8::{parse_heapprofile, parse_snapshot};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Random bytes and random splices of a valid snapshot: an `Ok` or
        /// an error inside the input, never a panic.
        #[test]
        fn random_edits_never_panic(
            cut in 0usize..FULL.len(),
            len in 0usize..40,
            insert in prop::collection::vec(
                prop::sample::select(b"0123456789-,[]{}\":\\ un".to_vec()), 0..40),
        ) {
            let mut bytes = FULL.as_bytes().to_vec();
            let end = (cut + len).min(bytes.len());
            bytes.splice(cut..end, insert);
            if let Err(e) = parse_snapshot(&bytes) {
                prop_assert!(e.offset <= bytes.len() as u64);
            }
            if let Err(e) = parse_heapprofile(&bytes) {
                prop_assert!(e.offset <= bytes.len() as u64);
            }
        }

        #[test]
        fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let _ = heapgraph_v8::is_heapsnapshot(&bytes);
            let _ = heapgraph_v8::is_heapprofile(&bytes);
            if let Err(e) = parse_snapshot(&bytes) {
                prop_assert!(e.offset <= bytes.len() as u64);
            }
            if let Err(e) = parse_heapprofile(&bytes) {
                prop_assert!(e.offset <= bytes.len() as u64);
            }
        }
    }
}

/// V8 of 2016-2017 (Node 6 to 8) listed 12 node types in its meta but
/// wrote symbols as type 12: those nodes are read as `symbol`, with a
/// warning saying how many; an index past a list that does not follow
/// V8's order is still an error at its offset.
#[test]
fn unlisted_node_type_12_is_a_symbol() {
    let types = r#"["hidden","array","string","object","code","closure","regexp","number","native","synthetic","concatenated string","sliced string"]"#;
    let json = format!(
        r#"{{"snapshot":{{"meta":{{"node_fields":["type","name","id","self_size","edge_count"],
"node_types":[{types}],"edge_fields":["type","name_or_index","to_node"],
"edge_types":[["element","property"]]}}}},
"nodes":[9,0,1,0,2, 12,1,3,16,0, 12,1,5,16,0],"edges":[0,0,5,0,1,10],"strings":["","symbol"]}}"#
    );
    let snapshot = parse_snapshot(json.as_bytes()).unwrap();
    let graph = &snapshot.graph;
    for k in [1, 2] {
        assert_eq!(graph.kind(NodeIndex::new(k)), NodeKind::Symbol);
    }
    let warning = V8Warning::UndeclaredNodeType {
        index: 12,
        name: "symbol",
        count: 2,
    };
    assert!(
        snapshot.warnings.contains(&warning),
        "{:?}",
        snapshot.warnings
    );
    assert_eq!(
        warning.to_string(),
        "2 nodes use node type 12, which meta.node_types does not list; read as `symbol` \
         (V8's name for that index)"
    );

    // Types not in V8's order: an unlisted index stays an error.
    let (offset, kind, _) = err_kind(&format!(
        r#"{META}"nodes":[0,0,1,0,1, 2,0,3,0,0],"edges":[0,0,5],"strings":[""]}}"#
    ));
    assert!(
        matches!(
            kind,
            V8ErrorKind::IndexOutOfRange {
                what: "node type",
                index: 2,
                len: 2,
                ..
            }
        ),
        "{kind:?}"
    );
    assert_eq!(
        &format!(r#"{META}"nodes":[0,0,1,0,1, 2"#)[offset as usize..],
        "2"
    );
}
