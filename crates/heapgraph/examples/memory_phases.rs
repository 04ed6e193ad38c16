//! Where a full analysis's memory goes, phase by phase: the process's
//! anonymous resident memory (Linux `RssAnon`, the mapped input excluded)
//! after the parse, after the dominator tree and retained sizes, and after
//! the class histogram, with the graph's own columns broken down.
//!
//! ```text
//! cargo run --release -p heapgraph --example memory_phases -- DUMP
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a diagnostic tool

/// `RssAnon` of this process in MB (0 where `/proc` has no such field).
fn anonymous_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status
                .lines()
                .find(|l| l.starts_with("RssAnon:"))?
                .to_string();
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(0, |kb| kb / 1024)
}

fn main() -> Result<(), heapgraph::Error> {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: memory_phases DUMP");
        std::process::exit(2);
    };
    let dump = heapgraph::open(&path)?;
    let graph = dump.try_graph()?;
    let memory = graph.heap_bytes();
    println!("{} nodes, {} edges", graph.node_count(), graph.edge_count());
    println!(
        "after the parse      {:>6} MB  (graph: node columns {} MB = {:.1} B/node, edge columns {} MB = {:.1} B/edge, strings {} MB)",
        anonymous_mb(),
        memory.node_bytes >> 20,
        memory.bytes_per_node(),
        memory.edge_bytes >> 20,
        memory.bytes_per_edge(),
        memory.string_bytes >> 20
    );
    let analysis = dump.analyse();
    println!(
        "after the analysis   {:>6} MB  (dominator tree, retained and shown sizes, classes)",
        anonymous_mb()
    );
    let histogram = analysis.class_histogram();
    println!(
        "after the histogram  {:>6} MB  ({} classes; the dominator tree's children index)",
        anonymous_mb(),
        histogram.rows().len()
    );
    Ok(())
}
