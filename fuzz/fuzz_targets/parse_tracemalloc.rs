//! Fuzz `heapgraph_tracemalloc::parse`: any bytes give a snapshot or an error
//! with an offset inside the input, never a panic, a hang or an allocation
//! sized by an unchecked length; the streaming reader agrees with the
//! in-memory one; statistics run on whatever parsed. Seeds:
//! `testdata/tracemalloc/*.pickle`.

#![no_main]

use heapgraph_analysis::sites::{Allocations, DomainFilter, Filter, KeyType, TraceFilter};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = heapgraph_tracemalloc::is_tracemalloc_pickle(data);
    let streamed = heapgraph_tracemalloc::parse_reader(data, Some(data.len() as u64));
    match heapgraph_tracemalloc::parse(data) {
        Ok(snap) => {
            let streamed = streamed.expect("streaming must accept what parse accepts");
            assert_eq!(streamed.trace_count(), snap.trace_count());
            let all = Allocations::new(&snap.graph).with_domains(|n| snap.node_domain(n));
            for key in [KeyType::Lineno, KeyType::Filename, KeyType::Traceback] {
                for stat in all
                    .statistics(key, false)
                    .unwrap_or_default()
                    .iter()
                    .take(100)
                {
                    let _ = stat.to_bytes();
                    let _ = stat.traceback.format_bytes(Some(-1), true);
                }
            }
            let _ = all.statistics(KeyType::Lineno, true);
            let filters: Vec<TraceFilter> = vec![
                Filter::new(true, "*[!a-]?").into(),
                DomainFilter {
                    inclusive: false,
                    domain: 0,
                }
                .into(),
            ];
            let filtered = all.filter_traces(&filters);
            let _ = filtered.compare_to(&all, KeyType::Lineno, true);
            for i in 0..snap.trace_count().min(1000) {
                let _ = snap.total_nframe(i);
            }
        }
        Err(e) => {
            assert!(e.offset <= data.len() as u64, "{e}");
            let streamed = streamed.expect_err("streaming must refuse what parse refuses");
            assert_eq!(streamed.offset, e.offset);
            let _ = e.to_string();
        }
    }
});
