//! Property tests: the Semi-NCA dominator tree and retained sizes against
//! slow, obviously-correct oracles on random graphs (unreachable nodes, self
//! loops, multi-edges, long chains, diamonds).
//!
//! * [`dataflow_dominators`]: the textbook fixed point
//!   `Dom(v) = {v} ∪ ⋂ Dom(p)` over predecessors, one bit vector per node.
//! * [`devtools_lengauer_tarjan`]: Lengauer–Tarjan with simple link/eval,
//!   numbered the way Chrome DevTools numbers nodes (search from the root,
//!   then from nodes without counted in-edges, then leftovers as root
//!   children), to show that `UnreachableNodes::AttachToRoot` gives the same
//!   dominators DevTools does, leftover cycles included.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // may panic: not library code

use heapgraph_analysis::{DominatorTree, EdgePolicy, EdgeSet, HeapAnalysis, UnreachableNodes};
use heapgraph_core::{EdgeKind, Format, GraphBuilder, HeapGraph, NodeIndex, NodeKind};
use proptest::prelude::*;

/// A random graph: node sizes and `(source, target, weak)` edges. Node 0 is
/// the root.
#[derive(Clone, Debug)]
struct Spec {
    sizes: Vec<u64>,
    edges: Vec<(u32, u32, bool)>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (1usize..40).prop_flat_map(|n| {
        let sizes = prop::collection::vec(0u64..1000, n);
        let edge = (0..n as u32, 0..n as u32, prop::bool::weighted(0.15));
        let edges = prop::collection::vec(edge, 0..n * 3);
        // Sometimes add a chain and a diamond over the first nodes.
        let shapes = (prop::bool::ANY, prop::bool::ANY);
        (sizes, edges, shapes).prop_map(move |(sizes, mut edges, (chain, diamond))| {
            let n = sizes.len() as u32;
            if chain {
                for v in 0..n.saturating_sub(1) {
                    edges.push((v, v + 1, false));
                }
            }
            if diamond && n >= 4 {
                edges.extend([(0, 1, false), (0, 2, false), (1, 3, false), (2, 3, false)]);
            }
            Spec { sizes, edges }
        })
    })
}

fn build(spec: &Spec) -> HeapGraph {
    let mut b = GraphBuilder::new(Format::Synthetic);
    let name = b.intern(b"N").unwrap();
    let field = b.intern(b"f").unwrap();
    for (i, &size) in spec.sizes.iter().enumerate() {
        let kind = if i == 0 {
            NodeKind::Synthetic
        } else {
            NodeKind::Object
        };
        b.add_node(kind, name, i as u64, size).unwrap();
    }
    for &(s, t, weak) in &spec.edges {
        let kind = if weak {
            EdgeKind::Weak
        } else {
            EdgeKind::Property
        };
        b.push_edge(s, t, kind, field.as_u32()).unwrap();
    }
    b.finish().unwrap()
}

/// Successor lists over the counted edges (no self edges: they never
/// change dominators).
fn successors(graph: &HeapGraph, edges: &EdgeSet) -> Vec<Vec<usize>> {
    graph
        .nodes()
        .map(|v| {
            graph
                .edge_range(v)
                .filter(|&e| edges.contains(e))
                .map(|e| graph.edge_targets()[e as usize].index())
                .filter(|&t| t != v.index())
                .collect()
        })
        .collect()
}

fn reachable(succ: &[Vec<usize>], from: &[usize]) -> Vec<bool> {
    let mut seen = vec![false; succ.len()];
    let mut stack: Vec<usize> = from.to_vec();
    for &f in from {
        seen[f] = true;
    }
    while let Some(v) = stack.pop() {
        for &w in &succ[v] {
            if !seen[w] {
                seen[w] = true;
                stack.push(w);
            }
        }
    }
    seen
}

