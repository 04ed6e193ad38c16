//! Fuzz `heapgraph::v8::parse_snapshot`: any bytes give a graph or an error
//! with an offset inside the input, never a panic or a hang. Seeds:
//! `testdata/v8` snapshots (see `fuzz/seed.sh`); dictionary `dict/v8.dict`.
//!
//! The body is `heapgraph_fuzz::parse_v8` (fuzz/src/lib.rs), which
//! `cargo test -p heapgraph --test robustness_regressions` replays on every
//! file under `fuzz/regressions/parse_v8/`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| heapgraph_fuzz::parse_v8(data));
