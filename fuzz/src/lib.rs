//! The bodies of the fuzz targets, as plain functions.
//!
//! Each `fuzz_targets/<name>.rs` is a one-line wrapper around [`run`], and
//! `crates/heapgraph/tests/robustness_regressions.rs` includes this file
//! (by `#[path]`, so the main workspace needs no dependency on the fuzz
//! crate) to replay every input under `fuzz/regressions/<target>/` with the
//! very same code. Only the `heapgraph` facade is used, so the file compiles
//! in both places.
//!
//! The contract every body checks: any bytes give `Ok` or an error whose
//! message names a byte offset inside the input; never a panic, a hang, or
//! an allocation sized by an unchecked length (libFuzzer's `-rss_limit_mb`
//! and `-timeout` catch the last two).

use heapgraph::analysis::sites::{Allocations, DomainFilter, Filter, KeyType, TraceFilter};
use heapgraph::analysis::{
    suspects, DominatorTree, EdgePolicy, HeapAnalysis, HistogramOrder, UnreachableNodes,
};
use heapgraph::core::{EdgeKind, Format, GraphBuilder, HeapGraph, NodeIndex, NodeKind, RootKind};

/// The names of the fuzz targets, as the directories under
/// `fuzz/regressions/` and `fuzz/corpus/` are named.
pub const TARGETS: &[&str] = &[
    "parse_v8",
    "parse_v8_heapprofile",
    "parse_hprof",
    "parse_tracemalloc",
    "analysis",
    "dominators",
    "series",
    "redact",
];

/// Runs the body of the fuzz target `target` on `data`.
///
/// # Panics
///
/// When the code under test breaks its contract (that is the point), or
/// for an unknown target name.
pub fn run(target: &str, data: &[u8]) {
    match target {
        "parse_v8" => parse_v8(data),
        "parse_v8_heapprofile" => parse_v8_heapprofile(data),
        "parse_hprof" => parse_hprof(data),
        "parse_tracemalloc" => parse_tracemalloc(data),
        "analysis" => analysis(data),
        "dominators" => dominators(data),
        "series" => series(data),
        "redact" => redact(data),
        other => panic!("unknown fuzz target {other:?}"),
    }
}

/// `heapgraph::v8::parse_snapshot`: a graph or an error with an offset
/// inside the input.
pub fn parse_v8(data: &[u8]) {
    // The sniffer must not panic either.
    let _ = heapgraph::v8::is_heapsnapshot(data);
    if let Err(e) = heapgraph::v8::parse_snapshot(data) {
        assert!(e.offset <= data.len() as u64, "{e}");
        assert_offset_message(&e.to_string());
    }
}

/// `heapgraph::v8::parse_heapprofile`: a profile or an error with an offset
/// inside the input.
pub fn parse_v8_heapprofile(data: &[u8]) {
    let _ = heapgraph::v8::is_heapprofile(data);
    match heapgraph::v8::parse_heapprofile(data) {
        Ok(profile) => {
            assert!(profile.graph.node_count() > profile.samples.len());
        }
        Err(e) => {
            assert!(e.offset <= data.len() as u64, "{e}");
            assert_offset_message(&e.to_string());
        }
    }
}

/// `heapgraph::hprof::parse` under three option sets, then the lazy
/// readers over whatever was indexed.
pub fn parse_hprof(data: &[u8]) {
    use heapgraph::hprof::{parse, HprofOptions, SizeModel};
    let _ = heapgraph::hprof::sniff(data);
    let raw = HprofOptions::default().with_size_model(SizeModel::Raw);
    let lenient = HprofOptions::default().with_lenient(true);
    for options in [HprofOptions::default(), raw, lenient] {
        // The graph-free shallow histogram: never a panic, errors inside the
        // input, and where the graph path accepts the dump (strictly), the
        // same objects and bytes in total as the graph's classed nodes.
        let histogram = heapgraph::hprof::shallow_class_histogram(data, &options);
        if let Err(e) = &histogram {
            assert!(e.offset <= data.len() as u64, "{e}");
            assert_offset_message(&e.to_string());
        }
        match parse(data, &options) {
            Ok(dump) => {
                let graph = dump.graph();
                if !options.lenient {
                    let histogram = match histogram {
                        Ok(h) => h,
                        Err(e) => panic!("the graph path parsed what the histogram refused: {e}"),
                    };
                    let classes = heapgraph::analysis::ClassTable::for_graph(graph);
                    let (mut count, mut bytes) = (0u64, 0u64);
                    for node in graph.nodes() {
                        if classes.class_of(node).is_some() {
                            count += 1;
                            bytes += graph.self_size(node);
                        }
                    }
                    assert_eq!(histogram.total_count(), count, "object count");
                    assert_eq!(histogram.total_shallow_size(), bytes, "shallow bytes");
                }
                for node in graph.nodes().take(10_000) {
                    let _ = dump.primitive_array(data, node);
                    let _ = dump.java_string_value(data, node);
                    let _ = dump.heap_name(node);
                    let _ = dump.object_array_length(data, node);
                    let _ = dump.java_thread(data, node);
                }
            }
            Err(e) => {
                assert!(e.offset <= data.len() as u64, "{e}");
                assert_offset_message(&e.to_string());
            }
        }
    }
    java_views(data);
}

