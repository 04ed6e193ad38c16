//! Structure-aware: decode a small graph from the bytes and check the
//! dominator tree and retained sizes under four policies against a bit-set
//! data-flow oracle. Seeds: `fuzz/seed.sh` writes a few hand-made graphs.
//!
//! The body is `heapgraph_fuzz::dominators` (fuzz/src/lib.rs), which
//! `cargo test -p heapgraph --test robustness_regressions` replays on every
//! file under `fuzz/regressions/dominators/`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| heapgraph_fuzz::dominators(data));
