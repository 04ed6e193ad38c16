//! Three-snapshot leak detection (memlab's baseline / target / final
//! method).
//!
//! Take a *baseline* snapshot, do the action suspected of leaking, take a
//! *target* snapshot, undo the action, take a *final* snapshot. Objects
//! allocated between baseline and target (ids in target but not in baseline)
//! that are still alive in final are *candidates*.
//!
//! For V8 snapshots the candidates go through memlab's rules ([`memlab`]):
//! its leak filter decides which are leaks ([`LeakFilter::Memlab`]: detached
//! DOM, unmounted React Fibers and the like; [`LeakFilter::AllObjects`]:
//! every object retaining something), each leak gets memlab's retainer path
//! in the final snapshot, and paths memlab calls browser noise are dropped.
//! Other formats with stable ids report every candidate that retains
//! something.
//!
//! Leaks are then grouped by their *trace*: the classes and edge names along
//! the path, cut after the first detached DOM node (what a detached subtree
//! holds belongs to it), with every numeric edge name (element indices,
//! hash-table slots, Map and Set backing-store positions) folded to `[]`.
//! Leaks with equal traces are one [`LeakCluster`]: memlab groups by a
//! similarity score instead, which also merges different leaks whose paths
//! start alike; here different paths stay apart.
//!
//! This needs ids that are stable between snapshots (V8 snapshots of one
//! isolate). Where they are not, use [`persistent_growth`] on class totals
//! instead.

pub mod growth;
pub mod ignore;
pub mod memlab;

use std::collections::HashMap;

use heapgraph_core::{DomState, EdgeIndex, EdgeKind, EdgeLabel, Format, HeapGraph, NodeIndex};

use crate::paths::RetentionPath;
use crate::trend::GroupTotals;
use crate::HeapAnalysis;
pub use ignore::{IgnoreList, TraceStep};
pub use memlab::LeakFilter;
use memlab::{LeakPaths, MemlabView};

/// One leak: leaked objects whose traces are equal.
#[derive(Clone, Debug, PartialEq)]
pub struct LeakCluster {
    /// The trace, as text: `class -[edge]-> class …` from a GC root (or a
    /// window) to the leaked object or the first detached DOM node above
    /// it, numeric edge names as `[]`.
    pub shape: String,
    /// A representative member (the one retaining the most).
    pub example: NodeIndex,
    /// Its retainer path in the final snapshot, in full.
    pub path: RetentionPath,
    /// The class at the end of the trace (the leaked objects' class, or the
    /// detached DOM node that holds them).
    pub class: String,
    /// How many leaked objects the cluster has.
    pub count: u64,
    /// How many candidates the cluster holds: the candidates whose nearest
    /// dominator (or self) among all clusters' top members (members no
    /// other member of their cluster dominates) is one of this cluster's.
    pub object_count: u64,
    /// The retained size of the members that no other member of the cluster
    /// dominates (memlab's cluster size), in the final snapshot.
    pub retained_size: u64,
    /// Whether the trace ends at a detached DOM node.
    pub detached_dom: bool,
    /// Every member, by ascending node index.
    pub members: Vec<NodeIndex>,
}

/// The result of three-snapshot leak detection.
#[derive(Clone, Debug, PartialEq)]
pub struct LeakReport {
    /// Candidates: objects allocated after baseline, alive in target and
    /// final.
    pub candidate_count: u64,
    /// Candidates the leak filter kept that have a retainer path not
    /// dismissed as browser noise (the members of all clusters).
    pub leak_count: u64,
    /// Leaks left out because their trace matched the ignore list.
    pub ignored_count: u64,
    /// Clusters, largest retained size first.
    pub clusters: Vec<LeakCluster>,
}

/// Options for [`find_leaks`].
#[derive(Clone, Debug)]
pub struct LeakOptions<'a> {
    /// V8's per-node `detachedness` of the final snapshot; `None` when the
    /// format has no DOM.
    pub dom_state: Option<&'a [DomState]>,
    /// Which candidates are leaks (V8 snapshots; other formats report every
    /// candidate that retains something).
    pub filter: LeakFilter,
    /// Objects kept only by the DevTools front end (its console,
    /// `InjectedScript`, inspector agents) are not reported. On by default;
    /// memlab follows those references.
    pub hide_devtools: bool,
    /// Leaks whose trace matches are left out (known leaks, noise). The
    /// default holds the built-in list ([`ignore::ANDROID_LIBRARY_LEAKS`]).
    pub ignore: IgnoreList,
}

