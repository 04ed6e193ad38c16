//! `heapgraph redact` on any input, with and without `--names`: refusals
//! name an offset; a redaction of a dump that parses parses to the same
//! graph with the same retained sizes. Seeds: the parser targets' seeds.
//!
//! The body is `heapgraph_fuzz::redact` (fuzz/src/lib.rs), replayed by
//! `cargo test -p heapgraph --test robustness_regressions` on every file
//! under `fuzz/regressions/redact/`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| heapgraph_fuzz::redact(data));