/// The Java views (threads, collections, Android lifecycle leaks, top
/// consumers, duplicate arrays, immediate dominators by class) on whatever
/// the facade accepts: never a panic, and their totals hold together.
fn java_views(data: &[u8]) {
    let mut options = heapgraph::OpenOptions::default();
    options.memory_check = false;
    options.spill = heapgraph::Spill::Never;
    let Ok(dump) = heapgraph::parse_bytes(data.to_vec(), &options) else {
        return;
    };
    if dump.hprof().is_none() {
        return;
    }
    let analysis = dump.analyse();
    for thread in heapgraph::threads::java_threads(&dump, &analysis) {
        for frame in &thread.frames {
            let most: u64 = frame.locals.iter().map(|l| l.retained_size).sum();
            assert!(frame.locals_retained_size <= most);
        }
    }
    let found = heapgraph::collections::collections(&dump, &analysis);
    let groups = heapgraph::collections::group(&found);
    let saturating = |values: &mut dyn Iterator<Item = u64>| {
        values.fold(0u64, |total, v| total.saturating_add(v))
    };
    let wasted = heapgraph::collections::total_wasted_bytes(&found);
    assert_eq!(
        saturating(&mut groups.iter().map(|g| g.wasted_bytes)),
        wasted
    );
    assert_eq!(
        groups.iter().map(|g| g.count).sum::<u64>(),
        found.len() as u64
    );
    for leak in heapgraph::android::lifecycle_leaks(&dump, &analysis) {
        assert!(leak.library_leak == leak.path.iter().any(|r| r.library_leak));
    }
    use heapgraph::analysis::consumers::{top_consumers, Grouping};
    let instances = analysis
        .class_histogram()
        .rows()
        .iter()
        .map(|r| r.count)
        .sum::<u64>();
    for grouping in [Grouping::Package, Grouping::ClassLoader] {
        let rows = top_consumers(&analysis, grouping);
        assert_eq!(rows.iter().map(|r| r.count).sum::<u64>(), instances);
    }
    for array in dump.duplicate_arrays(&analysis).unwrap_or_default() {
        assert!(array.copies.count >= 2);
    }
    let members = analysis.instances_matching("*");
    let rows = heapgraph::analysis::dominator_classes::immediate_dominators_by_class(
        &analysis,
        &members,
        |class| class.starts_with("java."),
    );
    assert_eq!(
        rows.iter().map(|r| r.dominated).sum::<u64>(),
        members.len() as u64
    );
}

