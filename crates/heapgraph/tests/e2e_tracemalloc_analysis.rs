//! End to end: tracemalloc snapshots through the analysis. Blocks are held
//! only by the root, so each retains exactly its own size, the root retains
//! the total, and the class histogram groups blocks by allocation site
//! (`file:line`), which is what `Snapshot.statistics("lineno")` groups by.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

use std::collections::BTreeMap;

use heapgraph_analysis::{HeapAnalysis, Semantics};
use heapgraph_core::NodeIndex;

#[test]
fn blocks_retain_themselves_and_classes_are_sites() {
    for version in ["39", "311", "313", "314"] {
        let path = format!(
            "{}/../../testdata/tracemalloc/tm_py{version}_tiny.pickle",
            env!("CARGO_MANIFEST_DIR")
        );
        let bytes = std::fs::read(&path).unwrap();
        let snapshot =
            heapgraph_tracemalloc::parse(&bytes, &heapgraph_tracemalloc::ParseOptions::default())
                .unwrap();
        let graph = snapshot.graph().unwrap();
        let analysis = HeapAnalysis::new(graph);
        assert_eq!(analysis.policy().semantics, Semantics::StrongOnly);
        assert!(graph.node_count() > 10, "{path}");
        assert_eq!(analysis.unreachable().count(), 0);
        let mut by_site: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for node in graph.nodes().skip(1) {
            assert_eq!(analysis.retained_size(node), graph.self_size(node));
            assert_eq!(analysis.immediate_dominator(node), Some(NodeIndex::new(0)));
            assert_eq!(analysis.distance(node), Some(1));
            let site = graph.name_str(node).into_owned();
            assert_eq!(analysis.class_name(node), site);
            let entry = by_site.entry(site).or_default();
            entry.0 += 1;
            entry.1 += graph.self_size(node);
        }
        assert_eq!(
            analysis.retained_size(NodeIndex::new(0)),
            graph.total_self_size()
        );
        let histogram = analysis.class_histogram();
        assert_eq!(histogram.rows().len(), by_site.len());
        for row in histogram.rows() {
            let name = analysis.classes().name(row.class);
            let &(count, size) = by_site.get(name).unwrap();
            assert_eq!(
                (row.count, row.shallow_size, row.retained_size),
                (count, size, size)
            );
        }
        // Sorted by retained size, largest first.
        assert!(histogram
            .rows()
            .windows(2)
            .all(|w| w[0].retained_size >= w[1].retained_size));
    }
}

/// `open` reads a tracemalloc dump into its trace table only: site
/// statistics, the format, the producer and the diagnostics leave the graph
/// unbuilt; asking for the graph builds it then. `OpenOptions::limits`
/// reaches the reader.
#[test]
fn open_keeps_the_graph_lazy_and_applies_limits() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/tracemalloc/app_a.p5.pickle"
    );
    let dump = heapgraph::open(path).unwrap();
    let snapshot = dump.tracemalloc().unwrap();
    let traces = snapshot.trace_count();
    assert!(traces > 1000, "{traces}");
    let allocations = dump.allocations();
    assert_eq!(allocations.len(), traces);
    let stats = allocations
        .statistics(heapgraph_analysis::sites::KeyType::Lineno, false)
        .unwrap();
    assert_eq!(stats.iter().map(|s| s.count).sum::<u64>(), traces as u64);
    assert_eq!(dump.format(), heapgraph::Format::Tracemalloc);
    assert!(dump.producer().starts_with("CPython tracemalloc"));
    assert_eq!(dump.diagnostics().dangling_edges, 0);
    assert!(!snapshot.graph_is_built());
    assert_eq!(dump.graph().node_count(), traces + 1);
    assert!(snapshot.graph_is_built());
    assert_eq!(dump.graph().total_self_size(), allocations.total_size());

    let mut options = heapgraph::OpenOptions::default();
    options.limits = heapgraph_core::Limits::default().with_max_nodes(100);
    let err = heapgraph::open_with(path, &options).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("nodes exceeds the configured limit of 100"),
        "{message}"
    );
    assert!(message.contains("at byte "), "{message}");
}

/// Trace 0 and the synthetic root both have object id 0: the id names the
/// trace, as `heapgraph retainers x.pickle 0` and `snap.retainers(0)` mean.
#[test]
fn id_0_is_trace_0_not_the_root() {
    let path = format!(
        "{}/../../testdata/tracemalloc/mixed_1.p5.pickle",
        env!("CARGO_MANIFEST_DIR")
    );
    let dump = heapgraph::open(&path).unwrap();
    let snapshot = dump.tracemalloc().unwrap();
    let graph = dump.graph();
    assert_eq!(graph.object_id(NodeIndex::ROOT), 0);
    let node = graph.node_by_object_id(0).unwrap();
    assert_ne!(node, NodeIndex::ROOT);
    assert_eq!(snapshot.node_trace(node), Some(0));
    assert_eq!(snapshot.trace_node(0), Some(node));
}

/// A tracemalloc graph that cannot be built under the limits the dump was
/// opened with is an error from `try_graph` (what the CLI asks first), and
/// sites still work from the trace table.
#[test]
fn a_graph_that_cannot_be_built_is_an_error() {
    let path = format!(
        "{}/../../testdata/tracemalloc/mixed_1.p5.pickle",
        env!("CARGO_MANIFEST_DIR")
    );
    let whole = heapgraph::open(&path).unwrap();
    let snapshot = whole.tracemalloc().unwrap();
    let total: u64 = snapshot.strings().iter().map(|(_, s)| s.len() as u64).sum();
    let mut options = heapgraph::OpenOptions::default();
    options.limits = heapgraph_core::Limits::default().with_max_string_bytes(total);
    let tight = heapgraph::open_with(&path, &options).unwrap();
    let error = tight.try_graph().unwrap_err();
    assert!(matches!(error, heapgraph::Error::Build(_)), "{error}");
    assert_eq!(tight.graph().node_count(), 1);
    assert_eq!(
        tight.allocations().total_size(),
        whole.allocations().total_size()
    );
}
