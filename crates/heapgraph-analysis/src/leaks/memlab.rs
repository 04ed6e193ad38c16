//! memlab's rules for V8 snapshots, restated: which candidates are leaks
//! (its default leak filter, or every object with `--all-objects`), the
//! retainer path it reports for each, and the paths it hides as browser
//! noise.
//!
//! Learnt from memlab 2.0.5 (`leak-filters/`, `trace-filters/`,
//! `paths/TraceFinder.ts`, `Utils.ts`) and checked against its output on the
//! snapshots in `testdata/v8` by `testdata/v8/memlab/compare.sh`; this is
//! our own code.

use std::collections::HashMap;

use heapgraph_core::{DomState, EdgeIndex, EdgeKind, HeapGraph, NodeIndex, NodeKind, StringId};

use crate::paths::{PathStep, RetentionPath};
use crate::HeapAnalysis;

/// Which candidates are reported as leaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LeakFilter {
    /// memlab's default filter: detached DOM nodes (any node V8 marks
    /// detached, after spreading the state through native edges), unmounted
    /// React Fiber nodes, objects released on purpose through a `WeakRef`
    /// with `refShouldRelease`, and finished `XMLHttpRequest`s. Plain
    /// JavaScript objects are not leaks under this filter.
    #[default]
    Memlab,
    /// memlab's `--trace-all-objects`: every candidate that is not a string,
    /// number or hidden node and retains more than 0 bytes.
    AllObjects,
}

/// Per-node facts memlab's rules read, computed once for the final
/// snapshot.
pub(crate) struct MemlabView<'a, 'g> {
    pub(crate) analysis: &'a HeapAnalysis<'g>,
    graph: &'g HeapGraph,
    /// Detached after memlab's spreading and its unmounted-Fiber marking.
    detached: Vec<bool>,
    fiber_name: Option<StringId>,
}

/// Node names memlab treats as V8's synthetic root groups, less preferable
/// on a path than anything else.
const SYNTHETIC_ROOTS: &[&str] = &[
    "(GC roots)",
    "(Internalized strings)",
    "(External strings)",
    "(Read-only roots)",
    "(Strong roots)",
    "(Smi roots)",
    "(Bootstrapper)",
    "(Stack roots)",
    "(Relocatable)",
    "(Debugger)",
    "(Compilation cache)",
    "(Handle scope)",
    "(Builtins)",
    "(Global handles)",
    "(Eternal handles)",
    "(Thread manager)",
    "(Extensions)",
    "(Code flusher)",
    "(Startup object cache)",
    "(Read-only object cache)",
    "(Weak collections)",
    "(Wrapper tracing)",
    "(Write barrier)",
    "(Retain maps)",
    "(Unknown)",
    "<Synthetic>",
];

impl<'a, 'g> MemlabView<'a, 'g> {
    /// Spreads `dom_state` as memlab does and marks unmounted Fibers.
    pub(crate) fn new(analysis: &'a HeapAnalysis<'g>, dom_state: Option<&[DomState]>) -> Self {
        let graph = analysis.graph();
        let n = graph.node_count();
        let mut detached = vec![false; n];
        if let Some(states) = dom_state {
            let spread = spread_detachedness(graph, states);
            for (d, s) in detached.iter_mut().zip(&spread) {
                *d = *s == DomState::Detached;
            }
        }
        let mut view = MemlabView {
            analysis,
            graph,
            detached,
            fiber_name: graph.strings().find(b"FiberNode"),
        };
        view.mark_unmounted_fibers();
        view
    }

