//! memlab's leak detection on real Chromium pages with planted leaks
//! (testdata/v8/chromium-orders and chromium-react, Chromium 156 via CDP).
//! The expected figures are memlab 2.0.5's on the same files
//! (`testdata/v8/memlab/compare.sh` runs memlab itself and compares every
//! leaked id).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // may panic: not library code

use std::path::Path;

use heapgraph::analysis::leaks::{find_leaks, IgnoreList, LeakFilter, LeakOptions, LeakReport};
use heapgraph::Dump;

fn series(dir: &str, prefix: &str) -> [Dump; 3] {
    ["baseline", "target", "final"].map(|name| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
            "../../testdata/v8/{dir}/{prefix}-{name}.heapsnapshot.gz"
        ));
        heapgraph::open(path).unwrap()
    })
}

fn leaks(dumps: &[Dump; 3], filter: LeakFilter) -> LeakReport {
    let analysis = dumps[2].analyse();
    find_leaks(
        dumps[0].graph(),
        dumps[1].graph(),
        &analysis,
        &LeakOptions {
            dom_state: dumps[2].detachedness(),
            filter,
            ..LeakOptions::default()
        },
    )
}

/// The orders page: 200 table rows removed from the document but kept by a
/// click listener's closure are one detached cluster (each row with its
/// three cells and their texts: 1 400 objects, memlab's count and size),
/// and the only leak memlab's default filter reports.
#[test]
fn detached_rows_held_by_a_listener_closure_are_one_cluster() {
    let dumps = series("chromium-orders", "orders");
    let report = leaks(&dumps, LeakFilter::Memlab);
    assert_eq!(report.candidate_count, 11_284);
    assert_eq!(report.clusters.len(), 1, "{:#?}", report.clusters);
    let rows = &report.clusters[0];
    assert!(rows.detached_dom);
    assert_eq!(rows.class, "Detached <tr>");
    assert_eq!(rows.count, 1400);
    assert_eq!(rows.retained_size, 131_200);
    let graph = dumps[2].graph();
    let tr = rows
        .members
        .iter()
        .filter(|&&m| graph.name_str(m) == "<tr>")
        .count();
    assert_eq!(tr, 200);
    // Row indices in the cache array do not split the cluster.
    assert!(
        rows.shape
            .ends_with("-[rowCache]-> Array -[[]]-> Detached <tr>"),
        "{}",
        rows.shape
    );
    assert!(rows.shape.contains("V8EventListener"), "{}", rows.shape);
}

/// With every object, the 1 000 `Order`s cached in a `Map` are one cluster
/// although each sits in its own backing-store slot, and it and the
/// detached rows are both in the top 10.
#[test]
fn orders_in_a_map_are_one_cluster_with_every_object() {
    let dumps = series("chromium-orders", "orders");
    let report = leaks(&dumps, LeakFilter::AllObjects);
    let top = &report.clusters[..10];
    let orders: Vec<_> = top.iter().filter(|c| c.class == "Order").collect();
    assert_eq!(orders.len(), 1, "{top:#?}");
    assert_eq!(orders[0].count, 1000);
    assert!(
        orders[0]
            .shape
            .ends_with("-[orderStore]-> Object -[cache]-> Map -[table]-> (array) -[[]]-> Order"),
        "{}",
        orders[0].shape
    );
    assert!(top
        .iter()
        .any(|c| c.detached_dom && c.class == "Detached <tr>" && c.count == 1400));
    // Nothing the page dropped (its search index) is reported.
    for cluster in &report.clusters {
        assert!(!cluster.shape.contains("searchIndex"), "{}", cluster.shape);
        assert_ne!(cluster.class, "SearchHit");
    }
}

/// The React page: 120 unmounted rows kept by a ref-callback registry.
/// memlab's default filter reports the detached `<li>`s with everything
/// hanging off them (their fibers among it: the trace stops at the first
/// detached node) as one cluster of 1 082, and one unmounted fiber reached
/// from the root container on its own; both as memlab counts and sizes
/// them.
#[test]
fn unmounted_react_rows_and_fibers_match_memlab() {
    let dumps = series("chromium-react", "react");
    let report = leaks(&dumps, LeakFilter::Memlab);
    assert_eq!(report.candidate_count, 3935);
    assert_eq!(report.leak_count, 1083);
    assert_eq!(report.clusters.len(), 2, "{:#?}", report.clusters);
    let rows = &report.clusters[0];
    assert!(rows.detached_dom);
    assert_eq!(rows.class, "Detached <li>");
    assert_eq!(rows.count, 1082);
    assert_eq!(rows.retained_size, 158_784);
    let graph = dumps[2].graph();
    let count = |name: &str| {
        rows.members
            .iter()
            .filter(|&&m| graph.name_str(m) == name)
            .count()
    };
    assert_eq!(count("<li class=\"row\">"), 120);
    assert!(count("FiberNode") >= 120, "{}", count("FiberNode"));
    assert!(
        rows.shape
            .ends_with("-[tooltipAnchors]-> Array -[[]]-> Detached <li>"),
        "{}",
        rows.shape
    );
    let fiber = &report.clusters[1];
    assert_eq!(fiber.class, "FiberNode");
    assert_eq!((fiber.count, fiber.retained_size), (1, 420));
    // React's per-root key suffix is folded out of the trace.
    assert!(
        fiber.shape.contains("-[__reactContainer$…]->"),
        "{}",
        fiber.shape
    );
}

/// `--ignore`: a glob over the trace's class and edge names takes the rows
/// (held through the listener) out of the report, and counts them.
#[test]
fn ignored_traces_are_left_out_and_counted() {
    let dumps = series("chromium-orders", "orders");
    let analysis = dumps[2].analyse();
    let report = |patterns: &[&str]| {
        find_leaks(
            dumps[0].graph(),
            dumps[1].graph(),
            &analysis,
            &LeakOptions {
                dom_state: dumps[2].detachedness(),
                ignore: IgnoreList::new(patterns, true),
                ..LeakOptions::default()
            },
        )
    };
    let ignored = report(&["V8Event*"]);
    assert!(ignored.clusters.is_empty(), "{:#?}", ignored.clusters);
    assert_eq!((ignored.leak_count, ignored.ignored_count), (0, 1400));
    // A pattern naming a reference: the closure's `rowCache` variable.
    let by_reference = report(&["system / Context*#rowCache"]);
    assert_eq!(by_reference.ignored_count, 1400);
    // Patterns that match nothing change nothing.
    let kept = report(&["NoSuchClass", "Order#nothing"]);
    assert_eq!((kept.leak_count, kept.ignored_count), (1400, 0));
}
