//! Leak suspects (Eclipse MAT's report).
//!
//! A suspect is either a single object or a class whose instances together
//! retain at least a threshold share of the heap (10 % by default):
//!
//! * **Single objects**: the topmost objects in the dominator tree whose
//!   retained size reaches the threshold (synthetic and root-group nodes are
//!   looked through, never reported).
//! * **Classes**: classes whose top-level objects (the first objects below
//!   the root in the dominator tree, which never dominate each other) reach
//!   the threshold together.
//!
//! For each single-object suspect the report gives its path from a GC root
//! and its *accumulation point*: starting at the suspect, go down the
//! dominator tree to the child with the largest retained size while that
//! child still holds at least 80 % of the suspect's retained size; the last
//! node reached is where the memory accumulates (the collection whose
//! elements pile up).

use heapgraph_core::{NodeIndex, NodeKind};

use crate::paths::{first_shortest_path, RetentionPath};
use crate::HeapAnalysis;

/// The default threshold: 10 % of the heap.
pub const DEFAULT_THRESHOLD: f64 = 0.10;

/// The share of a suspect's retained size a child must hold to continue the
/// descent to the accumulation point.
pub const ACCUMULATION_SHARE: f64 = 0.80;

/// What a suspect is.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum SuspectKind {
    /// One object retains the share.
    Object {
        /// The object.
        node: NodeIndex,
        /// Its shortest retention path from a GC root (if strongly reachable).
        path: Option<RetentionPath>,
        /// Where the retained memory concentrates below it.
        accumulation_point: NodeIndex,
    },
    /// The instances of one class retain the share together.
    Class {
        /// How many instances.
        instance_count: u64,
        /// The instance retaining the most.
        largest_instance: NodeIndex,
    },
}

/// One leak suspect.
#[derive(Clone, Debug, PartialEq)]
pub struct Suspect {
    /// Single object or class.
    pub kind: SuspectKind,
    /// The suspect's class.
    pub class: String,
    /// The bytes retained (by the object, or by the class's instances).
    pub retained_size: u64,
    /// `retained_size` as a share of the heap, 0 to 1.
    pub share: f64,
}

/// Finds the suspects retaining at least `threshold` (0 to 1) of the heap,
/// largest first.
pub fn leak_suspects(analysis: &HeapAnalysis<'_>, threshold: f64) -> Vec<Suspect> {
    let graph = analysis.graph();
    let total = analysis.retained_size(NodeIndex::new(0));
    if total == 0 {
        return Vec::new();
    }
    let limit = (total as f64 * threshold).ceil() as u64;
    let dominated = analysis.dominated();
    let mut suspects: Vec<Suspect> = Vec::new();

    // Single objects: descend from the root through synthetic nodes and
    // through objects below the limit, stopping at the first object at or
    // above it on each branch.
    let mut stack = vec![NodeIndex::new(0)];
    while let Some(node) = stack.pop() {
        let synthetic = matches!(graph.kind(node), NodeKind::Synthetic | NodeKind::RootGroup);
        let retained = analysis.retained_size(node);
        if !synthetic && retained >= limit {
            suspects.push(Suspect {
                kind: SuspectKind::Object {
                    node,
                    // The first of `retention_paths(node, 1)`, without
                    // building the reverse-edge index.
                    path: first_shortest_path(graph, &analysis.policy(), node, || {
                        analysis.path_distances()
                    }),
                    accumulation_point: accumulation_point(analysis, node),
                },
                class: analysis.class_name(node).to_string(),
                retained_size: retained,
                share: retained as f64 / total as f64,
            });
            continue;
        }
        if retained >= limit {
            stack.extend(dominated.of(node));
        }
    }

    // Classes whose top-level objects (the first objects below the root
    // and its synthetic groups in the dominator tree) retain the share
    // together. Top-level objects never dominate each other, so their
    // retained sizes add up without double counting.
    let classes = analysis.classes();
    let mut class_retained = vec![0u64; classes.len()];
    let mut class_count = vec![0u64; classes.len()];
    let mut largest: Vec<Option<NodeIndex>> = vec![None; classes.len()];
    for node in top_level_objects(analysis) {
        let Some(class) = analysis.class_of(node) else {
            continue;
        };
        let i = class.index();
        class_count[i] += 1;
        class_retained[i] = class_retained[i].saturating_add(analysis.retained_size(node));
        if largest[i].is_none_or(|l| analysis.retained_size(node) > analysis.retained_size(l)) {
            largest[i] = Some(node);
        }
    }
    let object_suspects: Vec<NodeIndex> = suspects
        .iter()
        .filter_map(|s| match s.kind {
            SuspectKind::Object { node, .. } => Some(node),
            SuspectKind::Class { .. } => None,
        })
        .collect();
    for (i, &retained) in class_retained.iter().enumerate() {
        if retained < limit {
            continue;
        }
        let Some(largest_instance) = largest[i] else {
            continue;
        };
        // One instance holding the share is already an object suspect.
        if class_count[i] == 1 && object_suspects.contains(&largest_instance) {
            continue;
        }
        suspects.push(Suspect {
            kind: SuspectKind::Class {
                instance_count: class_count[i],
                largest_instance,
            },
            class: analysis.class_name(largest_instance).to_string(),
            retained_size: retained,
            share: retained as f64 / total as f64,
        });
    }
    suspects.sort_by_key(|s| std::cmp::Reverse(s.retained_size));
    suspects
}

