//! Load + `statistics('lineno')` and `compare_to` throughput.
//!
//! Input: `HEAPGRAPH_TRACEMALLOC_BENCH_FILE` (and optionally
//! `HEAPGRAPH_TRACEMALLOC_BENCH_OLD` for the comparison), e.g. dumps made by
//! `python3 testdata/tracemalloc/bench_gen.py /tmp/big.pickle`; else the
//! committed generated dumps `app_b.p5.pickle` and `app_a.p5.pickle`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // bench setup may panic

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use heapgraph_analysis::sites::{AllocationColumns, Allocations, KeyType};

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

fn input(var: &str, fallback: &str) -> Vec<u8> {
    let path = std::env::var(var).unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/tracemalloc/").to_owned() + fallback
    });
    std::fs::read(path).unwrap()
}

fn bench(c: &mut Criterion) {
    let new = input("HEAPGRAPH_TRACEMALLOC_BENCH_FILE", "app_b.p5.pickle");
    let old = input("HEAPGRAPH_TRACEMALLOC_BENCH_OLD", "app_a.p5.pickle");
    let mut group = c.benchmark_group("tracemalloc");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(new.len() as u64));
    group.bench_function("parse", |b| {
        b.iter(|| {
            heapgraph_tracemalloc::parse(&new, &heapgraph_tracemalloc::ParseOptions::default())
                .unwrap()
                .trace_count()
        })
    });
    group.bench_function("parse + statistics(lineno)", |b| {
        b.iter(|| {
            let snap =
                heapgraph_tracemalloc::parse(&new, &heapgraph_tracemalloc::ParseOptions::default())
                    .unwrap();
            let all = table(&snap);
            all.statistics(KeyType::Lineno, false).unwrap().len()
        })
    });
    group.throughput(Throughput::Bytes((new.len() + old.len()) as u64));
    group.bench_function("parse two + compare_to(lineno)", |b| {
        b.iter(|| {
            let a =
                heapgraph_tracemalloc::parse(&new, &heapgraph_tracemalloc::ParseOptions::default())
                    .unwrap();
            let o =
                heapgraph_tracemalloc::parse(&old, &heapgraph_tracemalloc::ParseOptions::default())
                    .unwrap();
            let (a_all, o_all) = (table(&a), table(&o));
            a_all
                .compare_to(&o_all, KeyType::Lineno, false)
                .unwrap()
                .len()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
