//! The `heapgraph` binary on real dumps of every format: each subcommand's
//! `--json` against the library's own numbers, exports read back, and bad
//! input giving exit code 1 with the file and offset named.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // may panic: not library code

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use heapgraph::analysis::{HeapAnalysis, HistogramOrder};
use heapgraph::core::NodeIndex;
use serde_json::Value;

fn testdata(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(path)
}

const HPROF: &str = "hprof/hotspot-jdk17-shapes.hprof.gz";
const V8: &str = "v8/node20-planted.heapsnapshot.gz";
const V8_PROFILE: &str = "v8/node20-sampling.heapprofile";
const TRACEMALLOC: &str = "tracemalloc/mixed_1.p5.pickle";
const TRACEMALLOC_OLD: &str = "tracemalloc/mixed_2.p5.pickle";

fn heapgraph(args: &[&str]) -> Output {
    Command::cargo_bin("heapgraph")
        .unwrap()
        .args(args)
        .output()
        .unwrap()
}

/// Runs with `--json` and parses stdout; the run must succeed.
fn json(args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let output = heapgraph(&all);
    assert!(
        output.status.success(),
        "heapgraph {all:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn path(rel: &str) -> String {
    testdata(rel).display().to_string()
}

#[test]
fn summary_json_matches_the_library_for_every_format() {
    for file in [HPROF, V8, V8_PROFILE, TRACEMALLOC] {
        let doc = json(&["summary", &path(file)]);
        let dump = heapgraph::open(testdata(file)).unwrap();
        let graph = dump.graph();
        let analysis = HeapAnalysis::new(graph);
        assert_eq!(doc["format"], dump.format().as_str(), "{file}");
        assert_eq!(doc["node_count"], graph.node_count() as u64, "{file}");
        assert_eq!(doc["edge_count"], graph.edge_count() as u64, "{file}");
        assert_eq!(
            doc["reachable_size"],
            analysis.retained_size(NodeIndex::ROOT),
            "{file}"
        );
        let mut histogram = analysis.class_histogram();
        histogram.sort_by(HistogramOrder::RetainedSize);
        let first = histogram.rows()[0];
        let top = &doc["top_classes_by_retained_size"][0];
        assert_eq!(top["class"], analysis.classes().name(first.class), "{file}");
        assert_eq!(top["retained_size"], first.retained_size, "{file}");
        assert_eq!(top["count"], first.count, "{file}");
    }
}

#[test]
fn summary_table_is_readable() {
    let output = heapgraph(&["summary", &path(HPROF)]);
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("format          hprof (HotSpot"), "{text}");
    assert!(text.contains("Top classes by retained size"), "{text}");
    assert!(text.contains("HeapShapes$ChainNode"), "{text}");
}

#[test]
fn histogram_filters_and_sorts() {
    let doc = json(&[
        "histogram",
        "--sort",
        "count",
        "--top",
        "0",
        "--class",
        "HeapShapes$*",
        &path(HPROF),
    ]);
    let classes = doc["classes"].as_array().unwrap();
    assert!(!classes.is_empty());
    assert!(classes
        .iter()
        .all(|c| c["class"].as_str().unwrap().starts_with("HeapShapes$")));
    let counts: Vec<u64> = classes
        .iter()
        .map(|c| c["count"].as_u64().unwrap())
        .collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
    // The generator builds a chain of 1000 nodes.
    let chain = classes
        .iter()
        .find(|c| c["class"] == "HeapShapes$ChainNode")
        .unwrap();
    assert_eq!(chain["count"], 1000);
}

/// `histogram --shallow`: no dominators; HPROF read without the graph.
/// Every object of the dump counts (the default histogram leaves the 233
/// objects MAT finds unreachable out); the rows equal the graph's own
/// per-class sums; `retained_size` is null and the table has no retained
/// column.
#[test]
fn histogram_shallow_counts_every_object_without_retained_sizes() {
    let doc = json(&["histogram", "--shallow", "--top", "0", &path(HPROF)]);
    assert_eq!(doc["format"], "hprof");
    assert_eq!(doc["sort"], "shallow");
    // 272 classes: the 9 primitive-type mirrors (instances of
    // java.lang.Class) are in the class objects' row.
    assert_eq!(doc["class_count"], 272);
    assert_eq!(doc["total_count"], 15240);
    assert_eq!(doc["total_shallow_size"], 603153);
    let classes = doc["classes"].as_array().unwrap();
    assert!(classes.iter().all(|c| c["retained_size"].is_null()));
    let row = |doc: &Value, name: &str| -> Value {
        doc["classes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["class"] == name)
            .unwrap()
            .clone()
    };
    let strings = row(&doc, "java.lang.String");
    assert_eq!(
        (strings["count"].clone(), strings["shallow_size"].clone()),
        (2337.into(), 56088.into())
    );
    // The graph's per-class sums over all nodes give the same rows.
    let dump = heapgraph::open(testdata(HPROF)).unwrap();
    let graph = dump.graph();
    let table = heapgraph::analysis::ClassTable::for_graph(graph);
    let mut sums: std::collections::HashMap<String, (u64, u64)> = Default::default();
    for node in graph.nodes() {
        if let Some(class) = table.class_of(node) {
            let sum = sums.entry(table.name(class).to_string()).or_default();
            sum.0 += 1;
            sum.1 += graph.self_size(node);
        }
    }
    let mirrors = sums["java.lang.Class"];
    assert!(mirrors.0 > 600, "class objects and mirrors: {mirrors:?}");
    assert_eq!(sums.len(), classes.len());
    let total: u64 = sums.values().map(|s| s.0).sum();
    assert_eq!(total, 15240);
    for c in classes {
        let name = c["class"].as_str().unwrap().to_string();
        let count = c["count"].as_u64().unwrap();
        let size = c["shallow_size"].as_u64().unwrap();
        assert_eq!(sums.get(&name), Some(&(count, size)), "{name}");
    }
    // The default histogram counts the reachable objects only.
    let full = json(&["histogram", "--top", "0", &path(HPROF)]);
    assert_eq!(full["total_count"], 15240 - 233);
    // Raw sizes: 30 bytes per String (2 ids, 14 field bytes).
    let raw = json(&[
        "--size-model",
        "raw",
        "histogram",
        "--shallow",
        "--top",
        "0",
        &path(HPROF),
    ]);
    assert_eq!(raw["total_count"], 15240);
    assert_eq!(row(&raw, "java.lang.String")["shallow_size"], 2337 * 30);

    // V8: the same count and shallow size per class as the default
    // histogram (DevTools hangs unreachable objects under the root).
    let shallow = json(&[
        "histogram",
        "--shallow",
        "--sort",
        "count",
        "--top",
        "0",
        &path(V8),
    ]);
    let full = json(&["histogram", "--sort", "count", "--top", "0", &path(V8)]);
    assert_eq!(shallow["sort"], "count");
    assert_eq!(shallow["total_count"], 38615);
    assert_eq!(shallow["total_count"], full["total_count"]);
    assert_eq!(shallow["total_shallow_size"], full["total_shallow_size"]);
    let key = |doc: &Value| {
        let mut rows: Vec<(String, u64, u64)> = doc["classes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["class"].as_str().unwrap().to_string(),
                    c["count"].as_u64().unwrap(),
                    c["shallow_size"].as_u64().unwrap(),
                )
            })
            .collect();
        rows.sort();
        rows
    };
    assert_eq!(key(&shallow), key(&full));

    // Table: no retained column.
    let output = heapgraph(&["histogram", "--shallow", "--top", "3", &path(HPROF)]);
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.starts_with("count    shallow  class\n"), "{text}");
    assert!(!text.contains("retained"));
    assert!(text.contains("272 classes, 15,240 objects"));
    // Retained order needs retained sizes: a usage error.
    let output = heapgraph(&["histogram", "--shallow", "--sort", "retained", &path(HPROF)]);
    assert_eq!(output.status.code(), Some(2));
    // Bad input: exit 1 with the offset.
    let cut = std::env::temp_dir().join(format!(
        "heapgraph-shallow-cut-{}.hprof",
        std::process::id()
    ));
    let bytes = heapgraph::open(testdata(HPROF)).unwrap().bytes().to_vec();
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let output = heapgraph(&["histogram", "--shallow", &cut.display().to_string()]);
    std::fs::remove_file(&cut).unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("invalid HPROF dump") && stderr.contains(" at byte "),
        "{stderr}"
    );
}