/// The objects directly below the root and its synthetic nodes in the
/// dominator tree (MAT's top-level dominators).
pub fn top_level_objects(analysis: &HeapAnalysis<'_>) -> Vec<NodeIndex> {
    let graph = analysis.graph();
    let mut found = Vec::new();
    let mut stack = vec![NodeIndex::new(0)];
    while let Some(node) = stack.pop() {
        for child in analysis.dominated().of(node) {
            if matches!(graph.kind(child), NodeKind::Synthetic | NodeKind::RootGroup) {
                stack.push(child);
            } else {
                found.push(child);
            }
        }
    }
    found.sort_unstable();
    found
}

/// Follows the largest dominated child while it keeps at least
/// [`ACCUMULATION_SHARE`] of `start`'s retained size.
pub fn accumulation_point(analysis: &HeapAnalysis<'_>, start: NodeIndex) -> NodeIndex {
    let floor = (analysis.retained_size(start) as f64 * ACCUMULATION_SHARE) as u64;
    let mut node = start;
    loop {
        let biggest = analysis
            .dominated()
            .of(node)
            .max_by_key(|&c| (analysis.retained_size(c), std::cmp::Reverse(c)));
        match biggest {
            Some(child) if analysis.retained_size(child) >= floor && floor > 0 => node = child,
            _ => return node,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use heapgraph_core::{EdgeKind, Format, GraphBuilder, HeapGraph, RootKind};

    /// Cache (id 1) → table (id 2) → 50 entries of 100 bytes; 10 small
    /// unrelated objects of 20 bytes, 30 `Session`s of 20 bytes each.
    fn heap() -> HeapGraph {
        let mut b = GraphBuilder::new(Format::Hprof);
        let root = b.intern(b"(root)").unwrap();
        b.add_node(NodeKind::Synthetic, root, 0, 0).unwrap();
        let cache_name = b.intern(b"Cache").unwrap();
        let table_name = b.intern(b"Entry[]").unwrap();
        let entry_name = b.intern(b"Entry").unwrap();
        let small_name = b.intern(b"Small").unwrap();
        let session_name = b.intern(b"Session").unwrap();
        let table_field = b.intern(b"table").unwrap();
        let cache = b.add_node(NodeKind::Object, cache_name, 1, 16).unwrap();
        let table = b.add_node(NodeKind::Array, table_name, 2, 16).unwrap();
        b.add_gc_root(cache, RootKind::StickyClass);
        b.add_named_edge(cache, table, EdgeKind::Property, table_field)
            .unwrap();
        for i in 0..50 {
            let entry = b
                .add_node(NodeKind::Object, entry_name, 100 + i, 100)
                .unwrap();
            b.add_indexed_edge(table, entry, EdgeKind::Element, i as u32)
                .unwrap();
        }
        for i in 0..10 {
            let small = b
                .add_node(NodeKind::Object, small_name, 1000 + i, 20)
                .unwrap();
            b.add_gc_root(small, RootKind::JniGlobal);
        }
        for i in 0..30 {
            let session = b
                .add_node(NodeKind::Object, session_name, 2000 + i, 20)
                .unwrap();
            b.add_gc_root(session, RootKind::JniGlobal);
        }
        b.finish().unwrap()
    }

    #[test]
    fn finds_object_and_class_suspects_with_accumulation_point() {
        let graph = heap();
        let analysis = HeapAnalysis::new(&graph);
        // Total: 16 + 16 + 5000 + 200 + 600 = 5832.
        assert_eq!(analysis.retained_size(NodeIndex::new(0)), 5832);
        let suspects = leak_suspects(&analysis, DEFAULT_THRESHOLD);
        assert_eq!(suspects.len(), 2, "{suspects:?}");
        let cache = &suspects[0];
        assert_eq!(cache.class, "Cache");
        assert_eq!(cache.retained_size, 5032);
        match &cache.kind {
            SuspectKind::Object {
                node,
                path,
                accumulation_point,
            } => {
                assert_eq!(graph.object_id(*node), 1);
                assert_eq!(graph.object_id(*accumulation_point), 2, "the Entry[] table");
                let path = path.as_ref().unwrap();
                assert_eq!(path.steps.last().map(|s| s.target), Some(*node));
            }
            other => panic!("{other:?}"),
        }
        // 30 Sessions × 20 = 600 ≥ 583.2; 10 Smalls × 20 = 200 are not.
        let sessions = &suspects[1];
        assert_eq!(sessions.class, "Session");
        assert_eq!(sessions.retained_size, 600);
        assert!(matches!(
            sessions.kind,
            SuspectKind::Class {
                instance_count: 30,
                ..
            }
        ));
    }
}
