//! The real dumps in `../shared/corpus/hprof/` (skipped when it is absent).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

mod common;

use std::collections::HashMap;

use common::*;
use heapgraph_core::{EdgeKind, NodeKind, RootKind};
use heapgraph_hprof::{parse, HprofOptions, HprofVersion, SizeModel};

/// NetBeans' golden output lists per class its id, instance count and the
/// raw-model bytes of all instances; the raw model must reproduce them all.
#[test]
fn netbeans_golden_counts_and_raw_sizes() {
    let Some(file) = corpus("netbeans-jdk8-64bit.hprof") else {
        return;
    };
    let golden = corpus("netbeans-jdk8-64bit.golden.txt.gz").expect("beside its dump");
    let golden = gunzip_text(&golden);
    let dump = parse(
        &file,
        &HprofOptions::default().with_size_model(SizeModel::Raw),
    )
    .unwrap();
    assert_eq!(dump.version(), HprofVersion::V1_0_1);
    assert_eq!(dump.id_size(), 8);
    let graph = dump.graph();
    assert_eq!(
        graph.info().producer,
        "HotSpot (JAVA PROFILE 1.0.1, 8-byte ids)"
    );

    // Per class node (by object id): instance count and raw bytes.
    let mut ours: HashMap<u64, (u64, u64)> = HashMap::new();
    let mut live_instances = 0u64;
    let mut live_bytes = 0u64;
    for node in graph.nodes() {
        if is_object(graph.kind(node)) {
            let class = class_of(graph, node).expect("every object has a class edge");
            let e = ours.entry(graph.object_id(class)).or_default();
            e.0 += 1;
            e.1 += graph.self_size(node);
            live_instances += 1;
            live_bytes += graph.self_size(node);
        }
    }
    assert_eq!(live_instances, 7788);
    assert_eq!(live_bytes, 2_635_552);
    assert!(golden.contains("Live instances 7788\n"));
    assert!(golden.contains("Live bytes 2635552\n"));

    let mut classes = 0;
    for line in golden.lines().filter(|l| l.starts_with(" Id 0x")) {
        let id = u64::from_str_radix(line[6..].split(' ').next().unwrap(), 16).unwrap();
        let name = line
            .split(" Class ")
            .nth(1)
            .unwrap()
            .split(" SuperClass")
            .next()
            .unwrap();
        let count: u64 = line
            .split("Instance count ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let bytes: u64 = line
            .split("All Instances Size ")
            .nth(1)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let class_node = graph.node_by_object_id(id).expect("class node");
        assert_eq!(graph.kind(class_node), NodeKind::Class);
        assert_eq!(graph.name_str(class_node), name, "class 0x{id:x}");
        assert_eq!(
            ours.get(&id).copied().unwrap_or_default(),
            (count, bytes),
            "{name}"
        );
        classes += 1;
    }
    assert_eq!(classes, 474);
    assert_eq!(graph.diagnostics().dangling_edges, 0);
    // The dump has sticky-class and thread roots.
    let kinds: Vec<RootKind> = graph.root_groups().iter().map(|g| g.1).collect();
    assert!(
        kinds.contains(&RootKind::StickyClass) && kinds.contains(&RootKind::ThreadObject),
        "{kinds:?}"
    );
}

#[test]
fn netbeans_strings_decode_lazily() {
    let Some(file) = corpus("netbeans-jdk8-64bit.hprof") else {
        return;
    };
    let dump = parse(&file, &HprofOptions::default()).unwrap();
    let graph = dump.graph();
    let texts: Vec<String> = graph
        .nodes()
        .filter(|&n| graph.kind(n) == NodeKind::Object && graph.name_str(n) == "java.lang.String")
        .filter_map(|n| dump.java_string_value(&file, n))
        .collect();
    assert!(texts.len() > 1000, "{}", texts.len());
    assert!(
        texts.iter().any(|t| t == "simple.Monitor"),
        "sun.java.command value"
    );
    assert!(texts.iter().any(|t| t == "java.vm.name"));
}

#[test]
fn netbeans_weak_references_are_typed() {
    let Some(file) = corpus("netbeans-jdk8-64bit.hprof") else {
        return;
    };
    let dump = parse(&file, &HprofOptions::default()).unwrap();
    let graph = dump.graph();
    let weak = graph
        .nodes()
        .flat_map(|n| graph.edges(n))
        .filter(|e| e.kind == EdgeKind::Weak)
        .count();
    let final_refs = graph
        .nodes()
        .flat_map(|n| graph.edges(n))
        .filter(|e| e.kind == EdgeKind::Final)
        .count();
    assert!(weak > 10, "weak referent edges: {weak}");
    assert!(final_refs > 0, "finalizer referent edges: {final_refs}");
}

/// The JVMTI `hprof` agent's dump: 4-byte ids, allocation stack traces.
#[test]
fn jhat_jdk6_32bit() {
    let Some(file) = corpus("jhat-jdk6-32bit.hprof") else {
        return;
    };
    let dump = parse(&file, &HprofOptions::default()).unwrap();
    assert_eq!(dump.id_size(), 4);
    let graph = dump.graph();
    let stats = dump.record_stats();
    // Every heap object of the dump is a node: 1293 instances, 423 object
    // arrays, 849 primitive arrays and 361 classes (sub-record counts).
    let count = |tag: u8| stats.sub_records.get(&tag).copied().unwrap_or(0) as usize;
    let objects = graph.nodes().filter(|&n| is_object(graph.kind(n))).count();
    let classes = graph
        .nodes()
        .filter(|&n| graph.kind(n) == NodeKind::Class)
        .count();
    assert_eq!(objects, count(0x21) + count(0x22) + count(0x23));
    assert_eq!((objects, classes), (2565, 361));
    assert_eq!(classes, count(0x20));
    // The JVMTI agent writes ALLOC SITES / CONTROL SETTINGS / thread
    // records: counted, not dropped.
    for tag in [0x06u8, 0x0A, 0x0E] {
        assert!(stats.records.contains_key(&tag), "record 0x{tag:02X}");
    }
    assert_eq!(stats.unknown_records, 0);
    assert!(graph.stacks().stack_count() > 0);
    assert!(graph.has_node_stacks());
    let with_stack = graph
        .nodes()
        .filter(|&n| graph.node_stack(n).is_some())
        .count();
    assert!(with_stack > 0);
}

#[test]
fn jhat_stack_frames_are_readable() {
    let Some(file) = corpus("jhat-jdk6-32bit.hprof") else {
        return;
    };
    let dump = parse(&file, &HprofOptions::default()).unwrap();
    let graph = dump.graph();
    let stacks = graph.stacks();
    let node = graph
        .nodes()
        .find(|&n| graph.node_stack(n).is_some())
        .unwrap();
    let stack = graph.node_stack(node).unwrap();
    let innermost = stacks.frame(stacks.innermost_frame(stack));
    // e.g. "java.lang.Thread.<init> (Thread.java:432)": class-qualified
    // method, source file, line.
    let function = graph.strings().get(innermost.function).into_owned();
    assert!(
        function.contains('.') && !function.contains('/'),
        "{function}"
    );
    assert!(graph.strings().get(innermost.file).ends_with(".java"));
    let with_lines = (0..stacks.frame_count())
        .filter(|&i| stacks.frame(heapgraph_core::FrameId::new(i as u32)).line > 0)
        .count();
    assert!(
        with_lines * 2 > stacks.frame_count(),
        "{with_lines}/{}",
        stacks.frame_count()
    );
    assert!(!dump.thread_stacks().is_empty());
}