/// `heapgraph::tracemalloc::parse`, the streaming reader agreeing with it,
/// and the `sites` statistics on whatever parsed.
pub fn parse_tracemalloc(data: &[u8]) {
    let _ = heapgraph::tracemalloc::is_tracemalloc_pickle(data);
    let _ = heapgraph::tracemalloc::sniff(data);
    let streamed = heapgraph::tracemalloc::parse_reader(
        data,
        Some(data.len() as u64),
        &heapgraph::tracemalloc::ParseOptions::default(),
    );
    match heapgraph::tracemalloc::parse(data, &heapgraph::tracemalloc::ParseOptions::default()) {
        Ok(snap) => {
            let streamed = match streamed {
                Ok(s) => s,
                Err(e) => panic!("streaming refused what parse accepted: {e}"),
            };
            assert_eq!(streamed.trace_count(), snap.trace_count());
            // The trace table alone (what `heapgraph sites` uses), then the
            // graph built from it.
            let columns = snap.columns();
            let table = Allocations::from_columns(
                snap.strings(),
                snap.stacks(),
                heapgraph::analysis::sites::AllocationColumns {
                    stacks: &columns.stacks,
                    sizes: &columns.sizes,
                    large_sizes: &columns.large_sizes,
                    domains: columns.domains.as_deref(),
                },
            );
            exercise_sites(&table);
            // Every snapshot the reader accepts has a graph.
            let graph = snap.graph().expect("an accepted snapshot's graph builds");
            let all = Allocations::new(graph).with_domains(|n| snap.node_domain(n));
            assert_eq!(all.total_size(), table.total_size());
            exercise_sites(&all);
            for i in 0..snap.trace_count().min(1000) {
                let _ = snap.total_nframe(i);
            }
        }
        Err(e) => {
            assert!(e.offset <= data.len() as u64, "{e}");
            assert_offset_message(&e.to_string());
            match streamed {
                Ok(_) => panic!("streaming accepted what parse refused: {e}"),
                Err(s) => assert_eq!(s.offset, e.offset, "streaming: {s}; in memory: {e}"),
            }
        }
    }
}

/// The largest gzip output the `analysis` body accepts: libFuzzer inputs
/// are small, but deflate expands up to ~1000×, and a service would set a
/// bound like this one too.
pub const MAX_DECOMPRESSED: u64 = 64 << 20;

/// Parses any input through the facade (format sniffing, gzip), then runs
/// the whole analysis: dominators and retained sizes under the format's
/// policy, the class histogram, leak suspects, retention paths and
/// retainers of a few nodes, and the allocation-site statistics.
pub fn analysis(data: &[u8]) {
    let mut options = heapgraph::OpenOptions::default();
    options.max_decompressed_bytes = MAX_DECOMPRESSED;
    let gzip = data.starts_with(&[0x1F, 0x8B]);
    match heapgraph::parse_bytes(data.to_vec(), &options) {
        Ok(dump) => analyse(&dump),
        Err(e) => check_facade_error(&e, data.len(), gzip),
    }
}

/// `heapgraph redact` on any input, with and without `names`: an input
/// that is refused gets an error naming an offset inside it (or the
/// output); when both the input and its redaction succeed, the redacted
/// dump parses to the same graph (kinds, ids, self sizes, edges and their
/// kinds, GC roots) with the same retained sizes, and without `names` the
/// same names for every node that is not a value.
pub fn redact(data: &[u8]) {
    use heapgraph::redact::{redact_bytes, Key, Options, RedactError};
    let Some(kind) = heapgraph::sniff(data) else {
        return;
    };
    if kind == heapgraph::InputKind::Gzip {
        return; // files only: redact_file decompresses through a scratch file
    }
    let open = heapgraph::OpenOptions::default();
    let original = heapgraph::parse_bytes(data.to_vec(), &open);
    for names in [false, true] {
        let options = Options {
            key: Key::from_salt(b"fuzz"),
            names,
        };
        let mut out = Vec::new();
        let result = redact_bytes(data, kind, &options, &mut out, &|_| {});
        let dump = match (&result, &original) {
            (Ok(_), Ok(dump)) => dump,
            (Err(e), _) => {
                let message = e.to_string();
                let offset = match e {
                    RedactError::Hprof(e) => Some(e.offset),
                    RedactError::V8(e) => Some(e.offset),
                    RedactError::Tracemalloc(
                        heapgraph::tracemalloc::redact::TracemallocRedactError::Malformed(e),
                    ) => Some(e.offset),
                    _ => None,
                };
                if let Some(offset) = offset {
                    assert!(offset <= data.len() as u64, "{message}");
                    assert_offset_message(&message);
                }
                continue;
            }
            // The redactors check less than the parsers (edge counts, ...).
            (Ok(_), Err(_)) => continue,
        };
        let redacted = match heapgraph::parse_bytes(out, &open) {
            Ok(redacted) => redacted,
            Err(e) => panic!("the redaction of a dump that parses does not parse: {e}"),
        };
        let (Ok(a), Ok(b)) = (dump.try_graph(), redacted.try_graph()) else {
            continue;
        };
        assert_eq!(a.node_count(), b.node_count());
        assert_eq!(a.edge_count(), b.edge_count());
        assert_eq!(a.kinds(), b.kinds());
        assert_eq!(a.edge_starts(), b.edge_starts());
        assert_eq!(a.edge_targets(), b.edge_targets());
        assert_eq!(a.edge_kinds(), b.edge_kinds());
        assert_eq!(a.root_groups(), b.root_groups());
        for node in a.nodes() {
            assert_eq!(a.object_id(node), b.object_id(node));
            assert_eq!(a.self_size(node), b.self_size(node));
            let value = matches!(
                a.kind(node),
                NodeKind::String
                    | NodeKind::ConsString
                    | NodeKind::SlicedString
                    | NodeKind::RegExp
                    | NodeKind::Number
                    | NodeKind::BigInt
            );
            if !names && !value && dump.format() == Format::Hprof {
                assert_eq!(a.name_str(node), b.name_str(node));
            }
        }
        let (ra, rb) = (dump.analyse(), redacted.analyse());
        for node in a.nodes() {
            assert_eq!(ra.retained_size(node), rb.retained_size(node));
        }
    }
}

