//! Retainers of a node, and its shortest retention paths from the root.
//!
//! Paths follow the policy's path edges only (no weak, soft, phantom or
//! finalizer referents; for V8 no shortcuts except the root's). They are
//! enumerated shortest first by a best-first search backwards from the
//! node, guided by exact breadth-first distances from the root, so the first
//! path costs one search and each further path little more. The search is
//! bounded: every node is expanded at most `k` times (which yields the `k`
//! shortest walks; walks that repeat a node are dropped), and at most
//! [`MAX_PARTIAL_PATHS`] partial paths are kept.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use heapgraph_core::{EdgeIndex, EdgeKind, HeapGraph, NodeIndex};

use crate::distance::NO_DISTANCE;
use crate::policy::EdgePolicy;

/// The most partial paths one retention-path query keeps in memory.
pub const MAX_PARTIAL_PATHS: usize = 4_000_000;

/// An edge pointing to a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retainer {
    /// The node holding the reference.
    pub source: NodeIndex,
    /// The edge (name it with [`HeapGraph::edge_label_str`]).
    pub edge: EdgeIndex,
    /// The edge's kind.
    pub kind: EdgeKind,
    /// Whether retention paths may follow this edge under the policy.
    pub is_path_edge: bool,
}

/// One step of a retention path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathStep {
    /// The node holding the reference.
    pub source: NodeIndex,
    /// The reference.
    pub edge: EdgeIndex,
    /// The node referenced.
    pub target: NodeIndex,
}

/// A chain of references from the root to a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetentionPath {
    /// The steps, starting at the root and ending at the node.
    pub steps: Vec<PathStep>,
}

impl RetentionPath {
    /// The number of edges.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether the path has no edges (the path to the root itself).
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The nodes along the path, root first.
    pub fn nodes(&self) -> Vec<NodeIndex> {
        let mut nodes = Vec::with_capacity(self.steps.len() + 1);
        match self.steps.first() {
            Some(first) => nodes.push(first.source),
            None => nodes.push(NodeIndex::new(0)),
        }
        nodes.extend(self.steps.iter().map(|s| s.target));
        nodes
    }

    /// The path as text: `(root) -[name]-> node -[name]-> …`.
    pub fn display(&self, graph: &HeapGraph) -> String {
        let mut out = String::new();
        let nodes = self.nodes();
        if let Some(&first) = nodes.first() {
            out.push_str(&graph.name_str(first));
        }
        for step in &self.steps {
            out.push_str(" -[");
            out.push_str(&graph.edge_label_str(step.edge));
            out.push_str("]-> ");
            out.push_str(&graph.name_str(step.target));
            out.push_str(&format!(" @{}", graph.object_id(step.target)));
        }
        out
    }
}

/// The edges pointing to `node`, in edge order.
pub fn retainers(graph: &HeapGraph, policy: &EdgePolicy, node: NodeIndex) -> Vec<Retainer> {
    if node.index() >= graph.node_count() {
        return Vec::new();
    }
    graph
        .retainers()
        .of(node)
        .map(|(source, edge)| Retainer {
            source,
            edge,
            kind: graph.edge_kind(edge),
            is_path_edge: policy.is_path_edge(graph, source, edge.as_u32()),
        })
        .collect()
}

/// A partial path: `node` followed by the path stored at `next`.
struct Partial {
    node: u32,
    /// The edge from `node` to the next node (unused for the target).
    edge: u32,
    /// The index of the rest of the path, or `u32::MAX` at the target.
    next: u32,
    /// Edges from `node` to the target.
    len: u32,
}

/// Up to `k` shortest distinct retention paths from the root to `target`,
/// shortest first. `root_distance` holds breadth-first distances from the
/// root over the policy's path edges ([`NO_DISTANCE`] = unreachable).
pub fn shortest_paths(
    graph: &HeapGraph,
    policy: &EdgePolicy,
    root_distance: &[u32],
    target: NodeIndex,
    k: usize,
) -> Vec<RetentionPath> {
    shortest_paths_capped(graph, policy, root_distance, target, k, MAX_PARTIAL_PATHS)
}

