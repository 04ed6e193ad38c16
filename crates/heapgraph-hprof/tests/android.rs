//! An Android ART 1.0.3 dump from `testdata/hprof/gen/gen-android.py`
//! (which follows ART's `runtime/hprof/hprof.cc`), plus the same dump with
//! sub-records split across segments.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

mod common;

use common::*;
use heapgraph_core::{EdgeKind, EdgeLabel, NodeKind, RootKind};
use heapgraph_hprof::{parse, HprofDump, HprofOptions, HprofVersion};

fn field_target(
    dump: &HprofDump,
    node: heapgraph_core::NodeIndex,
    name: &str,
) -> Option<(heapgraph_core::NodeIndex, EdgeKind)> {
    let graph = dump.graph();
    graph
        .edges(node)
        .find(|e| matches!(e.label, EdgeLabel::Name(s) if graph.strings().bytes(s) == name.as_bytes()))
        .map(|e| (e.target, e.kind))
}

#[test]
fn art_dump_heaps_roots_and_strings() {
    let file = testdata("android-art-1.0.3.hprof");
    let dump = parse(&file, &HprofOptions::default()).unwrap();
    assert_eq!(dump.version(), HprofVersion::V1_0_3);
    assert_eq!(dump.id_size(), 4);
    let graph = dump.graph();
    assert_eq!(
        graph.info().producer,
        "Android (JAVA PROFILE 1.0.3, 4-byte ids)"
    );
    let stats = dump.record_stats();
    assert!(stats.records[&0x1C].0 > 3, "several segments: {stats:?}");
    assert_eq!(stats.sub_records[&0xC3], 1);
    assert!(stats.sub_records[&0xFE] > 3);
    assert_eq!(stats.heap_dump_ends, 1);

    // Every heap object is a node: 13 classes, 300 chain nodes, ...
    let classes = graph
        .nodes()
        .filter(|&n| graph.kind(n) == NodeKind::Class)
        .count();
    assert_eq!(classes, 13);
    let nodes = graph
        .nodes()
        .filter(|&n| graph.kind(n) == NodeKind::Object && graph.name_str(n) == "com.example.Node")
        .count();
    assert_eq!(nodes, 300);

    // Heap names per object.
    let by_name = |name: &str| {
        graph
            .nodes()
            .find(|&n| graph.name_str(n) == name && graph.kind(n) == NodeKind::Class)
            .unwrap()
    };
    assert_eq!(dump.heap_name(by_name("java.lang.String")), Some("image"));
    assert_eq!(dump.heap_name(by_name("com.example.App")), Some("app"));
    let loader = graph.node_by_object_id(0x12C00200).unwrap();
    assert_eq!(graph.name_str(loader), "dalvik.system.PathClassLoader");
    assert_eq!(dump.heap_name(loader), Some("zygote"));

    // ART root kinds keep their kind.
    let kinds: Vec<RootKind> = graph.root_groups().iter().map(|g| g.1).collect();
    for kind in [
        RootKind::InternedString,
        RootKind::VmInternal,
        RootKind::JniMonitor,
        RootKind::Debugger,
        RootKind::JniGlobal,
        RootKind::ThreadObject,
        RootKind::StickyClass,
        RootKind::NativeStack,
    ] {
        assert!(kinds.contains(&kind), "{kind:?} in {kinds:?}");
    }
    // The JAVA FRAME root became an edge from its thread.
    assert!(!kinds.contains(&RootKind::JavaFrame));
    let thread = graph.node_by_object_id(0x12C00700).unwrap();
    let (head, _) = field_target(&dump, thread, "<Java Local>").unwrap();
    assert_eq!(graph.object_id(head), 0x12D00000);

    // Chain of 300 through `next`, fields laid out own class first.
    let app = by_name("com.example.App");
    let (mut node, _) = field_target(&dump, app, "root").unwrap();
    assert_eq!(node, head);
    let mut length = 1;
    while let Some((next, _)) = field_target(&dump, node, "next") {
        node = next;
        length += 1;
    }
    assert_eq!(length, 300);
    // Weak referent typed.
    let (weak, _) = field_target(&dump, app, "weak").unwrap();
    let (referent, kind) = field_target(&dump, weak, "referent").unwrap();
    assert_eq!(kind, EdgeKind::Weak);
    assert_eq!(graph.object_id(referent), 0x12D00000 + 0x20 * 150);
    // `$classOverhead` fake arrays hang off class statics.
    let (overhead, _) = field_target(&dump, app, "$classOverhead").unwrap();
    assert_eq!(graph.name_str(overhead), "byte[]");
    assert_eq!(graph.object_id(overhead), graph.object_id(app) | 1);

    // Strings: compressed byte[] and UTF-16 char[] values.
    let (text, _) = field_target(&dump, app, "text").unwrap();
    assert_eq!(
        dump.java_string_value(&file, text).unwrap(),
        "caf\u{e9} \u{20ac}"
    );
    let (label, _) = field_target(&dump, head, "label").unwrap();
    assert_eq!(dump.java_string_value(&file, label).unwrap(), "hello");

    // Sizes (MAT model, 4-byte ids and refs): Node = align8(8 + 4 + 4 + 4 + 4 + 4).
    assert_eq!(graph.self_size(head), 32);
    // The NODATA int[50] has a size but no readable contents.
    let nodata = graph.node_by_object_id(0x12C01400).unwrap();
    assert_eq!(graph.self_size(nodata), 8 + 4 + 4 + 200);
    assert!(dump.primitive_array(&file, nodata).is_none());
    let garbage = graph.node_by_object_id(0x12C00400).unwrap();
    let (ty, data) = dump.primitive_array(&file, garbage).unwrap();
    assert_eq!(
        (ty, data.len()),
        (heapgraph_hprof::PrimitiveType::Int, 4000)
    );
    assert_eq!(graph.diagnostics().dangling_edges, 0);
    assert_eq!(graph.diagnostics().unresolved_references, 0);
}

#[test]
fn sub_records_split_across_segments_read_as_one_stream() {
    let whole = parse(
        &testdata("android-art-1.0.3.hprof"),
        &HprofOptions::default(),
    )
    .unwrap();
    let split_file = testdata("android-art-1.0.3-split.hprof");
    let split = parse(&split_file, &HprofOptions::default()).unwrap();
    assert!(
        split.record_stats().split_sub_records > 5,
        "{:?}",
        split.record_stats()
    );
    let (a, b) = (whole.graph(), split.graph());
    assert_eq!(a.node_count(), b.node_count());
    assert_eq!(a.edge_count(), b.edge_count());
    assert!(a.object_ids().eq(b.object_ids()));
    assert_eq!(a.self_sizes(), b.self_sizes());
    assert_eq!(a.edge_targets(), b.edge_targets());
    assert_eq!(a.edge_kinds(), b.edge_kinds());
    for node in a.nodes() {
        assert_eq!(whole.heap_name(node), split.heap_name(node));
    }
}
