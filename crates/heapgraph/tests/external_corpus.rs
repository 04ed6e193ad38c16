//! Every real dump under `../shared/corpus/external/` (31 files from ten
//! public projects: MAT's and LeakCanary's HPROF test dumps, d8, Chromium,
//! Electron, Julia and 2017 Node snapshots, Chrome 69 and Node 10 heap
//! profiles), read in place and checked against the independent readers of
//! `external/crosscheck/` and the numbers of its README: nodes, edges and
//! Σ self sizes of V8 snapshots with per-constructor object counts; per
//! class object counts of every heap dump of every HPROF file; Σ selfSize
//! of the profiles. The files come from other projects' repositories and
//! are never copied here: without the folder (or without `python3`, which
//! runs the readers) the test says what it skipped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use heapgraph::core::NodeKind;
use heapgraph::{OpenOptions, Parsed};
use serde_json::Value;

fn skipped(what: &str) {
    let _ = writeln!(std::io::stderr(), "skipped: {what}");
}

/// The external folder and a working `python3`, or `None` (said why).
fn external() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/external");
    if !dir.is_dir() {
        skipped("the external corpus (../shared/corpus is not beside this clone)");
        return None;
    }
    let python = Command::new("python3").arg("--version").output();
    if !python.is_ok_and(|o| o.status.success()) {
        skipped("the external corpus (no python3 to run its crosscheck readers)");
        return None;
    }
    Some(dir)
}

fn files(dir: &Path, sub: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir.join(sub))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    out.sort();
    out
}

/// Runs a crosscheck reader and reads the JSON it writes.
fn crosscheck(dir: &Path, reader: &str, file: &Path, env: &[(&str, &str)]) -> Value {
    let out = tempfile::NamedTempFile::new().unwrap();
    let mut command = Command::new("python3");
    command.arg(dir.join("crosscheck").join(reader)).arg(file);
    if reader == "hprof_read.py" {
        command.arg("--json");
    }
    command.arg(out.path()).envs(env.iter().copied());
    let status = command.output().unwrap();
    assert!(
        status.status.success(),
        "{reader} {}: {}",
        file.display(),
        String::from_utf8_lossy(&status.stderr)
    );
    serde_json::from_slice(&std::fs::read(out.path()).unwrap()).unwrap()
}

fn counts(value: &Value) -> BTreeMap<String, u64> {
    value
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect()
}

#[test]
fn v8_snapshots_agree_with_the_independent_reader() {
    let Some(dir) = external() else { return };
    let mut checked = 0;
    for file in files(&dir, "heapsnapshot") {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if name == "nodesource-small.heapsnapshot" {
            // A hand-cut excerpt whose edges point past its nodes.
            let error = heapgraph::open(&file).unwrap_err().to_string();
            assert!(error.contains(" at byte "), "{name}: {error}");
            continue;
        }
        let expected = crosscheck(&dir, "v8_read.py", &file, &[]);
        let dump = heapgraph::open(&file).unwrap_or_else(|e| panic!("{name}: {e}"));
        let graph = dump.graph();
        // Root groups heapgraph adds (Julia's) are not in the file.
        let added: Vec<_> = graph
            .nodes()
            .filter(|&n| graph.kind(n) == NodeKind::RootGroup)
            .collect();
        let added_edges: usize = added.iter().map(|&g| graph.out_degree(g) + 1).sum();
        assert_eq!(
            (graph.node_count() - added.len()) as u64,
            expected["node_count"],
            "{name}"
        );
        assert_eq!(
            (graph.edge_count() - added_edges) as u64,
            expected["edge_count"],
            "{name}"
        );
        assert_eq!(graph.total_self_size(), expected["self_size_sum"], "{name}");
        // Per constructor: the file's `object` nodes (Julia's `array`
        // nodes are objects in heapgraph, so compare V8's only).
        if !matches!(dump.parsed(), Parsed::V8Snapshot(s) if s.producer == heapgraph::v8::Producer::Julia)
        {
            let mut ours: BTreeMap<String, u64> = BTreeMap::new();
            for node in graph.nodes() {
                if graph.kind(node) == NodeKind::Object {
                    *ours.entry(graph.name_str(node).into_owned()).or_default() += 1;
                }
            }
            assert_eq!(ours, counts(&expected["object_counts"]), "{name}");
        }
        checked += 1;
    }
    assert_eq!(checked, 9);
}

