//! Fuzz `heapgraph::hprof::parse` (three option sets) and the lazy readers:
//! any bytes give a dump or an error with an offset inside the input, never
//! a panic, a hang or an allocation sized by an unchecked length. Seeds:
//! small `.hprof` files; dictionary `dict/hprof.dict`.
//!
//! The body is `heapgraph_fuzz::parse_hprof` (fuzz/src/lib.rs), which
//! `cargo test -p heapgraph --test robustness_regressions` replays on every
//! file under `fuzz/regressions/parse_hprof/`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| heapgraph_fuzz::parse_hprof(data));
