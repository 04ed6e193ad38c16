//! A JDK 17 dump made by `testdata/hprof/gen/gen-hotspot.sh` (jcmd
//! GC.heap_dump) checked against `jcmd GC.class_histogram` taken just before
//! and just after the dump.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

mod common;

use std::collections::HashMap;

use common::*;
use heapgraph_core::{EdgeKind, EdgeLabel, NodeKind};
use heapgraph_hprof::{parse, HprofOptions, HprofVersion};

const DUMP: &str = "hotspot-jdk17-shapes.hprof.gz";

/// `jcmd GC.class_histogram` rows: class name (as MAT shows it) → (instances, bytes).
fn histogram(text: &str) -> HashMap<String, (u64, u64)> {
    let mut out = HashMap::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.len() < 4 || !cols[0].ends_with(':') || cols[0] == "Total" {
            continue;
        }
        let (Ok(count), Ok(bytes)) = (cols[1].parse::<u64>(), cols[2].parse::<u64>()) else {
            continue;
        };
        // jcmd prints hidden classes as `Foo$$Lambda$14/0x…`; HPROF has `+0x…`.
        let name = heapgraph_hprof::normalize_class_name(cols[3].replace("/0x", "+0x").as_bytes());
        out.insert(String::from_utf8(name).unwrap(), (count, bytes));
    }
    out
}

#[test]
fn counts_and_mat_sizes_match_jcmd_histogram() {
    let dir = format!("{}/../../testdata/hprof", env!("CARGO_MANIFEST_DIR"));
    check_against_histograms(
        &testdata(DUMP),
        &format!("{dir}/hotspot-jdk17-shapes"),
        true,
    );
}

/// The same program run with `-XX:-UseCompressedOops
/// -XX:-UseCompressedClassPointers`: detected from object-array address
/// gaps, and the MAT model with 16-byte headers and 8-byte references
/// matches jcmd again.
#[test]
fn uncompressed_references_are_detected_and_sized() {
    let dir = format!("{}/../../testdata/hprof", env!("CARGO_MANIFEST_DIR"));
    let file = testdata("hotspot-jdk17-uncompressed.hprof.gz");
    check_against_histograms(&file, &format!("{dir}/hotspot-jdk17-uncompressed"), false);
}

/// The same check on a big dump made by `gen-hotspot.sh` (not committed):
/// `HEAPGRAPH_BIG_DUMPS=/tmp/big` with `/tmp/big/big.hprof` and its
/// `big.histo-{before,after}.txt` (run with `NAME=big`).
#[test]
fn big_dump_matches_jcmd_histogram_when_available() {
    let Ok(dir) = std::env::var("HEAPGRAPH_BIG_DUMPS") else {
        return;
    };
    let file = std::fs::read(format!("{dir}/big.hprof")).unwrap();
    check_against_histograms(&file, &format!("{dir}/big"), true);
}

fn check_against_histograms(file: &[u8], stem: &str, compressed: bool) {
    let before = histogram(&std::fs::read_to_string(format!("{stem}.histo-before.txt")).unwrap());
    let after = histogram(&std::fs::read_to_string(format!("{stem}.histo-after.txt")).unwrap());
    let dump = parse(file, &HprofOptions::default()).unwrap();
    assert_eq!(dump.version(), HprofVersion::V1_0_2);
    assert_eq!(
        dump.graph().info().producer,
        "HotSpot (JAVA PROFILE 1.0.2, 8-byte ids)"
    );
    assert_eq!(
        dump.compressed_references(),
        compressed,
        "detected from object-array gaps"
    );
    let ours = histogram_by_name(dump.graph());

    let mut stable = 0;
    let mut bytes_equal = 0;
    let mut bytes_differ = Vec::new();
    for (name, &(count, bytes)) in &before {
        if after.get(name).map(|a| a.0) != Some(count) {
            continue; // moved by the attach/dump machinery
        }
        if name == "java.lang.Class" {
            // HPROF never writes the mirrors' own fields: class objects are
            // CLASS DUMPs, not instances, so this row cannot match.
            continue;
        }
        stable += 1;
        let (our_count, our_bytes) = ours.get(name).copied().unwrap_or_default();
        assert_eq!(our_count, count, "instances of {name}");
        if our_bytes == bytes {
            bytes_equal += 1;
        } else {
            bytes_differ.push(format!("{name}: jcmd {bytes}, ours {our_bytes}"));
        }
    }
    eprintln!(
        "{stable} stable classes, {bytes_equal} with equal bytes; differing: {bytes_differ:#?}"
    );
    assert!(stable > 200, "{stable}");
    // JVM-injected fields (`ClassLoader.loader_data`, `Module.module_entry`,
    // `MemberName.vmindex`, ...) are modelled by the parser. The rest are
    // `java.lang.Thread` and its subclasses: the `threadLocalRandom*` fields
    // are `@Contended("tlr")`, padded by 2 × 128 bytes the dump never shows
    // (jcmd 368 vs 112 bytes per thread). That is 4 of 269 classes here.
    assert!(
        bytes_equal * 100 >= stable * 97,
        "{bytes_equal}/{stable}: {bytes_differ:#?}"
    );
}

