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
            if partials.len() >= MAX_PARTIAL_PATHS {
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