/// Immediate dominators by the data-flow fixed point; `None` for the root
/// and unreachable nodes.
fn dataflow_dominators(succ: &[Vec<usize>]) -> Vec<Option<usize>> {
    let n = succ.len();
    let reach = reachable(succ, &[0]);
    let mut preds = vec![Vec::new(); n];
    for (v, ws) in succ.iter().enumerate() {
        for &w in ws {
            preds[w].push(v);
        }
    }
    let mut dom: Vec<Vec<bool>> = (0..n)
        .map(|v| {
            if v == 0 {
                (0..n).map(|u| u == 0).collect()
            } else {
                vec![true; n]
            }
        })
        .collect();
    let mut changed = true;
    while changed {
        changed = false;
        for v in 1..n {
            if !reach[v] {
                continue;
            }
            let mut next = vec![true; n];
            for &p in &preds[v] {
                if reach[p] {
                    for u in 0..n {
                        next[u] &= dom[p][u];
                    }
                }
            }
            next[v] = true;
            if next != dom[v] {
                dom[v] = next;
                changed = true;
            }
        }
    }
    (0..n)
        .map(|v| {
            if v == 0 || !reach[v] {
                return None;
            }
            // The strict dominator with the most dominators of its own.
            (0..n)
                .filter(|&d| d != v && dom[v][d])
                .max_by_key(|&d| dom[d].iter().filter(|&&x| x).count())
        })
        .collect()
}

/// Retained sizes from an idom column: each node's size summed into every
/// dominator above it.
fn oracle_retained(idom: &[Option<usize>], in_tree: &[bool], sizes: &[u64]) -> Vec<u64> {
    let n = idom.len();
    let mut retained = vec![0u64; n];
    for v in 0..n {
        if !in_tree[v] {
            continue;
        }
        let mut at = Some(v);
        while let Some(d) = at {
            retained[d] += sizes[v];
            at = idom[d];
        }
    }
    retained
}

