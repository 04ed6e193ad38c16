//! End to end: the NetBeans golden retained sizes of every instance in
//! `../shared/corpus/hprof/netbeans-jdk8-64bit.hprof`, reproduced with the
//! raw NetBeans size model and `Reference.referent` ignored
//! (`EdgePolicy::netbeans()`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

use std::io::Read;

use heapgraph_analysis::{EdgePolicy, HeapAnalysis};
use heapgraph_core::NodeKind;
use heapgraph_hprof::{parse, HprofOptions, SizeModel};

/// `../shared/corpus/hprof/<name>` beside the repository, or `None`, with one
/// line saying what is skipped, when the shared corpus is not there (the
/// NetBeans dump and golden file are never copied into the repository).
fn corpus(name: &str) -> Option<Vec<u8>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus");
    if !std::path::Path::new(dir).is_dir() {
        skipped(name);
        return None;
    }
    let path = format!("{dir}/hprof/{name}");
    Some(std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
}

/// `(instance id, retained size)` for every `Instance Id 0x… number N
/// retained size R` line of the golden file.
fn golden_retained_sizes(golden: &[u8]) -> Vec<(u64, u64)> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(golden)
        .read_to_string(&mut text)
        .unwrap();
    text.lines()
        .filter_map(|line| line.strip_prefix("  Instance Id 0x"))
        .map(|rest| {
            let id = u64::from_str_radix(rest.split(' ').next().unwrap(), 16).unwrap();
            let retained = rest
                .split(" retained size ")
                .nth(1)
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            (id, retained)
        })
        .collect()
}

#[test]
fn netbeans_golden_retained_sizes_for_every_instance() {
    let Some(file) = corpus("netbeans-jdk8-64bit.hprof") else {
        return;
    };
    let golden = corpus("netbeans-jdk8-64bit.golden.txt.gz").expect("beside its dump");
    let dump = parse(
        &file,
        &HprofOptions::default().with_size_model(SizeModel::Raw),
    )
    .unwrap();
    let graph = dump.graph();
    let analysis = HeapAnalysis::with_policy(graph, EdgePolicy::netbeans());
    let golden = golden_retained_sizes(&golden);
    assert_eq!(golden.len(), 7788);

    let mut mismatches = Vec::new();
    for &(id, expected) in &golden {
        let node = graph
            .node_by_object_id(id)
            .unwrap_or_else(|| panic!("instance 0x{id:x} not in the graph"));
        assert_ne!(graph.kind(node), NodeKind::Class);
        let ours = analysis.retained_size(node);
        if ours != expected {
            mismatches.push(format!(
                "0x{id:x} {} golden {expected} ours {ours}",
                graph.name_str(node)
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} retained sizes differ, first: {:#?}",
        mismatches.len(),
        golden.len(),
        &mismatches[..mismatches.len().min(20)]
    );
}

/// Says on the terminal that `what` was skipped. Written straight to stderr,
/// which libtest does not capture, so the line shows in every run.
pub fn skipped(what: &str) {
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "skipped: {what} (../shared/corpus is not beside this clone)"
    );
}
