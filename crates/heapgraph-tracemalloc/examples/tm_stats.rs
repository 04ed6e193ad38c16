//! Loads a tracemalloc dump and prints `statistics('lineno')` (top 10), or
//! with two files `new.compare_to(old, 'lineno')`, with timings.
//!
//! `cargo run --release -p heapgraph-tracemalloc --example tm_stats -- NEW [OLD]`

use std::time::Instant;

use heapgraph_analysis::sites::{Allocations, KeyType};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(new_path) = args.first() else {
        eprintln!("usage: tm_stats NEW.pickle [OLD.pickle]");
        std::process::exit(2);
    };
    let start = Instant::now();
    // TM_IN_MEMORY=1 reads the whole file first instead of streaming it.
    let in_memory = std::env::var_os("TM_IN_MEMORY").is_some();
    let new = if in_memory {
        heapgraph_tracemalloc::parse(&std::fs::read(new_path)?)?
    } else {
        heapgraph_tracemalloc::parse_file(new_path)?
    };
    let loaded = start.elapsed();
    let new_all = Allocations::new(&new.graph);
    match args.get(1) {
        None => {
            let stats = new_all.statistics(KeyType::Lineno, false)?;
            let total = start.elapsed();
            for stat in stats.iter().take(10) {
                println!("{stat}");
            }
            eprintln!(
                "{} traces, {} stats; load {:.3} s, load + statistics {:.3} s",
                new.trace_count(),
                stats.len(),
                loaded.as_secs_f64(),
                total.as_secs_f64()
            );
        }
        Some(old_path) => {
            let old = heapgraph_tracemalloc::parse_file(old_path)?;
            let old_all = Allocations::new(&old.graph);
            let diffs = new_all.compare_to(&old_all, KeyType::Lineno, false)?;
            let total = start.elapsed();
            for diff in diffs.iter().take(10) {
                println!("{diff}");
            }
            eprintln!("load two + compare_to {:.3} s", total.as_secs_f64());
        }
    }
    Ok(())
}