/// Lengauer–Tarjan (simple link/eval) with DevTools' numbering. Returns the
/// idom of every node (the root's is itself).
fn devtools_lengauer_tarjan(graph: &HeapGraph, succ_edges: &EdgeSet) -> Vec<usize> {
    let n = graph.node_count();
    // 1-based vertex numbers as in the paper; 0 = none.
    let mut parent = vec![0usize; n + 1];
    let mut ancestor = vec![0usize; n + 1];
    let mut vertex = vec![0usize; n + 1];
    let mut label = vec![0usize; n + 1];
    let mut semi = vec![0usize; n + 1];
    let mut bucket: Vec<Vec<usize>> = vec![Vec::new(); n + 1];
    let mut dom = vec![0usize; n + 1];
    let mut count = 0usize;
    let out: Vec<Vec<usize>> = graph
        .nodes()
        .map(|v| {
            graph
                .edge_range(v)
                .filter(|&e| succ_edges.contains(e))
                .map(|e| graph.edge_targets()[e as usize].index() + 1)
                .collect()
        })
        .collect();
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n + 1];
    for v in 1..=n {
        for &w in &out[v - 1] {
            preds[w].push(v);
        }
    }
    let dfs = |start: usize,
               parent: &mut Vec<usize>,
               semi: &mut Vec<usize>,
               vertex: &mut Vec<usize>,
               label: &mut Vec<usize>,
               count: &mut usize| {
        let mut stack = vec![(start, 0usize)];
        while let Some(&mut (v, ref mut next)) = stack.last_mut() {
            if semi[v] == 0 {
                *count += 1;
                semi[v] = *count;
                vertex[*count] = v;
                label[v] = v;
            }
            if let Some(&w) = out[v - 1].get(*next) {
                *next += 1;
                if semi[w] == 0 {
                    parent[w] = v;
                    stack.push((w, 0));
                }
            } else {
                stack.pop();
            }
        }
    };
    let r = 1;
    dfs(
        r,
        &mut parent,
        &mut semi,
        &mut vertex,
        &mut label,
        &mut count,
    );
    for v in 1..=n {
        if semi[v] == 0 && preds[v].iter().all(|&p| p == v) {
            parent[v] = r;
            dfs(
                v,
                &mut parent,
                &mut semi,
                &mut vertex,
                &mut label,
                &mut count,
            );
        }
    }
    for v in 1..=n {
        if semi[v] == 0 {
            parent[v] = r;
            count += 1;
            semi[v] = count;
            vertex[count] = v;
            label[v] = v;
        }
    }
    fn eval(v: usize, ancestor: &mut [usize], label: &mut [usize], semi: &[usize]) -> usize {
        if ancestor[v] == 0 {
            return v;
        }
        // compress, iteratively
        let mut path = vec![];
        let mut x = v;
        while ancestor[ancestor[x]] != 0 {
            path.push(x);
            x = ancestor[x];
        }
        while let Some(w) = path.pop() {
            if semi[label[ancestor[w]]] < semi[label[w]] {
                label[w] = label[ancestor[w]];
            }
            ancestor[w] = ancestor[ancestor[w]];
        }
        label[v]
    }
    for i in (2..=count).rev() {
        let w = vertex[i];
        let mut orphan = true;
        for &v in &preds[w] {
            if v == w {
                continue;
            }
            orphan = false;
            let u = eval(v, &mut ancestor, &mut label, &semi);
            if semi[u] < semi[w] {
                semi[w] = semi[u];
            }
        }
        if orphan {
            semi[w] = semi[r];
        }
        bucket[vertex[semi[w]]].push(w);
        ancestor[w] = parent[w];
        let p = parent[w];
        for v in std::mem::take(&mut bucket[p]) {
            let u = eval(v, &mut ancestor, &mut label, &semi);
            dom[v] = if semi[u] < semi[v] { u } else { p };
        }
    }
    dom[0] = r;
    dom[r] = r;
    for i in 2..=count {
        let w = vertex[i];
        if dom[w] != vertex[semi[w]] {
            dom[w] = dom[dom[w]];
        }
    }
    (1..=n).map(|v| dom[v] - 1).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn semi_nca_equals_dataflow_oracle(spec in spec()) {
        let graph = build(&spec);
        let policy = EdgePolicy::strong_only();
        let edges = policy.dominator_edges(&graph);
        let tree = DominatorTree::compute(&graph, &edges, UnreachableNodes::Exclude);
        let succ = successors(&graph, &edges);
        let expected = dataflow_dominators(&succ);
        let reach = reachable(&succ, &[0]);
        for v in graph.nodes() {
            prop_assert_eq!(
                tree.immediate_dominator(v).map(NodeIndex::index),
                expected[v.index()],
                "idom of {}", v.index()
            );
            prop_assert_eq!(tree.contains(v), reach[v.index()]);
        }
        let unreachable: Vec<usize> = tree.unreachable().nodes.iter().map(|n| n.index()).collect();
        let expected_unreachable: Vec<usize> = (0..reach.len()).filter(|&v| !reach[v]).collect();
        prop_assert_eq!(unreachable, expected_unreachable);

        let retained = tree.retained_sizes(graph.self_sizes()).to_vec();
        let oracle = oracle_retained(&expected, &reach, &graph.self_sizes().to_vec());
        prop_assert_eq!(&retained, &oracle);
        let reachable_total: u64 = graph
            .nodes()
            .filter(|v| reach[v.index()])
            .map(|v| graph.self_size(v))
            .sum();
        prop_assert_eq!(retained[0], reachable_total);
    }

    #[test]
    fn attach_to_root_equals_devtools_lengauer_tarjan(spec in spec()) {
        let graph = build(&spec);
        let edges = EdgePolicy::strong_only().dominator_edges(&graph);
        let tree = DominatorTree::compute(&graph, &edges, UnreachableNodes::AttachToRoot);
        let expected = devtools_lengauer_tarjan(&graph, &edges);
        for v in graph.nodes().skip(1) {
            prop_assert_eq!(
                tree.immediate_dominator(v).map(NodeIndex::index),
                Some(expected[v.index()]),
                "idom of {}", v.index()
            );
        }
        // Everything hangs under the root now.
        let retained = tree.retained_sizes(graph.self_sizes()).to_vec();
        prop_assert_eq!(retained[0], graph.total_self_size());
        let report = tree.unreachable();
        prop_assert_eq!(report.rule, UnreachableNodes::AttachToRoot);
        prop_assert_eq!(
            report.nodes.len(),
            reachable(&successors(&graph, &edges), &[0]).iter().filter(|&&r| !r).count()
        );
    }

    #[test]
    fn keep_as_retainers_equals_oracle_with_root_edges_to_garbage(spec in spec()) {
        // Oracle graph: the root also points to every unreached node; the
        // unreached nodes' own sizes count for nothing.
        let graph = build(&spec);
        let edges = EdgePolicy::strong_only().dominator_edges(&graph);
        let mut succ = successors(&graph, &edges);
        let reach = reachable(&succ, &[0]);
        for (v, &reached) in reach.iter().enumerate() {
            if !reached {
                succ[0].push(v);
            }
        }
        let expected = dataflow_dominators(&succ);
        let tree = DominatorTree::compute(&graph, &edges, UnreachableNodes::KeepAsRetainers);
        for v in graph.nodes() {
            prop_assert_eq!(
                tree.immediate_dominator(v).map(NodeIndex::index),
                expected[v.index()],
                "idom of {}", v.index()
            );
        }
        let sizes: Vec<u64> = graph
            .nodes()
            .map(|v| if reach[v.index()] { graph.self_size(v) } else { 0 })
            .collect();
        let everything = vec![true; sizes.len()];
        let oracle = oracle_retained(&expected, &everything, &sizes);
        prop_assert_eq!(tree.retained_sizes(graph.self_sizes()).to_vec(), oracle);
    }

    #[test]
    fn analysis_retained_sizes_match_oracle_for_mat_and_strong(spec in spec()) {
        let graph = build(&spec);
        for policy in [EdgePolicy::mat(), EdgePolicy::strong_only()] {
            let analysis = HeapAnalysis::with_policy(&graph, policy);
            let edges = policy.dominator_edges(&graph);
            let succ = successors(&graph, &edges);
            let idom = dataflow_dominators(&succ);
            let reach = reachable(&succ, &[0]);
            let oracle = oracle_retained(&idom, &reach, &graph.self_sizes().to_vec());
            prop_assert_eq!(analysis.retained_sizes().to_vec(), oracle);
        }
    }
}

