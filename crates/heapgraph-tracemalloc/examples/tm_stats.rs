//! Loads a tracemalloc dump and prints `statistics(key, cumulative)`, or with
//! two files `new.compare_to(old, key, cumulative)`, with timings on stderr.
//!
//! ```text
//! cargo run --release -p heapgraph-tracemalloc --example tm_stats -- \
//!     NEW.pickle [OLD.pickle] [--key lineno|filename|traceback] [--cumulative] [--all]
//! ```
//!
//! Prints the top 10 lines unless `--all`. `TM_IN_MEMORY=1` reads the whole
//! file first instead of streaming it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // may panic: not library code

use std::io::Write;
use std::time::Instant;

use heapgraph_analysis::sites::{AllocationColumns, Allocations, KeyType};
use heapgraph_tracemalloc::TracemallocSnapshot;

/// The snapshot's trace table as an allocation set (no graph is built).
fn table(snap: &heapgraph_tracemalloc::TracemallocSnapshot) -> Allocations<'_> {
    let c = snap.columns();
    Allocations::from_columns(
        snap.strings(),
        snap.stacks(),
        AllocationColumns {
            stacks: &c.stacks,
            sizes: &c.sizes,
            large_sizes: &c.large_sizes,
            domains: c.domains.as_deref(),
        },
    )
}

fn load(path: &str) -> Result<TracemallocSnapshot, Box<dyn std::error::Error>> {
    Ok(if std::env::var_os("TM_IN_MEMORY").is_some() {
        heapgraph_tracemalloc::parse(
            &std::fs::read(path)?,
            &heapgraph_tracemalloc::ParseOptions::default(),
        )?
    } else {
        heapgraph_tracemalloc::parse_file(path, &heapgraph_tracemalloc::ParseOptions::default())?
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut files = Vec::new();
    let mut key = KeyType::Lineno;
    let mut cumulative = false;
    let mut all = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--key" => {
                key = match args.next().as_deref() {
                    Some("filename") => KeyType::Filename,
                    Some("traceback") => KeyType::Traceback,
                    _ => KeyType::Lineno,
                }
            }
            "--cumulative" => cumulative = true,
            "--all" => all = true,
            _ => files.push(arg),
        }
    }
    let Some(new_path) = files.first() else {
        eprintln!("usage: tm_stats NEW.pickle [OLD.pickle] [--key K] [--cumulative] [--all]");
        std::process::exit(2);
    };
    let limit = if all { usize::MAX } else { 10 };
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    let start = Instant::now();
    let new = load(new_path)?;
    let loaded = start.elapsed();
    let new_all = table(&new);
    match files.get(1) {
        None => {
            let stats = new_all.statistics(key, cumulative)?;
            let total = start.elapsed();
            for stat in stats.iter().take(limit) {
                out.write_all(&stat.to_bytes())?;
                out.write_all(b"\n")?;
            }
            eprintln!(
                "{} traces, {} frames, {} stacks, {} stats; load {:.3} s, load + statistics {:.3} s; trace table {:.1} MB",
                new.trace_count(),
                new.stacks().frame_count(),
                new.stacks().stack_count(),
                stats.len(),
                loaded.as_secs_f64(),
                total.as_secs_f64(),
                {
                    let c = new.columns();
                    (c.stacks.len() * 4 + c.sizes.len() * 4 + new.strings().heap_bytes()) as f64
                        / 1e6
                },
            );
        }
        Some(old_path) => {
            let old = load(old_path)?;
            let old_all = table(&old);
            let diffs = new_all.compare_to(&old_all, key, cumulative)?;
            let total = start.elapsed();
            for diff in diffs.iter().take(limit) {
                out.write_all(&diff.to_bytes())?;
                out.write_all(b"\n")?;
            }
            eprintln!(
                "{} diffs; load two + compare_to {:.3} s",
                diffs.len(),
                total.as_secs_f64()
            );
        }
    }
    Ok(())
}
