//! Helpers shared by the integration tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Read;

use heapgraph_core::{EdgeKind, EdgeLabel, HeapGraph, NodeIndex, NodeKind};

/// `../shared/corpus/hprof/<name>` beside the repository (dumps from other
/// projects that are never copied into it), or `None`, with one line saying
/// what is skipped, when the shared corpus is not there. When the corpus is
/// there, a missing file is an error, not a skip.
pub fn corpus(name: &str) -> Option<Vec<u8>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus");
    if !std::path::Path::new(dir).is_dir() {
        skipped(name);
        return None;
    }
    let path = format!("{dir}/hprof/{name}");
    Some(std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
}

pub fn testdata(name: &str) -> Vec<u8> {
    let path = format!("{}/../../testdata/hprof/{name}", env!("CARGO_MANIFEST_DIR"));
    gunzip_if_gzip(std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
}

/// The bytes, decompressed when they are gzip.
pub fn gunzip_if_gzip(bytes: Vec<u8>) -> Vec<u8> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        bytes
    }
}

pub fn gunzip_text(bytes: &[u8]) -> String {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

/// The class node of an object node (its `<class>` edge).
pub fn class_of(graph: &HeapGraph, node: NodeIndex) -> Option<NodeIndex> {
    graph
        .edges(node)
        .find(|e| {
            e.kind == EdgeKind::Internal
                && matches!(e.label, EdgeLabel::Name(n) if graph.strings().bytes(n) == b"<class>")
        })
        .map(|e| e.target)
}

pub fn is_object(kind: NodeKind) -> bool {
    matches!(
        kind,
        NodeKind::Object | NodeKind::Array | NodeKind::PrimitiveArray
    )
}

/// Per class name: (instances, shallow bytes) over object nodes.
pub fn histogram_by_name(graph: &HeapGraph) -> HashMap<String, (u64, u64)> {
    let mut out: HashMap<String, (u64, u64)> = HashMap::new();
    for node in graph.nodes() {
        if is_object(graph.kind(node)) {
            let e = out.entry(graph.name_str(node).into_owned()).or_default();
            e.0 += 1;
            e.1 += graph.self_size(node);
        }
    }
    out
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

/// `../shared/corpus/external/hprof/<name>` beside the repository (dumps
/// from other projects' repositories, never copied into this one), or
/// `None`, with one line saying what is skipped, when the corpus is absent.
pub fn external(name: &str) -> Option<Vec<u8>> {
    corpus(&format!("../external/hprof/{name}")).map(gunzip_if_gzip)
}