impl Default for LeakOptions<'_> {
    fn default() -> Self {
        LeakOptions {
            dom_state: None,
            filter: LeakFilter::Memlab,
            hide_devtools: true,
            ignore: IgnoreList::new::<&str>(&[], true),
        }
    }
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
    let is_v8 = graph.format() == Format::V8HeapSnapshot;
    let filter = if is_v8 {
        options.filter
    } else {
        LeakFilter::AllObjects
    };
    let view = MemlabView::new(final_, options.dom_state);
    let paths = LeakPaths::search(&view, is_v8 && options.hide_devtools);

    let mut candidates: Vec<NodeIndex> = Vec::new();
    let mut leaks: Vec<(NodeIndex, RetentionPath)> = Vec::new();
    for node in graph.nodes() {
        let id = graph.object_id(node);
        if target_ids.binary_search(&id).is_err() || baseline_ids.binary_search(&id).is_ok() {
            continue;
        }
        candidates.push(node);
        if !view.is_leak(node, filter) {
            continue;
        }
        let Some(path) = paths.path(node) else {
            continue;
        };
        if is_v8 && memlab::is_browser_noise(&view, &path) {
            continue;
        }
        leaks.push((node, path));
    }

    let mut clusters: Vec<LeakCluster> = Vec::new();
    let mut by_shape: HashMap<String, usize> = HashMap::new();
    let mut cluster_of: HashMap<NodeIndex, usize> = HashMap::new();
    // Each leak's trace, once: the ignore list reads its steps, the
    // clusters its text.
    let mut ignored_count = 0u64;
    let mut kept = Vec::with_capacity(leaks.len());
    let mut traces = Vec::with_capacity(leaks.len());
    for (node, path) in leaks {
        let (shape, end, steps) = trace(final_, &view, &path);
        if !options.ignore.is_empty() && options.ignore.matches(&steps) {
            ignored_count += 1;
        } else {
            kept.push((node, path));
            traces.push((shape, end));
        }
    }
    let leaks = kept;
    for ((node, path), (shape, end)) in leaks.iter().zip(traces) {
        let i = *by_shape.entry(shape.clone()).or_insert_with(|| {
            clusters.push(LeakCluster {
                shape,
                example: *node,
                path: path.clone(),
                class: class_or_name(final_, end),
                count: 0,
                object_count: 0,
                retained_size: 0,
                detached_dom: view.is_detached_dom(end, true),
                members: Vec::new(),
            });
            clusters.len() - 1
        });
        clusters[i].members.push(*node);
        cluster_of.insert(*node, i);
    }

    // Sizes count each member once: only members that no other member of
    // the same cluster dominates add their retained size.
    let depth_limit = graph.node_count();
    let mut top: HashMap<NodeIndex, usize> = HashMap::new();
    for (i, cluster) in clusters.iter_mut().enumerate() {
        cluster.count = cluster.members.len() as u64;
        for &member in &cluster.members {
            let dominated = dominators_above(final_, member, depth_limit)
                .any(|d| cluster_of.get(&d) == Some(&i));
            if !dominated {
                top.insert(member, i);
                cluster.retained_size = cluster
                    .retained_size
                    .saturating_add(final_.retained_size(member));
                if final_.retained_size(member) > final_.retained_size(cluster.example) {
                    cluster.example = member;
                }
            }
        }
    }
    for cluster in &mut clusters {
        if let Some((_, path)) = leaks.iter().find(|(n, _)| *n == cluster.example) {
            cluster.path = path.clone();
        }
    }
    for &c in &candidates {
        let owner = std::iter::once(c)
            .chain(dominators_above(final_, c, depth_limit))
            .find_map(|d| top.get(&d).copied());
        if let Some(i) = owner {
            clusters[i].object_count += 1;
        }
    }
    clusters.sort_by(|a, b| {
        b.retained_size
            .cmp(&a.retained_size)
            .then(b.count.cmp(&a.count))
            .then_with(|| a.shape.cmp(&b.shape))
    });
    LeakReport {
        candidate_count: candidates.len() as u64,
        leak_count: leaks.len() as u64,
        ignored_count,
        clusters,
    }
}

/// The strict dominators of `node`, nearest first, up to the root.
fn dominators_above<'a>(
    analysis: &'a HeapAnalysis<'_>,
    node: NodeIndex,
    limit: usize,
) -> impl Iterator<Item = NodeIndex> + 'a {
    let mut current = node;
    let mut steps = 0usize;
    std::iter::from_fn(move || {
        steps += 1;
        if steps > limit {
            return None;
        }
        let d = analysis.immediate_dominator(current)?;
        current = d;
        Some(d)
    })
}

