//! Shown shallow sizes: what a heap tool displays as an object's own size.
//!
//! For HPROF and tracemalloc this is the graph's self size. Chrome DevTools
//! (`calculateShallowSizes`) instead folds engine internals into the object
//! that owns them, so a `Map` includes its hash table and an `Array` its
//! backing store: `hidden` and `array` nodes (and native
//! `system / ExternalStringData`) are owned by whatever non-internal node
//! reaches them over non-weak edges; one reached from a single owner that is
//! neither synthetic nor the root moves its size into that owner. Totals are
//! unchanged. Snapshots without user roots ("expose internals") keep raw
//! sizes.

use std::borrow::Cow;

use heapgraph_core::{EdgeKind, HeapGraph, NodeIndex, NodeKind, SizeSums, Sizes};

use crate::policy::{is_devtools_user_root, is_v8_synthetic, Semantics};

const UNVISITED: u32 = u32::MAX;
const MULTIPLE_OWNERS: u32 = u32::MAX - 1;

/// Whether the root has a DevTools user root among its children.
pub(crate) fn has_devtools_user_roots(graph: &HeapGraph) -> bool {
    graph.node_count() > 0
        && graph
            .edges(NodeIndex::new(0))
            .any(|edge| is_devtools_user_root(graph, edge.target))
}

/// The shallow sizes a tool following `semantics` shows: DevTools'
/// re-attributed sizes when they differ from the graph's self sizes,
/// otherwise the self sizes themselves, borrowed rather than copied.
pub fn shown_sizes(graph: &HeapGraph, semantics: Semantics) -> Cow<'_, Sizes> {
    if semantics == Semantics::DevTools && has_devtools_user_roots(graph) {
        Cow::Owned(devtools_shallow_sizes(graph))
    } else {
        Cow::Borrowed(graph.self_sizes())
    }
}

/// DevTools' re-attributed shallow sizes.
pub fn devtools_shallow_sizes(graph: &HeapGraph) -> Sizes {
    if !has_devtools_user_roots(graph) {
        return graph.self_sizes().clone();
    }
    // Summed with O(1) writes however many sizes pass 4 GiB.
    let mut sizes = SizeSums::from_sizes(graph.self_sizes());
    let n = graph.node_count();
    let kinds = graph.kinds();
    let mut owners = vec![UNVISITED; n];
    let mut worklist: Vec<u32> = Vec::new();
    for (i, &kind) in kinds.iter().enumerate() {
        let owned = match kind {
            NodeKind::Hidden | NodeKind::Array => true,
            NodeKind::Native => {
                graph.strings().bytes(graph.name(NodeIndex::new(i as u32)))
                    == b"system / ExternalStringData"
            }
            _ => false,
        };
        if !owned {
            owners[i] = i as u32;
            worklist.push(i as u32);
        }
    }
    let targets = graph.edge_targets();
    let edge_kinds = graph.edge_kinds();
    while let Some(id) = worklist.pop() {
        let owner = owners[id as usize];
        for e in graph.edge_range(NodeIndex::new(id)) {
            let e = e as usize;
            if edge_kinds[e] == EdgeKind::Weak {
                continue;
            }
            let target = targets[e].as_u32();
            let current = owners[target as usize];
            if current == UNVISITED {
                owners[target as usize] = owner;
                worklist.push(target);
            } else if current != target && current != owner && current != MULTIPLE_OWNERS {
                owners[target as usize] = MULTIPLE_OWNERS;
                worklist.push(target);
            }
        }
    }
    for (i, &owner) in owners.iter().enumerate() {
        if owner == UNVISITED || owner == MULTIPLE_OWNERS || owner as usize == i {
            continue;
        }
        if owner == 0 || is_v8_synthetic(kinds[owner as usize]) {
            continue;
        }
        let moved = sizes.get(i);
        sizes.set(i, 0);
        sizes.add(owner as usize, moved);
    }
    sizes.finish()
}
