//! Three-snapshot leak detection (memlab's baseline / target / final
//! method).
//!
//! Take a *baseline* snapshot, do the action suspected of leaking, take a
//! *target* snapshot, undo the action, take a *final* snapshot. Objects
//! allocated between baseline and target (ids in target but not in baseline)
//! that are still alive in final (ids in final), and still reachable from a
//! GC root through strong references, are leak candidates.
//!
//! Candidates dominated by another candidate belong to it (a leaked list
//! holds its nodes), so only the topmost candidates are *leak roots*. Each
//! leak root's shortest strong retention path is reduced to its *shape*
//! (the classes and edge names along it, element indices folded to `[]`);
//! leak roots with the same shape are one leak, reported as a [`LeakCluster`]
//! with its count, retained size and a representative path.
//!
//! This needs ids that are stable between snapshots (V8 snapshots of one
//! isolate). Where they are not, use [`persistent_growth`] on class totals
//! instead.

use std::collections::HashMap;

use heapgraph_core::{EdgeKind, HeapGraph, NodeIndex, NodeKind};

use crate::paths::RetentionPath;
use crate::trend::GroupTotals;
use crate::HeapAnalysis;

/// One leak: leak roots that share a retention-path shape.
#[derive(Clone, Debug, PartialEq)]
pub struct LeakCluster {
    /// The path shape, as text: `(root) → class -[edge]-> class …`.
    pub shape: String,
    /// A representative leak root (the one with the largest retained size).
    pub example: NodeIndex,
    /// Its shortest strong retention path in the final snapshot.
    pub path: RetentionPath,
    /// The class of the leaked objects at the end of the path.
    pub class: String,
    /// How many leak roots share this shape.
    pub count: u64,
    /// How many leaked objects they hold in all (leak roots and the
    /// candidates they dominate).
    pub object_count: u64,
    /// The total retained size of the leak roots in the final snapshot
    /// (disjoint: no leak root dominates another).
    pub retained_size: u64,
    /// Whether any leak root is a detached DOM node.
    pub detached_dom: bool,
}

/// The result of three-snapshot leak detection.
#[derive(Clone, Debug, PartialEq)]
pub struct LeakReport {
    /// Leak candidates (allocated after baseline, alive in target and final,
    /// strongly reachable in final).
    pub candidate_count: u64,
    /// Clusters, largest retained size first.
    pub clusters: Vec<LeakCluster>,
}

/// Options for [`find_leaks`].
#[derive(Clone, Debug, Default)]
pub struct LeakOptions<'a> {
    /// Per node of the final graph: whether it is a detached DOM node (from
    /// V8's `detachedness`); `None` when the format has no DOM.
    pub detached: Option<&'a [bool]>,
}

/// Whether a node may be reported as a leaked object itself. Engine
/// internals are not (they still count inside a leak root's retained size):
/// V8's hidden, code and shape nodes, and the objects V8 names
/// `system / …` (contexts, templates, caches; V8 15 gives its template
/// objects the `native` type, so the kind alone does not tell).
fn is_reportable(graph: &HeapGraph, node: NodeIndex) -> bool {
    let internal_kind = matches!(
        graph.kind(node),
        NodeKind::Synthetic
            | NodeKind::RootGroup
            | NodeKind::Hidden
            | NodeKind::Code
            | NodeKind::ObjectShape
            | NodeKind::Other
    );
    !internal_kind
        && !graph
            .strings()
            .bytes(graph.name(node))
            .starts_with(b"system / ")
}

