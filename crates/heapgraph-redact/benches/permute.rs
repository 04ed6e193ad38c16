//! Throughput of the keyed permutations: byte strings of the sizes heap
//! dumps hold (a short Java string's `byte[]`, a kilobyte buffer, a
//! megabyte array), UTF-16 text as in V8 snapshots, and name pseudonyms.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // bench setup may panic

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use heapgraph_redact::{Key, Redactor};

fn bench(c: &mut Criterion) {
    let redactor = Redactor::new(&Key::from_salt(b"bench"));
    let mut group = c.benchmark_group("redact");
    for size in [16usize, 1024, 1 << 20] {
        let mut value: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(format!("bytes_{size}"), |b| {
            b.iter(|| redactor.replace_bytes(std::hint::black_box(&mut value)))
        });
    }
    let mut text: Vec<u16> = "Actual value (high): ünïcødé €100 \u{1F600}"
        .encode_utf16()
        .collect();
    group.throughput(Throughput::Elements(1));
    group.bench_function("utf16_40_units", |b| {
        b.iter(|| redactor.replace_utf16(std::hint::black_box(&mut text)))
    });
    group.bench_function("pseudonym_class_name", |b| {
        b.iter(|| redactor.pseudonym(std::hint::black_box("com/acme/billing/CardVault$Entry")))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