#[test]
fn hprof_dumps_agree_with_the_independent_reader() {
    let Some(dir) = external() else { return };
    let mut checked = 0;
    for file in files(&dir, "hprof") {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let mut dump_number = 1;
        loop {
            let dump_env = (dump_number - 1).to_string();
            let expected = crosscheck(
                &dir,
                "hprof_read.py",
                &file,
                &[("PRIM_EDGES", "1"), ("DUMP", dump_env.as_str())],
            );
            let mut options = OpenOptions::default();
            options.hprof = options.hprof.with_dump(dump_number);
            let dump =
                heapgraph::open_with(&file, &options).unwrap_or_else(|e| panic!("{name}: {e}"));
            let graph = dump.graph();
            // Every object and class of the dump, by class name (class
            // objects and java.lang.Class instances under java.lang.Class).
            let mut ours: BTreeMap<String, u64> = BTreeMap::new();
            for node in graph.nodes() {
                let class = match graph.kind(node) {
                    NodeKind::Class => "java.lang.Class".to_string(),
                    NodeKind::Object | NodeKind::Array | NodeKind::PrimitiveArray => {
                        graph.name_str(node).into_owned()
                    }
                    _ => continue,
                };
                *ours.entry(class).or_default() += 1;
            }
            let theirs = counts(&expected["hist_all"]);
            assert_eq!(
                ours.values().sum::<u64>(),
                expected["total_objects"].as_u64().unwrap(),
                "{name} dump {dump_number}"
            );
            assert_eq!(ours, theirs, "{name} dump {dump_number}");
            checked += 1;
            let dumps = dump.hprof().unwrap().record_stats().heap_dumps;
            if dump_number >= dumps {
                break;
            }
            dump_number += 1;
        }
    }
    // 19 files, three of which hold two heap dumps.
    assert_eq!(checked, 22);
}

#[test]
fn old_heap_profiles_sum_their_tree() {
    let Some(dir) = external() else { return };
    for (name, total) in [
        ("speedscope-chrome69.heapprofile", 10_030_888),
        ("speedscope-node10.11.0.heapprofile", 525_704),
    ] {
        let dump = heapgraph::open(dir.join("heapprofile").join(name)).unwrap();
        let Parsed::V8Profile(profile) = dump.parsed() else {
            panic!("{name}: not a profile");
        };
        assert_eq!(profile.total_self_size(), total, "{name}");
        assert_eq!(dump.graph().total_self_size(), total, "{name}");
        assert!(dump.allocations().call_tree().folded().len() > 5, "{name}");
    }
}

/// LeakCanary's own test dumps (leak_service_binder, and the same app with
/// the leak's reference excluded): each holds a leaked
/// `com.example.leakcanary.LeakyService`, which LeakCanary's 2016 tests
/// found; `android::lifecycle_leaks` must find it by Shark's Service rule,
/// and nothing else.
#[test]
fn leakcanary_dumps_show_their_leaked_service() {
    let Some(dir) = external() else {
        return;
    };
    for name in [
        "leakcanary-android-leak_service_binder.hprof",
        "leakcanary-android-leak_service_binder_ignored.hprof",
    ] {
        let dump = heapgraph::open(dir.join("hprof").join(name)).unwrap();
        let analysis = dump.analyse();
        let leaks = heapgraph::android::lifecycle_leaks(&dump, &analysis);
        assert!(!leaks.is_empty(), "{name}: no leak found");
        for leak in &leaks {
            assert_eq!(leak.class, "com.example.leakcanary.LeakyService", "{name}");
            assert_eq!(
                leak.reason, "Service not held by ActivityThread.mServices",
                "{name}"
            );
            assert!(!leak.path.is_empty() && leak.retained_size > 0, "{name}");
        }
    }
}

/// Collection sizes Eclipse MAT's own tests assert on its
/// `sun_jdk6_18_x32.hprof` (org.eclipse.mat.tests,
/// `collect/ExtractCollectionEntriesTest.java`, one collection of each kind
/// by address), and the 1 341 `char[]` that its `DominatorTreeTest` counts
/// at the top of `show_dominator_tree char[]` on `sun_jdk6_32bit.hprof`
/// (no `char[]` dominates another, so each is one of `dominators
/// --of-class 'char[]'`'s members).
#[test]
fn collection_sizes_match_mats_own_tests() {
    let Some(dir) = external() else {
        return;
    };
    let dump = heapgraph::open(dir.join("hprof/mat-sun_jdk6_18_x32.hprof")).unwrap();
    let analysis = dump.analyse();
    let found = heapgraph::collections::collections(&dump, &analysis);
    let size_of = |id: u64| {
        found
            .iter()
            .find(|c| dump.graph().object_id(c.node) == id)
            .map(|c| (c.class.clone(), c.size))
    };
    for (id, class, size) in [
        (0x2419_57d0, "java.util.HashMap", 60),
        (0x2416_6668, "java.util.LinkedHashMap", 45),
        (0x241a_bf40, "java.util.HashSet", 2),
        (0x2416_f090, "java.util.LinkedHashSet", 23),
        (0x2416_b168, "java.util.Hashtable", 19),
        (0x2412_0b38, "java.util.Properties", 53),
        (0x2416_b9f0, "java.util.WeakHashMap", 11),
        (0x2419_d490, "java.util.concurrent.ConcurrentHashMap", 65),
    ] {
        assert_eq!(size_of(id), Some((class.to_string(), size)), "0x{id:x}");
    }
    let dump = heapgraph::open(dir.join("hprof/mat-sun_jdk6_32bit.hprof")).unwrap();
    let analysis = dump.analyse();
    assert_eq!(analysis.instances_matching("char[]").len(), 1341);
}
