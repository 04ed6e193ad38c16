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

/// One class of DevTools' Summary view.
struct SummaryClass {
    key: String,
    name: String,
    count: u64,
    shallow: u64,
    retained: u64,
}

fn between<'a>(line: &'a str, start: &str, end: &str) -> &'a str {
    let from = line.find(start).unwrap() + start.len();
    let len = line[from..].find(end).unwrap();
    &line[from..from + len]
}

/// The `classes` of `<name>.devtools-summary.json` (one object per line,
/// no escaped quotes in the current files).
fn summary_classes(name: &str) -> Vec<SummaryClass> {
    let path = format!(
        "{}/../../testdata/v8/devtools/{name}.devtools-summary.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .filter(|l| l.trim_start().starts_with("{\"key\":"))
        .map(|line| SummaryClass {
            key: between(line, "\"key\":\"", "\",\"name\"").to_owned(),
            name: between(line, "\"name\":\"", "\",\"count\"").to_owned(),
            count: between(line, "\"count\":", ",").parse().unwrap(),
            shallow: between(line, "\"shallow_size\":", ",").parse().unwrap(),
            retained: between(line, "\"retained_size\":", ",").parse().unwrap(),
        })
        .collect()
}

/// The class histogram against DevTools' Summary. DevTools splits `object`
/// classes by allocation location, which the common graph does not carry:
/// for those, the counts and shallow sizes of all rows of one name must
/// add up to ours; every other class must agree on count, shallow and
/// retained size. Returns the number of classes compared in full.
fn check_histogram(analysis: &HeapAnalysis<'_>, golden_name: &str) -> usize {
    let summary = summary_classes(golden_name);
    assert!(!summary.is_empty());
    let histogram = analysis.class_histogram();
    let classes = analysis.classes();
    let mut full = 0;
    let mut errors = Vec::new();
    let names: std::collections::BTreeSet<&str> = summary.iter().map(|c| c.name.as_str()).collect();
    for name in names {
        let theirs: Vec<&SummaryClass> = summary.iter().filter(|c| c.name == name).collect();
        let ours: Vec<_> = classes
            .find(name)
            .filter_map(|c| histogram.get(c))
            .collect();
        let count: u64 = theirs.iter().map(|c| c.count).sum();
        let shallow: u64 = theirs.iter().map(|c| c.shallow).sum();
        let our_count: u64 = ours.iter().map(|r| r.count).sum();
        let our_shallow: u64 = ours.iter().map(|r| r.shallow_size).sum();
        if (count, shallow) != (our_count, our_shallow) {
            errors.push(format!(
                "{name}: devtools count {count} shallow {shallow}, ours {our_count} {our_shallow}"
            ));
            continue;
        }
        if theirs.len() == 1 && theirs[0].key.starts_with(',') && ours.len() == 1 {
            if theirs[0].retained != ours[0].retained_size {
                errors.push(format!(
                    "{name}: devtools retained {}, ours {}",
                    theirs[0].retained, ours[0].retained_size
                ));
            } else {
                full += 1;
            }
        }
    }
    assert!(
        errors.is_empty(),
        "{golden_name}: {} class rows differ:\n{}",
        errors.len(),
        errors[..errors.len().min(20)].join("\n")
    );
    full
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
    let full = check_histogram(&analysis, golden_name);
    assert!(
        full >= 100,
        "{golden_name}: only {full} classes compared in full"
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
        "/../../testdata/v8/chrome-numeric-internals.heapsnapshot.gz"
    );
    assert_eq!(check(path, "chrome-numeric-internals"), 78_936);
}