#[test]
fn dominators_and_retainers_agree_with_the_library() {
    let file = testdata(HPROF);
    let dump = heapgraph::open(&file).unwrap();
    let analysis = HeapAnalysis::new(dump.graph());
    let doc = json(&["dominators", "--top", "3", "--depth", "2", &path(HPROF)]);
    let first = &doc["dominators"][0];
    let node = dump
        .graph()
        .node_by_object_id(first["id"].as_u64().unwrap())
        .unwrap();
    assert_eq!(first["retained_size"], analysis.retained_size(node));
    assert!(first["children"].as_array().unwrap().len() <= 3);

    // The chain head: held by a static field and a thread's local.
    let chain = analysis
        .classes()
        .find("HeapShapes$ChainNode")
        .next()
        .unwrap();
    let head = analysis
        .instances_of(chain)
        .into_iter()
        .max_by_key(|&n| analysis.retained_size(n))
        .unwrap();
    let id = format!("0x{:x}", dump.graph().object_id(head));
    let doc = json(&["retainers", "--paths", "2", &path(HPROF), &id]);
    assert_eq!(doc["object"]["retained_size"], analysis.retained_size(head));
    assert_eq!(
        doc["retainers"].as_array().unwrap().len(),
        analysis.retainers(head).len()
    );
    let paths = doc["paths"].as_array().unwrap();
    assert!(!paths.is_empty());
    let last = paths[0].as_array().unwrap().last().unwrap();
    assert_eq!(last["node"]["id"], dump.graph().object_id(head));
}

