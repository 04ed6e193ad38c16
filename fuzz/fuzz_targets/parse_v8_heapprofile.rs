//! Fuzz `heapgraph::v8::parse_heapprofile`: any bytes give a profile or an
//! error with an offset inside the input, never a panic or a hang. Seeds:
//! `.heapprofile` files; dictionary `dict/v8.dict`.
//!
//! The body is `heapgraph_fuzz::parse_v8_heapprofile` (fuzz/src/lib.rs), which
//! `cargo test -p heapgraph --test robustness_regressions` replays on every
//! file under `fuzz/regressions/parse_v8_heapprofile/`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| heapgraph_fuzz::parse_v8_heapprofile(data));
