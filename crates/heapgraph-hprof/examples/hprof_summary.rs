//! Prints what a dump holds and how long parsing took:
//! `cargo run --release -p heapgraph-hprof --example hprof_summary -- FILE.hprof [raw]`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // example

use std::time::Instant;

use heapgraph_hprof::{parse, scan, HprofOptions, SizeModel};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: hprof_summary FILE.hprof [raw]");
    let model = if args.next().as_deref() == Some("raw") {
        SizeModel::Raw
    } else {
        SizeModel::Mat
    };
    let bytes = std::fs::read(&path).unwrap();
    let mb = bytes.len() as f64 / 1e6;
    let start = Instant::now();
    let (_, objects) = scan(&bytes).unwrap();
    let index = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let dump = parse(&bytes, &HprofOptions::default().with_size_model(model)).unwrap();
    let full = start.elapsed().as_secs_f64();
    let graph = dump.graph();
    println!("{path}: {mb:.1} MB, {}", graph.info().producer);
    println!(
        "heap objects {objects}, nodes {}, edges {}",
        graph.node_count(),
        graph.edge_count()
    );
    println!(
        "total shallow size {} bytes ({model:?} model)",
        graph.total_self_size()
    );
    println!(
        "index pass {index:.3} s ({:.0} MB/s), full parse {full:.3} s ({:.0} MB/s)",
        mb / index,
        mb / full
    );
    println!("{:?}", graph.diagnostics());
    println!("{:#?}", dump.record_stats());
}
