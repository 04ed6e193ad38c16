//! `HprofOptions::on_consumed`: the same dump as without the hook, with every byte reported
//! done once per pass.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use heapgraph_core::OnConsumed;
use heapgraph_hprof::{parse, HprofOptions};

#[test]
fn reports_each_byte_once_per_pass_and_parses_the_same() {
    for name in [
        "hotspot-jdk17-shapes.hprof.gz",
        "android-art-1.0.3-split.hprof",
    ] {
        let bytes = testdata(name);
        let ranges = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&ranges);
        let hook = OnConsumed::new(move |r| seen.lock().unwrap().push(r));
        let dump = parse(&bytes, &HprofOptions::default().with_on_consumed(hook)).unwrap();
        let plain = parse(&bytes, &HprofOptions::default()).unwrap();
        let (a, b) = (dump.graph(), plain.graph());
        assert_eq!(a.node_count(), b.node_count());
        assert_eq!(a.edge_count(), b.edge_count());
        assert_eq!(a.self_sizes(), b.self_sizes());
        assert_eq!(a.edge_targets(), b.edge_targets());
        // Two passes, each covering the records once, in order.
        let ranges = ranges.lock().unwrap().clone();
        let start = ranges[0].start;
        let mut covered = 0;
        let mut passes = 0;
        let mut at = start;
        for r in &ranges {
            assert_eq!(r.start, at, "{name}");
            covered += r.end - r.start;
            at = r.end;
            if r.end == bytes.len() {
                passes += 1;
                at = start;
            }
        }
        assert_eq!(passes, 2);
        assert_eq!(covered, 2 * (bytes.len() - start));
    }
}