/// Finds leaks from three snapshots of one process whose ids are stable.
pub fn find_leaks(
    baseline: &HeapGraph,
    target: &HeapGraph,
    final_: &HeapAnalysis<'_>,
    options: &LeakOptions<'_>,
) -> LeakReport {
    let graph = final_.graph();
    let baseline_ids = sorted_ids(baseline);
    let target_ids = sorted_ids(target);
    let distances = final_.path_distances();
    let n = graph.node_count();
    let mut candidate = vec![false; n];
    let mut candidate_count = 0u64;
    for node in graph.nodes() {
        let id = graph.object_id(node);
        let reachable = distances
            .get(node.index())
            .is_some_and(|&d| d != crate::NO_DISTANCE);
        if reachable
            && is_reportable(graph, node)
            && final_.shallow_size(node) > 0
            && target_ids.binary_search(&id).is_ok()
            && baseline_ids.binary_search(&id).is_err()
        {
            candidate[node.index()] = true;
            candidate_count += 1;
        }
    }

    // Leak roots: candidates with no candidate above them in the dominator
    // tree. Walk the tree top-down, carrying "under a candidate" and the
    // leak root each candidate belongs to.
    let mut owner: Vec<u32> = vec![u32::MAX; n];
    let dominated = final_.dominated();
    let mut stack = vec![(NodeIndex::new(0), u32::MAX)];
    let mut leak_roots: Vec<NodeIndex> = Vec::new();
    let mut held: HashMap<u32, u64> = HashMap::new();
    while let Some((node, above)) = stack.pop() {
        let mut current = above;
        if candidate[node.index()] {
            if above == u32::MAX {
                leak_roots.push(node);
                current = node.as_u32();
            }
            owner[node.index()] = current;
            *held.entry(current).or_insert(0) += 1;
        }
        stack.extend(dominated.of(node).map(|child| (child, current)));
    }

    let mut clusters: Vec<LeakCluster> = Vec::new();
    let mut by_shape: HashMap<String, usize> = HashMap::new();
    for root in leak_roots {
        let Some(path) = final_.retention_paths(root, 1).into_iter().next() else {
            continue;
        };
        let shape = path_shape(final_, &path);
        let retained = final_.retained_size(root);
        let objects = held.get(&root.as_u32()).copied().unwrap_or(1);
        let detached = options
            .detached
            .and_then(|d| d.get(root.index()).copied())
            .unwrap_or(false);
        let i = *by_shape.entry(shape.clone()).or_insert_with(|| {
            clusters.push(LeakCluster {
                shape,
                example: root,
                path: path.clone(),
                class: final_.class_name(root).to_string(),
                count: 0,
                object_count: 0,
                retained_size: 0,
                detached_dom: false,
            });
            clusters.len() - 1
        });
        let cluster = &mut clusters[i];
        if retained > final_.retained_size(cluster.example) {
            cluster.example = root;
            cluster.path = path;
        }
        cluster.count += 1;
        cluster.object_count += objects;
        cluster.retained_size = cluster.retained_size.saturating_add(retained);
        cluster.detached_dom |= detached;
    }
    clusters.sort_by(|a, b| {
        b.retained_size
            .cmp(&a.retained_size)
            .then(b.count.cmp(&a.count))
            .then_with(|| a.shape.cmp(&b.shape))
    });
    LeakReport {
        candidate_count,
        clusters,
    }
}

/// The shape of a path: classes and edge names, element indices as `[]`.
fn path_shape(analysis: &HeapAnalysis<'_>, path: &RetentionPath) -> String {
    let graph = analysis.graph();
    let mut shape = String::from("(root)");
    for step in &path.steps {
        let label = match graph.edge_kind(step.edge) {
            EdgeKind::Element | EdgeKind::Hidden => "[]".into(),
            _ => graph.edge_label_str(step.edge),
        };
        let class = analysis.class_name(step.target);
        let class = if class.is_empty() {
            graph.name_str(step.target)
        } else {
            class.into()
        };
        shape.push_str(&format!(" -[{label}]-> {class}"));
    }
    shape
}

fn sorted_ids(graph: &HeapGraph) -> Vec<u64> {
    let mut ids: Vec<u64> = graph.object_ids().collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// A group that grew from baseline to target and did not shrink back by
/// final: the fallback when ids are not stable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersistentGrowth {
    /// The group (class or site).
    pub key: String,
    /// Totals in the baseline, target and final snapshots.
    pub totals: [GroupTotals; 3],
}

impl PersistentGrowth {
    /// Bytes in final minus bytes in baseline.
    pub fn bytes_growth(&self) -> u64 {
        self.totals[2].bytes.saturating_sub(self.totals[0].bytes)
    }
}