#[test]
fn weak_only_cycle_is_a_leftover_under_attach_to_root() {
    // root -> a; b <-> c held only by each other (and weakly by a).
    let spec = Spec {
        sizes: vec![0, 1, 10, 100],
        edges: vec![(0, 1, false), (1, 2, true), (2, 3, false), (3, 2, false)],
    };
    let graph = build(&spec);
    let analysis = HeapAnalysis::with_policy(
        &graph,
        EdgePolicy::strong_only().with_unreachable(UnreachableNodes::AttachToRoot),
    );
    let report = analysis.unreachable();
    assert_eq!(report.nodes, vec![NodeIndex::new(2), NodeIndex::new(3)]);
    assert!(report.search_starts.is_empty());
    assert_eq!(report.leftovers, vec![NodeIndex::new(2), NodeIndex::new(3)]);
    assert_eq!(
        analysis.immediate_dominator(NodeIndex::new(3)),
        Some(NodeIndex::new(0))
    );
    assert_eq!(analysis.retained_size(NodeIndex::new(0)), 111);
    assert_eq!(analysis.retained_size(NodeIndex::new(2)), 10);

    let excluded = HeapAnalysis::with_policy(&graph, EdgePolicy::strong_only());
    assert_eq!(excluded.retained_size(NodeIndex::new(0)), 1);
    assert_eq!(excluded.immediate_dominator(NodeIndex::new(2)), None);
    assert_eq!(excluded.unreachable().count(), 2);
}

