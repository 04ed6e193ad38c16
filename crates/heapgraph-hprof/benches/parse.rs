//! Throughput of the HPROF index pass (`scan`) and the full parse, in MB/s.
//!
//! Input: `HEAPGRAPH_HPROF_BENCH_FILE` (an uncompressed .hprof, e.g. one made
//! by `testdata/hprof/gen/gen-hotspot.sh /tmp/big 200000 100000 1500000 1g`),
//! else the committed `testdata/hprof/hotspot-jdk17-shapes.hprof.gz`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // bench setup may panic

use std::io::Read;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use heapgraph_hprof::{parse, scan, HprofOptions};

fn input() -> (String, Vec<u8>) {
    if let Ok(path) = std::env::var("HEAPGRAPH_HPROF_BENCH_FILE") {
        let bytes = std::fs::read(&path).unwrap();
        return (path, bytes);
    }
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/hprof/hotspot-jdk17-shapes.hprof.gz"
    );
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    (path.to_string(), out)
}

fn bench(c: &mut Criterion) {
    let (path, bytes) = input();
    let mb = bytes.len() / 1_000_000;
    eprintln!("input {path}: {} bytes", bytes.len());
    let mut group = c.benchmark_group("parse/hprof");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.sample_size(10);
    group.bench_function(format!("index/{mb}mb"), |b| {
        b.iter(|| scan(&bytes).unwrap())
    });
    group.bench_function(format!("graph/{mb}mb"), |b| {
        b.iter(|| parse(&bytes, &HprofOptions::default()).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