/// What separates the dumps of a [`series`] input.
pub const SERIES_SEPARATOR: &[u8] = b"\n--heapgraph-next-dump--\n";

/// Up to three dumps separated by [`SERIES_SEPARATOR`], each parsed through
/// the facade, then what compares dumps: duplicate strings of each, the
/// class diff of the first two, growth trends and growing retention paths
/// over all, and memlab's three-snapshot leaks. Dumps of different formats
/// must be refused with an error, never a panic.
pub fn series(data: &[u8]) {
    use heapgraph::analysis::leaks::growth::PathSeries;
    use heapgraph::analysis::leaks::IgnoreList;
    use heapgraph::workflows;

    let mut options = heapgraph::OpenOptions::default();
    options.max_decompressed_bytes = MAX_DECOMPRESSED;
    let mut dumps = Vec::new();
    let mut rest = data;
    while dumps.len() < 3 {
        let (part, next) = match rest
            .windows(SERIES_SEPARATOR.len())
            .position(|w| w == SERIES_SEPARATOR)
        {
            Some(at) => (&rest[..at], Some(&rest[at + SERIES_SEPARATOR.len()..])),
            None => (rest, None),
        };
        match heapgraph::parse_bytes(part.to_vec(), &options) {
            Ok(dump) => dumps.push(dump),
            Err(e) => {
                check_facade_error(&e, part.len(), part.starts_with(&[0x1F, 0x8B]));
                return;
            }
        }
        match next {
            Some(next) => rest = next,
            None => break,
        }
    }
    let analyses: Vec<HeapAnalysis<'_>> = dumps.iter().map(|d| d.analyse()).collect();
    for (dump, analysis) in dumps.iter().zip(&analyses) {
        for group in dump.duplicate_strings(analysis).unwrap_or_default() {
            assert!(group.count >= 2, "{group:?}");
            assert!(group.wasted_bytes <= group.total_bytes, "{group:?}");
        }
    }
    let same_format = dumps.windows(2).all(|w| w[0].format() == w[1].format());
    if let ([old, new, ..], [old_analysis, new_analysis, ..]) = (&dumps[..], &analyses[..]) {
        let diff = workflows::diff((old, old_analysis), (new, new_analysis));
        assert_eq!(diff.is_ok(), old.format() == new.format());
    }
    if same_format {
        let totals: Vec<_> = analyses.iter().map(HeapAnalysis::class_totals).collect();
        for trend in heapgraph::analysis::trend::trends(&totals) {
            let r_squared = trend.r_squared;
            assert!(
                r_squared.is_nan() || (-1e-9..=1.0 + 1e-9).contains(&r_squared),
                "{trend:?}"
            );
        }
        let mut paths = PathSeries::new();
        for analysis in &analyses {
            paths.add(analysis);
        }
        if let Some(last) = analyses.last() {
            let _ = paths.growing(last, &IgnoreList::default());
        }
    }
    if let ([a, b, c], [.., final_analysis]) = (&dumps[..], &analyses[..]) {
        let settings = workflows::LeakSettings::default();
        let leaks = workflows::leaks([a, b, c], final_analysis, &settings, |i| {
            analyses
                .get(i)
                .map(HeapAnalysis::class_totals)
                .unwrap_or_default()
        });
        match leaks {
            Ok(leaks) => {
                assert!(same_format);
                let counted: u64 = leaks.clusters.iter().map(|c| c.count).sum();
                assert_eq!(
                    counted, leaks.leak_count,
                    "clusters and leak count disagree"
                );
                for cluster in &leaks.clusters {
                    assert!(cluster
                        .members
                        .iter()
                        .all(|m| m.index() < c.graph().node_count()));
                }
            }
            Err(_) => assert!(!same_format),
        }
    }
}