#[test]
fn million_node_chain_does_not_overflow_the_stack() {
    let n = 1_000_000u32;
    let mut b = GraphBuilder::new(Format::Synthetic);
    let name = b.intern(b"Link").unwrap();
    let next = b.intern(b"next").unwrap();
    b.reserve(n as usize, n as usize);
    for i in 0..n {
        b.add_node(NodeKind::Object, name, u64::from(i), 16)
            .unwrap();
    }
    for i in 0..n - 1 {
        b.push_edge(i, i + 1, EdgeKind::Property, next.as_u32())
            .unwrap();
    }
    // A back edge from the tail to the middle makes eval compress long paths.
    b.push_edge(n - 1, n / 2, EdgeKind::Property, next.as_u32())
        .unwrap();
    let graph = b.finish().unwrap();
    let analysis = HeapAnalysis::new(&graph);
    assert_eq!(analysis.retained_size(NodeIndex::new(0)), 16 * u64::from(n));
    assert_eq!(
        analysis.retained_size(NodeIndex::new(n / 2)),
        16 * u64::from(n - n / 2)
    );
    assert_eq!(
        analysis.immediate_dominator(NodeIndex::new(n - 1)),
        Some(NodeIndex::new(n - 2))
    );
    let paths = analysis.retention_paths(NodeIndex::new(n - 1), 2);
    assert_eq!(paths.len(), 1, "a chain has one simple path");
    assert_eq!(paths[0].len(), (n - 1) as usize);
}

/// Targets with more than 255 predecessors numbered above them (the
/// predecessor counts are bytes with a side table past 255), two of them
/// taking turns so that the side table is switched between runs, and one
/// whose predecessors come in one long run.
#[test]
fn targets_with_hundreds_of_later_predecessors_match_the_oracles() {
    let n = 900u32;
    let mut edges = Vec::new();
    for v in 0..n - 1 {
        edges.push((v, v + 1, false)); // a chain: everything numbered in order
    }
    edges.push((0, 7, false));
    for v in 10..n {
        edges.push((v, 5, false));
        edges.push((v, 7, false));
        edges.push((v, (v * 37 + 11) % n, false));
    }
    for v in 200..n {
        edges.push((v, 3, v % 3 == 0)); // a long run, some of it weak
    }
    let spec = Spec {
        sizes: (0..u64::from(n)).map(|i| 1 + i % 17).collect(),
        edges,
    };
    let graph = build(&spec);
    let edges = EdgePolicy::strong_only().dominator_edges(&graph);
    let succ = successors(&graph, &edges);
    let expected = dataflow_dominators(&succ);
    let reach = reachable(&succ, &[0]);
    let tree = DominatorTree::compute(&graph, &edges, UnreachableNodes::Exclude);
    for v in graph.nodes() {
        assert_eq!(
            tree.immediate_dominator(v).map(NodeIndex::index),
            expected[v.index()],
            "idom of {}",
            v.index()
        );
    }
    let oracle = oracle_retained(&expected, &reach, &graph.self_sizes().to_vec());
    assert_eq!(tree.retained_sizes(graph.self_sizes()).to_vec(), oracle);
    // The hubs are not all dominated by the root alone.
    assert!(expected.iter().flatten().any(|&d| d != 0));

    let tree = DominatorTree::compute(&graph, &edges, UnreachableNodes::AttachToRoot);
    let devtools = devtools_lengauer_tarjan(&graph, &edges);
    for v in graph.nodes().skip(1) {
        assert_eq!(
            tree.immediate_dominator(v).map(NodeIndex::index),
            Some(devtools[v.index()]),
            "idom of {}",
            v.index()
        );
    }
}