#[test]
fn diff_leaks_and_trend_on_v8_and_hprof() {
    // A snapshot compared with itself: nothing changed.
    let doc = json(&["diff", &path(V8), &path(V8)]);
    assert_eq!(doc["matching"], "id");
    assert_eq!(doc["classes"].as_array().unwrap().len(), 0);
    let doc = json(&["diff", &path(HPROF), &path(HPROF)]);
    assert_eq!(doc["matching"], "class");

    let doc = json(&["leaks", &path(V8), &path(V8), &path(V8)]);
    assert_eq!(doc["candidate_count"], 0);

    let doc = json(&["trend", &path(HPROF), &path(HPROF), &path(HPROF)]);
    assert!(doc["classes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["growing"] == false));

    let output = heapgraph(&["diff", &path(HPROF), &path(V8)]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot diff hprof with v8"), "{stderr}");
}

#[test]
fn suspects_and_strings() {
    let doc = json(&["suspects", &path(V8)]);
    let suspects = doc["suspects"].as_array().unwrap();
    assert!(!suspects.is_empty());
    assert!(suspects
        .iter()
        .all(|s| s["share"].as_f64().unwrap() >= 0.10));

    let doc = json(&["strings", "--top", "0", &path(HPROF)]);
    let strings = doc["strings"].as_array().unwrap();
    assert!(strings.iter().all(|s| s["count"].as_u64().unwrap() >= 2));
    let wasted: u64 = strings
        .iter()
        .map(|s| s["wasted_size"].as_u64().unwrap())
        .sum();
    assert_eq!(doc["wasted_size"], wasted);
}

/// Undoes the golden files' escaping (backslash and newline escaped).
fn unescape(line: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.len());
    let mut bytes = line.iter().copied();
    while let Some(b) = bytes.next() {
        match (b, b == b'\\') {
            (_, true) => match bytes.next() {
                Some(b'n') => out.push(b'\n'),
                Some(other) => out.push(other),
                None => out.push(b'\\'),
            },
            (b, false) => out.push(b),
        }
    }
    out
}

/// `sites --python` prints, byte for byte, what Python's `print(stat)`
/// printed for `statistics('lineno')` on the same dump (the golden file,
/// written by `testdata/tracemalloc/gen.py`, escapes `\\` and newlines and
/// keeps strings as WTF-8). File names that Python decoded with
/// `surrogateescape` print as their raw bytes (as Python's `print` writes
/// them with `PYTHONIOENCODING=utf-8:surrogateescape` or in the C locale,
/// checked against CPython 3.11 by hand: `cmp` equal), so the golden's
/// 3-byte forms of U+DC80..U+DCFF become the byte they stand for.
#[test]
fn sites_python_output_equals_python() {
    let output = heapgraph(&["sites", "--python", &path(TRACEMALLOC)]);
    assert!(output.status.success());
    let golden = std::fs::read(testdata("tracemalloc/mixed_1.golden")).unwrap();
    let mut expected = Vec::new();
    let mut in_section = false;
    for line in golden.split(|&b| b == b'\n') {
        if line.starts_with(b"== ") {
            in_section = line == b"== stats lineno 0";
            continue;
        }
        if in_section {
            let line = unescape(line);
            // U+DCxx as WTF-8 is ED B2|B3 xx; Python writes the byte 0xxx.
            let mut raw = Vec::new();
            let mut i = 0;
            while i < line.len() {
                if line[i] == 0xED && i + 2 < line.len() && (line[i + 1] & 0xFE) == 0xB2 {
                    raw.push(0x80 + (line[i + 1] - 0xB2) * 0x40 + (line[i + 2] - 0x80));
                    i += 3;
                } else {
                    raw.push(line[i]);
                    i += 1;
                }
            }
            expected.extend(raw);
            expected.push(b'\n');
        }
    }
    assert!(expected.len() > 100);
    assert!(expected.windows(2).any(|w| w == b"\xe9/"), "the raw é byte");
    assert_eq!(
        output.stdout,
        expected,
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_eq!(output.stdout, expected);

    let doc = json(&[
        "sites",
        "--by",
        "filename",
        "--compare",
        &path(TRACEMALLOC_OLD),
        &path(TRACEMALLOC),
    ]);
    assert_eq!(doc["key_type"], "filename");
    assert!(doc["statistics"][0]["size_diff"].is_i64());
}

#[test]
fn flamegraph_writes_svg() {
    let dir = tempfile::tempdir().unwrap();
    for (file, by) in [(TRACEMALLOC, "allocations"), (HPROF, "retained")] {
        let out = dir.path().join(format!("{by}.svg"));
        let doc = json(&[
            "flamegraph",
            "--by",
            by,
            "-o",
            &out.display().to_string(),
            &path(file),
        ]);
        assert!(doc["stacks"].as_u64().unwrap() > 0);
        let svg = std::fs::read_to_string(&out).unwrap();
        assert!(svg.starts_with("<?xml"), "{by}");
        assert!(svg.contains("<svg"), "{by}");
    }
}

#[test]
fn export_csv_and_parquet_round_trip() {
    use parquet::file::reader::{FileReader, SerializedFileReader};

    let dir = tempfile::tempdir().unwrap();
    let dump = heapgraph::open(testdata(HPROF)).unwrap();
    let analysis = HeapAnalysis::new(dump.graph());

    let csv = dir.path().join("nodes.csv");
    json(&["export", "-o", &csv.display().to_string(), &path(HPROF)]);
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "index,id,kind,name,self_size,shallow_size,retained_size,dominator_id,distance"
    );
    assert_eq!(lines.count(), dump.graph().node_count());

    let parquet_path = dir.path().join("nodes.parquet");
    json(&[
        "export",
        "-o",
        &parquet_path.display().to_string(),
        &path(HPROF),
    ]);
    let reader = SerializedFileReader::new(std::fs::File::open(&parquet_path).unwrap()).unwrap();
    let metadata = reader.metadata();
    assert_eq!(
        metadata.file_metadata().num_rows() as usize,
        dump.graph().node_count()
    );
    let columns: Vec<String> = metadata
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    assert_eq!(
        columns,
        [
            "index",
            "id",
            "kind",
            "name",
            "self_size",
            "shallow_size",
            "retained_size",
            "dominator_id",
            "distance"
        ]
    );
    // Read every row back and compare retained sizes with the library.
    let mut rows = 0usize;
    for row in reader.get_row_iter(None).unwrap() {
        let row = row.unwrap();
        use parquet::record::RowAccessor;
        let index = row.get_uint(0).unwrap();
        let retained = row.get_ulong(6).unwrap();
        assert_eq!(retained, analysis.retained_size(NodeIndex::new(index)));
        rows += 1;
    }
    assert_eq!(rows, dump.graph().node_count());

    let classes = dir.path().join("classes.csv");
    json(&[
        "export",
        "--what",
        "classes",
        "-o",
        &classes.display().to_string(),
        &path(HPROF),
    ]);
    let text = std::fs::read_to_string(&classes).unwrap();
    assert!(text.starts_with("class,count,shallow_size,retained_size\n"));
}

#[test]
fn bad_input_exits_1_naming_the_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    for (file, plain) in [
        (HPROF, false),
        (V8, false),
        (V8_PROFILE, true),
        (TRACEMALLOC, true),
    ] {
        let bytes = if plain {
            std::fs::read(testdata(file)).unwrap()
        } else {
            let dump = heapgraph::open(testdata(file)).unwrap();
            dump.bytes().to_vec()
        };
        let cut = dir.path().join("truncated.bin");
        std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
        let output = heapgraph(&["summary", &cut.display().to_string()]);
        assert_eq!(output.status.code(), Some(1), "{file}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.starts_with("heapgraph: error: "), "{file}: {stderr}");
        assert!(stderr.contains("truncated.bin"), "{file}: {stderr}");
        assert!(stderr.contains("byte"), "{file}: {stderr}");
        assert!(!stderr.contains("panicked"), "{file}: {stderr}");
    }
    let output = heapgraph(&["summary", "/nonexistent/dump.hprof"]);
    assert_eq!(output.status.code(), Some(1));
    let output = heapgraph(&["no-such-command"]);
    assert_eq!(output.status.code(), Some(2));
}

/// `--threads 1` and `--threads 2` give the same answers as the default
/// (the parallel V8 scan and shallow histogram are exact, not approximate);
/// `--threads 0` is refused.
#[test]
fn thread_count_does_not_change_results() {
    for (file, command) in [(V8, "summary"), (HPROF, "summary"), (HPROF, "histogram")] {
        let file_path = path(file);
        let mut args = vec![command, file_path.as_str()];
        if command == "histogram" {
            args.push("--shallow");
        }
        let default = json(&args);
        for threads in ["1", "2"] {
            let mut with = vec!["--threads", threads];
            with.extend_from_slice(&args);
            assert_eq!(json(&with), default, "{file} {command} --threads {threads}");
        }
    }
    let refused = heapgraph(&["--threads", "0", "summary", &path(HPROF)]);
    assert_eq!(refused.status.code(), Some(2));
}

/// V8 self sizes are full `u64`s: a crafted snapshot whose objects are each
/// `u64::MAX` bytes, and a profile whose samples are, go through every
/// subcommand without an overflow (test builds check arithmetic) and
/// report saturated totals.
#[test]
fn sizes_of_u64_max_saturate_everywhere() {
    const MAX: u64 = u64::MAX;
    let dir = tempfile::tempdir().unwrap();
    // root -> holder -> two equal strings; every object u64::MAX bytes.
    let snapshot = dir.path().join("huge.heapsnapshot");
    std::fs::write(
        &snapshot,
        format!(
            r#"{{"snapshot":{{"meta":{{"node_fields":["type","name","id","self_size","edge_count"],
"node_types":[["hidden","array","string","object","code","closure","regexp","number","native","synthetic"],"string","number","number","number"],
"edge_fields":["type","name_or_index","to_node"],"edge_types":[["element","property"],"string_or_number","node"]}},
"node_count":5,"edge_count":4}},
"nodes":[9,1,1,0,1, 3,2,3,{MAX},2, 2,3,5,{MAX},0, 2,3,7,{MAX},0, 3,2,9,{MAX},0],
"edges":[1,4,5, 0,0,10, 0,1,15],
"strings":["<dummy>","","Holder","same","held"]}}"#
        ),
    )
    .unwrap();
    let summary = json(&["summary", snapshot.to_str().unwrap()]);
    assert_eq!(summary["total_size"], MAX);
    assert_eq!(summary["reachable_size"], MAX);
    let histogram = json(&["histogram", snapshot.to_str().unwrap()]);
    assert_eq!(histogram["total_shallow_size"], MAX);
    let strings = json(&["strings", snapshot.to_str().unwrap()]);
    let text = strings.to_string();
    assert!(text.contains(&MAX.to_string()), "{text}");
    let file = snapshot.to_str().unwrap();
    for args in [
        vec!["dominators", file],
        vec!["suspects", file],
        vec!["retainers", file, "5"],
        vec!["histogram", "--shallow", file],
        vec!["trend", file, file],
        vec!["leaks", file, file, file],
    ] {
        json(&args);
    }
    let svg = dir.path().join("huge.svg");
    let out = heapgraph(&[
        "flamegraph",
        "--by",
        "retained",
        "-o",
        svg.to_str().unwrap(),
        snapshot.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let diff = json(&[
        "diff",
        snapshot.to_str().unwrap(),
        snapshot.to_str().unwrap(),
    ]);
    assert!(diff.is_object());

    // Two samples of i64::MAX bytes (the largest selfSize V8's JSON reader
    // takes) at one site, one at another: 1.5 x u64::MAX in all.
    let profile = dir.path().join("huge.heapprofile");
    let big = i64::MAX;
    std::fs::write(
        &profile,
        format!(
            r#"{{"head":{{"callFrame":{{"functionName":"(root)","scriptId":"0","url":"","lineNumber":-1,"columnNumber":-1}},"selfSize":0,"id":1,"children":[
{{"callFrame":{{"functionName":"f","scriptId":"1","url":"a.js","lineNumber":1,"columnNumber":1}},"selfSize":{big},"id":2,"children":[
{{"callFrame":{{"functionName":"g","scriptId":"1","url":"a.js","lineNumber":5,"columnNumber":1}},"selfSize":{big},"id":3,"children":[]}}]}}]}},
"samples":[{{"size":{big},"nodeId":2,"ordinal":1}},{{"size":{big},"nodeId":2,"ordinal":2}},{{"size":{big},"nodeId":3,"ordinal":3}}]}}"#
        ),
    )
    .unwrap();
    for cumulative in [false, true] {
        let mut args = vec!["sites"];
        if cumulative {
            args.push("--cumulative");
        }
        args.push(profile.to_str().unwrap());
        let sites = json(&args);
        assert!(sites.to_string().contains(&MAX.to_string()), "{sites}");
    }
    let out = heapgraph(&["sites", "--python", profile.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = heapgraph(&[
        "flamegraph",
        "-o",
        svg.to_str().unwrap(),
        profile.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = json(&["summary", profile.to_str().unwrap()]);
    assert_eq!(summary["total_size"], MAX);
}

/// A V8 header whose counts disagree with the arrays is read (the arrays
/// win) and said: on stderr, in the summary and in its JSON `warnings`.
#[test]
fn header_counts_that_disagree_are_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("counts.heapsnapshot");
    std::fs::write(
        &file,
        r#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count"],
"node_types":[["hidden","object","synthetic"],"string","number","number","number"],
"edge_fields":["type","name_or_index","to_node"],"edge_types":[["element","property"],"string_or_number","node"]},
"node_count":7,"edge_count":1},
"nodes":[2,1,1,0,1, 1,2,3,24,0],"edges":[1,3,5],"strings":["<dummy>","","Order","next"]}"#,
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let warning = "the header says node_count = 7 but the file holds 2; 2 used";
    let summary = json(&["summary", file]);
    assert_eq!(summary["warnings"], serde_json::json!([warning]));
    let output = heapgraph(&["summary", file]);
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("warning: {file}: {warning}")),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("warning         {warning}")),
        "{stdout}"
    );
    let quiet = heapgraph(&["--quiet", "summary", file]);
    assert!(quiet.stderr.is_empty());
}