/// How a node is named in traces and signatures: its class, or its name
/// when it has none; a Java class object by the class it stands for
/// (`class Growing`, not `java.lang.Class`), since static fields hang off
/// it.
pub(crate) fn class_or_name(analysis: &HeapAnalysis<'_>, node: NodeIndex) -> String {
    let class = analysis.class_name(node);
    if class.is_empty() {
        return analysis.graph().name_str(node).into_owned();
    }
    if class == "java.lang.Class" {
        let name = analysis.graph().name_str(node);
        if !name.is_empty() && name != class {
            return format!("class {name}");
        }
    }
    class.to_string()
}

/// A leak's trace: classes and edge names from the path's first node, cut
/// after the first detached DOM node, numeric edge names as `[]` and React's
/// random key suffixes dropped; the node it ends at; and its steps.
fn trace(
    analysis: &HeapAnalysis<'_>,
    view: &MemlabView<'_, '_>,
    path: &RetentionPath,
) -> (String, NodeIndex, Vec<TraceStep>) {
    let graph = analysis.graph();
    let first = path.steps.first().map_or(NodeIndex::new(0), |s| s.source);
    let mut holder = if first.index() == 0 {
        "(root)".to_string()
    } else {
        class_or_name(analysis, first)
    };
    let mut shape = holder.clone();
    let mut end = first;
    let mut steps = Vec::new();
    for step in &path.steps {
        let label = normalized_label(graph, step.edge);
        let target = class_or_name(analysis, step.target);
        shape.push_str(&format!(" -[{label}]-> {target}"));
        steps.push(TraceStep {
            source: std::mem::replace(&mut holder, target.clone()),
            edge: label.into_owned(),
            target,
        });
        end = step.target;
        if view.is_detached_dom(step.target, true) {
            break;
        }
    }
    (shape, end, steps)
}

/// An edge's name in a trace or signature: numeric names (element indices,
/// hash-table slots, backing-store positions) as `[]`, React's per-root key
/// suffixes (`__reactFiber$k3j2…`, different on every page load) dropped.
fn normalized_label(graph: &HeapGraph, edge: EdgeIndex) -> std::borrow::Cow<'_, str> {
    match graph.edge_label(edge) {
        EdgeLabel::Index(_) => "[]".into(),
        EdgeLabel::Name(_) if graph.edge_kind(edge) == EdgeKind::Element => "[]".into(),
        EdgeLabel::Name(id) => {
            let name = graph.strings().get(id);
            if !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) {
                "[]".into()
            } else if let Some(dollar) = name.find('$').filter(|_| name.starts_with("__react")) {
                format!("{}$…", &name[..dollar]).into()
            } else {
                name
            }
        }
    }
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
    use heapgraph_core::{Format, GraphBuilder, NodeKind, RootKind};

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
    fn leaked_objects_cluster_by_trace() {
        let baseline = snapshot(&[100], &[900]);
        // Target allocates 3 more items and a temporary Other (1000).
        let target = snapshot(&[100, 200, 300, 400], &[900, 1000]);
        // Final: items 200..400 survive, the temporary was freed, and a new
        // Other (2000) appeared after target (not a leak of the action).
        let final_graph = snapshot(&[100, 200, 300, 400], &[900, 2000]);
        let analysis = HeapAnalysis::new(&final_graph);
        let report = find_leaks(&baseline, &target, &analysis, &LeakOptions::default());
        // Candidates: 3 Items and their 3 Children; outside V8 every one
        // that retains something is a leak.
        assert_eq!(report.candidate_count, 6);
        assert_eq!(report.leak_count, 6);
        // Items differ only in their element index: one cluster; their
        // children another, under it.
        assert_eq!(report.clusters.len(), 2, "{:?}", report.clusters);
        let items = &report.clusters[0];
        assert_eq!(items.count, 3);
        assert_eq!(items.object_count, 3);
        assert_eq!(items.retained_size, 3 * (24 + 8));
        assert_eq!(items.class, "Item");
        assert!(
            items.shape.ends_with("-[[]]-> Holder -[[]]-> Item"),
            "{}",
            items.shape
        );
        assert_eq!(
            items.path.steps.last().map(|s| s.target),
            Some(items.example)
        );
        assert!(!items.detached_dom);
        let children = &report.clusters[1];
        assert_eq!(children.class, "Child");
        assert_eq!(children.count, 3);
        assert_eq!(children.retained_size, 3 * 8);
        assert!(children.shape.starts_with(&items.shape));
        let ids: Vec<u64> = items
            .members
            .iter()
            .map(|&m| final_graph.object_id(m))
            .collect();
        assert_eq!(ids, [200, 300, 400]);
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
