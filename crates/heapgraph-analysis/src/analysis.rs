//! [`HeapAnalysis`]: everything Analysis I computes for one graph, under one
//! edge policy.

use std::sync::OnceLock;

use heapgraph_core::{DomState, HeapGraph, NodeIndex, Sizes};

use crate::classes::{ClassId, ClassTable};
use crate::distance::{bfs_distances, devtools_distances, NO_DISTANCE};
use crate::dominators::{DominatedNodes, DominatorTree, UnreachableReport};
use crate::paths::{retainers, shortest_paths, Retainer, RetentionPath};
use crate::policy::{EdgePolicy, Semantics};
use crate::shallow::shown_sizes;

/// Whether [`HeapAnalysis`] may put independent work on a second thread:
/// the machine has a second core for this process.
fn second_thread_allowed() -> bool {
    std::thread::available_parallelism().map_or(1, |n| n.get()) > 1
}

/// Dominators, retained sizes, distances and classes of one graph.
///
/// ```
/// use heapgraph_analysis::HeapAnalysis;
/// use heapgraph_core::{EdgeKind, Format, GraphBuilder, NodeKind, RootKind};
///
/// let mut b = GraphBuilder::new(Format::Synthetic);
/// let name = b.intern(b"Node")?;
/// let root = b.add_node(NodeKind::Synthetic, name, 0, 0)?;
/// let head = b.add_node(NodeKind::Object, name, 1, 10)?;
/// let tail = b.add_node(NodeKind::Object, name, 2, 5)?;
/// let next = b.intern(b"next")?;
/// b.add_named_edge(head, tail, EdgeKind::Property, next)?;
/// b.add_gc_root(head, RootKind::JniGlobal);
/// let graph = b.finish()?;
///
/// let analysis = HeapAnalysis::new(&graph);
/// assert_eq!(analysis.retained_size(head), 15);
/// assert_eq!(analysis.immediate_dominator(tail), Some(head));
/// assert_eq!(analysis.retained_size(root), 15);
/// # Ok::<(), heapgraph_core::BuildError>(())
/// ```
#[derive(Debug)]
pub struct HeapAnalysis<'g> {
    graph: &'g HeapGraph,
    policy: EdgePolicy,
    /// The graph's own self sizes, or DevTools' shown sizes for V8.
    shallow: std::borrow::Cow<'g, Sizes>,
    tree: DominatorTree,
    retained: Sizes,
    /// DevTools' distances (V8 only; other formats use `path_distances`),
    /// built on first use: many commands never ask.
    devtools_distances: OnceLock<Vec<u32>>,
    /// Built on first use, so that [`HeapAnalysis::with_dom_state`] right
    /// after construction (what the V8 path always does) builds it once.
    classes: OnceLock<ClassTable>,
    path_distances: OnceLock<Vec<u32>>,
}

impl<'g> HeapAnalysis<'g> {
    /// Analyses `graph` under the reference tool's rules for its format
    /// ([`EdgePolicy::for_format`]).
    pub fn new(graph: &'g HeapGraph) -> HeapAnalysis<'g> {
        HeapAnalysis::with_policy(graph, EdgePolicy::for_format(graph.format()))
    }

    /// Analyses `graph` under `policy`.
    ///
    /// For a V8 snapshot the class table waits for its first use (or for
    /// [`with_dom_state`](Self::with_dom_state), which usually follows);
    /// pass the DOM state to
    /// [`with_policy_and_dom_state`](Self::with_policy_and_dom_state)
    /// instead to have it built alongside the dominator tree.
    pub fn with_policy(graph: &'g HeapGraph, policy: EdgePolicy) -> HeapAnalysis<'g> {
        let v8 = graph.format() == heapgraph_core::Format::V8HeapSnapshot;
        HeapAnalysis::build(graph, policy, None, !v8 && second_thread_allowed())
    }

    /// Analyses `graph` under `policy`, with V8's per-node `detachedness`
    /// column for class names when given (the same as
    /// [`with_policy`](Self::with_policy) followed by
    /// [`with_dom_state`](Self::with_dom_state), in one step).
    ///
    /// With a second core, the class table is built on a second thread
    /// while the dominator tree is computed ([`with_threads`](Self::with_threads)
    /// chooses).
    pub fn with_policy_and_dom_state(
        graph: &'g HeapGraph,
        policy: EdgePolicy,
        detachedness: Option<&[DomState]>,
    ) -> HeapAnalysis<'g> {
        HeapAnalysis::build(graph, policy, detachedness, second_thread_allowed())
    }

    /// As [`with_policy_and_dom_state`](Self::with_policy_and_dom_state),
    /// using at most `threads` threads (the class table goes to a second
    /// thread only when `threads` is more than 1). The results do not
    /// depend on it.
    pub fn with_threads(
        graph: &'g HeapGraph,
        policy: EdgePolicy,
        detachedness: Option<&[DomState]>,
        threads: usize,
    ) -> HeapAnalysis<'g> {
        HeapAnalysis::build(graph, policy, detachedness, threads > 1)
    }