#[test]
fn designed_structures_are_in_the_graph() {
    let file = testdata(DUMP);
    let dump = parse(&file, &HprofOptions::default()).unwrap();
    let graph = dump.graph();
    let count = |name: &str| {
        graph
            .nodes()
            .filter(|&n| graph.kind(n) == NodeKind::Object && graph.name_str(n) == name)
            .count()
    };
    assert_eq!(count("HeapShapes$ChainNode"), 1000);
    assert_eq!(count("HeapShapes$CacheValue"), 200);
    assert_eq!(count("HeapShapes$SharedLeaf"), 1);
    assert_eq!(count("HeapShapes$Referent"), 2);

    // The chain: following `next` from the class's static `chainHead`
    // visits 1000 nodes.
    let class = graph
        .nodes()
        .find(|&n| graph.kind(n) == NodeKind::Class && graph.name_str(n) == "HeapShapes")
        .unwrap();
    let field = |node, name: &str| {
        graph
            .edges(node)
            .find(|e| {
                matches!(e.label, EdgeLabel::Name(s) if graph.strings().bytes(s) == name.as_bytes())
                    && e.kind != EdgeKind::Internal
            })
            .map(|e| (e.target, e.kind))
    };
    let mut node = field(class, "chainHead").unwrap().0;
    let mut length = 1;
    while let Some((next, _)) = field(node, "next") {
        node = next;
        length += 1;
    }
    assert_eq!(length, 1000);
    // Weak and soft referents are typed edges from the references.
    let weak = field(class, "weak").unwrap().0;
    assert_eq!(graph.name_str(weak), "java.lang.ref.WeakReference");
    assert_eq!(field(weak, "referent").unwrap().1, EdgeKind::Weak);
    let soft = field(class, "soft").unwrap().0;
    assert_eq!(field(soft, "referent").unwrap().1, EdgeKind::Soft);
    // The shared leaf has 200 CacheValue retainers plus `main`'s local
    // variable (an edge from the main thread).
    let leaf = graph
        .nodes()
        .find(|&n| {
            graph.name_str(n) == "HeapShapes$SharedLeaf" && graph.kind(n) == NodeKind::Object
        })
        .unwrap();
    let retainer_names: Vec<String> = graph
        .retainers()
        .of(leaf)
        .map(|(source, _)| graph.name_str(source).into_owned())
        .collect();
    assert_eq!(
        retainer_names
            .iter()
            .filter(|n| *n == "HeapShapes$CacheValue")
            .count(),
        200,
        "{retainer_names:?}"
    );
    assert!(
        retainer_names.contains(&"java.lang.Thread".to_string()),
        "{retainer_names:?}"
    );
    // Strings: JDK 17 compact strings, Latin-1 and UTF-16.
    let strings = field(class, "strings").unwrap().0;
    let texts: Vec<String> = graph
        .edges(strings)
        .filter(|e| e.kind == EdgeKind::Element)
        .map(|e| dump.java_string_value(&file, e.target).unwrap())
        .collect();
    assert_eq!(texts, ["latin1 text", "unicode \u{20ac}\u{e9} text", ""]);
    // Mat sizes: ChainNode {int, ref} = align8(12 + 4 + 4) = 24.
    assert_eq!(graph.self_size(node), 24);
    // Java locals of the main thread are edges from the thread object.
    let locals = graph.nodes().flat_map(|n| graph.edges(n)).filter(|e| matches!(e.label, EdgeLabel::Name(s) if graph.strings().bytes(s) == b"<Java Local>")).count();
    assert!(locals > 0);
    assert!(!dump.thread_stacks().is_empty());
}
