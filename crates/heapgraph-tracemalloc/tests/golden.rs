//! Compares every statistic, comparison, filter and traceback format with
//! CPython's own output on the same dumps (`testdata/tracemalloc/*.golden`,
//! written by `testdata/tracemalloc/gen.py`), line for line.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use heapgraph_analysis::sites::{
    AllocationColumns, Allocations, DomainFilter, Filter, KeyType, TraceFilter,
};
use heapgraph_tracemalloc::{parse, ParseOptions, TraceShape, TracemallocSnapshot};

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/tracemalloc"
    ))
    .join(name)
}

fn load(name: &str) -> TracemallocSnapshot {
    let bytes = std::fs::read(testdata(name)).unwrap();
    parse(&bytes, &ParseOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The two ways to the statistics: the trace table alone (what the CLI
/// uses), or the graph built from it.
#[derive(Clone, Copy, Debug)]
enum Path {
    Table,
    Graph,
}

fn allocations(snap: &TracemallocSnapshot, path: Path) -> Allocations<'_> {
    match path {
        Path::Table => {
            let c = snap.columns();
            let all = Allocations::from_columns(
                snap.strings(),
                snap.stacks(),
                AllocationColumns {
                    stacks: &c.stacks,
                    sizes: &c.sizes,
                    large_sizes: &c.large_sizes,
                    domains: c.domains.as_deref(),
                },
            );
            assert!(!snap.graph_is_built(), "the table path built the graph");
            all
        }
        Path::Graph => {
            Allocations::new(snap.graph().unwrap()).with_domains(|n| snap.node_domain(n))
        }
    }
}

/// Escapes one output line like the generator does.
fn esc(bytes: &[u8]) -> String {
    let mut out = Vec::new();
    for &b in bytes {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            _ => out.push(b),
        }
    }
    // Golden files are UTF-8 with surrogatepass; compare as (lossless) bytes
    // mapped through latin-1 so nothing is lost.
    out.iter().map(|&b| b as char).collect()
}

/// The sections of a golden file: (header, lines).
fn sections(name: &str) -> Vec<(String, Vec<String>)> {
    let bytes = std::fs::read(testdata(name)).unwrap();
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in bytes.split(|&b| b == b'\n') {
        if let Some(header) = line.strip_prefix(b"== ") {
            out.push((String::from_utf8(header.to_vec()).unwrap(), Vec::new()));
        } else if !line.is_empty() || out.last().is_some() {
            if let Some(last) = out.last_mut() {
                last.1.push(line.iter().map(|&b| b as char).collect());
            }
        }
    }
    // The file ends with a newline: drop the empty tail line.
    if let Some(last) = out.last_mut() {
        if last.1.last().is_some_and(String::is_empty) {
            last.1.pop();
        }
    }
    out
}

fn key_type(s: &str) -> KeyType {
    match s {
        "lineno" => KeyType::Lineno,
        "filename" => KeyType::Filename,
        "traceback" => KeyType::Traceback,
        other => panic!("key type {other}"),
    }
}

fn parse_filters(desc: &str) -> Vec<TraceFilter> {
    desc.split(" ; ")
        .map(|part| {
            let f: Vec<&str> = part.split('|').collect();
            if f[0] == "D" {
                TraceFilter::Domain(DomainFilter {
                    inclusive: f[1] == "1",
                    domain: f[2].parse().unwrap(),
                })
            } else {
                let mut filter = Filter::new(f[1] == "1", f[2]);
                filter.lineno = (f[3] != "-").then(|| f[3].parse().unwrap());
                filter.all_frames = f[4] == "1";
                filter.domain = (f[5] != "-").then(|| f[5].parse().unwrap());
                TraceFilter::Filter(filter)
            }
        })
        .collect()
}

fn assert_lines(context: &str, got: Vec<String>, want: &[String]) {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g, w, "{context}: line {i} differs");
    }
    assert_eq!(got.len(), want.len(), "{context}: line count differs");
}

/// Checks one snapshot file against `<golden>.golden`; returns the number
/// of lines compared.
fn check_snapshot(file: &str, golden: &str) -> usize {
    let table = check_snapshot_via(file, golden, Path::Table);
    assert_eq!(check_snapshot_via(file, golden, Path::Graph), table);
    table
}