fn shortest_paths_capped(
    graph: &HeapGraph,
    policy: &EdgePolicy,
    root_distance: &[u32],
    target: NodeIndex,
    k: usize,
    max_partials: usize,
) -> Vec<RetentionPath> {
    let mut found = Vec::new();
    let n = graph.node_count();
    if k == 0 || target.index() >= n {
        return found;
    }
    if root_distance
        .get(target.index())
        .is_none_or(|&d| d == NO_DISTANCE)
    {
        return found;
    }
    let retainers = graph.retainers();
    let mut expanded = hashbrown::HashMap::<u32, u32>::new();
    let mut partials: Vec<Partial> = vec![Partial {
        node: target.as_u32(),
        edge: u32::MAX,
        next: u32::MAX,
        len: 0,
    }];
    // Min-heap on (estimated total length, insertion order).
    let mut heap: BinaryHeap<Reverse<(u64, u32)>> = BinaryHeap::new();
    heap.push(Reverse((u64::from(root_distance[target.index()]), 0)));
    while let Some(Reverse((_, index))) = heap.pop() {
        let Some(partial) = partials.get(index as usize) else {
            break;
        };
        let node = partial.node;
        let len = partial.len;
        if node == 0 {
            if let Some(path) = assemble(&partials, index) {
                if !found.contains(&path) {
                    found.push(path);
                    if found.len() >= k {
                        break;
                    }
                }
            }
            continue;
        }
        let count = expanded.entry(node).or_insert(0);
        if *count as usize >= k {
            continue;
        }
        *count += 1;
        for (source, edge) in retainers.of(NodeIndex::new(node)) {
            let d = root_distance[source.index()];
            if d == NO_DISTANCE || !policy.is_path_edge(graph, source, edge.as_u32()) {
                continue;
            }
            if partials.len() >= max_partials {
                return found;
            }
            let next_len = len + 1;
            partials.push(Partial {
                node: source.as_u32(),
                edge: edge.as_u32(),
                next: index,
                len: next_len,
            });
            let estimate = u64::from(next_len) + u64::from(d);
            heap.push(Reverse((estimate, partials.len() as u32 - 1)));
        }
    }
    found
}

/// Up to this depth, [`first_shortest_path`] finds each level's sources by
/// scanning the distance column; deeper targets sort nodes by distance once.
const LEVEL_SCAN_DEPTH: u32 = 16;

/// The path [`shortest_paths`] returns first (`k = 1`), found without the
/// graph's reverse-edge index (which costs 8 bytes per edge) and, usually,
/// without distances for the whole graph.
///
/// With exact distances, the best-first search of [`shortest_paths`] only
/// ever pops partial paths on shortest paths, in the order they were made:
/// a breadth-first search backwards from `target` over the edges whose
/// source is one step nearer the root, each node expanded once, retainers
/// in ascending edge order. That search runs here level by level; a level's
/// retainers are found by scanning the forward edges of the nodes at the
/// next smaller distance (together, every edge at most once). It needs the
/// distances of the nodes nearer the root than `target` only, so a
/// breadth-first search from the root stops as soon as it reaches `target`.
/// The partial-path cap of [`shortest_paths`] is honoured too: when the
/// graph has enough edges to reach it, one more pass counts the retainers
/// the best-first search would have stored, with the `full_distances`
/// (breadth-first distances from the root over the policy's path edges,
/// asked for only then).
pub(crate) fn first_shortest_path<'a>(
    graph: &HeapGraph,
    policy: &EdgePolicy,
    target: NodeIndex,
    full_distances: impl FnOnce() -> &'a [u32],
) -> Option<RetentionPath> {
    let near = distances_until(graph, policy, target)?;
    first_shortest_path_tuned(
        graph,
        policy,
        &near,
        target,
        full_distances,
        MAX_PARTIAL_PATHS,
        LEVEL_SCAN_DEPTH,
    )
}

