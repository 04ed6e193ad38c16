//! The shallow histogram (no graph) against the graph path, on every real
//! dump in `testdata/hprof/` and `../shared/corpus/hprof/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

mod common;

use std::collections::BTreeMap;

use common::*;
use heapgraph_analysis::{ClassTable, HeapAnalysis};
use heapgraph_core::NodeKind;
use heapgraph_hprof::{
    parse, shallow_class_histogram, HprofErrorKind, HprofOptions, ShallowHistogram, SizeModel,
};

/// Every real dump, decompressed.
fn dumps() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for name in [
        "android-art-1.0.3.hprof",
        "android-art-1.0.3-split.hprof",
        "hotspot-jdk17-shapes.hprof.gz",
        "hotspot-jdk17-uncompressed.hprof.gz",
        "series/hotspot-jdk17-growing-1.hprof.gz",
        "series/hotspot-jdk17-growing-2.hprof.gz",
        "series/hotspot-jdk17-growing-3.hprof.gz",
    ] {
        out.push((name.to_string(), testdata(name)));
    }
    for name in ["jhat-jdk6-32bit.hprof", "netbeans-jdk8-64bit.hprof"] {
        if let Some(bytes) = corpus(name) {
            out.push((name.to_string(), bytes));
        }
    }
    out
}

type Rows = BTreeMap<(String, bool), (u64, u64)>;

/// Per (class name, class objects): count and shallow size of every node of
/// the graph, grouped by the analysis crate's class table.
fn graph_rows(bytes: &[u8], options: &HprofOptions) -> (Rows, bool, u64) {
    let dump = parse(bytes, options).unwrap();
    let graph = dump.graph();
    let classes = ClassTable::for_graph(graph);
    let mut rows: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut class_rows = std::collections::BTreeSet::new();
    let mut objects = 0;
    for node in graph.nodes() {
        let Some(class) = classes.class_of(node) else {
            continue;
        };
        objects += 1;
        let name = classes.name(class).to_string();
        let row = rows.entry(name.clone()).or_default();
        row.0 += 1;
        row.1 += graph.self_size(node);
        if graph.kind(node) == NodeKind::Class {
            class_rows.insert(name);
        }
    }
    // A row holds the class objects when any of its nodes is one.
    let rows = rows
        .into_iter()
        .map(|(name, sums)| ((name.clone(), class_rows.contains(&name)), sums))
        .collect();
    (rows, dump.compressed_references(), objects)
}

fn fast_rows(histogram: &ShallowHistogram) -> Rows {
    let mut rows = Rows::new();
    for r in &histogram.rows {
        let previous = rows.insert(
            (r.class_name.clone(), r.class_objects),
            (r.count, r.shallow_size),
        );
        assert!(previous.is_none(), "row {} twice", r.class_name);
    }
    rows
}

#[test]
fn equals_the_graph_path_on_every_real_dump() {
    let mut checked = 0;
    let dumps = dumps();
    for (name, bytes) in &dumps {
        let bytes = bytes.as_slice();
        for model in [SizeModel::Mat, SizeModel::Raw] {
            let options = HprofOptions::default().with_size_model(model);
            let (expected, compressed, objects) = graph_rows(bytes, &options);
            let fast = shallow_class_histogram(bytes, &options).unwrap();
            // The same record counts, but for the two the histogram does
            // not compute.
            let mut stats = parse(bytes, &options).unwrap().record_stats().clone();
            stats.duplicate_ids = 0;
            stats.instances_with_extra_bytes = 0;
            assert_eq!(fast.stats, stats, "{name}");
            assert_eq!(fast.compressed_references, compressed, "{name} {model:?}");
            assert_eq!(fast.object_count, objects, "{name}");
            assert_eq!(fast_rows(&fast), expected, "{name} {model:?}");
            assert_eq!(
                fast.total_shallow_size(),
                expected.values().map(|r| r.1).sum::<u64>()
            );
            checked += 1;
        }
    }
    // Two size models for each of the dumps found (7 in testdata, 2 more
    // when the shared corpus is there).
    assert_eq!(checked, 2 * dumps.len());
    assert!(dumps.len() >= 7);
}

