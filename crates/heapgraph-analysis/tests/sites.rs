//! Site statistics on synthetic graphs against a slow, obviously correct
//! re-implementation of CPython's `tracemalloc` (`_group_by`, the sorts,
//! filters), and the fnmatch port against CPython's verdicts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use heapgraph_analysis::sites::{
    format_size, AllocationColumns, Allocations, DomainFilter, Filter, KeyType, SitesError,
    TraceFilter,
};
use heapgraph_core::{EdgeKind, Format, Frame, GraphBuilder, HeapGraph, NodeKind};
use proptest::prelude::*;

/// A trace: size, domain, frames most recent first (as tracemalloc has them).
#[derive(Clone, Debug)]
struct Trace {
    size: u64,
    domain: u32,
    frames: Vec<(String, u32)>,
}

fn build(traces: &[Trace]) -> HeapGraph {
    let mut b = GraphBuilder::new(Format::Synthetic);
    let root = b.intern(b"(root)").unwrap();
    b.add_node(NodeKind::Synthetic, root, 0, 0).unwrap();
    for (i, t) in traces.iter().enumerate() {
        let mut frames = Vec::new();
        for (file, line) in &t.frames {
            let file = b.intern(file.as_bytes()).unwrap();
            let frame = Frame {
                function: heapgraph_core::StringId::EMPTY,
                file,
                line: *line,
                column: 0,
            };
            frames.push(b.stacks().intern_frame(frame).unwrap());
        }
        let stack = b.stacks().intern_innermost_first(frames).unwrap();
        let name = b.intern(b"block").unwrap();
        let node = b
            .add_node(NodeKind::AllocationBlock, name, i as u64, t.size)
            .unwrap();
        b.push_edge(0, node.as_u32(), EdgeKind::Element, i as u32)
            .unwrap();
        if let Some(stack) = stack {
            b.set_node_stack(node, stack);
        }
    }
    b.finish().unwrap()
}

fn allocations<'g>(graph: &'g HeapGraph, traces: &[Trace]) -> Allocations<'g> {
    let domains: Vec<u32> = traces.iter().map(|t| t.domain).collect();
    Allocations::new(graph).with_domains(|n| domains[n.index() - 1])
}

type OracleKey = Vec<(String, u32)>; // oldest first, like Traceback._frames

/// CPython's `_group_by`, literally.
fn oracle_group(traces: &[Trace], key: &str, cumulative: bool) -> HashMap<OracleKey, (u64, u64)> {
    let mut stats: HashMap<OracleKey, (u64, u64)> = HashMap::new();
    for t in traces {
        let keys: Vec<OracleKey> = if !cumulative {
            vec![match key {
                "traceback" => t.frames.iter().rev().cloned().collect(),
                "lineno" => t.frames.iter().take(1).cloned().collect(),
                _ => vec![(t.frames[0].0.clone(), 0)],
            }]
        } else {
            t.frames
                .iter()
                .map(|f| {
                    if key == "lineno" {
                        vec![f.clone()]
                    } else {
                        vec![(f.0.clone(), 0)]
                    }
                })
                .collect()
        };
        for k in keys {
            let e = stats.entry(k).or_insert((0, 0));
            e.0 += t.size;
            e.1 += 1;
        }
    }
    stats
}

/// `statistics()`: sort by (size, count, traceback), reversed.
fn oracle_statistics(traces: &[Trace], key: &str, cumulative: bool) -> Vec<(OracleKey, u64, u64)> {
    let mut v: Vec<_> = oracle_group(traces, key, cumulative)
        .into_iter()
        .map(|(k, (s, c))| (k, s, c))
        .collect();
    v.sort_by(|a, b| (a.1, a.2, &a.0).cmp(&(b.1, b.2, &b.0)));
    v.reverse();
    v
}

fn oracle_compare(
    new: &[Trace],
    old: &[Trace],
    key: &str,
    cumulative: bool,
) -> Vec<(OracleKey, u64, i128, u64, i128)> {
    let mut old_group = oracle_group(old, key, cumulative);
    let mut out = Vec::new();
    for (k, (s, c)) in oracle_group(new, key, cumulative) {
        let (os, oc) = old_group.remove(&k).unwrap_or((0, 0));
        out.push((k, s, s as i128 - os as i128, c, c as i128 - oc as i128));
    }
    for (k, (s, c)) in old_group {
        out.push((k, 0, -(s as i128), 0, -(c as i128)));
    }
    out.sort_by(|a, b| {
        (a.2.abs(), a.1, a.4.abs(), a.3, &a.0).cmp(&(b.2.abs(), b.1, b.4.abs(), b.3, &b.0))
    });
    out.reverse();
    out
}

