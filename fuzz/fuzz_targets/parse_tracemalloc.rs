//! Fuzz `heapgraph::tracemalloc::parse`: any bytes give a snapshot or an error
//! with an offset inside the input; the streaming reader agrees with the
//! in-memory one; statistics run on whatever parsed. Seeds: `.pickle`
//! files; dictionary `dict/pickle.dict`.
//!
//! The body is `heapgraph_fuzz::parse_tracemalloc` (fuzz/src/lib.rs), which
//! `cargo test -p heapgraph --test robustness_regressions` replays on every
//! file under `fuzz/regressions/parse_tracemalloc/`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| heapgraph_fuzz::parse_tracemalloc(data));
