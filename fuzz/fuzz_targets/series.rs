//! Up to three dumps in one input (separated by
//! `heapgraph_fuzz::SERIES_SEPARATOR`), then what compares dumps: duplicate
//! strings, diff, trends and growing paths, three-snapshot leaks. Seeds:
//! testdata's series, joined.
//!
//! The body is `heapgraph_fuzz::series` (fuzz/src/lib.rs), replayed by
//! `cargo test -p heapgraph --test robustness_regressions` on every file
//! under `fuzz/regressions/series/`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| heapgraph_fuzz::series(data));