/// Real numbers on the JDK 17 shapes dump (compressed oops), which the
/// graph path checks against `jcmd GC.class_histogram` elsewhere.
#[test]
fn shapes_dump_numbers() {
    let bytes = testdata("hotspot-jdk17-shapes.hprof.gz");
    let fast = shallow_class_histogram(&bytes, &HprofOptions::default()).unwrap();
    assert!(fast.compressed_references);
    let row = |name: &str| {
        fast.rows
            .iter()
            .find(|r| r.class_name == name && !r.class_objects)
            .unwrap_or_else(|| panic!("no row {name}"))
            .clone()
    };
    let strings = row("java.lang.String");
    // 24 bytes per String with compressed oops.
    assert_eq!(strings.shallow_size, strings.count * 24);
    let uncompressed = testdata("hotspot-jdk17-uncompressed.hprof.gz");
    let plain = shallow_class_histogram(&uncompressed, &HprofOptions::default()).unwrap();
    assert!(!plain.compressed_references);
    let plain_strings = plain
        .rows
        .iter()
        .find(|r| r.class_name == "java.lang.String" && !r.class_objects)
        .unwrap();
    // 32 bytes per String without: 16-byte header, 8-byte ref, hash, coder,
    // hashIsZero, injected flags.
    assert_eq!(plain_strings.shallow_size, plain_strings.count * 32);
}

/// The default (MAT) histogram of the analysis leaves unreachable objects
/// out; the shallow histogram counts them. Every class's count is at least
/// the analysis count, and equal where nothing is unreachable.
#[test]
fn counts_cover_the_dominator_histogram() {
    let bytes = testdata("hotspot-jdk17-shapes.hprof.gz");
    let dump = parse(&bytes, &HprofOptions::default()).unwrap();
    let analysis = HeapAnalysis::new(dump.graph());
    let histogram = analysis.class_histogram();
    let fast = fast_rows(&shallow_class_histogram(&bytes, &HprofOptions::default()).unwrap());
    let unreachable = analysis.unreachable().nodes.len();
    let mut reachable = 0;
    for row in histogram.rows() {
        let name = analysis.classes().name(row.class).to_string();
        let class_objects = name == "java.lang.Class";
        let (count, _) = fast[&(name, class_objects)];
        assert!(count >= row.count);
        reachable += row.count;
    }
    let all: u64 = fast.values().map(|r| r.0).sum();
    assert_eq!(all - reachable, unreachable as u64);
    assert_eq!(unreachable, 233);
}

#[test]
fn truncated_and_corrupt_dumps_fail_as_the_graph_path_fails() {
    let bytes = testdata("hotspot-jdk17-shapes.hprof.gz");
    // Cuts at several places, including inside the heap dump.
    for cut in [
        10,
        40,
        bytes.len() / 3,
        bytes.len() / 2 + 7,
        bytes.len() - 1,
    ] {
        let prefix = &bytes[..cut];
        let expected = parse(prefix, &HprofOptions::default()).unwrap_err();
        let error = shallow_class_histogram(prefix, &HprofOptions::default()).unwrap_err();
        assert_eq!(error, expected, "cut at {cut}");
        assert!(error.offset <= cut as u64);
        assert!(error
            .to_string()
            .ends_with(&format!(" at byte {}", error.offset)));
        // Lenient: what was complete is counted, the cut reported.
        let lenient = HprofOptions::default().with_lenient(true);
        if let Ok(dump) = parse(prefix, &lenient) {
            let fast = shallow_class_histogram(prefix, &lenient).unwrap();
            assert_eq!(
                fast.stats.truncation,
                dump.record_stats().truncation.clone()
            );
            assert_eq!(
                fast.object_count,
                dump.graph().node_count() as u64 - 1 - {
                    let g = dump.graph();
                    g.nodes()
                        .filter(|&n| g.kind(n) == NodeKind::RootGroup)
                        .count() as u64
                }
            );
        }
    }
    // Corrupt sub-record tags, flipped in the middle of the heap dump.
    let mut flipped = 0;
    for at in (bytes.len() / 2..bytes.len() / 2 + 4000).step_by(97) {
        let mut copy = bytes.clone();
        copy[at] ^= 0x5A;
        let graph = parse(&copy, &HprofOptions::default());
        let fast = shallow_class_histogram(&copy, &HprofOptions::default());
        match (graph, fast) {
            (Err(a), Err(b)) => {
                assert_eq!(a, b, "flip at {at}");
                flipped += 1;
            }
            (Ok(_), Ok(_)) => {}
            (a, b) => panic!(
                "flip at {at}: graph {:?} vs histogram {:?}",
                a.err(),
                b.err()
            ),
        }
    }
    assert!(flipped > 0);
}

