//! The spilling allocator (`heapgraph::spill`): blocks keep their contents
//! through every move between the system allocator, anonymous mappings and
//! scratch files; scratch files have no name; dumps analysed while
//! spilling give the same answers as in ordinary memory.
//!
//! This test binary maps from 64 KiB on (the command line from 1 MiB), so
//! that testdata's small dumps spill too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

use std::path::{Path, PathBuf};

use heapgraph::spill;
use proptest::prelude::*;

#[global_allocator]
static ALLOCATOR: spill::SpillAllocator<MIN_BYTES> = spill::SpillAllocator;

const MIN_BYTES: usize = 64 << 10;

fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative)
}

/// A block with a known pattern. `Vec` calls the global allocator's
/// `alloc`, `realloc` (grown by `reserve_exact`, shrunk by
/// `shrink_to_fit`) and `dealloc` with exactly these sizes.
struct Block {
    bytes: Vec<u8>,
    seed: u8,
}

fn byte(seed: u8, i: usize) -> u8 {
    seed.wrapping_add((i % 251) as u8).wrapping_mul(31)
}

impl Block {
    fn new(size: usize, seed: u8) -> Block {
        let mut bytes = Vec::with_capacity(size);
        bytes.extend((0..size).map(|i| byte(seed, i)));
        Block { bytes, seed }
    }

    fn check(&self) {
        let bad = self
            .bytes
            .iter()
            .enumerate()
            .find(|(i, b)| **b != byte(self.seed, *i));
        assert!(
            bad.is_none(),
            "block of {} bytes: {bad:?}",
            self.bytes.len()
        );
    }

    fn resize(&mut self, new_size: usize) {
        let old = self.bytes.len();
        if new_size > old {
            self.bytes.reserve_exact(new_size - old);
            let seed = self.seed;
            self.bytes.extend((old..new_size).map(|i| byte(seed, i)));
        } else {
            self.bytes.truncate(new_size);
            self.bytes.shrink_to_fit();
        }
    }
}

#[derive(Clone, Debug)]
enum Op {
    New(usize),
    Resize(usize, usize),
    Free(usize),
    Spill(bool),
}

fn op() -> impl Strategy<Value = Op> {
    // Sizes on both sides of the 64 KiB threshold and of a page.
    let size = prop_oneof![1usize..5000, 60_000usize..70_000, 100_000usize..400_000];
    prop_oneof![
        3 => size.clone().prop_map(Op::New),
        4 => (any::<usize>(), size).prop_map(|(i, s)| Op::Resize(i, s)),
        2 => any::<usize>().prop_map(Op::Free),
        1 => any::<bool>().prop_map(Op::Spill),
    ]
}

