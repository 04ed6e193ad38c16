//! The real dumps in `../shared/corpus/hprof/`.
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
    let file = corpus("netbeans-jdk8-64bit.hprof");
    let golden = gunzip_text(&corpus("netbeans-jdk8-64bit.golden.txt.gz"));
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
    let file = corpus("netbeans-jdk8-64bit.hprof");
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
    let file = corpus("netbeans-jdk8-64bit.hprof");
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
    let file = corpus("jhat-jdk6-32bit.hprof");
    let dump = parse(&file, &HprofOptions::default()).unwrap();
    assert_eq!(dump.id_size(), 4);
    let graph = dump.graph();
    let stats = dump.record_stats();
    eprintln!("{stats:#?}");
    let objects = graph.nodes().filter(|&n| is_object(graph.kind(n))).count();
    let classes = graph
        .nodes()
        .filter(|&n| graph.kind(n) == NodeKind::Class)
        .count();
    eprintln!(
        "objects {objects} classes {classes} stacks {} frames {}",
        graph.stacks().stack_count(),
        graph.stacks().frame_count()
    );
    assert!(graph.stacks().stack_count() > 0);
    assert!(graph.has_node_stacks());
    let with_stack = graph
        .nodes()
        .filter(|&n| graph.node_stack(n).is_some())
        .count();
    eprintln!("with stack {with_stack}");
    assert!(with_stack > 0);
}