/// Where ids are not stable, `diff` and `leaks` name the retention paths
/// that grew: on the SessionServer series, the audit log's sessions (300
/// per dump), not the map that churns 500 sessions per dump.
#[test]
fn diff_and_leaks_name_growing_retention_paths_of_hprof_series() {
    let dump = |step: u32| {
        path(&format!(
            "hprof/paths/hotspot-jdk17-sessions-{step}.hprof.gz"
        ))
    };
    let doc = json(&["diff", &dump(1), &dump(3)]);
    assert_eq!(doc["matching"], "class");
    let first = &doc["grown_paths"][0];
    assert_eq!(first["counts"], serde_json::json!([300, 900]));
    assert_eq!(first["class"], "SessionServer$Session");
    assert!(first["shape"]
        .as_str()
        .unwrap()
        .ends_with("-[AUDIT_LOG]-> java.util.ArrayList -[elementData]-> java.lang.Object[] -[[]]-> SessionServer$Session"));

    let doc = json(&["leaks", &dump(1), &dump(2), &dump(3)]);
    assert_eq!(doc["matching"], "class");
    let paths = doc["growing_paths"].as_array().unwrap();
    assert_eq!(paths.len(), 1, "{paths:?}");
    assert_eq!(paths[0]["counts"], serde_json::json!([300, 600, 900]));
    let doc = json(&["trend", &dump(1), &dump(2), &dump(3)]);
    let paths = doc["growing_paths"].as_array().unwrap();
    assert_eq!(paths.len(), 1, "{paths:?}");
    assert_eq!(paths[0]["counts"], serde_json::json!([300, 600, 900]));
    let tm = |n: u32| path(&format!("tracemalloc/series-{n}.p5.pickle"));
    let doc = json(&["trend", &tm(1), &tm(2), &tm(3)]);
    assert_eq!(
        doc["growing_paths"][0]["shape"],
        "(root) → /srv/app/store.py:17 → /srv/app/store.py:10 → /srv/app/store.py:3"
    );
    assert_eq!(
        doc["growing_paths"][0]["counts"],
        serde_json::json!([400, 800, 1200])
    );
    let doc = json(&[
        "leaks",
        "--ignore",
        "*SessionServer#AUDIT_LOG",
        &dump(1),
        &dump(2),
        &dump(3),
    ]);
    assert!(doc["growing_paths"].as_array().unwrap().is_empty());
}