/// Any sequence of allocations, resizes, frees and switches keeps every
/// block's bytes, and the scratch mappings are all gone at the end.
fn blocks_keep_their_bytes_through_every_move() {
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(48));
    let result = runner.run(&prop::collection::vec(op(), 1..40), |ops| {
        let before = spill::spilled_bytes().0;
        let dir = tempfile::tempdir().unwrap();
        let mut blocks: Vec<Block> = Vec::new();
        for (n, op) in ops.into_iter().enumerate() {
            match op {
                Op::New(size) => blocks.push(Block::new(size, n as u8)),
                Op::Resize(i, size) if !blocks.is_empty() => {
                    let len = blocks.len();
                    blocks[i % len].resize(size);
                }
                Op::Free(i) if !blocks.is_empty() => {
                    let len = blocks.len();
                    blocks.swap_remove(i % len);
                }
                Op::Spill(true) => spill::enable(dir.path()).unwrap(),
                Op::Spill(false) => spill::disable(),
                _ => {}
            }
            for block in &blocks {
                block.check();
            }
        }
        drop(blocks);
        spill::disable();
        prop_assert_eq!(spill::spilled_bytes().0, before);
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

/// Scratch files have no name: the directory stays empty while blocks
/// live in it, and the blocks are counted.
fn scratch_files_have_no_name() {
    let before = spill::spilled_bytes().0;
    let dir = tempfile::tempdir().unwrap();
    spill::enable(dir.path()).unwrap();
    let mut big = Block::new(1 << 20, 7);
    big.resize(3 << 20);
    let (now, peak) = spill::spilled_bytes();
    spill::disable();
    assert!(now >= before + (3 << 20) && peak >= now, "{now} {peak}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    big.check();
    drop(big);
    assert_eq!(spill::spilled_bytes().0, before);
}

/// What a dump's analysis says, in full enough to compare, and the bytes
/// in scratch files while it was alive.
fn fingerprint(
    path: &Path,
    options: &heapgraph::OpenOptions,
) -> ((Vec<u64>, Vec<u64>, String), usize) {
    let dump = heapgraph::open_with(path, options).unwrap();
    let analysis = dump.analyse();
    let histogram = analysis.class_histogram();
    let rows: Vec<String> = histogram
        .rows()
        .iter()
        .map(|row| format!("{row:?}"))
        .collect();
    let answers = (
        dump.graph().self_sizes().to_vec(),
        analysis.retained_sizes().to_vec(),
        rows.join("\n"),
    );
    (answers, spill::spilled_bytes().0)
}

/// HPROF (compressed and 8-byte references) and V8 snapshots give the same graph,
/// retained sizes and histogram while their columns live in scratch files.
fn dumps_analysed_while_spilling_give_the_same_answers() {
    let dir = tempfile::tempdir().unwrap();
    for relative in [
        "testdata/hprof/hotspot-jdk17-shapes.hprof.gz",
        "testdata/hprof/hotspot-jdk17-uncompressed.hprof.gz",
        "testdata/v8/node20-planted.heapsnapshot.gz",
        "testdata/v8/deno2-orders.heapsnapshot.gz",
    ] {
        let path = repo_path(relative);
        let mut options = heapgraph::OpenOptions::default();
        options.scratch_dir = Some(dir.path().to_path_buf());
        options.spill = heapgraph::Spill::Never;
        // Measured against what was spilled before: the thread pool's
        // buffers may stay in scratch files from one dump to the next.
        let before = spill::spilled_bytes().0;
        let (ordinary, none) = fingerprint(&path, &options);
        options.spill = heapgraph::Spill::Always;
        let (spilled, in_scratch) = fingerprint(&path, &options);
        spill::disable();
        assert_eq!(none, before, "{relative}: spilled without being asked");
        assert!(in_scratch > before, "{relative}: nothing was spilled");
        assert!(
            ordinary == spilled,
            "{relative}: answers differ when spilled"
        );
        assert!(!ordinary.1.is_empty(), "{relative}");
    }
}

/// Asking for spilling where it cannot start is an error naming the
/// directory, not a silent fallback.
fn spilling_into_a_missing_directory_is_an_error() {
    let mut options = heapgraph::OpenOptions::default();
    options.scratch_dir = Some(PathBuf::from("/nonexistent/heapgraph-scratch"));
    options.spill = heapgraph::Spill::Always;
    let err = heapgraph::open_with(
        repo_path("testdata/hprof/android-art-1.0.3.hprof"),
        &options,
    )
    .unwrap_err();
    assert!(
        matches!(err, heapgraph::Error::SpillUnavailable { .. })
            && err.to_string().contains("/nonexistent/heapgraph-scratch"),
        "{err}"
    );
    assert!(!spill::is_enabled());
}

/// Spilling and its counters are process-wide, and any thread allocating
/// while it is on spills too: the checks run one after another on one
/// thread, the dumps (whose thread pool keeps buffers) last.
#[test]
fn spilling() {
    blocks_keep_their_bytes_through_every_move();
    scratch_files_have_no_name();
    spilling_into_a_missing_directory_is_an_error();
    dumps_analysed_while_spilling_give_the_same_answers();
}