fn check_snapshot_via(file: &str, golden: &str, path: Path) -> usize {
    let snap = load(file);
    let all = allocations(&snap, path);
    let mut compared = 0;
    for (header, want) in sections(&format!("{golden}.golden")) {
        let context = format!("{file} via {path:?} [{header}]");
        let words: Vec<&str> = header.splitn(3, ' ').collect();
        let got: Vec<String> = match words[0] {
            "count" => vec![all.len().to_string()],
            "total" => vec![all.total_size().to_string()],
            "traceback_limit" => vec![snap.traceback_limit().to_string()],
            "total_nframe" => {
                let n = snap.trace_count();
                let totals: Vec<u32> = (0..n).map(|i| snap.total_nframe(i).unwrap_or(0)).collect();
                let truncated = (0..n)
                    .filter(|&i| {
                        let stack = snap.trace(i).unwrap().stack;
                        let depth = stack.map_or(0, |s| snap.stacks().depth(s));
                        totals[i] != depth
                    })
                    .count();
                if snap.trace_shape() == Some(TraceShape::WithTotalNframe) || n == 0 {
                    vec![
                        totals
                            .iter()
                            .map(|&t| u64::from(t))
                            .sum::<u64>()
                            .to_string(),
                        truncated.to_string(),
                    ]
                } else {
                    // 3.6-3.8 dumps carry no total_nframe.
                    assert!(totals.iter().all(|&t| t == 0));
                    want.clone()
                }
            }
            "stats" => all
                .statistics(key_type(words[1]), words[2] == "1")
                .unwrap()
                .iter()
                .map(|s| esc(&s.to_bytes()))
                .collect(),
            "format" => {
                let args: Vec<&str> = header.split(' ').collect();
                let rank: usize = args[1].parse().unwrap();
                let limit = (args[2] != "-").then(|| args[2].parse::<i64>().unwrap());
                let stats = all.statistics(KeyType::Traceback, false).unwrap();
                stats[rank]
                    .traceback
                    .format_bytes(limit, args[3] == "1")
                    .iter()
                    .map(|l| esc(l))
                    .collect()
            }
            "filter" => {
                let rest: Vec<&str> = header.splitn(3, ' ').collect();
                let filtered = all.filter_traces(&parse_filters(rest[2]));
                filtered
                    .statistics(key_type(rest[1]), false)
                    .unwrap()
                    .iter()
                    .map(|s| esc(&s.to_bytes()))
                    .collect()
            }
            other => panic!("unknown section {other}"),
        };
        compared += want.len();
        assert_lines(&context, got, &want);
    }
    compared
}

fn check_compare(new: &str, old: &str, golden: &str) -> usize {
    let mut counts = Vec::new();
    // Both paths, and each side either way (a table against a graph).
    for (new_path, old_path) in [
        (Path::Table, Path::Table),
        (Path::Graph, Path::Graph),
        (Path::Table, Path::Graph),
    ] {
        counts.push(check_compare_via(new, old, golden, new_path, old_path));
    }
    assert!(counts.iter().all(|&c| c == counts[0]));
    counts[0]
}

fn check_compare_via(new: &str, old: &str, golden: &str, new_path: Path, old_path: Path) -> usize {
    let new_snap = load(new);
    let old_snap = load(old);
    let new_all = allocations(&new_snap, new_path);
    let old_all = allocations(&old_snap, old_path);
    let mut compared = 0;
    for (header, want) in sections(&format!("{golden}.golden")) {
        let words: Vec<&str> = header.split(' ').collect();
        assert_eq!(words[0], "compare");
        let got: Vec<String> = new_all
            .compare_to(&old_all, key_type(words[1]), words[2] == "1")
            .unwrap()
            .iter()
            .map(|s| esc(&s.to_bytes()))
            .collect();
        compared += want.len();
        assert_lines(
            &format!("{golden} via {new_path:?}/{old_path:?} [{header}]"),
            got,
            &want,
        );
    }
    compared
}

/// Whether a golden section looks only at each traceback's innermost
/// frame (what `ParseOptions::innermost_frame_only` keeps), so that a
/// snapshot read that way must give exactly CPython's lines for it.
fn innermost_section(header: &str) -> bool {
    let words: Vec<&str> = header.splitn(3, ' ').collect();
    match words[0] {
        "count" | "total" => true,
        "stats" | "compare" => words[1] != "traceback" && words.get(2) == Some(&"0"),
        "filter" => {
            words[1] != "traceback"
                && parse_filters(words[2]).iter().all(|f| match f {
                    TraceFilter::Filter(f) => !f.all_frames,
                    _ => true,
                })
        }
        _ => false,
    }
}

