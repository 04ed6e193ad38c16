//! The report page from real test dumps and from a hostile one: everything
//! inline, the numbers of the analysis, names that cannot break out of the
//! page's markup or its JSON.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // may panic: not library code

use std::path::Path;

use heapgraph_report::{Report, ReportOptions};

fn testdata(rel: &str) -> heapgraph::Dump {
    heapgraph::open(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata")
            .join(rel),
    )
    .unwrap()
}

/// The JSON the page embeds, parsed back.
fn embedded_json(html: &str) -> serde_json::Value {
    let start = html
        .find(r#"<script id="data" type="application/json">"#)
        .unwrap();
    let rest = &html[start..];
    let body = &rest[rest.find('>').unwrap() + 1..rest.find("</script>").unwrap()];
    serde_json::from_str(body).unwrap()
}

#[test]
fn hprof_page_is_self_contained_and_carries_the_analysis() {
    let dump = testdata("hprof/hotspot-jdk17-shapes.hprof.gz");
    let analysis = dump.analyse();
    let report = Report::build(
        &dump,
        &analysis,
        "shapes.hprof.gz",
        &ReportOptions::default(),
    );
    let html = report.to_html().unwrap();
    // Nothing to fetch: no external scripts, styles, images or links.
    for needle in [
        "src=\"http",
        "href=\"http",
        "src='http",
        "@import",
        "url(http",
    ] {
        assert!(!html.contains(needle), "{needle}");
    }
    let data = embedded_json(&html);
    assert_eq!(
        data["overview"]["node_count"],
        dump.graph().node_count() as u64
    );
    assert_eq!(
        data["overview"]["reachable_size"],
        analysis.retained_size(heapgraph::core::NodeIndex::ROOT)
    );
    let histogram = analysis.class_histogram();
    assert_eq!(data["class_count"], histogram.rows().len() as u64);
    let first = &data["classes"][0];
    let top = &histogram.rows()[0];
    assert_eq!(first["class"], analysis.classes().name(top.class));
    assert_eq!(first["retained_size"], top.retained_size);
    // The tree: top-level objects first, every parent before its children,
    // within the node budget.
    let tree = data["tree"].as_array().unwrap();
    assert!(!tree.is_empty() && tree.len() <= ReportOptions::default().tree_nodes);
    for (i, node) in tree.iter().enumerate() {
        if let Some(parent) = node["parent"].as_u64() {
            assert!((parent as usize) < i);
            assert!(
                tree[parent as usize]["retained_size"].as_u64() >= node["retained_size"].as_u64()
            );
        }
    }
    // Duplicate strings are there for a Java dump.
    assert!(data["strings"].as_array().is_some_and(|s| !s.is_empty()));
}

#[test]
fn hostile_names_stay_text() {
    // A V8 snapshot whose class and file names are markup.
    let evil = "</script><script>alert(1)</script><b>&amp;";
    let json = format!(
        r#"{{"snapshot":{{"meta":{{"node_fields":["type","name","id","self_size","edge_count"],
        "node_types":[["synthetic","object"]],"edge_fields":["type","name_or_index","to_node"],
        "edge_types":[["element","property"]]}},"node_count":3,"edge_count":2}},
        "nodes":[0,0,1,0,1, 1,1,3,100,1, 1,1,5,50,0],
        "edges":[0,1,5, 1,1,10],
        "strings":["(root)",{}]}}"#,
        serde_json::to_string(evil).unwrap()
    );
    let dir = std::env::temp_dir().join(format!("heapgraph-report-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("evil.heapsnapshot");
    std::fs::write(&path, json).unwrap();
    let dump = heapgraph::open(&path).unwrap();
    let analysis = dump.analyse();
    let report = Report::build(
        &dump,
        &analysis,
        "<evil>.heapsnapshot",
        &ReportOptions::default(),
    );
    let html = report.to_html().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(!html.contains("<script>alert"), "raw markup from the dump");
    assert!(!html.contains("<evil>"));
    assert!(html.contains("&lt;evil&gt;"));
    // The JSON still parses and says what the dump says.
    let data = embedded_json(&html);
    let classes: Vec<&str> = data["classes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["class"].as_str())
        .collect();
    assert!(classes.contains(&evil), "{classes:?}");
}

/// The Java section on the designed HPROF dumps: the Android leaks of the
/// lifecycle dump, the workers' threads with the frame that holds their
/// array, and none of it for other formats.
#[test]
fn java_section_shows_android_leaks_threads_consumers_and_collections() {
    let dump = testdata("hprof/android-leaks/android-art-lifecycle.hprof");
    let analysis = dump.analyse();
    let report = Report::build(
        &dump,
        &analysis,
        "lifecycle.hprof",
        &ReportOptions::default(),
    );
    let java = report.java.as_ref().unwrap();
    assert_eq!(java.android_leaks.len(), 7);
    assert_eq!(
        java.android_leaks.iter().filter(|l| l.library_leak).count(),
        2
    );
    let html = report.to_html().unwrap();
    assert!(html.contains(r#"<section id="java">"#) && html.contains("Android lifecycle leaks"));
    assert!(html.contains("Dialog#mDecor is null"));

    let dump = testdata("hprof/threads/hotspot-jdk17-workers.hprof.gz");
    let analysis = dump.analyse();
    let report = Report::build(
        &dump,
        &analysis,
        "workers.hprof.gz",
        &ReportOptions::default(),
    );
    let java = report.java.as_ref().unwrap();
    assert_eq!(java.threads[0].name, "worker-3");
    assert_eq!(java.threads[0].state, "TIMED_WAITING");
    assert_eq!(
        java.threads[0].frames[2],
        "Workers.hold(Workers.java:14) — holds 1 objects, 30.0 KiB"
    );
    assert!(java.packages.iter().any(|g| g.group == "java.lang"));
    assert!(java
        .loaders
        .iter()
        .any(|g| g.group == "<system class loader>"));
    assert!(!java.collections.is_empty() && java.arrays.is_some());
    let html = report.to_html().unwrap();
    assert!(html.contains("worker-3") && html.contains(r#"id="java-collections-table""#));

    let dump = testdata("v8/node20-planted.heapsnapshot.gz");
    let analysis = dump.analyse();
    let report = Report::build(&dump, &analysis, "planted", &ReportOptions::default());
    assert!(report.java.is_none());
    assert!(!report.to_html().unwrap().contains(r#"<section id="java">"#));
}