/// `heapgraph report` writes one page with the analysis in it and says so
/// in `--json`.
#[test]
fn report_writes_a_self_contained_page() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.html");
    let doc = json(&["report", &path(HPROF), "-o", out.to_str().unwrap()]);
    let html = std::fs::read_to_string(&out).unwrap();
    assert_eq!(doc["bytes"], html.len() as u64);
    assert_eq!(
        doc["class_count"],
        json(&["histogram", &path(HPROF)])["class_count"]
    );
    assert!(html.starts_with("<!doctype html>"));
    assert!(
        html.contains("data:image/svg+xml;base64,"),
        "flame graph embedded"
    );
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));
}

/// `report BASELINE TARGET FINAL` leads with the leaks, `report OLD NEW`
/// with what changed; where ids are not stable, the growing path.
#[test]
fn report_of_a_series_leads_with_leaks_or_changes() {
    let dir = tempfile::tempdir().unwrap();
    let dump = |step: u32| {
        path(&format!(
            "hprof/paths/hotspot-jdk17-sessions-{step}.hprof.gz"
        ))
    };
    let leaks = dir.path().join("leaks.html");
    json(&[
        "report",
        &dump(1),
        &dump(2),
        &dump(3),
        "-o",
        leaks.to_str().unwrap(),
    ]);
    let html = std::fs::read_to_string(&leaks).unwrap();
    let section = &html[html.find(r#"<section id="leaks">"#).unwrap()
        ..html.find(r#"<section id="overview">"#).unwrap()];
    assert!(section.contains("300 → 600 → 900"), "{section}");
    assert!(section.contains("-[AUDIT_LOG]-&gt;"), "{section}");
    assert!(!section.contains("ACTIVE"), "{section}");

    let changes = dir.path().join("diff.html");
    json(&[
        "report",
        &dump(1),
        &dump(3),
        "-o",
        changes.to_str().unwrap(),
    ]);
    let html = std::fs::read_to_string(&changes).unwrap();
    let section = &html[html.find(r#"<section id="changes">"#).unwrap()
        ..html.find(r#"<section id="overview">"#).unwrap()];
    assert!(section.contains("SessionServer$Session"), "{section}");
    assert!(section.contains("300 → 900"), "{section}");
}

/// A sparse file of `len` bytes that starts like an HPROF dump (nothing
/// past its header is read before the memory check), or `None` where the
/// filesystem cannot hold it.
fn sparse_hprof(dir: &Path, len: u64) -> Option<PathBuf> {
    use std::io::Write;
    let path = dir.join("huge.hprof");
    let mut file = std::fs::File::create(&path).unwrap();
    file.write_all(b"JAVA PROFILE 1.0.2\0").unwrap();
    file.write_all(&8u32.to_be_bytes()).unwrap();
    file.write_all(&0u64.to_be_bytes()).unwrap();
    file.set_len(len).ok().map(|()| path)
}

/// A dump larger than memory is spilled to scratch files when the scratch
/// directory has room; when it has none, the command stops before parsing
/// and says how much the dump needs and where it would have spilled.
#[test]
fn a_dump_that_cannot_spill_is_refused_with_the_scratch_directory_named() {
    let dir = tempfile::tempdir().unwrap();
    let (Some(available), Ok(free)) = (
        heapgraph::memory::available_memory(),
        heapgraph::spill::free_bytes(dir.path()),
    ) else {
        eprintln!("skipped: available memory or free disk space cannot be read here");
        return;
    };
    // Over the free disk space, yet small enough that 5 % of it fits in
    // memory: spilling is the only way, and the disk is too small for it.
    let len = free
        .saturating_add(free / 2)
        .max(available.bytes.saturating_mul(2));
    if len / 20 >= available.bytes {
        eprintln!("skipped: this disk ({free} B free) is too large beside memory to test");
        return;
    }
    let Some(path) = sparse_hprof(dir.path(), len) else {
        eprintln!("skipped: this filesystem cannot hold a sparse file of {len} bytes");
        return;
    };
    let scratch = dir.path().to_str().unwrap();
    let file = path.to_str().unwrap();
    let output = heapgraph(&["summary", "--scratch", scratch, file]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("needs about")
            && stderr.contains(&format!("the scratch directory {scratch} has only")),
        "{stderr}"
    );
    // Without spilling, the plain refusal.
    let output = heapgraph(&["summary", "--spill", "never", "--scratch", scratch, file]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("needs about") && !stderr.contains("scratch directory"),
        "{stderr}"
    );
}

/// `--spill always` gives the same output as ordinary memory (the
/// columns of these dumps that reach 1 MiB go to scratch files; the
/// library's `tests/spill.rs` spills every column of more dumps, `.ci/run`
/// runs a generated dump in a memory cgroup smaller than it needs, and
/// `SCALE=ram benches/compare/run.sh` the 5.73 GB one in 2 GB).
#[test]
fn spill_always_prints_what_ordinary_memory_prints() {
    let dir = tempfile::tempdir().unwrap();
    let scratch = dir.path().to_str().unwrap();
    for dump in [HPROF, V8] {
        let path = testdata(dump);
        let file = path.to_str().unwrap();
        let ordinary = heapgraph(&["summary", "--json", "--spill", "never", file]);
        let spilled = heapgraph(&[
            "summary",
            "--json",
            "--spill",
            "always",
            "--scratch",
            scratch,
            file,
        ]);
        assert!(ordinary.status.success() && spilled.status.success());
        assert_eq!(ordinary.stdout, spilled.stdout, "{dump}");
    }
    let output = heapgraph(&[
        "summary",
        "--spill",
        "always",
        "--scratch",
        "/nonexistent/scratch",
        testdata("hprof/android-art-1.0.3.hprof").to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot spill to scratch files in /nonexistent/scratch"),
        "{stderr}"
    );
}

/// `dominators --of-class` on the designed shapes dump (gen-hotspot.sh:
/// a chain of 1 000 `ChainNode`s of 24 bytes, head in a static field and,
/// with the tail, in `main`'s locals; 200 `CacheValue`s in a `HashMap`
/// held by a static field): every member is charged to exactly one row,
/// and sizes count each object once.
#[test]
fn immediate_dominators_by_class_on_the_designed_dump() {
    let hprof = path(HPROF);
    let rows = |doc: &Value| -> Vec<(String, u64, u64, u64, u64, u64)> {
        doc["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["class"].as_str().unwrap().to_string(),
                    r["dominators"].as_u64().unwrap(),
                    r["dominators_retained_size"].as_u64().unwrap(),
                    r["dominated"].as_u64().unwrap(),
                    r["dominated_shallow_size"].as_u64().unwrap(),
                    r["dominated_retained_size"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    // The chain: node i keeps node i+1, except the tail, which a local
    // holds as well; the head is held by the static field and a local.
    // The GC roots keep head and tail, and through the head all 1 000
    // nodes (24 000 bytes); the 998 nodes that keep a successor retain,
    // counted once, everything below the head: 999 × 24.
    let doc = json(&["dominators", "--of-class", "HeapShapes$ChainNode", &hprof]);
    assert_eq!(doc["member_count"], 1000);
    assert_eq!(
        rows(&doc),
        vec![
            ("(GC roots)".to_string(), 0, 0, 2, 48, 24_000),
            (
                "HeapShapes$ChainNode".to_string(),
                998,
                999 * 24,
                998,
                998 * 24,
                0
            ),
        ]
    );
    // Cache values: one HashMap$Node each; looking through java.* they all
    // belong to the class whose static field holds the map. Either way the
    // members' retained size equals the class histogram's.
    let histogram = json(&["histogram", "--class", "HeapShapes$CacheValue", &hprof]);
    let retained = histogram["classes"][0]["retained_size"].as_u64().unwrap();
    let shallow = histogram["classes"][0]["shallow_size"].as_u64().unwrap();
    let doc = json(&["dominators", "--of-class", "HeapShapes$CacheValue", &hprof]);
    let by_entry = rows(&doc);
    assert_eq!(by_entry.len(), 1);
    assert_eq!(
        (
            &by_entry[0].0[..],
            by_entry[0].1,
            by_entry[0].3,
            by_entry[0].4,
            by_entry[0].5
        ),
        ("java.util.HashMap$Node", 200, 200, shallow, retained)
    );
    let doc = json(&[
        "dominators",
        "--of-class",
        "HeapShapes$CacheValue",
        "--skip",
        "java.*",
        &hprof,
    ]);
    let by_holder = rows(&doc);
    assert_eq!(by_holder.len(), 1);
    assert_eq!(
        (
            &by_holder[0].0[..],
            by_holder[0].1,
            by_holder[0].3,
            by_holder[0].5
        ),
        ("class HeapShapes", 1, 200, retained)
    );
    // The class object retains the map, and so more than its values.
    assert!(by_holder[0].2 > retained);
    // People get a table.
    let output = heapgraph(&["dominators", "--of-class", "HeapShapes$ChainNode", &hprof]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.starts_with("1,000 instances of HeapShapes$ChainNode")
            && text.contains("(GC roots)")
            && text.contains("HeapShapes$ChainNode         998"),
        "{text}"
    );
}

/// `histogram --by classloader|package` on the designed plugins dump
/// (testdata/hprof/loaders/README.md): the custom loader's row holds
/// exactly its two classes' instances and what they keep; the package rows
/// count every object once.
#[test]
fn top_consumers_by_package_and_class_loader_on_the_designed_dump() {
    let dump = path("hprof/loaders/hotspot-jdk17-plugins.hprof.gz");
    let groups = |doc: &Value| -> Vec<(String, u64, u64, u64, u64)> {
        doc["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                (
                    g["group"].as_str().unwrap().to_string(),
                    g["classes"].as_u64().unwrap(),
                    g["count"].as_u64().unwrap(),
                    g["shallow_size"].as_u64().unwrap(),
                    g["retained_size"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let designed = (2, 80, 80 * 16, 50 * (16 + 1016) + 30 * (16 + 416));
    let by_loader = json(&["histogram", "--by", "classloader", "--top", "0", &dump]);
    assert_eq!(by_loader["by"], "classloader");
    let rows = groups(&by_loader);
    let plugins: Vec<_> = rows
        .iter()
        .filter(|g| g.0.starts_with("org.example.app.Plugins$PluginLoader @ 0x"))
        .collect();
    assert_eq!(plugins.len(), 1, "{rows:?}");
    assert_eq!(
        (plugins[0].1, plugins[0].2, plugins[0].3, plugins[0].4),
        designed
    );
    let loader_id = by_loader["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == plugins[0].0.as_str())
        .unwrap()["loader_id"]
        .as_u64()
        .unwrap();
    assert!(plugins[0].0.ends_with(&format!("@ 0x{loader_id:x}")));
    // Every instance is in exactly one loader's row.
    let histogram = json(&["histogram", "--top", "0", &dump]);
    assert_eq!(by_loader["total_count"], histogram["total_count"]);
    assert!(rows.iter().any(|g| g.0 == "<system class loader>"));
    assert!(rows.iter().any(|g| g
        .0
        .starts_with("jdk.internal.loader.ClassLoaders$AppClassLoader @ 0x")));

    let by_package = json(&["histogram", "--by", "package", "--top", "0", &dump]);
    let rows = groups(&by_package);
    let find = |name: &str| rows.iter().find(|g| g.0 == name).cloned().unwrap();
    let plugin = find("org.example.plugin");
    assert_eq!((plugin.1, plugin.2, plugin.3, plugin.4), designed);
    // The application's package: Record[] dominates the 40 Records, so they
    // count once, inside the array's retained size.
    let class = |name: &str| {
        histogram["classes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["class"] == name)
            .map(|c| {
                (
                    c["count"].as_u64().unwrap(),
                    c["shallow_size"].as_u64().unwrap(),
                    c["retained_size"].as_u64().unwrap(),
                )
            })
            .unwrap()
    };
    let array = class("org.example.app.Plugins$Record[]");
    let record = class("org.example.app.Plugins$Record");
    let loader = class("org.example.app.Plugins$PluginLoader");
    assert_eq!(record, (40, 40 * 16, 40 * (16 + 216)));
    let app = find("org.example.app");
    assert_eq!(
        (app.1, app.2, app.3, app.4),
        (3, 42, array.1 + record.1 + loader.1, array.2 + loader.2)
    );
    assert!(rows.iter().any(|g| g.0 == "java.lang") && rows.iter().any(|g| g.0 == "(no package)"));
    assert_eq!(by_package["total_count"], histogram["total_count"]);

    // --class filters groups by name; other formats are refused plainly.
    let only = json(&[
        "histogram",
        "--by",
        "package",
        "--class",
        "org.example.*",
        &dump,
    ]);
    assert_eq!(only["group_count"], 2);
    let output = heapgraph(&["histogram", "--by", "package", &path(V8)]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("needs a Java heap dump (HPROF)"),
        "{stderr}"
    );
}

/// `threads` on the designed workers dump (testdata/hprof/threads): each
/// worker holds `i × 10` KiB in a local of `Workers.hold` two frames below
/// `Thread.sleep`; names, states and innermost frames agree with what the
/// JVM printed itself (`jcmd Thread.print`, saved beside the dump).
#[test]
fn threads_show_states_stacks_and_the_locals_of_each_frame() {
    let dump = path("hprof/threads/hotspot-jdk17-workers.hprof.gz");
    let doc = json(&["threads", &dump]);
    let threads = doc["threads"].as_array().unwrap();
    let by_name = |name: &str| {
        threads
            .iter()
            .find(|t| t["thread_name"] == name)
            .unwrap_or_else(|| panic!("no thread {name}"))
    };
    // What jcmd printed: "name" ... then its state, then its first frame.
    let printed = std::fs::read_to_string(testdata("hprof/threads/jcmd-thread-print.txt")).unwrap();
    let mut checked = 0;
    let mut lines = printed.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(name) = line.strip_prefix('"').and_then(|l| l.split('"').next()) else {
            continue;
        };
        let state = lines
            .next()
            .unwrap()
            .trim()
            .strip_prefix("java.lang.Thread.State: ")
            .unwrap();
        let state = state.split(' ').next().unwrap();
        let frame = lines.next().unwrap().trim().strip_prefix("at ").unwrap();
        let function = frame.split('(').next().unwrap();
        let thread = by_name(name);
        assert_eq!(thread["state"], state, "{name}");
        assert_eq!(thread["daemon"], true, "{name}");
        assert_eq!(thread["frames"][0]["function"], function, "{name}");
        checked += 1;
    }
    assert_eq!(checked, 5);
    for i in 1..=3u64 {
        let thread = by_name(&format!("worker-{i}"));
        let frames = thread["frames"].as_array().unwrap();
        let functions: Vec<&str> = frames
            .iter()
            .map(|f| f["function"].as_str().unwrap())
            .collect();
        assert_eq!(
            &functions[..3],
            ["java.lang.Thread.sleep", "Workers.pause", "Workers.hold"]
        );
        assert_eq!(
            (frames[1]["line"].as_u64(), frames[2]["line"].as_u64()),
            (Some(19), Some(14))
        );
        // The array in hold's local `data`: header 16 B + i × 10 KiB.
        let bytes = 16 + i * 10 * 1024;
        let locals = frames[2]["locals"].as_array().unwrap();
        assert_eq!(locals.len(), 1, "worker-{i}");
        assert_eq!(locals[0]["class"], "byte[]");
        assert_eq!(locals[0]["retained_size"], bytes);
        assert_eq!(locals[0]["jni"], false);
        assert_eq!(frames[2]["locals_retained_size"], bytes);
        // Only hold's frame holds the array; the thread retains it too.
        assert!(frames[..2]
            .iter()
            .all(|f| f["locals"].as_array().unwrap().is_empty()));
        assert!(thread["retained_size"].as_u64().unwrap() >= bytes);
    }
    // Largest retained first: the three workers lead, worker-3 first.
    let names: Vec<&str> = threads
        .iter()
        .take(3)
        .map(|t| t["thread_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["worker-3", "worker-2", "worker-1"]);
    assert_eq!(
        doc["thread_count"].as_u64().unwrap() as usize,
        threads.len()
    );
    // People get stacks; other formats are refused plainly.
    let output = heapgraph(&["threads", "--top", "1", &dump]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.starts_with("\"worker-3\" TIMED_WAITING daemon")
            && text
                .contains("at Workers.hold(Workers.java:14)  holds 1 objects, 30.0 KiB retained"),
        "{text}"
    );
    let output = heapgraph(&["threads", &path(V8)]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("needs a Java heap dump (HPROF)"));
}

/// `collections` on the designed dump (testdata/hprof/collections): sizes
/// equal what Java itself counted (`sizes.txt`, printed by the program),
/// capacities follow from the constructors and the JDK's growth rules, and
/// the wasted bytes are the unused slots times their size.
#[test]
fn collections_fill_ratios_and_wasted_capacity_on_the_designed_dump() {
    let dump = path("hprof/collections/hotspot-jdk17-collections.hprof.gz");
    let doc = json(&["collections", "--top", "0", &dump]);
    let groups = doc["groups"].as_array().unwrap();
    let find = |class: &str, holder: &str| {
        groups
            .iter()
            .find(|g| g["class"] == class && g["holder"] == holder)
            .unwrap_or_else(|| panic!("no {class} held by {holder}"))
    };
    // (name in sizes.txt, class, holder, count, capacity each, slot bytes)
    let designed = [
        (
            "Holders.OWNERS[].index",
            "java.util.HashMap",
            "Holders$Owner.index",
            20,
            256,
            4,
        ),
        (
            "Holders.OWNERS[].names",
            "java.util.ArrayList",
            "Holders$Owner.names",
            20,
            100,
            4,
        ),
        (
            "Holders.OWNERS[].log",
            "java.lang.StringBuilder",
            "Holders$Owner.log",
            20,
            1000,
            1,
        ),
        (
            "Holders.SET",
            "java.util.HashSet",
            "class Holders.SET",
            1,
            2048,
            4,
        ),
        (
            "Holders.CONCURRENT",
            "java.util.concurrent.ConcurrentHashMap",
            "class Holders.CONCURRENT",
            1,
            1024,
            4,
        ),
        (
            "Holders.TABLE",
            "java.util.Hashtable",
            "class Holders.TABLE",
            1,
            191,
            4,
        ),
        (
            "Holders.WEAK",
            "java.util.WeakHashMap",
            "class Holders.WEAK",
            1,
            16,
            4,
        ),
        (
            "Holders.DEQUE",
            "java.util.ArrayDeque",
            "class Holders.DEQUE",
            1,
            17,
            4,
        ),
        (
            "Holders.VECTOR",
            "java.util.Vector",
            "class Holders.VECTOR",
            1,
            50,
            4,
        ),
        (
            "Holders.LINKED",
            "java.util.LinkedHashMap",
            "class Holders.LINKED",
            1,
            16,
            4,
        ),
        (
            "Holders.UTF16",
            "java.lang.StringBuffer",
            "class Holders.UTF16",
            1,
            100,
            2,
        ),
    ];
    let sizes = std::fs::read_to_string(testdata("hprof/collections/sizes.txt")).unwrap();
    let java_size = |name: &str| -> u64 {
        sizes
            .lines()
            .find_map(|l| l.strip_prefix(&format!("SIZE {name} ")))
            .unwrap_or_else(|| panic!("{name} not in sizes.txt"))
            .parse()
            .unwrap()
    };
    for (name, class, holder, count, capacity, slot) in designed {
        let group = find(class, holder);
        let size = java_size(name);
        assert_eq!(group["count"], count, "{name}");
        assert_eq!(group["size"].as_u64(), Some(size * count), "{name}");
        assert_eq!(group["capacity"].as_u64(), Some(capacity * count), "{name}");
        assert_eq!(
            group["wasted_bytes"].as_u64(),
            Some((capacity - size) * slot * count),
            "{name}"
        );
        assert_eq!(group["empty"], 0, "{name}");
        let ratio = group["fill_ratio"].as_f64().unwrap();
        assert!(
            (ratio - size as f64 / capacity as f64).abs() < 1e-9,
            "{name}: {ratio}"
        );
    }
    // 30 lists never added to: empty, no capacity, nothing wasted.
    let empty = find("java.util.ArrayList", "java.lang.Object[][*]");
    assert_eq!(
        (
            empty["count"].as_u64(),
            empty["empty"].as_u64(),
            empty["capacity"].as_u64()
        ),
        (Some(30), Some(30), Some(0))
    );
    // An object array with 10 of 100 slots set.
    let sparse = find("java.lang.Object[]", "class Holders.SPARSE");
    assert_eq!(
        (
            sparse["size"].as_u64(),
            sparse["capacity"].as_u64(),
            sparse["wasted_bytes"].as_u64()
        ),
        (Some(10), Some(100), Some(360))
    );
    // A set's inner map and the collections' backing arrays are not listed again.
    assert!(groups.iter().all(|g| g["holder"] != "java.util.HashSet.map"
        && g["holder"] != "java.util.ArrayList.elementData"
        && g["holder"] != "java.util.HashMap.table"));
    // Most wasted first; the total is the sum over every collection.
    let wasted: Vec<u64> = groups
        .iter()
        .map(|g| g["wasted_bytes"].as_u64().unwrap())
        .collect();
    assert!(wasted.windows(2).all(|w| w[0] >= w[1]));
    assert_eq!(doc["wasted_bytes"].as_u64(), Some(wasted.iter().sum()));
    assert_eq!(groups[0]["holder"], "Holders$Owner.log");
    let output = heapgraph(&["collections", &path(V8)]);
    assert_eq!(output.status.code(), Some(1));
}

/// `android-leaks` on the designed ART dump (testdata/hprof/android-leaks):
/// exactly the seven objects whose lifecycle ended are reported, each for
/// its own reason, the two reached through `InputMethodManager.mServedView`
/// marked as library leaks; their living twins are not.
#[test]
fn android_lifecycle_leaks_on_the_designed_dump() {
    let dump = path("hprof/android-leaks/android-art-lifecycle.hprof");
    let doc = json(&["android-leaks", &dump]);
    let mut found: Vec<(u64, String, bool)> = doc["leaks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["id"].as_u64().unwrap(),
                l["reason"].as_str().unwrap().to_string(),
                l["library_leak"].as_bool().unwrap(),
            )
        })
        .collect();
    found.sort();
    let expected = [
        (0x12D0_0000, "Activity#mDestroyed is true", false),
        (0x12D0_0200, "Activity#mDestroyed is true", true),
        (0x12D0_1000, "View#mContext is a destroyed Activity", true),
        (0x12D0_1200, "Fragment#mFragmentManager is null", false),
        (0x12D0_1500, "Dialog#mDecor is null", false),
        (0x12D0_1800, "ViewModel#mCleared is true", false),
        (
            0x12D0_2100,
            "Service not held by ActivityThread.mServices",
            false,
        ),
    ]
    .map(|(id, reason, library)| (id, reason.to_string(), library));
    assert_eq!(found, expected);
    assert_eq!(doc["leak_count"], 7);
    assert_eq!(doc["library_leak_count"], 2);
    // The activity behind the detached view: its path, reference by
    // reference, with the library leak marked where it is.
    let through_imm = doc["leaks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == 0x12D0_0200)
        .unwrap();
    let steps: Vec<(String, String, bool)> = through_imm["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["source_class"].as_str().unwrap().to_string(),
                r["reference"].as_str().unwrap().to_string(),
                r["library_leak"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            (
                "class android.view.inputmethod.InputMethodManager",
                "sInstance",
                false
            ),
            (
                "android.view.inputmethod.InputMethodManager",
                "mServedView",
                true
            ),
            ("android.view.View", "mContext", false),
        ]
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c))
    );
    assert_eq!(through_imm["gc_root"], "(System Class)");
    let output = heapgraph(&["android-leaks", &path(V8)]);
    assert_eq!(output.status.code(), Some(1));
}

/// `strings --arrays` on the plugins dump: the designed zero-filled arrays
/// (50 `byte[1000]`, 30 `int[100]`, 40 `byte[200]`) are the three largest
/// groups, each wasting all but one copy.
#[test]
fn duplicate_primitive_arrays_on_the_designed_dump() {
    let dump = path("hprof/loaders/hotspot-jdk17-plugins.hprof.gz");
    let doc = json(&["strings", "--arrays", "--top", "0", &dump]);
    let arrays = doc["arrays"].as_array().unwrap();
    let head: Vec<(String, u64, u64, u64)> = arrays
        .iter()
        .take(3)
        .map(|a| {
            (
                a["type"].as_str().unwrap().to_string(),
                a["length"].as_u64().unwrap(),
                a["count"].as_u64().unwrap(),
                a["wasted_size"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        head,
        [
            ("byte[]".to_string(), 1000, 50, 49 * (16 + 1000)),
            ("int[]".to_string(), 100, 30, 29 * (16 + 400)),
            ("byte[]".to_string(), 200, 40, 39 * (16 + 200)),
        ]
    );
    assert!(arrays.iter().all(|a| a["count"].as_u64().unwrap() >= 2));
    assert_eq!(
        doc["wasted_size"].as_u64(),
        Some(
            arrays
                .iter()
                .map(|a| a["wasted_size"].as_u64().unwrap())
                .sum()
        )
    );
    let output = heapgraph(&["strings", "--arrays", &path(V8)]);
    assert_eq!(output.status.code(), Some(1));
}