/// Breadth-first distances from the root over the policy's path edges,
/// stopping when `target` is reached: exact for `target` and every node
/// nearer the root, [`NO_DISTANCE`] or exact for the others. `None` if
/// `target` is unreachable.
fn distances_until(graph: &HeapGraph, policy: &EdgePolicy, target: NodeIndex) -> Option<Vec<u32>> {
    let n = graph.node_count();
    if target.index() >= n {
        return None;
    }
    let mut distance = vec![NO_DISTANCE; n];
    distance[0] = 0;
    if target.index() == 0 {
        return Some(distance);
    }
    let targets = graph.edge_targets();
    let mut queue: Vec<u32> = vec![0];
    let mut head = 0;
    while let Some(&v) = queue.get(head) {
        head += 1;
        let next = distance[v as usize] + 1;
        let source = NodeIndex::new(v);
        for e in graph.edge_range(source) {
            let Some(w) = targets.get(e as usize) else {
                continue;
            };
            let w = w.index();
            if distance[w] == NO_DISTANCE && policy.is_path_edge(graph, source, e) {
                distance[w] = next;
                if w == target.index() {
                    return Some(distance);
                }
                queue.push(w as u32);
            }
        }
    }
    None
}

/// One entry of a level: `node` reached by `edge` from the entry at
/// `parent` of the previous level (`u32::MAX` at the target).
#[derive(Clone, Copy)]
struct LevelEntry {
    node: u32,
    edge: u32,
    parent: u32,
}

fn first_shortest_path_tuned<'a>(
    graph: &HeapGraph,
    policy: &EdgePolicy,
    root_distance: &[u32],
    target: NodeIndex,
    full_distances: impl FnOnce() -> &'a [u32],
    max_partials: usize,
    level_scan_depth: u32,
) -> Option<RetentionPath> {
    let n = graph.node_count();
    if target.index() >= n || root_distance.len() < n {
        return None;
    }
    let depth = *root_distance.get(target.index())?;
    if depth == NO_DISTANCE {
        return None;
    }
    if depth == 0 {
        return Some(RetentionPath { steps: Vec::new() });
    }
    let targets = graph.edge_targets();
    // Nodes grouped by distance, for deep targets.
    let by_distance = (depth > level_scan_depth).then(|| nodes_by_distance(root_distance, depth));
    let mut levels: Vec<Vec<LevelEntry>> = vec![vec![LevelEntry {
        node: target.as_u32(),
        edge: u32::MAX,
        parent: u32::MAX,
    }]];
    // Every node expanded, for the partial-path count.
    let mut expanded_nodes: Vec<u32> = Vec::new();
    for level in 0..depth {
        let current = levels.last()?;
        // The first entry of each node is expanded; later ones are skipped.
        let mut first: hashbrown::HashMap<u32, u32> = hashbrown::HashMap::new();
        for (pos, entry) in current.iter().enumerate() {
            first.entry(entry.node).or_insert(pos as u32);
        }
        let mut order: Vec<u32> = first.values().copied().collect();
        order.sort_unstable();
        expanded_nodes.extend(
            order
                .iter()
                .filter_map(|&p| current.get(p as usize).map(|e| e.node)),
        );
        let want = depth - level - 1;
        // (expanded entry, edge, source), edges ascending.
        let mut found: Vec<(u32, u32, u32)> = Vec::new();
        let mut visit = |source: usize| {
            let source = NodeIndex::new(source as u32);
            for e in graph.edge_range(source) {
                let Some(t) = targets.get(e as usize) else {
                    continue;
                };
                if let Some(&pos) = first.get(&t.as_u32()) {
                    if policy.is_path_edge(graph, source, e) {
                        found.push((pos, e, source.as_u32()));
                    }
                }
            }
        };
        match &by_distance {
            Some((order, start)) => {
                let range = start.get(want as usize).copied().unwrap_or(0) as usize
                    ..start.get(want as usize + 1).copied().unwrap_or(0) as usize;
                for &source in order.get(range).unwrap_or_default() {
                    visit(source as usize);
                }
            }
            None => {
                for (source, &d) in root_distance.iter().enumerate().take(n) {
                    if d == want {
                        visit(source);
                    }
                }
            }
        }
        // Stable: each expansion's retainers stay in edge order.
        found.sort_by_key(|&(pos, _, _)| pos);
        levels.push(
            found
                .into_iter()
                .map(|(parent, edge, node)| LevelEntry { node, edge, parent })
                .collect(),
        );
    }
    // The last level holds only the root; its first entry ends the search.
    let mut steps = Vec::with_capacity(depth as usize);
    let mut at = 0u32;
    for level in (1..levels.len()).rev() {
        let entry = *levels.get(level)?.get(at as usize)?;
        let next = levels.get(level - 1)?.get(entry.parent as usize)?;
        steps.push(PathStep {
            source: NodeIndex::new(entry.node),
            edge: EdgeIndex::new(entry.edge),
            target: NodeIndex::new(next.node),
        });
        at = entry.parent;
    }
    if graph.edge_count() >= max_partials
        && stored_partials(graph, policy, full_distances, &expanded_nodes, max_partials)
            > max_partials
    {
        return None;
    }
    Some(RetentionPath { steps })
}