/// A naive matcher for patterns made of literals, `*` and `?`.
fn glob(pat: &[char], name: &[char]) -> bool {
    match pat.split_first() {
        None => name.is_empty(),
        Some(('*', rest)) => (0..=name.len()).any(|i| glob(rest, &name[i..])),
        Some(('?', rest)) => !name.is_empty() && glob(rest, &name[1..]),
        Some((c, rest)) => name.first() == Some(c) && glob(rest, &name[1..]),
    }
}

fn normalize(name: &str) -> String {
    name.strip_suffix(".pyc")
        .map_or_else(|| name.to_owned(), |s| format!("{s}.py"))
}

/// `Filter._match` / `DomainFilter._match`, literally.
fn oracle_match(f: &TraceFilter, t: &Trace) -> bool {
    match f {
        TraceFilter::Domain(d) => (t.domain == d.domain) ^ !d.inclusive,
        TraceFilter::Filter(f) => {
            let pat: Vec<char> = normalize(&f.filename_pattern).chars().collect();
            let hit = |(file, line): &(String, u32)| {
                let name: Vec<char> = normalize(file).chars().collect();
                glob(&pat, &name) && f.lineno.is_none_or(|l| l == *line)
            };
            let res = if f.all_frames {
                if t.frames.iter().any(hit) {
                    f.inclusive
                } else {
                    !f.inclusive
                }
            } else {
                hit(&t.frames[0]) ^ !f.inclusive
            };
            match f.domain {
                None => res,
                Some(d) if f.inclusive => res && t.domain == d,
                Some(d) => res || t.domain != d,
            }
        }
    }
}

fn oracle_filter(traces: &[Trace], filters: &[TraceFilter]) -> Vec<Trace> {
    let (inc, exc): (Vec<_>, Vec<_>) = filters.iter().partition(|f| match f {
        TraceFilter::Filter(f) => f.inclusive,
        TraceFilter::Domain(d) => d.inclusive,
    });
    traces
        .iter()
        .filter(|t| {
            (inc.is_empty() || inc.iter().any(|f| oracle_match(f, t)))
                && exc.iter().all(|f| oracle_match(f, t))
        })
        .cloned()
        .collect()
}

fn trace_strategy() -> impl Strategy<Value = Trace> {
    let file = prop::sample::select(vec!["/a/x.py", "/a/y.py", "/b/z.pyc", "/b/x.py", "w"]);
    let frame = (file, 0u32..4).prop_map(|(f, l)| (f.to_owned(), l));
    (
        prop_oneof![0u64..100, Just(1 << 31), Just(10_240), 0u64..5],
        prop::sample::select(vec![0u32, 0, 7, u32::MAX]),
        prop::collection::vec(frame, 1..6),
    )
        .prop_map(|(size, domain, frames)| Trace {
            size,
            domain,
            frames,
        })
}

fn filter_strategy() -> impl Strategy<Value = TraceFilter> {
    let pattern =
        prop::sample::select(vec!["*", "/a/*", "*.py", "/b/?.py", "w", "*x*", "/b/z.pyc"]);
    prop_oneof![
        (
            any::<bool>(),
            pattern,
            prop::option::of(0u32..4),
            any::<bool>(),
            prop::option::of(prop::sample::select(vec![0u32, 7, u32::MAX]))
        )
            .prop_map(|(inclusive, p, lineno, all_frames, domain)| {
                let mut f = Filter::new(inclusive, p);
                f.lineno = lineno;
                f.all_frames = all_frames;
                f.domain = domain;
                TraceFilter::Filter(f)
            }),
        (any::<bool>(), prop::sample::select(vec![0u32, 7, u32::MAX])).prop_map(
            |(inclusive, domain)| TraceFilter::Domain(DomainFilter { inclusive, domain })
        ),
    ]
}

const KEYS: [(KeyType, &str, bool); 5] = [
    (KeyType::Lineno, "lineno", false),
    (KeyType::Lineno, "lineno", true),
    (KeyType::Filename, "filename", false),
    (KeyType::Filename, "filename", true),
    (KeyType::Traceback, "traceback", false),
];