/// What an error from [`heapgraph::parse_bytes`] must look like.
fn check_facade_error(e: &heapgraph::Error, len: usize, gzip: bool) {
    use heapgraph::Error;
    let message = e.to_string();
    assert!(!message.is_empty());
    // Offsets of errors inside gzip input refer to the decompressed bytes.
    let bound = if gzip { MAX_DECOMPRESSED } else { len as u64 };
    let offset = match e {
        Error::V8(e) => Some(e.offset),
        Error::Hprof(e) => Some(e.offset),
        Error::Tracemalloc(e) => Some(e.offset),
        _ => None,
    };
    if let Some(offset) = offset {
        assert!(
            offset <= bound,
            "offset {offset} beyond the input: {message}"
        );
        assert_offset_message(&message);
    }
}

/// Every analysis the CLI offers, on one dump.
fn analyse(dump: &heapgraph::Dump) {
    let graph = dump.graph();
    let mut analysis = HeapAnalysis::new(graph);
    if let Some(snapshot) = dump.v8_snapshot() {
        if let Some(detachedness) = snapshot.detachedness.as_ref() {
            analysis = analysis.with_dom_state(detachedness);
        }
    }
    check_tree(graph, &analysis);

    let mut histogram = analysis.class_histogram();
    let instances: u64 = histogram.rows().iter().map(|row| row.count).sum();
    assert!(instances <= graph.node_count() as u64);
    for order in [
        HistogramOrder::RetainedSize,
        HistogramOrder::ShallowSize,
        HistogramOrder::Count,
    ] {
        histogram.sort_by(order);
    }
    for row in histogram.rows().iter().take(50) {
        let _ = analysis.classes().name(row.class);
        let _ = analysis.instances_of(row.class);
    }

    for threshold in [suspects::DEFAULT_THRESHOLD, 0.01] {
        for suspect in suspects::leak_suspects(&analysis, threshold) {
            assert!(suspect.share.is_finite(), "{suspect:?}");
        }
    }
    for top in suspects::top_level_objects(&analysis).into_iter().take(5) {
        let _ = suspects::accumulation_point(&analysis, top);
    }

    // Retention paths and retainers of a few nodes: the first and last,
    // and the biggest retainers below the root.
    let mut probes: Vec<NodeIndex> = graph.nodes().take(3).collect();
    probes.extend(graph.nodes().rev().take(3));
    if let Some(root) = graph.nodes().next() {
        probes.extend(analysis.top_dominators(root, 3));
        let _ = analysis.dominated().of(root).count();
    }
    for node in probes {
        for path in analysis.retention_paths(node, 3) {
            let _ = format!("{path:?}");
        }
        let _ = analysis.retainers(node);
        let _ = analysis.class_name(node);
        let _ = analysis.distance(node);
    }

    exercise_sites(&dump.allocations());
}