/// Reachable nodes sorted by distance (up to `depth`), and where each
/// distance starts.
fn nodes_by_distance(root_distance: &[u32], depth: u32) -> (Vec<u32>, Vec<u32>) {
    let (start, order) = heapgraph_core::csr::group_by_key(depth as usize + 1, || {
        root_distance
            .iter()
            .enumerate()
            .filter(|&(_, &d)| d < depth)
            .map(|(node, &d)| (d, node as u32))
    });
    (order, start)
}

/// The partial paths the best-first search stores: one for the target plus
/// one per path-edge retainer (from a reachable node) of each expanded
/// node, or a bound on that number when the bound stays below the cap.
/// Stops counting once past `max_partials` (the search gives up when it
/// would store more than that).
fn stored_partials<'a>(
    graph: &HeapGraph,
    policy: &EdgePolicy,
    full_distances: impl FnOnce() -> &'a [u32],
    expanded: &[u32],
    max_partials: usize,
) -> usize {
    let mut marked = vec![0u64; graph.node_count().div_ceil(64)];
    for &node in expanded {
        if let Some(word) = marked.get_mut(node as usize / 64) {
            *word |= 1 << (node % 64);
        }
    }
    let targets = graph.edge_targets();
    let is_marked = |t: usize| marked.get(t / 64).is_some_and(|w| w & (1 << (t % 64)) != 0);
    // Every edge into an expanded node, path edge or not: a bound that one
    // pass over the target column gives, usually far below the cap.
    let into_expanded = targets.iter().filter(|t| is_marked(t.index())).count();
    if into_expanded < max_partials {
        return 1 + into_expanded;
    }
    let mut count = 1usize;
    for (source, &d) in full_distances().iter().enumerate() {
        if d == NO_DISTANCE {
            continue;
        }
        let source = NodeIndex::new(source as u32);
        for e in graph.edge_range(source) {
            let Some(t) = targets.get(e as usize) else {
                continue;
            };
            if is_marked(t.index()) && policy.is_path_edge(graph, source, e) {
                count += 1;
                if count > max_partials {
                    return count;
                }
            }
        }
    }
    count
}