/// Groups whose count and bytes grew from baseline to target and stayed at
/// least at the target level in final, largest growth first.
pub fn persistent_growth<K: AsRef<str>>(
    baseline: &[(K, GroupTotals)],
    target: &[(K, GroupTotals)],
    final_: &[(K, GroupTotals)],
) -> Vec<PersistentGrowth> {
    let mut totals: HashMap<&str, [GroupTotals; 3]> = HashMap::new();
    for (i, snapshot) in [baseline, target, final_].into_iter().enumerate() {
        for (key, t) in snapshot {
            let entry = totals.entry(key.as_ref()).or_default();
            entry[i].count += t.count;
            entry[i].bytes = entry[i].bytes.saturating_add(t.bytes);
        }
    }
    let mut out: Vec<PersistentGrowth> = totals
        .into_iter()
        .filter(|(_, [b, t, f])| {
            t.count > b.count && t.bytes > b.bytes && f.count >= t.count && f.bytes >= t.bytes
        })
        .map(|(key, totals)| PersistentGrowth {
            key: key.to_string(),
            totals,
        })
        .collect();
    out.sort_by(|a, b| {
        b.bytes_growth()
            .cmp(&a.bytes_growth())
            .then_with(|| a.key.cmp(&b.key))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use heapgraph_core::{Format, GraphBuilder, RootKind};

    /// A heap: `holder` (id 1) holds `leaked` list heads (each with one
    /// child), and `temp` objects exist but are freed in final.
    fn snapshot(leaked: &[u64], other: &[u64]) -> HeapGraph {
        let mut b = GraphBuilder::new(Format::Hprof);
        let root = b.intern(b"(root)").unwrap();
        b.add_node(NodeKind::Synthetic, root, 0, 0).unwrap();
        let holder_name = b.intern(b"Holder").unwrap();
        let item = b.intern(b"Item").unwrap();
        let child = b.intern(b"Child").unwrap();
        let other_name = b.intern(b"Other").unwrap();
        let next = b.intern(b"next").unwrap();
        let holder = b.add_node(NodeKind::Object, holder_name, 1, 16).unwrap();
        b.add_gc_root(holder, RootKind::StickyClass);
        for (i, &id) in leaked.iter().enumerate() {
            let head = b.add_node(NodeKind::Object, item, id, 24).unwrap();
            let tail = b.add_node(NodeKind::Object, child, id + 1, 8).unwrap();
            b.add_indexed_edge(holder, head, EdgeKind::Element, i as u32)
                .unwrap();
            b.add_named_edge(head, tail, EdgeKind::Property, next)
                .unwrap();
        }
        for &id in other {
            let node = b.add_node(NodeKind::Object, other_name, id, 100).unwrap();
            b.add_gc_root(node, RootKind::JniGlobal);
        }
        b.finish().unwrap()
    }

    #[test]
    fn leaked_objects_cluster_by_path_shape() {
        let baseline = snapshot(&[100], &[900]);
        // Target allocates 3 more items and a temporary Other (1000).
        let target = snapshot(&[100, 200, 300, 400], &[900, 1000]);
        // Final: items 200..400 survive, the temporary was freed, and a new
        // Other (2000) appeared after target (not a leak of the action).
        let final_graph = snapshot(&[100, 200, 300, 400], &[900, 2000]);
        let analysis = HeapAnalysis::new(&final_graph);
        let report = find_leaks(&baseline, &target, &analysis, &LeakOptions::default());
        // Candidates: 3 Items and their 3 Children.
        assert_eq!(report.candidate_count, 6);
        assert_eq!(report.clusters.len(), 1, "{:?}", report.clusters);
        let cluster = &report.clusters[0];
        assert_eq!(cluster.count, 3);
        assert_eq!(cluster.object_count, 6);
        assert_eq!(cluster.retained_size, 3 * (24 + 8));
        assert_eq!(cluster.class, "Item");
        assert!(
            cluster.shape.ends_with("-[[]]-> Holder -[[]]-> Item"),
            "{}",
            cluster.shape
        );
        assert_eq!(
            cluster.path.steps.last().map(|s| s.target),
            Some(cluster.example)
        );
        assert!(!cluster.detached_dom);
    }

    #[test]
    fn nothing_leaks_when_final_returns_to_baseline() {
        let baseline = snapshot(&[100], &[900]);
        let target = snapshot(&[100, 200], &[900]);
        let final_graph = snapshot(&[100], &[900]);
        let analysis = HeapAnalysis::new(&final_graph);
        let report = find_leaks(&baseline, &target, &analysis, &LeakOptions::default());
        assert_eq!(report.candidate_count, 0);
        assert!(report.clusters.is_empty());
    }

    #[test]
    fn persistent_growth_ignores_transient_and_steady_groups() {
        let t = |count, bytes| GroupTotals { count, bytes };
        let baseline = vec![("Leak", t(1, 10)), ("Temp", t(1, 10)), ("Steady", t(5, 50))];
        let target = vec![("Leak", t(5, 50)), ("Temp", t(9, 90)), ("Steady", t(5, 50))];
        let final_ = vec![("Leak", t(6, 60)), ("Temp", t(1, 10)), ("Steady", t(5, 50))];
        let growth = persistent_growth(&baseline, &target, &final_);
        assert_eq!(growth.len(), 1);
        assert_eq!(growth[0].key, "Leak");
        assert_eq!(growth[0].bytes_growth(), 50);
    }
}