/// Structural checks of a dominator tree that hold under every policy:
/// a walk of the children index from the root meets every node with a
/// dominator exactly once, after its dominator; each retains at least its
/// own shallow size (unless it is garbage kept as a retainer) and no more
/// than its dominator.
fn check_tree(graph: &HeapGraph, analysis: &HeapAnalysis<'_>) {
    let n = graph.node_count();
    let mut position = vec![usize::MAX; n];
    let mut visited = 0usize;
    if n > 0 {
        analysis
            .dominated()
            .walk(NodeIndex::new(0), |node, entering| {
                if entering {
                    let v = node.index();
                    assert!(v < n, "the tree names node {v} of {n}");
                    assert_eq!(position[v], usize::MAX, "node {v} twice in the tree");
                    position[v] = visited;
                    visited += 1;
                }
            });
    }
    for v in graph.nodes() {
        match analysis.immediate_dominator(v) {
            Some(d) => {
                assert!(d.index() < n);
                assert_ne!(
                    position[v.index()],
                    usize::MAX,
                    "node {} has a dominator but the walk missed it",
                    v.index()
                );
                assert!(
                    position[d.index()] < position[v.index()],
                    "idom {} of {} comes later in the walk",
                    d.index(),
                    v.index()
                );
                // Under KeepAsRetainers garbage has a dominator but no
                // retained size.
                if analysis.policy().unreachable != UnreachableNodes::KeepAsRetainers {
                    assert!(analysis.retained_size(v) >= analysis.shallow_size(v));
                }
                assert!(analysis.retained_size(d) >= analysis.retained_size(v));
            }
            None => {
                if v.index() != 0 {
                    assert_eq!(
                        analysis.retained_size(v),
                        0,
                        "node {} not in the tree",
                        v.index()
                    );
                }
            }
        }
    }
}

/// The tracemalloc-style statistics, comparison, filters and call tree.
fn exercise_sites(all: &Allocations<'_>) {
    for key in [KeyType::Lineno, KeyType::Filename, KeyType::Traceback] {
        for cumulative in [false, true] {
            let Ok(stats) = all.statistics(key, cumulative) else {
                assert!(key == KeyType::Traceback && cumulative);
                continue;
            };
            // Sizes are the file's: their sums saturate, as the library's do.
            let total = stats.iter().fold(0u64, |t, s| t.saturating_add(s.size));
            if !cumulative {
                assert_eq!(total, all.total_size(), "{key:?}");
            }
            for stat in stats.iter().take(100) {
                let _ = stat.to_bytes();
                let _ = stat.traceback.frames();
                let _ = stat.traceback.format_bytes(Some(-1), true);
            }
        }
    }
    let filters: Vec<TraceFilter> = vec![
        Filter::new(true, "*[!a-]?").into(),
        DomainFilter {
            inclusive: false,
            domain: 0,
        }
        .into(),
    ];
    let filtered = all.filter_traces(&filters);
    assert!(filtered.len() <= all.len());
    let _ = filtered.compare_to(all, KeyType::Lineno, true);
    let tree = all.call_tree();
    let _ = tree.folded();
    for stack in tree.stacks().take(100) {
        let (self_size, _) = tree.self_size(stack);
        let (total_size, _) = tree.total_size(stack);
        assert!(self_size <= total_size);
    }
}

/// Error messages name the offset: "at byte N" (decimal in every parser).
fn assert_offset_message(message: &str) {
    assert!(
        message.contains(" at byte "),
        "error message without a byte offset: {message}"
    );
}

/// The most user nodes a `dominators` input makes (root groups come on top;
/// the oracle's bit sets hold 128 nodes).
const MAX_FUZZ_NODES: usize = 64;