    fn build(
        graph: &'g HeapGraph,
        policy: EdgePolicy,
        detachedness: Option<&[DomState]>,
        two_threads: bool,
    ) -> HeapAnalysis<'g> {
        let build_classes = || ClassTable::for_graph_with_dom_state(graph, detachedness);
        let build_tree = || {
            let edges = policy.dominator_edges(graph);
            let extra_roots = policy.extra_roots(graph);
            let reach = policy.reach_edges(graph);
            DominatorTree::compute_with_roots(
                graph,
                edges,
                policy.unreachable,
                &extra_roots,
                reach.as_ref(),
            )
        };
        let build_shallow = || shown_sizes(graph, policy.semantics);
        // The tree comes first and alone: its scratch columns are the peak
        // of a whole analysis, and nothing else is allocated beside them.
        // Then, with a second core, the class table is built beside the
        // shown sizes and the retained sizes.
        let tree = build_tree();
        let (classes, shallow, retained) = if two_threads {
            std::thread::scope(|scope| {
                let side = scope.spawn(build_classes);
                let shallow = build_shallow();
                let retained = tree.retained_sizes(&shallow);
                match side.join() {
                    Ok(classes) => (OnceLock::from(classes), shallow, retained),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            })
        } else {
            // Without a DOM state the table waits for its first use.
            let classes = match detachedness {
                Some(_) => OnceLock::from(build_classes()),
                None => OnceLock::new(),
            };
            let shallow = build_shallow();
            let retained = tree.retained_sizes(&shallow);
            (classes, shallow, retained)
        };
        HeapAnalysis {
            graph,
            policy,
            shallow,
            tree,
            retained,
            devtools_distances: OnceLock::new(),
            classes,
            path_distances: OnceLock::new(),
        }
    }