    fn name(&self, node: NodeIndex) -> &'g [u8] {
        self.graph.strings().bytes(self.graph.name(node))
    }

    pub(crate) fn is_detached(&self, node: NodeIndex) -> bool {
        self.detached.get(node.index()).copied().unwrap_or(false)
    }

    fn is_fiber(&self, node: NodeIndex) -> bool {
        self.fiber_name.is_some()
            && self.graph.kind(node) == NodeKind::Object
            && Some(self.graph.name(node)) == self.fiber_name
    }

    /// memlab's `isDetachedDOMNode`: any detached node but a Fiber (and,
    /// with `ignore_internal`, but a detached `InternalNode`).
    pub(crate) fn is_detached_dom(&self, node: NodeIndex, ignore_internal: bool) -> bool {
        let excluded =
            self.is_fiber(node) || (ignore_internal && self.name(node) == b"InternalNode");
        !excluded && self.is_detached(node)
    }

    /// memlab's (incomplete) "is a DOM node" test, on native nodes' names.
    fn is_dom_node(&self, node: NodeIndex) -> bool {
        self.graph.kind(node) == NodeKind::Native && is_dom_name(self.name(node))
    }

    fn is_attached_dom(&self, node: NodeIndex) -> bool {
        self.is_dom_node(node) && !self.is_detached_dom(node, false)
    }

    fn is_root_node(&self, node: NodeIndex, with_blink_and_pending: bool) -> bool {
        let id = self.graph.object_id(node);
        let name = self.name(node);
        let kind = self.graph.kind(node);
        id == 0
            || id == 1
            || (kind == NodeKind::Native && name.starts_with(b"Window"))
            || (kind == NodeKind::Synthetic && name == b"(GC roots)")
            || (with_blink_and_pending && (self.is_blink_root(node) || self.is_pending(node)))
    }

    fn is_blink_root(&self, node: NodeIndex) -> bool {
        self.graph.kind(node) == NodeKind::Synthetic
            && matches!(
                self.name(node),
                b"Blink roots" | b"Blink cross-thread roots"
            )
    }

    fn is_pending(&self, node: NodeIndex) -> bool {
        matches!(
            self.graph.kind(node),
            NodeKind::Synthetic | NodeKind::Native
        ) && self.name(node) == b"Pending activities"
    }

    /// The first edge into `node` named `name` (of `kind`, if given), in
    /// edge order, with its source.
    fn first_referrer(
        &self,
        node: NodeIndex,
        name: &[u8],
        kind: Option<EdgeKind>,
    ) -> Option<NodeIndex> {
        self.graph
            .retainers()
            .of(node)
            .find(|&(_, e)| {
                kind.is_none_or(|k| self.graph.edge_kind(e) == k) && self.edge_name(e) == Some(name)
            })
            .map(|(source, _)| source)
    }

    fn edge_name(&self, edge: EdgeIndex) -> Option<&'g [u8]> {
        match self.graph.edge_label(edge) {
            heapgraph_core::EdgeLabel::Name(id) => Some(self.graph.strings().bytes(id)),
            heapgraph_core::EdgeLabel::Index(_) => None,
        }
    }

    /// The target of `node`'s first edge named `name`.
    fn out_named(&self, node: NodeIndex, name: &[u8]) -> Option<NodeIndex> {
        self.graph
            .edges(node)
            .find(|e| self.edge_name(e.index) == Some(name))
            .map(|e| e.target)
    }

    /// memlab marks a Fiber detached when its `return` chain never reaches a
    /// host root, or when something other than a Fiber dominates it (unless
    /// that is an attached DOM node).
    fn mark_unmounted_fibers(&mut self) {
        if self.fiber_name.is_none() {
            return;
        }
        // Nodes seen by the walk from the current start carry its stamp, so
        // that no per-start clearing costs a pass over every node.
        let mut seen = vec![0u32; self.graph.node_count()];
        let mut stamp = 0u32;
        for start in self.graph.nodes() {
            if !self.is_fiber(start) || self.is_detached(start) {
                continue;
            }
            stamp = stamp.wrapping_add(1);
            if stamp == 0 {
                seen.fill(0);
                stamp = 1;
            }
            let mut chain = Vec::new();
            let mut current = Some(start);
            let mut mounted = false;
            while let Some(fiber) = current {
                if !self.is_fiber(fiber) || seen[fiber.index()] == stamp {
                    break;
                }
                seen[fiber.index()] = stamp;
                chain.push(fiber);
                if let Some(d) = self.analysis.immediate_dominator(fiber) {
                    if self.graph.object_id(d) != 1 {
                        let held_by_attached_dom =
                            self.is_dom_node(d) && !self.is_detached_dom(d, false);
                        if !held_by_attached_dom && !self.is_fiber(d) {
                            self.detached[fiber.index()] = true;
                        }
                    }
                }
                if self
                    .out_named(fiber, b"stateNode")
                    .is_some_and(|s| self.name(s) == b"FiberRootNode")
                {
                    mounted = true;
                    break;
                }
                current = self.out_named(fiber, b"return");
            }
            if !mounted {
                for fiber in chain {
                    self.detached[fiber.index()] = true;
                }
            }
        }
    }

    /// memlab's leak-object filter on one candidate.
    pub(crate) fn is_leak(&self, node: NodeIndex, filter: LeakFilter) -> bool {
        let graph = self.graph;
        // Released on purpose through a WeakRef that says it should be.
        let tagged = graph.retainers().of(node).any(|(source, e)| {
            graph.edge_kind(e) == EdgeKind::Weak
                && self.name(source) == b"WeakRef"
                && self.out_named(source, b"refShouldRelease").is_some()
        });
        if tagged {
            return true;
        }
        if matches!(
            graph.kind(node),
            NodeKind::Number
                | NodeKind::Hidden
                | NodeKind::String
                | NodeKind::ConsString
                | NodeKind::SlicedString
        ) {
            return false;
        }
        if filter == LeakFilter::AllObjects {
            // memlab sizes objects by the file's self sizes; the analysis
            // may move some into their owner (DevTools counts an array's
            // elements store in the array), so either counts.
            return graph.self_size(node) > 0 || self.analysis.retained_size(node) > 0;
        }
        if self.is_fiber(node) && self.is_detached(node) {
            let mut current = Some(node);
            let mut deleted = false;
            let mut steps = 0usize;
            while let Some(x) = current {
                if self.first_referrer(x, b"deletions", None).is_some() {
                    deleted = true;
                    break;
                }
                steps += 1;
                if steps > graph.node_count() {
                    break;
                }
                current = self.analysis.immediate_dominator(x);
            }
            if !deleted {
                return true;
            }
        }
        if self.is_detached_dom(node, true) {
            let idom = self.analysis.immediate_dominator(node);
            let held_by_state_node =
                idom.is_some() && self.first_referrer(node, b"stateNode", None) == idom;
            let dehydrated = idom.is_some()
                && self.first_referrer(node, b"dehydrated", Some(EdgeKind::Property)) == idom
                && idom.is_some_and(|r| {
                    let r_idom = self.analysis.immediate_dominator(r);
                    r_idom.is_some() && self.first_referrer(r, b"memoizedState", None) == r_idom
                });
            if !held_by_state_node && !dehydrated {
                return true;
            }
        }
        graph.kind(node) == NodeKind::Native
            && self.name(node) == b"XMLHttpRequest"
            && graph
                .edges(node)
                .any(|e| self.name(e.target) == br#"{"status":"ok"}"#)
    }
}