/// Turns a partial path that starts at the root into a path, or `None` if
/// it visits a node twice.
fn assemble(partials: &[Partial], start: u32) -> Option<RetentionPath> {
    let mut steps = Vec::new();
    let mut seen = hashbrown::HashSet::new();
    let mut at = start;
    loop {
        let partial = partials.get(at as usize)?;
        if !seen.insert(partial.node) {
            return None;
        }
        if partial.next == u32::MAX {
            break;
        }
        let next = partials.get(partial.next as usize)?;
        steps.push(PathStep {
            source: NodeIndex::new(partial.node),
            edge: EdgeIndex::new(partial.edge),
            target: NodeIndex::new(next.node),
        });
        at = partial.next;
    }
    Some(RetentionPath { steps })
}

#[cfg(test)]
mod tests {
    use super::*;
    use heapgraph_core::{Format, GraphBuilder, NodeKind};
    use proptest::prelude::*;

    use crate::distance::bfs_distances;

    /// Node count and `(source, target, kind)` edges; node 0 is the root.
    fn graph_spec() -> impl Strategy<Value = (u32, Vec<(u32, u32, u8)>)> {
        (1u32..30).prop_flat_map(|n| {
            let edge = (0..n, 0..n, 0u8..4);
            (Just(n), prop::collection::vec(edge, 0..(n as usize) * 4)).prop_map(
                |(n, mut edges)| {
                    // Sometimes a long chain, for deep targets.
                    if edges.len() % 3 == 0 {
                        edges.extend((0..n.saturating_sub(1)).map(|v| (v, v + 1, 0)));
                    }
                    (n, edges)
                },
            )
        })
    }

    fn build(n: u32, edges: &[(u32, u32, u8)], format: Format) -> HeapGraph {
        let mut b = GraphBuilder::new(format);
        let name = b.intern(b"N").unwrap();
        let field = b.intern(b"f").unwrap();
        for i in 0..n {
            let kind = if i == 0 {
                NodeKind::Synthetic
            } else {
                NodeKind::Object
            };
            b.add_node(kind, name, u64::from(i), 8).unwrap();
        }
        for &(s, t, k) in edges {
            let (kind, label) = match k {
                0 => (EdgeKind::Property, field.as_u32()),
                1 => (EdgeKind::Element, 0),
                2 => (EdgeKind::Weak, field.as_u32()),
                _ => (EdgeKind::Shortcut, field.as_u32()),
            };
            b.push_edge(s, t, kind, label).unwrap();
        }
        b.finish().unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn first_path_is_what_the_best_first_search_finds_first(
            (n, edges) in graph_spec(),
            v8 in prop::bool::ANY,
            cap in 1usize..40,
            scan_depth in 0u32..4,
        ) {
            let format = if v8 { Format::V8HeapSnapshot } else { Format::Synthetic };
            let graph = build(n, &edges, format);
            let analysis = crate::HeapAnalysis::new(&graph);
            let policy = analysis.policy();
            let distances = bfs_distances(&graph, &policy.path_edges(&graph));
            for target in graph.nodes() {
                for max in [cap, MAX_PARTIAL_PATHS] {
                    let expected = shortest_paths_capped(
                        &graph, &policy, &distances, target, 1, max,
                    )
                    .into_iter()
                    .next();
                    // With the whole graph's distances, and with those of
                    // the nodes nearer than the target only.
                    let near = distances_until(&graph, &policy, target);
                    prop_assert_eq!(near.is_some(), distances[target.index()] != NO_DISTANCE);
                    for depth in [scan_depth, LEVEL_SCAN_DEPTH] {
                        let got = first_shortest_path_tuned(
                            &graph, &policy, &distances, target, || &distances, max, depth,
                        );
                        prop_assert_eq!(&got, &expected, "target {:?} cap {} depth {}", target, max, depth);
                        let got = near.as_ref().and_then(|near| first_shortest_path_tuned(
                            &graph, &policy, near, target, || &distances, max, depth,
                        ));
                        prop_assert_eq!(&got, &expected, "target {:?} cap {} depth {}", target, max, depth);
                    }
                }
            }
        }
    }
}
