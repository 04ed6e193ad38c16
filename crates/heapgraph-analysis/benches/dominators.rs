//! Dominators + retained sizes on synthetic heap-like graphs.
//!
//! Each node `i` points to its binary-tree children `2i+1`, `2i+2` and to
//! two random nodes, so about 3 edges per node and plenty of sharing.
//! Criterion measures 10^5 and 10^6 nodes. With `HEAPGRAPH_BENCH_LARGE=1`
//! the bench also runs the 10^7-node / 3·10^7-edge case once and prints its
//! time and extra memory (peak RSS growth, read from `/proc/self/status`
//! after resetting the high-water mark, and the algorithm's own count of its
//! scratch columns):
//!
//! ```text
//! HEAPGRAPH_BENCH_LARGE=1 cargo bench -p heapgraph-analysis --bench dominators
//! ```
//!
//! `HEAPGRAPH_BENCH_LARGE=N` (a number above 1) runs the one-shot cases at
//! `N` nodes instead, e.g. `100000000` for the 10^8-node case.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // may panic: not library code

use std::hint::black_box;
use std::time::Instant;

use criterion::{BenchmarkId, Criterion};
use heapgraph_analysis::{DominatorTree, EdgePolicy, UnreachableNodes};
use heapgraph_core::{EdgeKind, Format, GraphBuilder, HeapGraph, NodeKind, Sizes};

/// `local`: the two extra edges point within ±4096 nodes nine times in ten,
/// as objects allocated together tend to reference each other.
fn synthetic_graph(n: u32, seed: u64, local: bool) -> HeapGraph {
    let mut b = GraphBuilder::new(Format::Synthetic);
    b.reserve(n as usize, 3 * n as usize);
    let Ok(name) = b.intern(b"Node") else {
        panic!("intern")
    };
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for i in 0..n {
        let size = 16 + (next() % 64);
        if b.add_node(NodeKind::Object, name, u64::from(i), size)
            .is_err()
        {
            panic!("add_node");
        }
    }
    for i in 0..n {
        for child in [2 * u64::from(i) + 1, 2 * u64::from(i) + 2] {
            if child < u64::from(n) && b.push_edge(i, child as u32, EdgeKind::Property, 0).is_err()
            {
                panic!("push_edge");
            }
        }
        for label in [1, 2] {
            let r = next();
            let random = if local && r % 10 != 0 {
                let offset = (r >> 8) % 8192;
                (u64::from(i) + offset)
                    .saturating_sub(4096)
                    .min(u64::from(n) - 1) as u32
            } else {
                (r % u64::from(n)) as u32
            };
            if b.push_edge(i, random, EdgeKind::Property, label).is_err() {
                panic!("push_edge");
            }
        }
    }
    match b.finish() {
        Ok(graph) => graph,
        Err(e) => panic!("finish: {e}"),
    }
}

fn dominators_and_retained(graph: &HeapGraph) -> (DominatorTree, Sizes) {
    let edges = EdgePolicy::strong_only().dominator_edges(graph);
    let tree = DominatorTree::compute(graph, &edges, UnreachableNodes::Exclude);
    let retained = tree.retained_sizes(graph.self_sizes());
    (tree, retained)
}

/// `VmHWM` or `VmRSS` from `/proc/self/status`, in bytes.
fn proc_status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// User + system CPU time of this process, in seconds (`/proc/self/stat`,
/// 100 ticks per second), so a busy machine does not inflate the figure.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields overall.
    let Some(rest) = stat.rsplit(')').next() else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn one_shot_large(n: u32, local: bool) {
    let start = Instant::now();
    let graph = synthetic_graph(n, 0x5eed, local);
    println!(
        "{} extra edges:",
        if local {
            "mostly local"
        } else {
            "uniformly random"
        }
    );
    println!(
        "built {} nodes / {} edges in {:.2?}",
        graph.node_count(),
        graph.edge_count(),
        start.elapsed()
    );
    // Reset the peak-RSS mark so VmHWM measures only the analysis.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let rss_before = proc_status_kb("VmRSS:").unwrap_or(0);
    let start = Instant::now();
    let cpu_start = cpu_seconds();
    let (tree, retained) = dominators_and_retained(&graph);
    let elapsed = start.elapsed();
    let cpu = cpu_seconds() - cpu_start;
    let peak = proc_status_kb("VmHWM:").unwrap_or(0);
    let n = graph.node_count() as f64;
    let m = graph.edge_count() as f64;
    let extra = peak.saturating_sub(rss_before) as f64;
    let scratch = tree.peak_scratch_bytes() as f64;
    println!("dominators + retained sizes: {elapsed:.2?} wall, {cpu:.2} s CPU (one thread)");
    println!(
        "peak RSS growth {:.0} MB = {:.1} B/node at {:.1} B/edge budget ({:.1} B/node if edges get 4 B)",
        extra / 1e6,
        extra / n,
        extra / m,
        (extra - 4.0 * m) / n
    );
    println!(
        "algorithm scratch at peak {:.0} MB ({:.1} B/node + 4 B/edge); kept: tree {:.0} MB, retained {:.0} MB",
        scratch / 1e6,
        (scratch - 4.0 * m) / n,
        tree.heap_bytes() as f64 / 1e6,
        retained.heap_bytes() as f64 / 1e6
    );
    black_box((tree, retained));
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args().sample_size(10);
    let mut group = criterion.benchmark_group("dominators_and_retained");
    for n in [100_000u32, 1_000_000] {
        let graph = synthetic_graph(n, 42, false);
        group.bench_with_input(BenchmarkId::from_parameter(n), &graph, |b, graph| {
            b.iter(|| black_box(dominators_and_retained(graph)))
        });
    }
    group.finish();
    criterion.final_summary();
    if let Some(large) = std::env::var_os("HEAPGRAPH_BENCH_LARGE") {
        let n = large
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
            .filter(|&n| n > 1)
            .unwrap_or(10_000_000);
        one_shot_large(n, false);
        one_shot_large(n, true);
    }
}