/// memlab's spreading of V8's `detachedness`, from native node to native
/// node only, attached first. Its code means to skip hidden, invisible and
/// weak edges, but looks their types up among the edge *fields* after
/// appending `invisible` there, so what it skips is the type whose index is
/// the field count, 3: `internal` edges. That is what memlab 2.0.5 does
/// (checked node by node on `testdata/v8/chromium-react`), so it is what
/// this does.
fn spread_detachedness(graph: &HeapGraph, states: &[DomState]) -> Vec<DomState> {
    let n = graph.node_count();
    let mut state: Vec<DomState> = (0..n)
        .map(|i| states.get(i).copied().unwrap_or_default())
        .collect();
    let mut visited = vec![false; n];
    let mut attached: Vec<NodeIndex> = Vec::new();
    let mut detached: Vec<NodeIndex> = Vec::new();
    let mut set = |node: NodeIndex,
                   s: DomState,
                   state: &mut [DomState],
                   attached: &mut Vec<NodeIndex>,
                   detached: &mut Vec<NodeIndex>| {
        let i = node.index();
        if visited[i] {
            return;
        }
        visited[i] = true;
        if graph.kind(node) != NodeKind::Native {
            return;
        }
        state[i] = s;
        match s {
            DomState::Attached => attached.push(node),
            DomState::Detached => detached.push(node),
            DomState::Unknown => {}
        }
    };
    for node in graph.nodes() {
        let s = state[node.index()];
        if s != DomState::Unknown {
            set(node, s, &mut state, &mut attached, &mut detached);
        }
    }
    let spreads = |kind: EdgeKind| kind != EdgeKind::Internal;
    while let Some(node) = attached.pop() {
        for e in graph.edges(node) {
            if spreads(e.kind) {
                set(
                    e.target,
                    DomState::Attached,
                    &mut state,
                    &mut attached,
                    &mut detached,
                );
            }
        }
    }
    while let Some(node) = detached.pop() {
        if state[node.index()] == DomState::Attached {
            continue;
        }
        for e in graph.edges(node) {
            if spreads(e.kind) {
                set(
                    e.target,
                    DomState::Detached,
                    &mut state,
                    &mut attached,
                    &mut detached,
                );
            }
        }
    }
    state
}

