//! Tests of the reader's internals: the split and releasing scans, and
//! [`ExactDivisor`].

use super::edges::ExactDivisor;
use super::*;
use std::io::Read;

fn testdata(name: &str) -> Vec<u8> {
    let path = format!("{}/../../testdata/v8/{name}", env!("CARGO_MANIFEST_DIR"));
    let raw = std::fs::read(&path).unwrap();
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(raw.as_slice())
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// Everything a parse produced, as one comparable value.
fn digest(result: &Result<V8Snapshot, V8Error>) -> String {
    let snapshot = match result {
        Ok(snapshot) => snapshot,
        Err(e) => return format!("error: {e:?}"),
    };
    let g = &snapshot.graph;
    let labels: Vec<_> = (0..g.edge_count() as u32)
        .map(|e| g.edge_label(heapgraph_core::EdgeIndex::new(e)))
        .collect();
    let stacks: Vec<_> = g.nodes().map(|n| g.node_stack(n)).collect();
    let strings: Vec<_> = g.strings().iter().map(|(_, s)| s.to_vec()).collect();
    format!(
        "{:?}",
        (
            g.kinds(),
            g.names(),
            g.object_ids().collect::<Vec<u64>>(),
            g.self_sizes(),
            g.edge_starts(),
            g.edge_targets(),
            g.edge_kinds(),
            labels,
            g.root_groups(),
            stacks,
            strings,
            (
                &snapshot.detachedness,
                &snapshot.locations,
                &snapshot.warnings,
                g.diagnostics()
            ),
        )
    )
}

/// The threaded scan of `nodes` and `edges` (cut into small chunks so
/// that records straddle them) gives the sequential result, on real
/// snapshots and on corrupted copies of one, errors included.
#[test]
fn split_parse_matches_sequential_parse() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let sequential = Split {
        chunk_bytes: usize::MAX,
        sequential: true,
    };
    let split = Split {
        chunk_bytes: 4096,
        sequential: false,
    };
    for name in [
        "node20-planted.heapsnapshot.gz",
        "node20-tracked.heapsnapshot.gz",
    ] {
        let bytes = testdata(name);
        let expected = digest(&parse_split(&bytes, sequential));
        assert!(!expected.starts_with("error"), "{name}: {expected}");
        let got = pool.install(|| digest(&parse_split(&bytes, split)));
        assert!(got == expected, "{name}: the split parse differs");
    }

    let bytes = testdata("node20-planted.heapsnapshot.gz");
    let nodes = memchr::memmem::find(&bytes, b"\"nodes\":").unwrap();
    let strings = memchr::memmem::find(&bytes, b"\"strings\":").unwrap();
    let mut state = 11u64;
    let mut errors = 0;
    for round in 0..24 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut copy = bytes.clone();
        let at = nodes + (state >> 20) as usize % (strings - nodes);
        copy[at] = b"x,9 ]0\"-"[round % 8];
        let expected = digest(&parse_split(&copy, sequential));
        let got = pool.install(|| digest(&parse_split(&copy, split)));
        assert!(
            got == expected,
            "flip at {at}: {got:.300} vs {expected:.300}"
        );
        errors += usize::from(expected.starts_with("error"));
    }
    assert!(errors >= 8, "only {errors} corruptions were errors");
}

/// A parse that hands back the ranges it is done with gives the same
/// result, sequential or split; the ranges stay inside the file and cover every digit of `nodes` and `edges` and the whole
/// `strings` section.
#[test]
fn releasing_parse_matches_and_releases_the_big_sections() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let sequential = Split {
        chunk_bytes: usize::MAX,
        sequential: true,
    };
    let split = Split {
        chunk_bytes: 4096,
        sequential: false,
    };
    for name in [
        "node20-planted.heapsnapshot.gz",
        "node20-tracked.heapsnapshot.gz",
        "deno2-orders.heapsnapshot.gz",
    ] {
        let bytes = testdata(name);
        let expected = digest(&parse_snapshot(&bytes));
        assert!(!expected.starts_with("error"), "{name}: {expected}");
        for how in [sequential, split] {
            let released = std::sync::Mutex::new(Vec::new());
            let record = |range: std::ops::Range<usize>| released.lock().unwrap().push(range);
            let got = pool.install(|| digest(&parse_split_releasing(&bytes, how, &record)));
            assert!(
                got == expected,
                "{name} {how:?}: the releasing parse differs"
            );
            let mut released = released.into_inner().unwrap();
            assert!(released.len() >= 3, "{name} {how:?}: {released:?}");
            released.sort_by_key(|r| r.start);
            // The locate pass lets each section go after finding it and
            // the read pass again after reading it: ranges may overlap.
            for range in &released {
                assert!(range.start < range.end, "{name}: {range:?}");
                assert!(range.end <= bytes.len(), "{name}: {range:?}");
            }
            let covered = |at: usize| released.iter().any(|r| r.contains(&at));
            for key in [&b"\"nodes\":"[..], b"\"edges\":"] {
                let start = memchr::memmem::find(&bytes, key).unwrap() + key.len();
                let stop = start + memchr::memchr(b']', &bytes[start..]).unwrap();
                let missed = (start..stop)
                    .filter(|&at| bytes[at].is_ascii_digit() && !covered(at))
                    .count();
                assert_eq!(missed, 0, "{name} {how:?}: digits of {key:?} kept");
            }
            let strings = memchr::memmem::find(&bytes, b"\"strings\":").unwrap() + 10;
            let kept = (strings..bytes.len()).filter(|&at| !covered(at)).count();
            // The key's `:` and whitespace, the closing `}` and newline.
            assert!(kept < 8, "{name} {how:?}: {kept} bytes of strings kept");
            let total: usize = released.iter().map(|r| r.len()).sum();
            assert!(
                total * 10 >= bytes.len() * 9,
                "{name} {how:?}: {total} of {} bytes released",
                bytes.len()
            );
        }
    }
}

#[test]
fn exact_divisor_matches_plain_division() {
    assert!(ExactDivisor::new(0).is_none());
    let mut state = 3u64;
    for d in 1..=40u64 {
        let divisor = ExactDivisor::new(d).unwrap();
        for _ in 0..5000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            for value in [
                state,
                state >> 20,
                (state >> 40) * d,
                u64::MAX - (state >> 50),
            ] {
                let expected = (value % d == 0).then_some(value / d);
                assert_eq!(divisor.divide(value), expected, "{value} / {d}");
            }
        }
        assert_eq!(divisor.divide(0), Some(0));
        assert_eq!(divisor.divide(u64::MAX / d * d), Some(u64::MAX / d));
    }
}