/// A graph decoded from fuzz bytes, the dominator tree computed under one of
/// four policies, and every immediate dominator and retained size compared
/// with a slow, obviously-correct oracle (the data-flow fixed point
/// `Dom(v) = {v} ∪ ⋂ Dom(p)` over bit sets).
///
/// Layout: byte 0 → node count (1–64); byte 1 → policy; then one byte per
/// node for its size; then 3 bytes per edge `(source, target, kind)`.
/// Sources and targets range one past the last node, so dangling edges
/// occur; kind bytes ≥ 0xF0 register a GC root of the target instead.
pub fn dominators(data: &[u8]) {
    let Some((graph, mode)) = decode_graph(data) else {
        return;
    };
    let n = graph.node_count();
    assert!(n <= 128);

    let (policy, label) = match mode % 4 {
        0 => (EdgePolicy::strong_only(), "strong_only"),
        1 => (EdgePolicy::mat(), "mat"),
        2 => (
            EdgePolicy::strong_only().with_unreachable(UnreachableNodes::KeepAsRetainers),
            "strong_only+keep",
        ),
        _ => (
            EdgePolicy::strong_only().with_unreachable(UnreachableNodes::AttachToRoot),
            "strong_only+attach",
        ),
    };
    let counts = |kind: EdgeKind| {
        policy.semantics == heapgraph::analysis::Semantics::Mat || !kind.is_weak_like()
    };

    // The policy's edge set is exactly the edges of the kinds it counts.
    let edges = policy.dominator_edges(&graph);
    for (e, &kind) in graph.edge_kinds().iter().enumerate() {
        assert_eq!(edges.contains(e as u32), counts(kind), "edge {e} ({kind})");
    }

    // Successor bit sets over the counted edges, self loops dropped.
    let mut succ = vec![0u128; n];
    let mut has_pred = vec![false; n];
    for v in graph.nodes() {
        for e in graph.edge_range(v) {
            let t = graph.edge_targets()[e as usize].index();
            if t != v.index() && counts(graph.edge_kinds()[e as usize]) {
                succ[v.index()] |= 1 << t;
                has_pred[t] = true;
            }
        }
    }
    let reach = reachable(&succ, 1);
    let sizes = graph.self_sizes();

    let (expected_idom, in_tree, oracle_sizes): (Vec<Option<usize>>, u128, Vec<u64>) =
        match policy.unreachable {
            UnreachableNodes::Exclude => (dataflow_idoms(&succ), reach, sizes.to_vec()),
            UnreachableNodes::KeepAsRetainers => {
                // As if the root pointed to every unreached node; those count
                // for nothing themselves.
                let mut with_garbage = succ.clone();
                with_garbage[0] |= !reach & mask(n);
                let sizes = (0..n)
                    .map(|v| if reach >> v & 1 == 1 { sizes.get(v) } else { 0 })
                    .collect();
                (dataflow_idoms(&with_garbage), mask(n), sizes)
            }
            _ => {
                // DevTools: unreached nodes without a counted edge in start
                // searches of their own; what is still unreached hangs under
                // the root with its own edges ignored.
                let mut starts = 0u128;
                for (v, &held) in has_pred.iter().enumerate() {
                    if reach >> v & 1 == 0 && !held {
                        starts |= 1 << v;
                    }
                }
                let mut attached = succ.clone();
                attached[0] |= starts;
                let second = reachable(&attached, 1);
                let leftovers = !second & mask(n);
                for (v, out) in attached.iter_mut().enumerate() {
                    if leftovers >> v & 1 == 1 {
                        *out = 0;
                    }
                }
                attached[0] |= leftovers;
                (dataflow_idoms(&attached), mask(n), sizes.to_vec())
            }
        };

    let tree = DominatorTree::compute(&graph, &edges, policy.unreachable);
    for v in graph.nodes() {
        assert_eq!(
            tree.immediate_dominator(v).map(NodeIndex::index),
            expected_idom[v.index()],
            "{label}: idom of node {} in {graph:?}",
            v.index()
        );
        assert_eq!(
            tree.contains(v),
            in_tree >> v.index() & 1 == 1,
            "{label}: node {}",
            v.index()
        );
    }
    let expected_retained = oracle_retained(&expected_idom, in_tree, &oracle_sizes);
    assert_eq!(
        tree.retained_sizes(&oracle_sizes.iter().copied().collect())
            .to_vec(),
        expected_retained,
        "{label}: retained sizes"
    );

    // The same through the analysis front door.
    let analysis = HeapAnalysis::with_policy(&graph, policy);
    assert_eq!(
        analysis.retained_sizes().to_vec(),
        expected_retained,
        "{label}"
    );
    check_tree(&graph, &analysis);
    let _ = analysis.class_histogram();
    let _ = suspects::leak_suspects(&analysis, 0.0);
    for v in graph.nodes().take(4) {
        let _ = analysis.retention_paths(v, 2);
    }

    // The other policies must at least not panic on the same graph.
    for other in [EdgePolicy::devtools(), EdgePolicy::netbeans()] {
        let analysis = HeapAnalysis::with_policy(&graph, other);
        check_tree(&graph, &analysis);
    }
}