#[test]
fn not_hprof_is_an_error_at_byte_0() {
    let error = shallow_class_histogram(b"hello", &HprofOptions::default()).unwrap_err();
    assert_eq!(error.offset, 0);
    assert_eq!(error.kind, HprofErrorKind::NotHprof);
}

/// Seeded random byte flips over whole dumps: the histogram fails exactly
/// when the graph path fails, with the same error, and otherwise gives the
/// graph's rows.
#[test]
fn random_flips_agree_with_the_graph_path() {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut failed, mut passed) = (0, 0);
    let mut files = vec![
        (
            "android-art-1.0.3-split.hprof",
            testdata("android-art-1.0.3-split.hprof"),
            200,
        ),
        (
            "hotspot-jdk17-uncompressed.hprof.gz",
            testdata("hotspot-jdk17-uncompressed.hprof.gz"),
            40,
        ),
    ];
    if let Some(bytes) = corpus("jhat-jdk6-32bit.hprof") {
        files.push(("jhat-jdk6-32bit.hprof", bytes, 150));
    }
    for (name, bytes, flips) in files {
        for _ in 0..flips {
            let mut copy = bytes.clone();
            let at = (next() % copy.len() as u64) as usize;
            copy[at] ^= 1 << (next() % 8);
            let options = HprofOptions::default();
            match (
                parse(&copy, &options),
                shallow_class_histogram(&copy, &options),
            ) {
                (Err(a), Err(b)) => {
                    assert_eq!(a, b, "{name} flip at {at}");
                    failed += 1;
                }
                (Ok(_), Ok(fast)) => {
                    let (expected, compressed, _) = graph_rows(&copy, &options);
                    assert_eq!(
                        fast.compressed_references, compressed,
                        "{name} flip at {at}"
                    );
                    assert_eq!(fast_rows(&fast), expected, "{name} flip at {at}");
                    passed += 1;
                }
                (a, b) => panic!(
                    "{name} flip at {at}: graph {:?} vs histogram {:?}",
                    a.err(),
                    b.err()
                ),
            }
        }
    }
    assert!(
        failed > 10 && passed > 10,
        "{failed} failed, {passed} passed"
    );
}

/// The `on_consumed` hook gets the framed records, then every heap-dump
/// byte in disjoint unit ranges (the vote may repeat some), and gives the
/// same histogram.
#[test]
fn releasing_reports_every_heap_byte_once() {
    for name in [
        "hotspot-jdk17-shapes.hprof.gz",
        "android-art-1.0.3-split.hprof",
    ] {
        let bytes = testdata(name);
        let ranges = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = std::sync::Arc::clone(&ranges);
        let hook = heapgraph_core::OnConsumed::new(move |range| seen.lock().unwrap().push(range));
        let options = HprofOptions::default().with_on_consumed(hook);
        let fast = shallow_class_histogram(&bytes, &options).unwrap();
        let plain = shallow_class_histogram(&bytes, &HprofOptions::default()).unwrap();
        assert_eq!(fast.rows, plain.rows);
        let mut ranges = ranges.lock().unwrap().clone();
        // First the framing pass's, which end at the end of the file.
        let framed = ranges.iter().position(|r| r.end == bytes.len()).unwrap();
        ranges.drain(..=framed);
        // Then the main pass's units, disjoint; the compressed-reference
        // vote may report some of the same units again (before and after).
        ranges.sort_by_key(|r| (r.start, r.end));
        ranges.dedup();
        assert!(ranges.windows(2).all(|w| w[0].end <= w[1].start));
        let heap_bytes: u64 = [0x0C, 0x1C]
            .iter()
            .filter_map(|tag| fast.stats.records.get(tag))
            .map(|&(_, body)| body)
            .sum();
        let segments: u64 = [0x0C, 0x1C]
            .iter()
            .filter_map(|tag| fast.stats.records.get(tag))
            .map(|&(count, _)| count)
            .sum();
        // The ranges cover the bodies and the record headers between them.
        let covered: u64 = ranges.iter().map(|r| (r.end - r.start) as u64).sum();
        assert!(
            covered >= heap_bytes && covered <= heap_bytes + 9 * segments,
            "{name}"
        );
    }
}