/// Every section that looks only at innermost frames, from snapshots read
/// with `innermost_frame_only`: the same lines as CPython's.
fn check_innermost(file: &str, golden: &str, old: Option<&str>) -> usize {
    let read = |name: &str| {
        let bytes = std::fs::read(testdata(name)).unwrap();
        let options = ParseOptions::default().with_innermost_frame_only(true);
        parse(&bytes, &options).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let snap = read(file);
    assert_eq!(
        snap.total_nframe(0),
        None,
        "{file}: total_nframe is not kept"
    );
    let old_snap = old.map(read);
    let all = allocations(&snap, Path::Table);
    let old_all = old_snap.as_ref().map(|o| allocations(o, Path::Table));
    let mut compared = 0;
    for (header, want) in sections(&format!("{golden}.golden")) {
        if !innermost_section(&header) {
            continue;
        }
        let words: Vec<&str> = header.splitn(3, ' ').collect();
        let got: Vec<String> = match (words[0], &old_all) {
            ("count", _) => vec![all.len().to_string()],
            ("total", _) => vec![all.total_size().to_string()],
            ("stats", _) => all
                .statistics(key_type(words[1]), false)
                .unwrap()
                .iter()
                .map(|s| esc(&s.to_bytes()))
                .collect(),
            ("filter", _) => all
                .filter_traces(&parse_filters(words[2]))
                .statistics(key_type(words[1]), false)
                .unwrap()
                .iter()
                .map(|s| esc(&s.to_bytes()))
                .collect(),
            ("compare", Some(old_all)) => all
                .compare_to(old_all, key_type(words[1]), false)
                .unwrap()
                .iter()
                .map(|s| esc(&s.to_bytes()))
                .collect(),
            (other, _) => panic!("unexpected section {other}"),
        };
        compared += want.len();
        assert_lines(&format!("{file} innermost only [{header}]"), got, &want);
    }
    compared
}

#[test]
fn innermost_frames_alone_give_python_s_lines_by_line_and_file() {
    // Lines of the golden sections that look at innermost frames only
    // (counts, totals, lineno and filename statistics and comparisons,
    // filters without all_frames).
    for (file, golden, lines) in [
        ("app_a.p5.pickle", "app_a", 14),
        ("app_a.p2.pickle", "app_a", 14),
        ("app_b.p5.pickle", "app_b", 24),
        ("mixed_1.p0.pickle", "mixed_1", 42),
        ("mixed_1.t3.pickle", "mixed_1", 42),
    ] {
        assert_eq!(check_innermost(file, golden, None), lines, "{file}");
    }
    assert_eq!(
        check_innermost("app_b.p5.pickle", "app_b_vs_a", Some("app_a.p5.pickle")),
        5
    );
}

#[test]
fn app_snapshots_match_python_line_for_line() {
    let a = check_snapshot("app_a.p5.pickle", "app_a");
    assert!(a > 50, "only {a} lines compared");
    assert_eq!(check_snapshot("app_a.p2.pickle", "app_a"), a);
    check_snapshot("app_b.p5.pickle", "app_b");
    let snap = load("app_a.p5.pickle");
    assert!(snap.trace_count() > 1000, "{}", snap.trace_count());
    assert_eq!(snap.protocol(), 5);
    assert_eq!(snap.trace_shape(), Some(TraceShape::WithTotalNframe));
}

#[test]
fn mixed_snapshots_match_python_in_every_protocol_and_shape() {
    let n = check_snapshot("mixed_1.p5.pickle", "mixed_1");
    assert_eq!(check_snapshot("mixed_1.p0.pickle", "mixed_1"), n);
    assert_eq!(check_snapshot("mixed_1.p2.pickle", "mixed_1"), n);
    // The CPython 3.6-3.8 shape that 3.9+ itself cannot load.
    assert_eq!(check_snapshot("mixed_1.t3.pickle", "mixed_1"), n);
    check_snapshot("mixed_2.p5.pickle", "mixed_2");
    assert_eq!(load("mixed_1.p0.pickle").protocol(), 0);
    assert_eq!(
        load("mixed_1.t3.pickle").trace_shape(),
        Some(TraceShape::DomainSizeTraceback)
    );
}

#[test]
fn empty_snapshot_matches_python() {
    check_snapshot("empty.p5.pickle", "empty");
    check_snapshot("empty.p0.pickle", "empty");
    let snap = load("empty.p5.pickle");
    assert_eq!(snap.trace_count(), 0);
    assert_eq!(snap.graph().unwrap().node_count(), 1);
    assert_eq!(snap.trace_shape(), None);
}

#[test]
fn shared_frame_tuples_are_followed_through_the_memo() {
    let n = check_snapshot("shared_frames.p5.pickle", "shared_frames");
    assert_eq!(
        check_snapshot("shared_frames.p2.pickle", "shared_frames"),
        n
    );
    assert_eq!(load("shared_frames.p2.pickle").trace_count(), 3);
}

#[test]
fn comparisons_match_python_line_for_line() {
    let n = check_compare("app_b.p5.pickle", "app_a.p5.pickle", "app_b_vs_a");
    assert!(n > 10);
    let m = check_compare("mixed_2.p5.pickle", "mixed_1.p5.pickle", "mixed_2_vs_1");
    assert!(m > 10);
    // The same comparison from the protocol-0 file of the old snapshot.
    assert_eq!(
        check_compare("mixed_2.p5.pickle", "mixed_1.p0.pickle", "mixed_2_vs_1"),
        m
    );
}

#[test]
fn edge_encodings_survive() {
    let snap = load("mixed_1.p5.pickle");
    let graph = snap.graph().unwrap();
    // Domains 2**32-1 and numpy's 389047, sizes >= 2**31.
    let domains = snap.domains().unwrap();
    assert!(domains.contains(&u32::MAX));
    assert!(domains.contains(&389047));
    let sizes: Vec<u64> = graph.nodes().map(|n| graph.self_size(n)).collect();
    assert!(sizes.contains(&(1 << 31)));
    assert!(sizes.contains(&((1 << 33) + 7)));
    // Filenames: lone surrogates kept as WTF-8 bytes, a long one, a newline.
    let strings = graph.strings();
    let find = |needle: &[u8]| strings.iter().any(|(_, s)| s == needle);
    assert!(find(b"/srv/caf\xed\xb3\xa9/\xed\xb3\xbf\xed\xb3\xbe.py"));
    assert!(find("/srv/emoji_\u{1F600}_\u{e9}.py".as_bytes()));
    assert!(find(b"/srv/we\\ird\nname.py"));
    assert!(strings.iter().any(|(_, s)| s.len() > 400));
    // Node names are the most recent frame.
    let node = snap.trace_node(0).unwrap();
    let stack = graph.node_stack(node).unwrap();
    let frame = graph.stacks().frame(graph.stacks().innermost_frame(stack));
    assert_eq!(
        graph.name_str(node),
        format!("{}:{}", strings.get(frame.file), frame.line)
    );
    assert_eq!(snap.total_nframe(0).map(|n| n >= 1), Some(true));
    // Protocol 0 decodes to the same strings.
    let p0 = load("mixed_1.p0.pickle");
    let find0 = |needle: &[u8]| p0.strings().iter().any(|(_, s)| s == needle);
    assert!(find0(b"/srv/caf\xed\xb3\xa9/\xed\xb3\xbf\xed\xb3\xbe.py"));
    assert!(find0(b"/srv/we\\ird\nname.py"));
    assert!(find0("/srv/emoji_\u{1F600}_\u{e9}.py".as_bytes()));
}

#[test]
fn corpus_dumps_of_cpython_3_9_to_3_14_match_python() {
    for version in ["39", "311", "313", "314"] {
        let n = check_snapshot(
            &format!("tm_py{version}_tiny.pickle"),
            &format!("corpus_tm_py{version}_tiny"),
        );
        assert!(n > 50, "{version}: {n}");
    }
}

#[test]
fn corpus_dumps_of_four_cpython_versions_load() {
    for (file, traces) in [
        ("tm_py39_tiny.pickle", None),
        ("tm_py311_tiny.pickle", None),
        ("tm_py313_tiny.pickle", None),
        ("tm_py314_tiny.pickle", None::<usize>),
    ] {
        let bytes = std::fs::read(testdata(file)).unwrap();
        let snap =
            parse(&bytes, &ParseOptions::default()).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(snap.trace_count() > 0, "{file}");
        if let Some(t) = traces {
            assert_eq!(snap.trace_count(), t);
        }
        let all = allocations(&snap, Path::Table);
        let stats = all.statistics(KeyType::Lineno, false).unwrap();
        assert_eq!(
            stats.iter().map(|s| s.count).sum::<u64>(),
            snap.trace_count() as u64
        );
    }
}