/// Decodes the `dominators` input; `None` when too short.
fn decode_graph(data: &[u8]) -> Option<(HeapGraph, u8)> {
    let (&count, rest) = data.split_first()?;
    let (&mode, rest) = rest.split_first()?;
    let n = 1 + usize::from(count) % MAX_FUZZ_NODES;
    let (size_bytes, edge_bytes) = rest.split_at(n.min(rest.len()));

    let mut b = GraphBuilder::new(Format::Synthetic);
    let name = b.intern(b"N").ok()?;
    let field = b.intern(b"f").ok()?;
    for v in 0..n {
        let size = size_bytes.get(v).map_or(0, |&s| u64::from(s) * 8);
        let kind = if v == 0 {
            NodeKind::Synthetic
        } else {
            NodeKind::Object
        };
        b.add_node(kind, name, v as u64 + 1, size).ok()?;
    }
    let span = n as u32 + 1;
    for edge in edge_bytes.chunks_exact(3) {
        let source = u32::from(edge[0]) % span;
        let target = u32::from(edge[1]) % span;
        if edge[2] >= 0xF0 {
            // A root naming a node that never gets added (index n) must
            // not end up pointing at a root-group node made at finish.
            let kind = RootKind::ALL[usize::from(edge[0]) % RootKind::ALL.len()];
            b.add_gc_root(NodeIndex::new(target), kind);
            continue;
        }
        let kind = EdgeKind::ALL[usize::from(edge[2]) % EdgeKind::ALL.len()];
        let label = if kind.has_index() {
            source
        } else {
            field.as_u32()
        };
        b.push_edge(source, target, kind, label).ok()?;
    }
    let graph = match b.finish() {
        Ok(graph) => graph,
        Err(e) => panic!("finish refused a small graph: {e}"),
    };
    // GC roots hang under their root groups and point at user nodes only.
    for &(group, _) in graph.root_groups() {
        assert!(
            group.index() >= n,
            "root group {} among user nodes",
            group.index()
        );
        for e in graph.edge_range(group) {
            let target = graph.edge_targets()[e as usize].index();
            assert!(
                target < n,
                "root group {} points at node {target}, not one of the {n} added",
                group.index()
            );
        }
    }
    Some((graph, mode))
}

fn mask(n: usize) -> u128 {
    if n >= 128 {
        u128::MAX
    } else {
        (1u128 << n) - 1
    }
}

/// The nodes reachable from the set `from` over `succ`.
fn reachable(succ: &[u128], from: u128) -> u128 {
    let mut seen = from;
    loop {
        let mut next = seen;
        for (v, &s) in succ.iter().enumerate() {
            if seen >> v & 1 == 1 {
                next |= s;
            }
        }
        if next == seen {
            return seen;
        }
        seen = next;
    }
}

/// Immediate dominators from node 0 by the data-flow fixed point; `None`
/// for the root and for unreachable nodes.
fn dataflow_idoms(succ: &[u128]) -> Vec<Option<usize>> {
    let n = succ.len();
    let all = mask(n);
    let reach = reachable(succ, 1);
    let mut dom: Vec<u128> = (0..n).map(|v| if v == 0 { 1 } else { all }).collect();
    let mut changed = true;
    while changed {
        changed = false;
        for v in 1..n {
            if reach >> v & 1 == 0 {
                continue;
            }
            let mut next = all;
            for (p, &s) in succ.iter().enumerate() {
                if s >> v & 1 == 1 && reach >> p & 1 == 1 {
                    next &= dom[p];
                }
            }
            next |= 1 << v;
            if next != dom[v] {
                dom[v] = next;
                changed = true;
            }
        }
    }
    (0..n)
        .map(|v| {
            if v == 0 || reach >> v & 1 == 0 {
                return None;
            }
            // The strict dominator with the most dominators of its own.
            (0..n)
                .filter(|&d| d != v && dom[v] >> d & 1 == 1)
                .max_by_key(|&d| dom[d].count_ones())
        })
        .collect()
}

/// Each node's size summed into every dominator above it.
fn oracle_retained(idom: &[Option<usize>], in_tree: u128, sizes: &[u64]) -> Vec<u64> {
    let mut retained = vec![0u64; idom.len()];
    for (v, &size) in sizes.iter().enumerate().take(idom.len()) {
        if in_tree >> v & 1 == 0 {
            continue;
        }
        let mut at = Some(v);
        while let Some(d) = at {
            retained[d] += size;
            at = idom[d];
        }
    }
    retained
}
