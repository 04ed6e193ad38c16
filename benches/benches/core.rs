//! Builder benches: `core/freeze/<nodes>` builds and freezes a heap-like
//! graph with three edges per node, pushed in source order.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // may panic: not library code

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use heapgraph_benches::heap_like_graph;

fn freeze(c: &mut Criterion) {
    let mut group = c.benchmark_group("core/freeze");
    group.sample_size(10);
    for nodes in [100_000u32, 1_000_000] {
        group.throughput(Throughput::Elements(u64::from(nodes)));
        group.bench_with_input(BenchmarkId::from_parameter(nodes), &nodes, |b, &nodes| {
            b.iter(|| heap_like_graph(nodes, 2, 42));
        });
    }
    group.finish();
}

criterion_group!(benches, freeze);
criterion_main!(benches);
