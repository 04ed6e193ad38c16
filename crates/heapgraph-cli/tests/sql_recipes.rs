//! The recipes of docs/sql.md, run as written through `heapgraph query`,
//! each on the testdata dump the page names, and checked against what
//! other commands (or the generator's design) say.
#![cfg(feature = "sql")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

mod common;
use common::{heapgraph_json, repo};

/// The recipe named `name`: the path it runs on and its SQL.
fn recipe(name: &str) -> (PathBuf, String) {
    let page = std::fs::read_to_string(repo().join("docs/sql.md")).unwrap();
    let marker = format!("<!-- recipe: {name} ");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no recipe {name}"));
    let rest = &page[start + marker.len()..];
    let path = rest.split(" -->").next().unwrap().trim();
    let sql_start = rest.find("```sql\n").unwrap() + "```sql\n".len();
    let sql_end = sql_start + rest[sql_start..].find("```").unwrap();
    (repo().join(path), rest[sql_start..sql_end].to_string())
}

fn query(dump: &Path, sql: &str) -> Vec<Value> {
    let document = heapgraph_json(&["query", dump.to_str().unwrap(), sql]);
    document["rows"].as_array().unwrap().clone()
}

fn text(row: &Value, column: &str) -> String {
    row[column].as_str().unwrap().to_string()
}

fn number(row: &Value, column: &str) -> u64 {
    row[column]
        .as_u64()
        .unwrap_or_else(|| panic!("{column} in {row}"))
}

#[test]
fn big_collections() {
    let (dump, sql) = recipe("big-collections");
    let rows = query(&dump, &sql);
    // Holders.java: SET (a HashSet of 1000), CONCURRENT (a ConcurrentHashMap
    // of 500), 20 owners each with a HashMap of 100 in `index`, TABLE (a
    // Hashtable of 100). Nothing else of the application's has 50.
    let got: Vec<(String, String, u64)> = rows
        .iter()
        .map(|r| (text(r, "holder"), text(r, "class"), number(r, "size")))
        .collect();
    let mut expected = vec![
        (
            "class Holders.SET".to_string(),
            "java.util.HashSet".to_string(),
            1000,
        ),
        (
            "class Holders.CONCURRENT".to_string(),
            "java.util.concurrent.ConcurrentHashMap".to_string(),
            500,
        ),
    ];
    expected.extend(std::iter::repeat_n(
        (
            "Holders$Owner.index".to_string(),
            "java.util.HashMap".to_string(),
            100,
        ),
        20,
    ));
    expected.push((
        "class Holders.TABLE".to_string(),
        "java.util.Hashtable".to_string(),
        100,
    ));
    assert_eq!(got, expected);
    // The same collections as the `collections` command sees them.
    let collections = heapgraph_json(&["collections", "--top", "0", dump.to_str().unwrap()]);
    let owners = collections["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| text(g, "holder") == "Holders$Owner.index")
        .unwrap();
    let owner_rows: Vec<&Value> = rows
        .iter()
        .filter(|r| text(r, "holder") == "Holders$Owner.index")
        .collect();
    let wasted: u64 = owner_rows.iter().map(|r| number(r, "wasted_bytes")).sum();
    assert_eq!(wasted, number(owners, "wasted_bytes"));
}

#[test]
fn duplicate_strings() {
    let (dump, sql) = recipe("duplicate-strings");
    let rows = query(&dump, &sql);
    let strings = heapgraph_json(&["strings", "--top", "10", dump.to_str().unwrap()]);
    let expected: Vec<(String, u64, u64)> = strings["strings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                text(s, "value"),
                number(s, "count"),
                number(s, "wasted_size"),
            )
        })
        .collect();
    let got: Vec<(String, u64, u64)> = rows
        .iter()
        .map(|r| {
            (
                text(r, "value"),
                number(r, "copies"),
                number(r, "wasted_bytes"),
            )
        })
        .collect();
    assert_eq!(expected.len(), 10);
    assert_eq!(got, expected);
}