    /// Recomputes class names with V8's per-node `detachedness` column (see
    /// [`ClassTable::for_graph_with_dom_state`]), so detached DOM nodes get
    /// DevTools' `Detached ` class names. When no node is marked detached
    /// (state 2) the names cannot change, and the table is kept.
    pub fn with_dom_state(mut self, detachedness: &[DomState]) -> HeapAnalysis<'g> {
        // DevTools' propagation only spreads the detached state from nodes
        // that have it.
        let n = self.graph.node_count();
        if detachedness
            .iter()
            .take(n)
            .any(|&state| state == DomState::Detached)
        {
            self.classes = OnceLock::from(ClassTable::for_graph_with_dom_state(
                self.graph,
                Some(detachedness),
            ));
        }
        self
    }

    /// The graph analysed.
    pub fn graph(&self) -> &'g HeapGraph {
        self.graph
    }

    /// The policy used.
    pub fn policy(&self) -> EdgePolicy {
        self.policy
    }

    /// The size shown as the node's own: DevTools' re-attributed size for
    /// V8, the self size otherwise.
    pub fn shallow_size(&self, node: NodeIndex) -> u64 {
        self.shallow.get(node.index())
    }

    /// The shown shallow sizes, per node.
    pub fn shallow_sizes(&self) -> &Sizes {
        &self.shallow
    }

    /// The bytes freed if `node` went away: the shallow sizes of everything
    /// it dominates. 0 for nodes outside the dominator tree.
    pub fn retained_size(&self, node: NodeIndex) -> u64 {
        self.retained.get(node.index())
    }

    /// The retained sizes, per node.
    pub fn retained_sizes(&self) -> &Sizes {
        &self.retained
    }

    /// The immediate dominator of `node` (`None` for the root and excluded
    /// unreachable nodes).
    pub fn immediate_dominator(&self, node: NodeIndex) -> Option<NodeIndex> {
        self.tree.immediate_dominator(node)
    }

    /// The dominator tree.
    pub fn dominator_tree(&self) -> &DominatorTree {
        &self.tree
    }

    /// The nodes not reachable from the root over dominator edges.
    pub fn unreachable(&self) -> &UnreachableReport {
        self.tree.unreachable()
    }

    /// The node's distance from the root (DevTools' rules for V8, where
    /// system-only objects are at least [`crate::SYSTEM_DISTANCE`] away).
    pub fn distance(&self, node: NodeIndex) -> Option<u32> {
        let distances = if self.policy.semantics == Semantics::DevTools {
            self.devtools_distances
                .get_or_init(|| devtools_distances(self.graph))
        } else {
            self.path_distances()
        };
        match distances.get(node.index()) {
            Some(&d) if d != NO_DISTANCE => Some(d),
            _ => None,
        }
    }

    /// The class table.
    pub fn classes(&self) -> &ClassTable {
        self.classes
            .get_or_init(|| ClassTable::for_graph(self.graph))
    }

    /// The class of `node`, if any.
    pub fn class_of(&self, node: NodeIndex) -> Option<ClassId> {
        self.classes().class_of(node)
    }

    /// The class name of `node` (empty for the root and root groups).
    pub fn class_name(&self, node: NodeIndex) -> &str {
        let classes = self.classes();
        classes.class_of(node).map_or("", |c| classes.name(c))
    }

    /// The children of each node in the dominator tree.
    pub fn dominated(&self) -> &DominatedNodes {
        self.tree.children()
    }

    /// The nodes `node` immediately dominates, largest retained size first,
    /// at most `limit` of them: the dominator tree browsed from `node`.
    pub fn top_dominators(&self, node: NodeIndex, limit: usize) -> Vec<NodeIndex> {
        let mut children: Vec<NodeIndex> = self.dominated().of(node).collect();
        let order = |a: &NodeIndex, b: &NodeIndex| {
            self.retained_size(*b)
                .cmp(&self.retained_size(*a))
                .then(a.cmp(b))
        };
        // Only the first `limit` need sorting: a node can dominate millions.
        if limit < children.len() {
            if limit == 0 {
                return Vec::new();
            }
            children.select_nth_unstable_by(limit - 1, order);
            children.truncate(limit);
        }
        children.sort_by(order);
        children
    }

    /// Whether `node` counts as an instance of its class in the histogram:
    /// it has a class and a place in the dominator tree, and for V8 a
    /// non-zero shown size (DevTools lists no empty objects).
    pub fn is_instance(&self, node: NodeIndex) -> bool {
        self.classes().class_of(node).is_some()
            && self.tree.contains(node)
            && crate::classes::listed_in_histogram(self.policy.semantics, self.shallow_size(node))
    }

    /// The instances of `class`, in node order.
    pub fn instances_of(&self, class: ClassId) -> Vec<NodeIndex> {
        self.graph
            .nodes()
            .filter(|&n| self.classes().class_of(n) == Some(class) && self.is_instance(n))
            .collect()
    }

    /// How views that group objects by class name `node`: its class, or
    /// its name when it has none; a Java class object as `class X` (the
    /// class it stands for, whose static fields hang off it).
    pub fn display_class(&self, node: NodeIndex) -> String {
        crate::leaks::class_or_name(self, node)
    }

    /// The instances of every class whose name matches `glob` (`*` and
    /// `?`, see [`class_name_matches`](crate::class_name_matches)), in node
    /// order, in one pass over the nodes.
    pub fn instances_matching(&self, glob: &str) -> Vec<NodeIndex> {
        let classes = self.classes();
        let matched: Vec<bool> = (0..classes.len())
            .map(|i| crate::class_name_matches(glob, classes.name(ClassId(i as u32))))
            .collect();
        self.graph
            .nodes()
            .filter(|&n| {
                classes
                    .class_of(n)
                    .is_some_and(|class| matched[class.index()])
                    && self.is_instance(n)
            })
            .collect()
    }

    /// Count, shallow and retained size of each of `groups` groups of
    /// nodes (`group_of(node)`: its group, below `groups`, or `None`). A
    /// group's retained size is the sum over its nodes that no other node
    /// of the group dominates, found in one walk of the dominator tree
    /// that keeps, per group, how many of its nodes are above. Sums
    /// saturate.
    pub fn sum_by_group(
        &self,
        groups: usize,
        group_of: impl Fn(NodeIndex) -> Option<u32>,
    ) -> Vec<GroupSums> {
        let mut sums = vec![GroupSums::default(); groups];
        let mut active = vec![0u32; groups];
        if self.graph.node_count() == 0 {
            return sums;
        }
        self.dominated().walk(NodeIndex::new(0), |node, entering| {
            let Some(group) = group_of(node).map(|g| g as usize).filter(|&g| g < groups) else {
                return;
            };
            if !entering {
                active[group] -= 1;
                return;
            }
            let row = &mut sums[group];
            row.count += 1;
            row.shallow_size = row.shallow_size.saturating_add(self.shallow_size(node));
            if active[group] == 0 {
                row.retained_size = row.retained_size.saturating_add(self.retained_size(node));
            }
            active[group] += 1;
        });
        sums
    }

    /// Count, shallow and retained size per class. A class's retained size
    /// is the sum over its instances that no other instance of the class
    /// dominates (MAT's and DevTools' definition).
    pub fn class_histogram(&self) -> ClassHistogram {
        let classes = self.classes();
        let sums = self.sum_by_group(classes.len(), |node| {
            classes
                .class_of(node)
                .filter(|_| self.is_instance(node))
                .map(|class| class.0)
        });
        let mut rows: Vec<ClassStats> = sums
            .into_iter()
            .enumerate()
            .map(|(i, sums)| ClassStats {
                class: ClassId(i as u32),
                count: sums.count,
                shallow_size: sums.shallow_size,
                retained_size: sums.retained_size,
            })
            .collect();
        rows.retain(|r| r.count > 0);
        let mut histogram = ClassHistogram { rows };
        histogram.sort_by(HistogramOrder::RetainedSize);
        histogram
    }

    /// `(class name, count and shallow size)` per class: the grouping that
    /// growth trends and class-level leak detection compare across
    /// snapshots.
    pub fn class_totals(&self) -> Vec<(String, crate::trend::GroupTotals)> {
        self.class_histogram()
            .rows()
            .iter()
            .map(|r| {
                (
                    self.classes().name(r.class).to_string(),
                    crate::trend::GroupTotals {
                        count: r.count,
                        bytes: r.shallow_size,
                    },
                )
            })
            .collect()
    }

    /// The edges pointing to `node`, in edge order, each marked with whether
    /// retention paths may follow it.
    pub fn retainers(&self, node: NodeIndex) -> Vec<Retainer> {
        retainers(self.graph, &self.policy, node)
    }

    /// Breadth-first distances from the root over the policy's path edges
    /// (the root at 0), built on first use.
    pub fn path_distances(&self) -> &[u32] {
        self.path_distances
            .get_or_init(|| bfs_distances(self.graph, &self.policy.path_edges(self.graph)))
    }

    /// Up to `k` shortest distinct retention paths from the root to `node`
    /// over path edges (no weak references), shortest first.
    pub fn retention_paths(&self, node: NodeIndex, k: usize) -> Vec<RetentionPath> {
        shortest_paths(self.graph, &self.policy, self.path_distances(), node, k)
    }
}

