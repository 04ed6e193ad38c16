//! Fuzz `heapgraph_v8::parse_heapprofile`: any bytes give a profile or an
//! error with an offset inside the input, never a panic or a hang.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = heapgraph_v8::is_heapprofile(data);
    match heapgraph_v8::parse_heapprofile(data) {
        Ok(profile) => {
            assert!(profile.graph.node_count() > profile.samples.len());
        }
        Err(e) => {
            assert!(e.offset <= data.len() as u64);
            let _ = e.to_string();
        }
    }
});