/// memlab's names of DOM nodes (after any `Detached ` prefix).
fn is_dom_name(name: &[u8]) -> bool {
    let name = name.strip_prefix(b"Detached ").unwrap_or(name).trim_ascii();
    let Ok(name) = std::str::from_utf8(name) else {
        return false;
    };
    (name.starts_with("HTML") && name.ends_with("Element"))
        || (name.starts_with("SVG") && name.ends_with("Element"))
        || name.starts_with("CSS")
        || name.contains("StyleSheet")
        || (name.starts_with("HTML") && name.ends_with("Collection"))
        || (name.len() > 2
            && name.starts_with('<')
            && name.ends_with('>')
            && name[1..].starts_with(|c: char| c.is_ascii_alphabetic()))
        || matches!(
            name,
            "DOMTokenList" | "HTMLDocument" | "InternalNode" | "Text" | "XMLDocument"
        )
}

/// How each node may take part in a path, decided once per name.
#[derive(Clone, Copy, Default)]
struct NodeRole {
    /// Never on a path (blocked names, `code` nodes, native contexts,
    /// DevTools internals when hidden).
    blocked: bool,
    /// Taken only when nothing better is left (V8's root groups,
    /// `InternalNode`, `Pending activities`, `StyleEngine`, `C++ roots`).
    less_preferable: bool,
}

/// One parent edge per node: memlab's breadth-first search from the GC
/// roots and the browser's window objects, which takes less preferable
/// nodes and edges one at a time only when the preferable frontier is used
/// up.
pub(crate) struct LeakPaths {
    parent: Vec<Option<(NodeIndex, EdgeIndex)>>,
}

impl LeakPaths {
    /// Searches the final snapshot. With `hide_devtools`, nodes of the
    /// DevTools front end (`InjectedScript`, inspector agents and sessions)
    /// and `DevTools console` edges are not followed, so objects only they
    /// keep get no path.
    pub(crate) fn search(view: &MemlabView<'_, '_>, hide_devtools: bool) -> LeakPaths {
        let graph = view.graph;
        let n = graph.node_count();
        let mut roles_by_name: HashMap<(StringId, NodeKind, bool), NodeRole> = HashMap::new();
        let roles: Vec<NodeRole> = graph
            .nodes()
            .map(|node| {
                let key = (graph.name(node), graph.kind(node), view.is_detached(node));
                *roles_by_name
                    .entry(key)
                    .or_insert_with(|| node_role(view, node, hide_devtools))
            })
            .collect();
        drop(roles_by_name);
        let mut parent: Vec<Option<(NodeIndex, EdgeIndex)>> = vec![None; n];
        let mut visited = vec![false; n];
        let mut queued = vec![false; n];
        let mut current: Vec<NodeIndex> = Vec::new();
        let mut low: Vec<NodeIndex> = Vec::new();
        for node in graph.nodes() {
            if view.is_root_node(node, false) {
                current.push(node);
            } else if view.is_root_node(node, true) {
                low.push(node);
            }
        }
        let mut postponed: Vec<(NodeIndex, EdgeIndex, NodeIndex)> = Vec::new();
        while !current.is_empty() {
            let mut next: Vec<NodeIndex> = Vec::new();
            while let Some(node) = current.pop() {
                visited[node.index()] = true;
                for e in graph.edges(node) {
                    let t = e.target;
                    if parent[t.index()].is_some()
                        || !traversable(
                            view,
                            &roles,
                            node,
                            e.index,
                            t,
                            &visited,
                            &queued,
                            hide_devtools,
                        )
                    {
                        continue;
                    }
                    if view.is_blink_root(node) && view.is_detached_dom(t, false) {
                        continue;
                    }
                    if less_preferable_edge(view, node, e.index, t)
                        || roles[t.index()].less_preferable
                    {
                        postponed.push((node, e.index, t));
                    } else {
                        parent[t.index()] = Some((node, e.index));
                        next.push(t);
                    }
                    queued[t.index()] = true;
                }
            }
            while next.is_empty() {
                let Some((source, edge, target)) = postponed.pop() else {
                    break;
                };
                if parent[target.index()].is_some() {
                    continue;
                }
                parent[target.index()] = Some((source, edge));
                next.push(target);
            }
            while next.is_empty() {
                let Some(root) = low.pop() else {
                    break;
                };
                if parent[root.index()].is_some() {
                    continue;
                }
                next.push(root);
            }
            current = next;
        }
        LeakPaths { parent }
    }

