//! Throughput of `parse_snapshot` in MB/s.
//!
//! Input: `HEAPGRAPH_V8_BENCH_FILE` (an uncompressed `.heapsnapshot`, e.g.
//! one made by `node --expose-gc benches/v8/gen-big.js /tmp/big.heapsnapshot`),
//! else a ~60 MB snapshot generated in memory in Node 20's layout (one
//! record per line, 7 node fields, a realistic mix of small and large
//! numbers).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // bench setup may panic

use std::fmt::Write as _;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// A deterministic Node-20-shaped snapshot with `nodes` nodes and three
/// edges per node on average.
fn generated(nodes: u64) -> Vec<u8> {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let strings = 50_000u64;
    let mut edge_counts = Vec::with_capacity(nodes as usize);
    let mut out = String::with_capacity(nodes as usize * 90);
    out.push_str(
        r#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],"node_types":[["hidden","array","string","object","code","closure","regexp","number","native","synthetic","concatenated string","sliced string","symbol","bigint","object shape","wasm object"],"string","number","number","number","number","number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["context","element","property","internal","hidden","shortcut","weak"],"string_or_number","node"],"trace_function_info_fields":["function_id","name","script_name","script_id","line","column"],"trace_node_fields":["id","function_info_index","count","size","children"],"sample_fields":["timestamp_us","last_assigned_id"],"location_fields":["object_index","script_id","line","column"]},"#,
    );
    let mut edges_total = 0u64;
    let mut nodes_text = String::new();
    for k in 0..nodes {
        let r = next();
        let edges = if k == 0 { 1 } else { r % 7 };
        edge_counts.push(edges);
        edges_total += edges;
        let kind = if k == 0 {
            9
        } else {
            [0, 1, 2, 3, 3, 3, 4, 5, 14][(r >> 8) as usize % 9]
        };
        let _ = writeln!(
            nodes_text,
            "{},{},{},{},{},0,0,",
            kind,
            (r >> 16) % strings,
            2 * k + 1,
            [16, 24, 32, 56, 120, 4096][(r >> 32) as usize % 6],
            edges
        );
    }
    let _ = write!(
        out,
        "\"node_count\":{nodes},\"edge_count\":{edges_total},\"trace_function_count\":0}},\n\"nodes\":["
    );
    out.push_str(nodes_text.trim_end_matches(",\n"));
    out.push_str("],\n\"edges\":[");
    let mut first = true;
    for &count in &edge_counts {
        for _ in 0..count {
            let r = next();
            let kind = [1, 2, 2, 2, 3, 3, 4, 6][r as usize % 8];
            let label = (r >> 8) % strings;
            let target = (r >> 24) % nodes * 7;
            if !first {
                out.push_str(",\n");
            }
            first = false;
            let _ = write!(out, "{kind},{label},{target}");
        }
    }
    out.push_str("],\n\"trace_function_infos\":[],\n\"trace_tree\":[],\n\"samples\":[],\n\"locations\":[],\n\"strings\":[\"<dummy>\"");
    for i in 1..strings {
        let _ = write!(out, ",\n\"name_{i}_{}\"", next() % 100_000);
    }
    out.push_str("]}\n");
    out.into_bytes()
}

fn bench(c: &mut Criterion) {
    let (name, bytes) = match std::env::var("HEAPGRAPH_V8_BENCH_FILE") {
        Ok(path) => (path.clone(), std::fs::read(&path).unwrap()),
        Err(_) => ("generated".to_string(), generated(800_000)),
    };
    let mb = bytes.len() / 1_000_000;
    eprintln!("input {name}: {} bytes", bytes.len());
    let mut group = c.benchmark_group("parse/v8");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.sample_size(10);
    group.bench_function(format!("snapshot/{mb}mb"), |b| {
        b.iter(|| heapgraph_v8::parse_snapshot(&bytes).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
