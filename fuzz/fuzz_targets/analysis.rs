//! Parse any input with the facade's format sniffing, then run the whole
//! analysis (dominators, class histogram, leak suspects, retention paths,
//! allocation sites). Seeds: small files of every format; any dictionary.
//!
//! The body is `heapgraph_fuzz::analysis` (fuzz/src/lib.rs), which
//! `cargo test -p heapgraph --test robustness_regressions` replays on every
//! file under `fuzz/regressions/analysis/`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| heapgraph_fuzz::analysis(data));