    /// The path from a search root to `node`, or `None` when the search
    /// gave it no parent (roots themselves included).
    pub(crate) fn path(&self, node: NodeIndex) -> Option<RetentionPath> {
        let mut steps = Vec::new();
        let mut current = node;
        while let Some((source, edge)) = self.parent.get(current.index()).copied().flatten() {
            steps.push(PathStep {
                source,
                edge,
                target: current,
            });
            if steps.len() > self.parent.len() {
                return None;
            }
            current = source;
        }
        if steps.is_empty() {
            return None;
        }
        steps.reverse();
        Some(RetentionPath { steps })
    }
}

fn node_role(view: &MemlabView<'_, '_>, node: NodeIndex, hide_devtools: bool) -> NodeRole {
    let name = view.name(node);
    let kind = view.graph.kind(node);
    let devtools = hide_devtools
        && (contains(name, b"InjectedScript")
            || name.starts_with(b"blink::Inspector")
            || name.starts_with(b"blink::DevTools")
            || name.starts_with(b"v8_inspector::"));
    let blocked = devtools
        || kind == NodeKind::Code
        || matches!(
            name,
            b"system / PropertyCell"
                | b"system / NativeContext"
                | b"system / SourcePositionTableWithFrameCache"
                | b"(map descriptors)"
        );
    // memlab compares display names: a detached `InternalNode` is
    // `Detached InternalNode`, which is not on its list.
    let detached = view.is_detached(node);
    let listed = matches!(
        name,
        b"InternalNode" | b"Pending activities" | b"StyleEngine"
    ) || SYNTHETIC_ROOTS.iter().any(|r| r.as_bytes() == name);
    let less_preferable =
        (listed && !detached) || (kind == NodeKind::Synthetic && name == b"C++ roots");
    NodeRole {
        blocked,
        less_preferable,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[allow(clippy::too_many_arguments)]
fn traversable(
    view: &MemlabView<'_, '_>,
    roles: &[NodeRole],
    from: NodeIndex,
    edge: EdgeIndex,
    to: NodeIndex,
    visited: &[bool],
    queued: &[bool],
    hide_devtools: bool,
) -> bool {
    let graph = view.graph;
    let kind = graph.edge_kind(edge);
    if from == to || kind.is_weak_like() || visited[to.index()] || queued[to.index()] {
        return false;
    }
    if roles[to.index()].blocked || view.name(from) == b"system / PropertyCell" {
        return false;
    }
    let name = view.edge_name(edge).unwrap_or(b"");
    if matches!(
        name,
        b"feedback_cell" | b"part of key -> value pair in ephemeron table"
    ) {
        return false;
    }
    if hide_devtools && kind == EdgeKind::Internal && contains(name, b"DevTools console") {
        return false;
    }
    if contains(name, b"WeakMap") && weak_map_key_id(name) == Some(graph.object_id(to)) {
        return false;
    }
    match kind {
        EdgeKind::Internal if name == b"code" => false,
        EdgeKind::Hidden => view.name(to) != b"system / NativeContext",
        _ => true,
    }
}

/// The id in a WeakMap key edge's name (`… @123) -> …`).
fn weak_map_key_id(name: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(name).ok()?;
    let mut rest = text;
    while let Some(at) = rest.find('@') {
        let after = &rest[at + 1..];
        let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 && after[digits..].starts_with(") ->") {
            return after[..digits].parse().ok();
        }
        rest = after;
    }
    None
}

fn less_preferable_edge(
    view: &MemlabView<'_, '_>,
    from: NodeIndex,
    edge: EdgeIndex,
    to: NodeIndex,
) -> bool {
    (view.is_pending(from) && view.is_dom_node(to))
        || (view.is_detached_dom(from, false)
            && view.is_dom_node(to)
            && !view.is_detached_dom(to, false))
        || (view.is_attached_dom(from) && view.is_detached_dom(to, false))
        || matches!(
            view.edge_name(edge),
            Some(b"alternate" | b"firstEffect" | b"lastEffect")
        )
}

/// memlab's trace filters (its `hideBrowserLeak` rules): whether a leak's
/// path is browser noise rather than something the page did. Paths of more
/// than 100 nodes are dropped too.
pub(crate) fn is_browser_noise(view: &MemlabView<'_, '_>, path: &RetentionPath) -> bool {
    let nodes = path.nodes();
    if nodes.len() > 100 {
        return true;
    }
    let name = |i: usize| view.name(nodes[i]);
    // A window's internal nodes leading to a detached node.
    if nodes.len() > 1 && name(0).starts_with(b"Window") && name(1) == b"InternalNode" {
        let mut i = 1;
        while i < nodes.len() && matches!(name(i), b"InternalNode" | b"Text") {
            i += 1;
        }
        if i < nodes.len() && view.is_detached_dom(nodes[i], false) {
            return true;
        }
    }
    // A detached node right under a shadow root.
    if let Some(i) = (0..nodes.len()).find(|&i| name(i) == b"ShadowRoot") {
        if nodes
            .get(i + 1)
            .is_some_and(|&n| view.is_detached_dom(n, false))
        {
            return true;
        }
    }
    // The style engine's internal node holding a detached node.
    if let Some(i) = (0..nodes.len()).find(|&i| name(i) == b"StyleEngine") {
        if nodes
            .get(i + 1)
            .is_some_and(|&n| view.name(n) == b"InternalNode")
            && nodes
                .get(i + 2)
                .is_some_and(|&n| view.is_detached_dom(n, false))
        {
            return true;
        }
    }
    // Pending activities (timers and the like) holding DOM only.
    if let Some(k) = (0..nodes.len()).find(|&i| view.is_pending(nodes[i])) {
        if k + 1 < nodes.len() {
            let mut verdict = Some(true);
            for &n in &nodes[k + 1..] {
                if view.is_detached_dom(n, false) {
                    verdict = Some(true);
                    break;
                }
                let internal = view.graph.kind(n) == NodeKind::Native
                    && matches!(view.name(n), b"InternalNode");
                if !internal && !view.is_fiber(n) {
                    verdict = Some(false);
                    break;
                }
            }
            if verdict == Some(true) {
                return true;
            }
        }
    }
    // Nothing but roots and DOM nodes.
    if nodes
        .iter()
        .all(|&n| view.is_root_node(n, true) || view.is_dom_node(n))
    {
        return true;
    }
    // An attached DOM node holding the first detached one.
    if let Some(i) = (0..nodes.len()).find(|&i| view.is_detached_dom(nodes[i], false)) {
        if i > 0 && view.is_attached_dom(nodes[i - 1]) {
            return true;
        }
    }
    // The C++ roots holding a DOM node directly.
    (0..nodes.len()).any(|i| {
        view.graph.kind(nodes[i]) == NodeKind::Synthetic
            && name(i) == b"C++ roots"
            && nodes.get(i + 1).is_some_and(|&n| view.is_dom_node(n))
    })
}