fn frames_of(tb: &heapgraph_analysis::sites::Traceback<'_>) -> OracleKey {
    tb.frames()
        .iter()
        .map(|f| (String::from_utf8(f.filename.to_vec()).unwrap(), f.lineno))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn statistics_match_the_oracle(traces in prop::collection::vec(trace_strategy(), 0..40)) {
        let graph = build(&traces);
        let all = allocations(&graph, &traces);
        for (key, name, cumulative) in KEYS {
            let got: Vec<_> = all
                .statistics(key, cumulative)
                .unwrap()
                .iter()
                .map(|s| (frames_of(&s.traceback), s.size, s.count))
                .collect();
            prop_assert_eq!(got, oracle_statistics(&traces, name, cumulative), "{} {}", name, cumulative);
        }
        prop_assert_eq!(
            all.statistics(KeyType::Traceback, true).unwrap_err(),
            SitesError::CumulativeTraceback
        );
    }

    #[test]
    fn compare_to_matches_the_oracle(
        new in prop::collection::vec(trace_strategy(), 0..30),
        old in prop::collection::vec(trace_strategy(), 0..30),
    ) {
        let new_graph = build(&new);
        let old_graph = build(&old);
        let new_all = allocations(&new_graph, &new);
        let old_all = allocations(&old_graph, &old);
        for (key, name, cumulative) in KEYS {
            let got: Vec<_> = new_all
                .compare_to(&old_all, key, cumulative)
                .unwrap()
                .iter()
                .map(|d| (frames_of(&d.traceback), d.size, d.size_diff, d.count, d.count_diff))
                .collect();
            prop_assert_eq!(got, oracle_compare(&new, &old, name, cumulative));
        }
    }

    #[test]
    fn filter_traces_matches_the_oracle(
        traces in prop::collection::vec(trace_strategy(), 0..40),
        filters in prop::collection::vec(filter_strategy(), 0..4),
    ) {
        let graph = build(&traces);
        let all = allocations(&graph, &traces);
        let kept = all.filter_traces(&filters);
        let want = oracle_filter(&traces, &filters);
        prop_assert_eq!(kept.len(), want.len());
        let got_sizes: Vec<u64> = kept.nodes().iter().map(|&n| graph.self_size(n)).collect();
        let want_sizes: Vec<u64> = want.iter().map(|t| t.size).collect();
        prop_assert_eq!(got_sizes, want_sizes);
        let got_domains: Vec<u32> = (0..kept.len()).map(|i| kept.domain(i)).collect();
        let want_domains: Vec<u32> = want.iter().map(|t| t.domain).collect();
        prop_assert_eq!(got_domains, want_domains);
    }

    #[test]
    fn call_tree_counts_each_allocation_once_per_path(
        traces in prop::collection::vec(trace_strategy(), 0..40),
    ) {
        let graph = build(&traces);
        let all = allocations(&graph, &traces);
        let tree = all.call_tree();
        let stacks = graph.stacks();
        // Oracle: a trie node's total is the sum over traces whose stack
        // (outermost first) starts with the node's path.
        for stack in tree.stacks() {
            let path = stacks.frames_outermost_first(stack);
            let mut want = (0u64, 0u64);
            for &node in all.nodes() {
                let Some(s) = graph.node_stack(node) else { continue };
                let frames = stacks.frames_outermost_first(s);
                if frames.starts_with(&path) {
                    want.0 += graph.self_size(node);
                    want.1 += 1;
                }
            }
            prop_assert_eq!(tree.total_size(stack), want);
        }
        let roots: u64 = tree
            .stacks()
            .filter(|&s| stacks.parent(s).is_none())
            .map(|s| tree.total_size(s).0)
            .sum();
        prop_assert_eq!(roots, all.total_size());
        prop_assert_eq!(tree.folded().len(), {
            let mut distinct: Vec<_> = all.nodes().iter().filter_map(|&n| graph.node_stack(n)).collect();
            distinct.sort();
            distinct.dedup();
            distinct.len()
        });
    }
}

/// A compact allocation table (as tracemalloc's reader makes) holding the
/// same allocations as `graph`'s nodes.
struct Table {
    stacks: Vec<u32>,
    sizes: Vec<u32>,
    large_sizes: Vec<(u32, u64)>,
    domains: Vec<u32>,
}