/// One row of a [`ClassHistogram`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassStats {
    /// The class.
    pub class: ClassId,
    /// The number of instances.
    pub count: u64,
    /// The sum of the instances' shown shallow sizes.
    pub shallow_size: u64,
    /// The sum of the retained sizes of the instances no other instance of
    /// the class dominates.
    pub retained_size: u64,
}

/// How to order a [`ClassHistogram`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HistogramOrder {
    /// Largest retained size first.
    RetainedSize,
    /// Largest shallow size first.
    ShallowSize,
    /// Most instances first.
    Count,
    /// By class id (first seen first).
    Class,
}

/// What [`HeapAnalysis::sum_by_group`] adds up for one group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GroupSums {
    /// Nodes in the group (in the dominator tree).
    pub count: u64,
    /// Their shallow size.
    pub shallow_size: u64,
    /// Their retained size, each node counted once.
    pub retained_size: u64,
}

/// Per-class counts and sizes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassHistogram {
    rows: Vec<ClassStats>,
}

impl ClassHistogram {
    /// The rows, in the current order.
    pub fn rows(&self) -> &[ClassStats] {
        &self.rows
    }

    /// Reorders the rows (ties broken by class id).
    pub fn sort_by(&mut self, order: HistogramOrder) {
        match order {
            HistogramOrder::RetainedSize => self.rows.sort_by(|a, b| {
                b.retained_size
                    .cmp(&a.retained_size)
                    .then(a.class.cmp(&b.class))
            }),
            HistogramOrder::ShallowSize => self.rows.sort_by(|a, b| {
                b.shallow_size
                    .cmp(&a.shallow_size)
                    .then(a.class.cmp(&b.class))
            }),
            HistogramOrder::Count => self
                .rows
                .sort_by(|a, b| b.count.cmp(&a.count).then(a.class.cmp(&b.class))),
            HistogramOrder::Class => self.rows.sort_by_key(|r| r.class),
        }
    }

