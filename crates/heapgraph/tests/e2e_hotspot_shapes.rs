//! End to end: retained sizes of the structures `testdata/hprof/gen/HeapShapes.java`
//! builds in a real OpenJDK 17 dump (64-bit, compressed oops, MAT size
//! model), against sizes worked out by hand from the Java source.
//!
//! MAT model sizes used below (header 12, references 4, 8-byte alignment):
//! `ChainNode` {int, ref} = 24; `CacheValue` {ref, ref} = 24;
//! `HashMap$Node` {int, 3 refs} = 32; `HashMap` (6 refs/ints + float) = 48;
//! `String` {ref, int, byte, bool} = 24; `byte[n]` = align8(16 + n);
//! `Node[512]` = 16 + 4·512 = 2064; `SharedLeaf` {ref, ref} = 24;
//! `long[16]` = 144; `Referent` {ref} = 16; `int[32]` = 144;
//! `SoftReference` (4 refs + long) = 40.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

use std::io::Read;

use heapgraph_analysis::{EdgePolicy, HeapAnalysis};
use heapgraph_core::{EdgeLabel, HeapGraph, NodeIndex, NodeKind};
use heapgraph_hprof::{parse, HprofOptions};

fn dump_bytes() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/hprof/hotspot-jdk17-shapes.hprof.gz"
    );
    let gz = std::fs::read(path).unwrap();
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// The target of `node`'s named edge `field`.
fn field(graph: &HeapGraph, node: NodeIndex, field: &str) -> NodeIndex {
    graph
        .edges(node)
        .find(|e| matches!(e.label, EdgeLabel::Name(id) if graph.strings().get(id) == field))
        .unwrap_or_else(|| panic!("{} has no field {field}", graph.name_str(node)))
        .target
}

#[test]
fn designed_structures_have_hand_computed_retained_sizes() {
    let bytes = dump_bytes();
    let dump = parse(&bytes, &HprofOptions::default()).unwrap();
    let graph = dump.graph();
    let mat = HeapAnalysis::new(graph);
    let class = graph
        .nodes()
        .find(|&n| graph.kind(n) == NodeKind::Class && graph.name_str(n) == "HeapShapes")
        .unwrap();

    // The cache: HashMap + Node[512] (200 entries > 0.75 · 256) + per entry
    // Node 32, key String 24, key byte[5..7] 24, CacheValue 24, own
    // byte[8 + i % 8] (24 when i % 8 == 0, else 32). The SharedLeaf all
    // values point to is not part of it.
    let cache = field(graph, class, "cache");
    assert_eq!(graph.name_str(cache), "java.util.HashMap");
    let per_entry = 32 + 24 + 24 + 24;
    let own: u64 = (0..200).map(|i| if i % 8 == 0 { 24 } else { 32 }).sum();
    assert_eq!(mat.retained_size(cache), 48 + 2064 + 200 * per_entry + own);
    assert_eq!(mat.retained_size(cache), 29_112);

    // The shared subtree: dominated by no cache value (the root holds it
    // through the main thread's local too); it retains itself and its
    // long[16]; the interned label is held by the class's constant pool.
    let leaf = graph
        .nodes()
        .find(|&n| {
            graph.kind(n) == NodeKind::Object && graph.name_str(n) == "HeapShapes$SharedLeaf"
        })
        .unwrap();
    assert_eq!(mat.retained_size(leaf), 24 + 144);
    assert_eq!(mat.immediate_dominator(leaf), Some(NodeIndex::new(0)));

    // The chain: 1000 ChainNodes of 24 bytes; the main thread's `tail`
    // local also holds the last one, so the head retains 999 of them.
    let head = field(graph, class, "chainHead");
    let mut chain = vec![head];
    while let Some(next) = graph
        .edges(*chain.last().unwrap())
        .find(|e| matches!(e.label, EdgeLabel::Name(id) if graph.strings().get(id) == "next"))
    {
        chain.push(next.target);
    }
    assert_eq!(chain.len(), 1000);
    assert_eq!(mat.retained_size(head), 24 * 999);
    assert_eq!(mat.retained_size(chain[1]), 24 * 998);
    assert_eq!(mat.immediate_dominator(chain[500]), Some(chain[499]));
    assert_eq!(mat.retained_size(chain[999]), 24);

    // Soft reference: MAT counts its referent (Referent 16 + int[32] 144);
    // NetBeans does not, and the referent then has no retained size.
    let soft = field(graph, class, "soft");
    let referent = field(graph, soft, "referent");
    assert_eq!(mat.retained_size(soft), 40 + 16 + 144);
    assert_eq!(mat.immediate_dominator(referent), Some(soft));
    assert!(
        mat.retention_paths(referent, 3).is_empty(),
        "paths skip referents"
    );
    let netbeans = HeapAnalysis::with_policy(graph, EdgePolicy::netbeans());
    assert_eq!(netbeans.retained_size(soft), 40);
    assert_eq!(netbeans.retained_size(referent), 0);

    // The weakly and strongly held referent belongs to the class (static
    // strongReferent), and its shortest path runs through that static.
    let strong = field(graph, class, "strongReferent");
    assert_eq!(mat.immediate_dominator(strong), Some(class));
    let paths = mat.retention_paths(strong, 2);
    assert!(!paths.is_empty());
    let last = paths[0].steps.last().unwrap();
    assert_eq!(last.source, class);
    assert_eq!(graph.edge_label_str(last.edge), "strongReferent");

    // Class histogram: 1000 chain nodes; nested ones are not double counted.
    let histogram = mat.class_histogram();
    let chain_class = mat.class_of(head).unwrap();
    let row = histogram.get(chain_class).unwrap();
    assert_eq!((row.count, row.shallow_size), (1000, 24_000));
    assert_eq!(row.retained_size, 24 * 999 + 24);
}