fn table_of(graph: &HeapGraph, traces: &[Trace]) -> Table {
    let mut t = Table {
        stacks: Vec::new(),
        sizes: Vec::new(),
        large_sizes: Vec::new(),
        domains: traces.iter().map(|t| t.domain).collect(),
    };
    for (i, node) in graph.nodes().skip(1).enumerate() {
        t.stacks
            .push(graph.node_stack(node).map_or(u32::MAX, |s| s.as_u32()));
        let size = graph.self_size(node);
        match u32::try_from(size) {
            Ok(small) if small != u32::MAX => t.sizes.push(small),
            _ => {
                t.sizes.push(u32::MAX);
                t.large_sizes.push((i as u32, size));
            }
        }
    }
    t
}

fn from_table<'g>(graph: &'g HeapGraph, t: &'g Table) -> Allocations<'g> {
    Allocations::from_columns(
        graph.strings(),
        graph.stacks(),
        AllocationColumns {
            stacks: &t.stacks,
            sizes: &t.sizes,
            large_sizes: &t.large_sizes,
            domains: t.domains.iter().any(|&d| d != 0).then_some(&t.domains[..]),
        },
    )
}

fn big_trace_strategy() -> impl Strategy<Value = Trace> {
    let file = prop::sample::select(vec!["/a/x.py", "/a/y.py", "/b/z.pyc", "w"]);
    let frame = (file, 0u32..4).prop_map(|(f, l)| (f.to_owned(), l));
    (
        prop_oneof![
            0u64..100,
            Just(u64::from(u32::MAX)),
            Just(u64::from(u32::MAX) - 1),
            Just((1 << 33) + 7),
        ],
        prop::sample::select(vec![0u32, 0, 7, u32::MAX]),
        prop::collection::vec(frame, 1..5),
    )
        .prop_map(|(size, domain, frames)| Trace {
            size,
            domain,
            frames,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The trace-table path (no graph) gives what the oracle and the
    /// graph path give: statistics, comparisons either way, filters, call
    /// trees, sizes of 2^32 - 1 and beyond.
    #[test]
    fn table_path_matches_the_oracle_and_the_graph_path(
        traces in prop::collection::vec(big_trace_strategy(), 0..40),
        old in prop::collection::vec(big_trace_strategy(), 0..20),
        filters in prop::collection::vec(filter_strategy(), 0..3),
    ) {
        let graph = build(&traces);
        let table = table_of(&graph, &traces);
        let by_table = from_table(&graph, &table);
        let by_graph = allocations(&graph, &traces);
        prop_assert!(by_table.graph().is_none());
        prop_assert_eq!(by_table.len(), traces.len());
        prop_assert_eq!(by_table.total_size(), traces.iter().map(|t| t.size).sum::<u64>());
        prop_assert_eq!(by_table.iter().collect::<Vec<_>>(), by_graph.iter().collect::<Vec<_>>());
        let old_graph = build(&old);
        let old_table = table_of(&old_graph, &old);
        let old_by_table = from_table(&old_graph, &old_table);
        let old_by_graph = allocations(&old_graph, &old);
        for (key, name, cumulative) in KEYS {
            let got: Vec<_> = by_table
                .statistics(key, cumulative)
                .unwrap()
                .iter()
                .map(|s| (frames_of(&s.traceback), s.size, s.count))
                .collect();
            prop_assert_eq!(got, oracle_statistics(&traces, name, cumulative));
            let want = oracle_compare(&traces, &old, name, cumulative);
            for old_all in [&old_by_table, &old_by_graph] {
                let got: Vec<_> = by_table
                    .compare_to(old_all, key, cumulative)
                    .unwrap()
                    .iter()
                    .map(|d| (frames_of(&d.traceback), d.size, d.size_diff, d.count, d.count_diff))
                    .collect();
                prop_assert_eq!(&got, &want);
            }
        }
        let kept = by_table.filter_traces(&filters);
        let want = oracle_filter(&traces, &filters);
        let got: Vec<(u64, u32)> = kept.iter().map(|a| (a.size, a.domain)).collect();
        let want: Vec<(u64, u32)> = want.iter().map(|t| (t.size, t.domain)).collect();
        prop_assert_eq!(&got, &want);
        prop_assert_eq!(kept.rows().unwrap().len(), want.len());
        // Filtering a filtered set again keeps it.
        prop_assert_eq!(kept.filter_traces(&filters).len(), want.len());
        let (t, g) = (by_table.call_tree(), by_graph.call_tree());
        prop_assert_eq!(t.folded(), g.folded());
        prop_assert_eq!(t.stacks().collect::<Vec<_>>(), g.stacks().collect::<Vec<_>>());
        for stack in g.stacks() {
            prop_assert_eq!(t.total_size(stack), g.total_size(stack));
        }
    }
}

#[test]
fn fnmatch_port_agrees_with_cpython_on_6000_cases() {
    let text = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/tracemalloc/fnmatch_cases.txt"
    ))
    .unwrap();
    let unescape = |s: &[u8]| -> String {
        let mut out = Vec::new();
        let mut i = 0;
        while i < s.len() {
            if s[i] == b'\\' && i + 1 < s.len() {
                out.push(if s[i + 1] == b'n' { b'\n' } else { s[i + 1] });
                i += 2;
            } else {
                out.push(s[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    };
    let mut cases = Vec::new();
    for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let parts: Vec<&[u8]> = line.split(|&b| b == b'\t').collect();
        cases.push((parts[0] == b"1", unescape(parts[1]), unescape(parts[2])));
    }
    assert_eq!(cases.len(), 6000);
    // One trace per distinct name; one inclusive filter per pattern.
    let mut names: Vec<String> = cases.iter().map(|c| c.2.clone()).collect();
    names.sort();
    names.dedup();
    let traces: Vec<Trace> = names
        .iter()
        .map(|n| Trace {
            size: 1,
            domain: 0,
            frames: vec![(n.clone(), 1)],
        })
        .collect();
    let graph = build(&traces);
    let all = allocations(&graph, &traces);
    let mut by_pattern: HashMap<&str, Vec<String>> = HashMap::new();
    let mut mismatches = Vec::new();
    for (want, pattern, name) in &cases {
        let kept = by_pattern.entry(pattern).or_insert_with(|| {
            let filtered = all.filter_traces(&[Filter::new(true, pattern.as_str()).into()]);
            filtered
                .nodes()
                .iter()
                .map(|&n| names[n.index() - 1].clone())
                .collect()
        });
        if kept.contains(name) != *want {
            mismatches.push((pattern.clone(), name.clone(), *want));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches: {:?}",
        mismatches.len(),
        &mismatches[..mismatches.len().min(10)]
    );
}

#[test]
fn format_size_and_text_output() {
    assert_eq!(format_size(102_349.0, false), "100.0 KiB");
    assert_eq!(format_size(-0.0 + 0.0, true), "+0 B");
    let traces = vec![
        Trace {
            size: 10_240,
            domain: 0,
            frames: vec![("/a.py".into(), 3), ("/main.py".into(), 9)],
        },
        Trace {
            size: 1,
            domain: 0,
            frames: vec![("/a.py".into(), 3), ("/main.py".into(), 9)],
        },
    ];
    let graph = build(&traces);
    let all = allocations(&graph, &traces);
    let stats = all.statistics(KeyType::Traceback, false).unwrap();
    // str(Traceback) is the oldest frame.
    assert_eq!(
        stats[0].to_string(),
        "/main.py:9: size=10.0 KiB, count=2, average=5120 B"
    );
    assert_eq!(
        stats[0].traceback.format(None, false),
        vec!["  File \"/main.py\", line 9", "  File \"/a.py\", line 3"]
    );
    assert_eq!(
        stats[0].traceback.format(Some(1), false),
        vec!["  File \"/a.py\", line 3"]
    );
    assert_eq!(
        stats[0].traceback.format(Some(-1), false),
        vec!["  File \"/main.py\", line 9"]
    );
    assert!(stats[0].traceback.format(Some(0), false).is_empty());
    let with_source = stats[0]
        .traceback
        .format_with_source(Some(1), false, |_, line| Some(format!("  x = {line}  \n")));
    assert_eq!(with_source[1], b"    x = 3");
    let empty = build(&[]);
    let none = Allocations::new(&empty);
    let diffs = none.compare_to(&all, KeyType::Lineno, false).unwrap();
    assert_eq!(
        diffs[0].to_string(),
        "/a.py:3: size=0 B (-10.0 KiB), count=0 (-2)"
    );
}