#[test]
fn retained_by_class() {
    let (dump, sql) = recipe("retained-by-class");
    let rows = query(&dump, &sql);
    // The same question asked of the library: objects whose immediate
    // dominator is a session, by class.
    let opened = heapgraph::open(&dump).unwrap();
    let analysis = opened.analyse();
    let graph = opened.graph();
    let mut expected: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for node in graph.nodes() {
        let Some(owner) = analysis.immediate_dominator(node) else {
            continue;
        };
        if owner != node && analysis.class_name(owner) == "SessionServer$Session" {
            let entry = expected
                .entry(analysis.class_name(node).to_string())
                .or_default();
            entry.0 += 1;
            entry.1 += analysis.retained_size(node);
        }
    }
    let got: BTreeMap<String, (u64, u64)> = rows
        .iter()
        .map(|r| {
            (
                text(r, "class"),
                (number(r, "objects"), number(r, "retained_size")),
            )
        })
        .collect();
    assert_eq!(got, expected);
    // SessionServer.java: each session holds one byte[] payload of its own.
    let histogram = heapgraph_json(&["histogram", "--top", "0", dump.to_str().unwrap()]);
    let sessions = histogram["classes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| text(c, "class") == "SessionServer$Session")
        .map(|c| number(c, "count"))
        .unwrap();
    assert!(sessions > 1000, "{sessions}");
    assert_eq!(
        got.get("byte[]").map(|&(n, _)| n),
        Some(sessions),
        "{got:?}"
    );
    // Largest first.
    let sizes: Vec<u64> = rows.iter().map(|r| number(r, "retained_size")).collect();
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");
}

#[test]
fn top_packages() {
    let (dump, sql) = recipe("top-packages");
    let rows = query(&dump, &sql);
    let consumers = heapgraph_json(&[
        "histogram",
        "--by",
        "package",
        "--top",
        "0",
        dump.to_str().unwrap(),
    ]);
    let mut expected: Vec<(String, u64, u64)> = consumers["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                text(g, "group"),
                number(g, "count"),
                number(g, "shallow_size"),
            )
        })
        .collect();
    expected.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    expected.truncate(10);
    let got: Vec<(String, u64, u64)> = rows
        .iter()
        .map(|r| {
            (
                text(r, "package"),
                number(r, "objects"),
                number(r, "shallow_size"),
            )
        })
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn class_growth_across_a_dataset() {
    let (series, sql) = recipe("class-growth");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&series)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".hprof.gz"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 3);
    let dataset = tempfile::tempdir().unwrap();
    let mut args = vec!["export", "--dataset", dataset.path().to_str().unwrap()];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    let exported = heapgraph_json(&args);
    assert_eq!(exported["dumps"].as_array().unwrap().len(), 3);

    let document = heapgraph_json(&["query", "--dataset", dataset.path().to_str().unwrap(), &sql]);
    let rows = document["rows"].as_array().unwrap();
    // The same from the histograms of the first and the last dump (the
    // file names follow the order they were taken in).
    let counts = |file: &Path| -> BTreeMap<String, i64> {
        let histogram = heapgraph_json(&["histogram", "--top", "0", file.to_str().unwrap()]);
        histogram["classes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (text(c, "class"), c["count"].as_i64().unwrap()))
            .collect()
    };
    let (first, last) = (counts(&files[0]), counts(&files[2]));
    let mut growth: Vec<(String, i64)> = first
        .keys()
        .chain(last.keys())
        .map(|class| {
            let change =
                last.get(class).copied().unwrap_or(0) - first.get(class).copied().unwrap_or(0);
            (class.clone(), change)
        })
        .collect();
    growth.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    growth.dedup();
    growth.truncate(5);
    let got: Vec<(String, i64)> = rows
        .iter()
        .map(|r| (text(r, "class"), r["growth"].as_i64().unwrap()))
        .collect();
    assert_eq!(got, growth);
    assert!(growth[0].1 > 100, "{growth:?}");
}

#[test]
fn output_formats() {
    let dump = repo().join("testdata/hprof/hotspot-jdk17-shapes.hprof.gz");
    let sql = "SELECT class, count FROM classes ORDER BY count DESC, class LIMIT 3";
    let table = Command::cargo_bin("heapgraph")
        .unwrap()
        .args(["query", dump.to_str().unwrap(), sql])
        .output()
        .unwrap();
    assert!(table.status.success());
    let table = String::from_utf8(table.stdout).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    assert!(
        lines[0].starts_with("class") && lines[0].ends_with("count"),
        "{table}"
    );

    let csv = Command::cargo_bin("heapgraph")
        .unwrap()
        .args(["query", "--csv", dump.to_str().unwrap(), sql])
        .output()
        .unwrap();
    let csv = String::from_utf8(csv.stdout).unwrap();
    let json = query(&dump, sql);
    let mut expected = String::from("class,count\n");
    for row in &json {
        expected.push_str(&format!(
            "{},{}\n",
            text(row, "class"),
            number(row, "count")
        ));
    }
    assert_eq!(csv, expected);

    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("top.parquet");
    let written = heapgraph_json(&[
        "query",
        dump.to_str().unwrap(),
        sql,
        "-o",
        parquet.to_str().unwrap(),
    ]);
    assert_eq!(written["rows"], 3);
    // Read back through the engine.
    let back = heapgraph_json(&[
        "query",
        dump.to_str().unwrap(),
        &format!(
            "SELECT class, count FROM '{}' ORDER BY count DESC, class",
            parquet.display()
        ),
    ]);
    assert_eq!(back["rows"].as_array().unwrap(), &json);

    // A bad query is exit 1 with DataFusion's message.
    let bad = Command::cargo_bin("heapgraph")
        .unwrap()
        .args(["query", dump.to_str().unwrap(), "SELECT nope FROM classes"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("nope"));
}
