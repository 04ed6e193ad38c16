//! Distances from the root, by breadth-first search.
//!
//! Chrome DevTools' rules (`calculateDistances`): a first search starts at
//! the user roots (distance 1) and follows non-weak edges; a second one
//! starts at the root, which gets [`SYSTEM_DISTANCE`] when user roots exist,
//! and reaches what the first did not. Both skip `sloppy_function_map` of
//! `system / NativeContext`, `(map descriptors)` slots 3k+1 (k ≥ 1), and the
//! first-seen edge of each WeakMap ephemeron pair (so a WeakMap value gets
//! the larger of its key's and its table's distances).
//!
//! Other formats use a plain search from the root (distance 0) over the
//! policy's path edges.

use std::collections::VecDeque;

use hashbrown::HashSet;
use heapgraph_core::{EdgeIndex, EdgeKind, EdgeLabel, HeapGraph, NodeIndex, NodeKind};

use crate::policy::{is_devtools_user_root, parse_weakmap_edge_name, EdgeSet};

/// The distance DevTools gives the root when user roots exist: what only
/// the system reaches is shown this far away.
pub const SYSTEM_DISTANCE: u32 = 100_000_000;

/// Marks a node no search reached.
pub const NO_DISTANCE: u32 = u32::MAX;

/// Breadth-first distances from the root over `edges` (root = 0).
pub fn bfs_distances(graph: &HeapGraph, edges: &EdgeSet) -> Vec<u32> {
    let n = graph.node_count();
    let mut distance = vec![NO_DISTANCE; n];
    if n == 0 {
        return distance;
    }
    let targets = graph.edge_targets();
    // The queue holds the frontier only (at most two levels), not every
    // node ever reached: 4 bytes per node less at the end of a search.
    let mut queue: VecDeque<u32> = VecDeque::with_capacity(n.min(1 << 16));
    distance[0] = 0;
    queue.push_back(0);
    while let Some(v) = queue.pop_front() {
        let next = distance[v as usize] + 1;
        for e in graph.edge_range(NodeIndex::new(v)) {
            if !edges.contains(e) {
                continue;
            }
            let w = targets[e as usize].index();
            if distance[w] == NO_DISTANCE {
                distance[w] = next;
                queue.push_back(w as u32);
            }
        }
    }
    distance
}

/// DevTools' distances (see the [module docs](self)).
pub fn devtools_distances(graph: &HeapGraph) -> Vec<u32> {
    let n = graph.node_count();
    let mut distance = vec![NO_DISTANCE; n];
    if n == 0 {
        return distance;
    }
    let root = NodeIndex::new(0);
    let mut filter = DevToolsFilter {
        pending: HashSet::new(),
    };
    let mut queue: VecDeque<u32> = VecDeque::new();
    for edge in graph.edges(root) {
        if is_devtools_user_root(graph, edge.target) {
            distance[edge.target.index()] = 1;
            queue.push_back(edge.target.as_u32());
        }
    }
    let had_user_roots = !queue.is_empty();
    bfs_devtools(graph, &mut queue, &mut distance, &mut filter);
    distance[0] = if had_user_roots { SYSTEM_DISTANCE } else { 0 };
    queue.clear();
    queue.push_back(0);
    bfs_devtools(graph, &mut queue, &mut distance, &mut filter);
    distance
}

struct DevToolsFilter {
    /// Duplicated parts of WeakMap edge names whose first edge was skipped.
    pending: HashSet<Vec<u8>>,
}

impl DevToolsFilter {
    fn allows(&mut self, graph: &HeapGraph, node: NodeIndex, edge: EdgeIndex) -> bool {
        let kind = graph.kind(node);
        let strings = graph.strings();
        let label = graph.edge_label(edge);
        let label_bytes: Option<&[u8]> = match label {
            EdgeLabel::Name(id) => Some(strings.bytes(id)),
            EdgeLabel::Index(_) => None,
        };
        if kind == NodeKind::Hidden
            && label_bytes == Some(b"sloppy_function_map")
            && strings.bytes(graph.name(node)) == b"system / NativeContext"
        {
            return false;
        }
        if kind == NodeKind::Array && strings.bytes(graph.name(node)) == b"(map descriptors)" {
            let index = match label {
                EdgeLabel::Index(i) => Some(u64::from(i)),
                EdgeLabel::Name(id) => leading_integer(strings.bytes(id)),
            };
            return match index {
                Some(i) => i < 2 || i % 3 != 1,
                None => true,
            };
        }
        if graph.edge_kind(edge) == EdgeKind::Internal {
            if let Some(bytes) = label_bytes {
                if let Some(parsed) = parse_weakmap_edge_name(bytes) {
                    if !self.pending.remove(parsed.duplicated_part) {
                        self.pending.insert(parsed.duplicated_part.to_vec());
                        return false;
                    }
                }
            }
        }
        true
    }
}

/// JavaScript's `parseInt(s, 10)` for the cases that matter here: leading
/// ASCII whitespace, an optional sign, then digits; `None` for NaN.
fn leading_integer(s: &[u8]) -> Option<u64> {
    let s = s.trim_ascii_start();
    let (negative, s) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    if negative {
        // Negative numbers are < 2: allowed, like index 0.
        return Some(0);
    }
    Some(s[..digits].iter().fold(0u64, |acc, &b| {
        acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

fn bfs_devtools(
    graph: &HeapGraph,
    queue: &mut VecDeque<u32>,
    distance: &mut [u32],
    filter: &mut DevToolsFilter,
) {
    let targets = graph.edge_targets();
    let kinds = graph.edge_kinds();
    while let Some(v) = queue.pop_front() {
        let node = NodeIndex::new(v);
        let next = distance[v as usize].saturating_add(1);
        for e in graph.edge_range(node) {
            if kinds[e as usize] == EdgeKind::Weak {
                continue;
            }
            let w = targets[e as usize].index();
            if distance[w] != NO_DISTANCE {
                continue;
            }
            if !filter.allows(graph, node, EdgeIndex::new(e)) {
                continue;
            }
            distance[w] = next;
            queue.push_back(w as u32);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::leading_integer;

    #[test]
    fn parse_int_like_javascript() {
        assert_eq!(leading_integer(b"12"), Some(12));
        assert_eq!(leading_integer(b" 7abc"), Some(7));
        assert_eq!(leading_integer(b"abc"), None);
        assert_eq!(leading_integer(b"-4"), Some(0));
    }
}
