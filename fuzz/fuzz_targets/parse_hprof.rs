//! Fuzz `heapgraph_hprof::parse`: any bytes give a dump or an error with an
//! offset inside the input, never a panic, a hang or an allocation sized by
//! an unchecked length. Seeds: `testdata/hprof/*.hprof`.

#![no_main]

use heapgraph_hprof::{parse, HprofOptions, SizeModel};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = heapgraph_hprof::is_hprof(data);
    let raw = HprofOptions::default().with_size_model(SizeModel::Raw);
    let lenient = HprofOptions::default().with_lenient(true);
    for options in [HprofOptions::default(), raw, lenient] {
        match parse(data, &options) {
            Ok(dump) => {
                // The lazy readers must cope with whatever was indexed.
                let graph = dump.graph();
                for node in graph.nodes().take(10_000) {
                    let _ = dump.primitive_array(data, node);
                    let _ = dump.java_string_value(data, node);
                    let _ = dump.heap_name(node);
                }
            }
            Err(e) => {
                assert!(e.offset <= data.len() as u64);
                let _ = e.to_string();
            }
        }
    }
});