    /// The row of `class`, if it has instances.
    pub fn get(&self, class: ClassId) -> Option<&ClassStats> {
        self.rows.iter().find(|r| r.class == class)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use heapgraph_core::{EdgeKind, Format, GraphBuilder, NodeKind};

    /// A V8-like graph with DOM nodes: root -> div, span; div -> text,
    /// style; span -> style; div -> wrapper (JS) -> inner.
    fn dom_graph() -> HeapGraph {
        let mut b = GraphBuilder::new(Format::V8HeapSnapshot);
        let node = |b: &mut GraphBuilder, kind, name: &str, size| {
            let name = b.intern(name.as_bytes()).unwrap();
            b.add_node(kind, name, 0, size).unwrap()
        };
        let root = node(&mut b, NodeKind::Synthetic, "", 0);
        let div = node(&mut b, NodeKind::Native, "<div id=\"gone\">", 64);
        let text = node(&mut b, NodeKind::Native, "Text", 32);
        let span = node(&mut b, NodeKind::Native, "<span class=x>", 48);
        let style = node(&mut b, NodeKind::Native, "CSSStyle", 16);
        let js = node(&mut b, NodeKind::Object, "Wrapper", 16);
        let inner = node(&mut b, NodeKind::Native, "Inner", 8);
        let label = b.intern(b"p").unwrap();
        for (from, to) in [
            (root, div),
            (root, span),
            (div, text),
            (div, style),
            (span, style),
            (div, js),
            (js, inner),
        ] {
            b.add_named_edge(from, to, EdgeKind::Property, label)
                .unwrap();
        }
        b.finish().unwrap()
    }

    fn classes(analysis: &HeapAnalysis<'_>) -> Vec<(Option<ClassId>, String)> {
        analysis
            .graph()
            .nodes()
            .map(|n| (analysis.class_of(n), analysis.class_name(n).to_string()))
            .collect()
    }

    fn direct(graph: &HeapGraph, states: Option<&[DomState]>) -> Vec<(Option<ClassId>, String)> {
        let table = ClassTable::for_graph_with_dom_state(graph, states);
        graph
            .nodes()
            .map(|n| {
                let class = table.class_of(n);
                (class, class.map_or("", |c| table.name(c)).to_string())
            })
            .collect()
    }

    #[test]
    fn one_step_and_two_step_dom_state_agree_on_one_and_two_threads() {
        let graph = dom_graph();
        let policy = EdgePolicy::for_format(graph.format());
        use DomState::{Attached as A, Detached as D, Unknown as U};
        let detached = [U, D, U, A, U, U, U];
        let attached_only = [U, A, U, A, U, U, U];
        for states in [&detached[..], &attached_only[..], &[][..]] {
            let expected = direct(&graph, Some(states));
            for two_threads in [false, true] {
                let one_step = HeapAnalysis::build(&graph, policy, Some(states), two_threads);
                assert_eq!(classes(&one_step), expected, "{states:?} {two_threads}");
                let two_step =
                    HeapAnalysis::build(&graph, policy, None, two_threads).with_dom_state(states);
                assert_eq!(classes(&two_step), expected, "{states:?} {two_threads}");
                let plain = HeapAnalysis::build(&graph, policy, None, two_threads);
                assert_eq!(classes(&plain), direct(&graph, None));
                assert_eq!(
                    one_step.retained_sizes(),
                    HeapAnalysis::new(&graph).retained_sizes()
                );
            }
        }
        // The detached case really renames, the others really do not.
        assert_ne!(direct(&graph, Some(&detached)), direct(&graph, None));
        assert_eq!(direct(&graph, Some(&attached_only)), direct(&graph, None));
    }
}
