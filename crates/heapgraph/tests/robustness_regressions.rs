//! Replays every input under `fuzz/regressions/<target>/` through the same
//! body the fuzz target runs (`fuzz/src/lib.rs`, included by path so the
//! main workspace needs no dependency on the cargo-fuzz project): no panic,
//! and each input done within a time bound. Crashes and timeouts the
//! fuzzers find are minimised (`cargo fuzz tmin`) and added there, so a fix
//! stays fixed without nightly Rust or cargo-fuzz.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // may panic: not library code

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[path = "../../../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod fuzz_bodies;

/// Per input, in the dev profile (opt-level 1). The inputs are at most a
/// few KiB; the slowest known one takes well under a second.
const TIME_BOUND: Duration = Duration::from_secs(10);

fn regressions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions")
}

fn inputs(target: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(regressions_dir().join(target)) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.file_name().is_none_or(|n| n != "README.md"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_regression_input_replays_without_panic_in_bounded_time() {
    // Every directory names a known target (a typo would silently skip).
    for entry in std::fs::read_dir(regressions_dir()).expect("fuzz/regressions exists") {
        let path = entry.unwrap().path();
        if path.is_dir() {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                fuzz_bodies::TARGETS.contains(&name.as_str()),
                "fuzz/regressions/{name} is not a fuzz target"
            );
        }
    }
    let mut failures = Vec::new();
    let mut replayed = 0;
    for &target in fuzz_bodies::TARGETS {
        for file in inputs(target) {
            let data = std::fs::read(&file).unwrap();
            let start = Instant::now();
            let outcome = std::panic::catch_unwind(|| fuzz_bodies::run(target, &data));
            let took = start.elapsed();
            let name = file
                .strip_prefix(regressions_dir())
                .unwrap_or(&file)
                .display();
            match outcome {
                Err(panic) => {
                    let message = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    failures.push(format!("{name}: panicked: {message}"));
                }
                Ok(()) if took > TIME_BOUND => {
                    failures.push(format!("{name}: took {took:?} (bound {TIME_BOUND:?})"));
                }
                Ok(()) => {}
            }
            replayed += 1;
        }
    }
    eprintln!("replayed {replayed} regression inputs");
    assert!(replayed > 0, "no inputs under fuzz/regressions");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The `dominators` body really checks something: on a hand-made diamond it
/// runs every policy, and its decoder makes the graph the bytes describe.
#[test]
fn dominators_body_runs_every_policy_on_a_diamond() {
    // 4 nodes; edges 0→1, 0→2, 1→3, 2→3 (kind 2 = property), a weak 3→1
    // (kind 6), a dangling 3→4 and a GC root on node 2.
    let mut input = vec![3, 0, 1, 2, 3, 4];
    input.extend([
        0, 1, 2, 0, 2, 2, 1, 3, 2, 2, 3, 2, 3, 1, 6, 3, 4, 2, 0, 2, 0xF0,
    ]);
    for mode in 0..4 {
        input[1] = mode;
        fuzz_bodies::dominators(&input);
    }
}

/// The `series` regressions reach what they are there for: three dumps of
/// one format (so diff, trends and leaks run), and two of different formats
/// (so their refusal runs).
#[test]
fn series_inputs_hold_the_dumps_they_are_named_for() {
    let parse = |name: &str| -> Vec<heapgraph::Format> {
        let data = std::fs::read(regressions_dir().join("series").join(name)).unwrap();
        let mut formats = Vec::new();
        let mut rest = &data[..];
        loop {
            let at = rest
                .windows(fuzz_bodies::SERIES_SEPARATOR.len())
                .position(|w| w == fuzz_bodies::SERIES_SEPARATOR);
            let part = at.map_or(rest, |at| &rest[..at]);
            let dump =
                heapgraph::parse_bytes(part.to_vec(), &heapgraph::OpenOptions::default()).unwrap();
            formats.push(dump.format());
            match at {
                Some(at) => rest = &rest[at + fuzz_bodies::SERIES_SEPARATOR.len()..],
                None => return formats,
            }
        }
    };
    use heapgraph::Format;
    assert_eq!(parse("tracemalloc-series"), vec![Format::Tracemalloc; 3]);
    assert_eq!(parse("v8-leak-series"), vec![Format::V8HeapSnapshot; 3]);
    assert_eq!(
        parse("mixed-formats"),
        vec![Format::Hprof, Format::Tracemalloc]
    );
}
