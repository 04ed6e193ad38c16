//! Times `parse_snapshot` (or `parse_heapprofile` for `.heapprofile`
//! files) on a file already in memory and prints MB/s.
//!
//! ```sh
//! node --expose-gc benches/v8/gen-big.js /tmp/v8big.heapsnapshot 600000
//! cargo run --release -p heapgraph-v8 --example parse_timing -- /tmp/v8big.heapsnapshot 3
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

/// This process's user + system CPU seconds (Linux `/proc/self/stat`;
/// 0 elsewhere), to report MB/s per core on a busy machine.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which may contain spaces).
    let rest = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 here.
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: parse_timing FILE [RUNS]");
    let runs: usize = args.next().map_or(3, |r| r.parse().unwrap());
    let bytes = std::fs::read(&path).unwrap();
    let mb = bytes.len() as f64 / 1e6;
    let mut best = f64::MAX;
    let mut best_cpu = f64::MAX;
    for run in 0..runs {
        let cpu_start = cpu_seconds();
        let start = Instant::now();
        if path.ends_with(".heapprofile") {
            let profile = heapgraph_v8::parse_heapprofile(&bytes).unwrap();
            let secs = start.elapsed().as_secs_f64();
            if run == 0 {
                println!(
                    "{} tree nodes, {} samples",
                    profile.nodes.len(),
                    profile.samples.len()
                );
            }
            best = best.min(secs);
        } else {
            let snapshot = heapgraph_v8::parse_snapshot(&bytes).unwrap();
            let secs = start.elapsed().as_secs_f64();
            if run == 0 {
                let graph = &snapshot.graph;
                let memory = graph.heap_bytes();
                println!(
                    "{} nodes, {} edges, {} strings, producer {:?}; graph {:?}",
                    graph.node_count(),
                    graph.edge_count(),
                    graph.strings().len(),
                    snapshot.producer,
                    memory
                );
            }
            best = best.min(secs);
        }
        let cpu = cpu_seconds() - cpu_start;
        best_cpu = best_cpu.min(cpu);
        println!(
            "run {run}: {:.3} s wall, {cpu:.2} s CPU",
            start.elapsed().as_secs_f64()
        );
    }
    println!(
        "{mb:.1} MB, best {best:.3} s = {:.0} MB/s wall; best {best_cpu:.2} s CPU = {:.0} MB/s per core",
        mb / best,
        mb / best_cpu
    );
}
