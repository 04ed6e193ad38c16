//! End to end: every node of real V8 snapshots against Chrome DevTools' own
//! heap snapshot worker (goldens in `testdata/v8/devtools/`, made by
//! `oracle/run-oracle.sh` with `chrome-devtools-frontend@1.0.1705227`):
//! shown shallow size, retained size, immediate dominator, distance and
//! Summary class name, per node, no sampling.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

use std::io::Read;

use heapgraph_analysis::HeapAnalysis;
use heapgraph_core::NodeIndex;

fn gunzip(path: &str) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_end(&mut out)
        .unwrap();
    out
}

struct Row {
    id: u64,
    class_name: String,
    shallow: u64,
    retained: u64,
    dominator: u32,
    distance: i64,
}

fn unescape(s: &str) -> String {
    s.replace("\\t", "\t")
        .replace("\\n", "\n")
        .replace("\\r", "\r")
        .replace("\\\\", "\\")
}

fn golden(name: &str) -> Vec<Row> {
    let path = format!(
        "{}/../../testdata/v8/devtools/{name}.devtools.tsv.gz",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = String::from_utf8(gunzip(&path)).unwrap();
    text.lines()
        .skip(2)
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            Row {
                id: f[1].parse().unwrap(),
                class_name: unescape(f[3]),
                shallow: f[5].parse().unwrap(),
                retained: f[6].parse().unwrap(),
                dominator: f[7].parse().unwrap(),
                distance: f[8].parse().unwrap(),
            }
        })
        .collect()
}

/// Compares every node; returns the number of nodes checked.
fn check(snapshot_path: &str, golden_name: &str) -> usize {
    let text = gunzip(snapshot_path);
    let snapshot = heapgraph_v8::parse_snapshot(&text).unwrap();
    let graph = &snapshot.graph;
    let mut analysis = HeapAnalysis::new(graph);
    if let Some(detachedness) = &snapshot.detachedness {
        analysis = analysis.with_dom_state(detachedness);
    }
    let rows = golden(golden_name);
    assert_eq!(rows.len(), graph.node_count(), "{golden_name}: node count");

    let mut mismatches: Vec<String> = Vec::new();
    let mut counts = [0usize; 5];
    for (ordinal, row) in rows.iter().enumerate() {
        let node = NodeIndex::new(ordinal as u32);
        assert_eq!(
            graph.object_id(node),
            row.id,
            "{golden_name}: id of {ordinal}"
        );
        let dominator = analysis.immediate_dominator(node).map_or(0, |d| d.as_u32());
        let distance = analysis.distance(node).map_or(-5, i64::from);
        let checks = [
            ("shallow", analysis.shallow_size(node) == row.shallow),
            ("retained", analysis.retained_size(node) == row.retained),
            ("dominator", dominator == row.dominator),
            ("distance", distance == row.distance),
            ("class", analysis.class_name(node) == row.class_name),
        ];
        for (i, (what, ok)) in checks.iter().enumerate() {
            if !ok {
                counts[i] += 1;
                if mismatches.len() < 25 {
                    mismatches.push(format!(
                        "{golden_name} #{ordinal} @{} {what}: devtools shallow {} retained {} dom {} dist {} class {:?}; ours shallow {} retained {} dom {dominator} dist {distance} class {:?}",
                        row.id,
                        row.shallow,
                        row.retained,
                        row.dominator,
                        row.distance,
                        row.class_name,
                        analysis.shallow_size(node),
                        analysis.retained_size(node),
                        analysis.class_name(node),
                    ));
                }
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{golden_name}: mismatches (shallow, retained, dominator, distance, class) = {counts:?} of {} nodes:\n{}",
        rows.len(),
        mismatches.join("\n")
    );
    rows.len()
}

fn testdata(name: &str) -> String {
    format!(
        "{}/../../testdata/v8/devtools/{name}.heapsnapshot.gz",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn node_workload_1_matches_devtools_on_every_node() {
    assert_eq!(
        check(&testdata("node-workload-1"), "node-workload-1"),
        53_659
    );
}

#[test]
fn node_workload_2_matches_devtools_on_every_node() {
    assert_eq!(
        check(&testdata("node-workload-2"), "node-workload-2"),
        57_639
    );
}

#[test]
fn node_tracking_matches_devtools_on_every_node() {
    assert_eq!(check(&testdata("node-tracking"), "node-tracking"), 53_760);
}

#[test]
fn chromium_internals_snapshot_matches_devtools_on_every_node() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/v8/chrome-numeric-internals.heapsnapshot.gz"
    );
    assert_eq!(check(path, "chrome-numeric-internals"), 78_936);
}
