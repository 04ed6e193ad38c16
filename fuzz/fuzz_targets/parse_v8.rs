//! Fuzz `heapgraph_v8::parse_snapshot`: any bytes give a graph or an error
//! with an offset inside the input, never a panic or a hang.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The sniffer must not panic either.
    let _ = heapgraph_v8::is_heapsnapshot(data);
    if let Err(e) = heapgraph_v8::parse_snapshot(data) {
        assert!(e.offset <= data.len() as u64);
        let _ = e.to_string();
    }
});
