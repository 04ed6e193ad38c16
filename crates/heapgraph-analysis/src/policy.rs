//! Edge policies: which edges keep objects alive, per format and reference
//! tool.
//!
//! Every heap tool answers "what does this object retain?" under its own
//! rules. An [`EdgePolicy`] names the rules heapgraph follows, and turns a
//! graph into two [`EdgeSet`]s: the edges that count for dominators (and so
//! for retained sizes), and the edges retention paths may follow.
//!
//! | policy | dominator edges | path edges | unreachable nodes |
//! | --- | --- | --- | --- |
//! | [`Semantics::DevTools`] (V8 default) | Chrome DevTools' *essential* edges (see below) | non-weak, no shortcuts except from the root | hung under the root, as DevTools does |
//! | [`Semantics::Mat`] (HPROF default) | every edge, weak/soft/phantom/final referents included | every edge except weak-like referents | reported, no dominator |
//! | [`Semantics::NetBeans`] | every edge except weak, soft and phantom referents; stack locals as roots | no weak-like referents | reported, no retained size, still retainers |
//! | [`Semantics::StrongOnly`] (tracemalloc and synthetic graphs) | every edge except weak-like ones | the same | reported, no dominator |
//!
//! DevTools' essential edges (`JSHeapSnapshot`): an edge `u → v` counts
//! unless it is weak, a self edge, a `shortcut` from anything but the root,
//! the WeakMap *table → value* half of an ephemeron pair (recognised by its
//! `… pair in WeakMap (table @id)` name whose table id is `u`'s id), or an
//! edge from a non-page object into a page object. Page objects are what the
//! root's `shortcut` targets and the `(Document DOM trees)` root reach over
//! non-weak edges.

use heapgraph_core::{EdgeKind, Format, HeapGraph, NodeIndex, NodeKind};

/// A set of edges, one bit per edge in CSR order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EdgeSet {
    words: Vec<u64>,
    len: usize,
}

impl EdgeSet {
    /// An empty set over `edge_count` edges.
    pub fn none(edge_count: usize) -> EdgeSet {
        EdgeSet {
            words: vec![0; edge_count.div_ceil(64)],
            len: edge_count,
        }
    }

    /// The set of all `edge_count` edges.
    pub fn all(edge_count: usize) -> EdgeSet {
        let mut set = EdgeSet {
            words: vec![u64::MAX; edge_count.div_ceil(64)],
            len: edge_count,
        };
        let tail = edge_count % 64;
        if tail != 0 {
            if let Some(last) = set.words.last_mut() {
                *last = (1u64 << tail) - 1;
            }
        }
        set
    }

    /// The set of the edges of `graph` for which `keep(source, edge)` holds.
    pub fn from_fn(graph: &HeapGraph, mut keep: impl FnMut(NodeIndex, u32) -> bool) -> EdgeSet {
        let mut set = EdgeSet::none(graph.edge_count());
        for node in graph.nodes() {
            for edge in graph.edge_range(node) {
                if keep(node, edge) {
                    set.insert(edge);
                }
            }
        }
        set
    }

    /// The number of edges the set ranges over.
    pub fn capacity(&self) -> usize {
        self.len
    }

    /// Whether edge `edge` (a CSR index) is in the set.
    #[inline]
    pub fn contains(&self, edge: u32) -> bool {
        let i = edge as usize;
        self.words
            .get(i / 64)
            .is_some_and(|word| word & (1u64 << (i % 64)) != 0)
    }

    /// Adds edge `edge`; indices beyond the capacity are ignored.
    #[inline]
    pub fn insert(&mut self, edge: u32) {
        let i = edge as usize;
        if let Some(word) = self.words.get_mut(i / 64) {
            *word |= 1u64 << (i % 64);
        }
    }

    /// Removes edge `edge`.
    #[inline]
    pub fn remove(&mut self, edge: u32) {
        let i = edge as usize;
        if let Some(word) = self.words.get_mut(i / 64) {
            *word &= !(1u64 << (i % 64));
        }
    }

    /// The number of edges in the set.
    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Heap bytes held by the set.
    pub fn heap_bytes(&self) -> usize {
        self.words.capacity() * 8
    }
}

/// Whose rules an analysis follows. See the [module docs](self) for the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Semantics {
    /// Chrome DevTools' heap snapshot worker (`JSHeapSnapshot`), the reference
    /// for V8 snapshots: essential edges, page objects, shallow-size
    /// re-attribution of owned internals, DevTools' distances and class names.
    DevTools,
    /// Eclipse MAT, the reference for HPROF: every reference counts for
    /// dominators (a soft-only referent is retained by its `SoftReference`),
    /// paths to GC roots skip weak/soft/phantom/final referents.
    Mat,
    /// NetBeans / VisualVM: weak/soft/phantom referents count neither for
    /// retained sizes nor for paths; `Finalizer.referent` does count for
    /// retained sizes (measured on NetBeans' golden output); stack locals are
    /// GC roots of their own; unreachable objects keep holding what they
    /// reference ([`UnreachableNodes::KeepAsRetainers`]).
    NetBeans,
    /// Every edge but weak-like ones counts (tracemalloc, synthetic graphs).
    StrongOnly,
}

/// What happens to nodes the dominator edges do not reach from the root.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UnreachableNodes {
    /// Chrome DevTools' rule: each unreached node without any dominator edge
    /// coming in starts a depth-first search as if the root pointed to it;
    /// whatever is still unreached (cycles held only by each other) becomes a
    /// direct child of the root, with its own edges ignored. Every node then
    /// has a dominator and the root retains everything.
    AttachToRoot,
    /// MAT's rule: unreached nodes get no dominator and no retained size;
    /// they are listed in the [`crate::DominatorTree::unreachable`] report.
    Exclude,
    /// NetBeans' rule: unreached nodes (garbage the dump still holds) get no
    /// retained size, but their references still count: whatever they point
    /// to is held from outside, as if the root pointed to every unreached
    /// node. A reachable object shared with garbage is therefore not part
    /// of any reachable object's retained size.
    KeepAsRetainers,
}

/// Which edges count, for dominators and for retention paths.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EdgePolicy {
    /// Whose rules to follow.
    pub semantics: Semantics,
    /// What to do with nodes the dominator edges do not reach.
    pub unreachable: UnreachableNodes,
}

impl EdgePolicy {
    /// The reference tool's rules for `format`: DevTools for V8 snapshots,
    /// MAT for HPROF, strong edges only for everything else.
    pub fn for_format(format: Format) -> EdgePolicy {
        match format {
            Format::V8HeapSnapshot => EdgePolicy::devtools(),
            Format::Hprof => EdgePolicy::mat(),
            _ => EdgePolicy::strong_only(),
        }
    }

    /// Chrome DevTools' rules (unreachable nodes attached to the root).
    pub fn devtools() -> EdgePolicy {
        EdgePolicy {
            semantics: Semantics::DevTools,
            unreachable: UnreachableNodes::AttachToRoot,
        }
    }

    /// Eclipse MAT's rules (unreachable nodes excluded).
    pub fn mat() -> EdgePolicy {
        EdgePolicy {
            semantics: Semantics::Mat,
            unreachable: UnreachableNodes::Exclude,
        }
    }

    /// NetBeans/VisualVM's rules: referents ignored for retained sizes too,
    /// unreachable objects kept as retainers.
    pub fn netbeans() -> EdgePolicy {
        EdgePolicy {
            semantics: Semantics::NetBeans,
            unreachable: UnreachableNodes::KeepAsRetainers,
        }
    }

    /// Strong edges only, unreachable nodes excluded.
    pub fn strong_only() -> EdgePolicy {
        EdgePolicy {
            semantics: Semantics::StrongOnly,
            unreachable: UnreachableNodes::Exclude,
        }
    }

    /// The same policy with another rule for unreachable nodes.
    pub fn with_unreachable(mut self, unreachable: UnreachableNodes) -> EdgePolicy {
        self.unreachable = unreachable;
        self
    }

    /// The edges that count for dominators and retained sizes.
    pub fn dominator_edges(&self, graph: &HeapGraph) -> EdgeSet {
        match self.semantics {
            Semantics::DevTools => devtools_essential_edges(graph),
            Semantics::Mat => EdgeSet::all(graph.edge_count()),
            Semantics::NetBeans => {
                // NetBeans follows `Finalizer.referent`: an object waiting
                // for finalization is still held by its finalizer.
                let kinds = graph.edge_kinds();
                EdgeSet::from_fn(graph, |_, e| {
                    kinds
                        .get(e as usize)
                        .is_some_and(|&k| !k.is_weak_like() || k == EdgeKind::Final)
                })
            }
            Semantics::StrongOnly => {
                let kinds = graph.edge_kinds();
                EdgeSet::from_fn(graph, |_, e| {
                    kinds.get(e as usize).is_some_and(|k| !k.is_weak_like())
                })
            }
        }
    }

    /// The edges that decide which nodes are alive, when they differ from
    /// the dominator edges (NetBeans: no referent of any kind, though
    /// `Finalizer.referent` still counts as a retainer).
    pub fn reach_edges(&self, graph: &HeapGraph) -> Option<EdgeSet> {
        match self.semantics {
            Semantics::NetBeans => {
                let kinds = graph.edge_kinds();
                Some(EdgeSet::from_fn(graph, |_, e| {
                    kinds.get(e as usize).is_some_and(|k| !k.is_weak_like())
                }))
            }
            _ => None,
        }
    }

    /// Nodes the policy treats as held by the root directly, besides the
    /// graph's own root edges: for NetBeans, the targets of the
    /// `<Java Local>` and `<JNI Local>` edges the HPROF reader hangs under
    /// thread objects (NetBeans counts stack locals as GC roots of their
    /// own, where MAT makes them references from the thread).
    pub fn extra_roots(&self, graph: &HeapGraph) -> Vec<NodeIndex> {
        if self.semantics != Semantics::NetBeans {
            return Vec::new();
        }
        let strings = graph.strings();
        let locals: Vec<u32> = [&b"<Java Local>"[..], &b"<JNI Local>"[..]]
            .iter()
            .filter_map(|name| strings.find(name))
            .map(|id| id.as_u32())
            .collect();
        if locals.is_empty() {
            return Vec::new();
        }
        let mut roots = Vec::new();
        for node in graph.nodes() {
            for edge in graph.edges(node) {
                if let heapgraph_core::EdgeLabel::Name(id) = edge.label {
                    if !edge.kind.has_index() && locals.contains(&id.as_u32()) {
                        roots.push(edge.target);
                    }
                }
            }
        }
        roots
    }

    /// Whether retention paths may follow edge `edge` leaving `source`.
    pub fn is_path_edge(&self, graph: &HeapGraph, source: NodeIndex, edge: u32) -> bool {
        let Some(&kind) = graph.edge_kinds().get(edge as usize) else {
            return false;
        };
        if kind.is_weak_like() {
            return false;
        }
        match self.semantics {
            Semantics::DevTools => kind != EdgeKind::Shortcut || source.index() == 0,
            _ => true,
        }
    }

    /// The edges retention paths and distances may follow.
    pub fn path_edges(&self, graph: &HeapGraph) -> EdgeSet {
        EdgeSet::from_fn(graph, |source, e| self.is_path_edge(graph, source, e))
    }
}

/// Whether a node counts as V8 `synthetic` (the root, `(GC roots)` and its
/// children, whether or not the parser marked them as root groups).
pub(crate) fn is_v8_synthetic(kind: NodeKind) -> bool {
    matches!(kind, NodeKind::Synthetic | NodeKind::RootGroup)
}

/// DevTools' user roots: the root's children that are not synthetic, plus
/// `(Document DOM trees)`.
pub(crate) fn is_devtools_user_root(graph: &HeapGraph, node: NodeIndex) -> bool {
    !is_v8_synthetic(graph.kind(node)) || is_document_dom_trees(graph, node)
}

fn is_document_dom_trees(graph: &HeapGraph, node: NodeIndex) -> bool {
    is_v8_synthetic(graph.kind(node))
        && graph.strings().bytes(graph.name(node)) == b"(Document DOM trees)"
}

/// DevTools' page objects: flooded over non-weak edges from the root's
/// shortcut targets and its `(Document DOM trees)` element child.
pub(crate) fn devtools_page_objects(graph: &HeapGraph) -> Vec<bool> {
    let n = graph.node_count();
    let mut page = vec![false; n];
    let mut stack: Vec<NodeIndex> = Vec::new();
    let root = NodeIndex::new(0);
    if n == 0 {
        return page;
    }
    for edge in graph.edges(root) {
        let seed = match edge.kind {
            EdgeKind::Shortcut => true,
            EdgeKind::Element => is_document_dom_trees(graph, edge.target),
            _ => false,
        };
        if seed {
            page[edge.target.index()] = true;
            stack.push(edge.target);
        }
    }
    let targets = graph.edge_targets();
    let kinds = graph.edge_kinds();
    while let Some(node) = stack.pop() {
        for e in graph.edge_range(node) {
            let e = e as usize;
            let child = targets[e];
            if page[child.index()] || kinds[e] == EdgeKind::Weak {
                continue;
            }
            page[child.index()] = true;
            stack.push(child);
        }
    }
    page
}

/// The parts of a V8 WeakMap ephemeron edge name
/// `N / part of key (K @id) -> value (V @id) pair in WeakMap (table @T)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WeakMapEdgeName<'a> {
    /// Everything after the leading number; both halves of a pair share it.
    pub duplicated_part: &'a [u8],
    /// The table's node id `T`.
    pub table_id: u64,
}

/// Parses a WeakMap ephemeron edge name the way DevTools' regular expression
/// `^\d+( / part of key \(.*? @\d+\) -> value \(.*? @\d+\) pair in WeakMap \(table @(\d+)\))$`
/// does.
pub(crate) fn parse_weakmap_edge_name(name: &[u8]) -> Option<WeakMapEdgeName<'_>> {
    let digits = name.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let rest = name.get(digits..)?;
    let middle = rest.strip_prefix(b" / part of key (")?;
    // Table id at the end: "... pair in WeakMap (table @123)".
    let body = middle.strip_suffix(b")")?;
    let table_digits = body.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    if table_digits == 0 {
        return None;
    }
    let (body, table) = body.split_at(body.len() - table_digits);
    let body = body.strip_suffix(b" pair in WeakMap (table @")?;
    // body = "K @id) -> value (V @id)"
    if !ends_with_at_number_paren(body) {
        return None;
    }
    // Some split "… @id) -> value (…" must exist.
    let needle: &[u8] = b") -> value (";
    let found = body
        .windows(needle.len())
        .enumerate()
        .any(|(i, w)| w == needle && body.get(..i + 1).is_some_and(ends_with_at_number_paren));
    if !found {
        return None;
    }
    let table_id = std::str::from_utf8(table).ok()?.parse().ok()?;
    Some(WeakMapEdgeName {
        duplicated_part: rest,
        table_id,
    })
}

/// Whether `s` ends with ` @<digits>)`.
fn ends_with_at_number_paren(s: &[u8]) -> bool {
    let Some(s) = s.strip_suffix(b")") else {
        return false;
    };
    let digits = s.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    digits > 0 && s[..s.len() - digits].ends_with(b" @")
}

/// The WeakMap table id of an `internal` edge, if its name is an ephemeron
/// pair name.
pub(crate) fn weakmap_table_id(graph: &HeapGraph, edge: u32) -> Option<u64> {
    let edge = heapgraph_core::EdgeIndex::new(edge);
    if graph.edge_kind(edge) != EdgeKind::Internal {
        return None;
    }
    match graph.edge_label(edge) {
        heapgraph_core::EdgeLabel::Name(id) => {
            parse_weakmap_edge_name(graph.strings().bytes(id)).map(|p| p.table_id)
        }
        heapgraph_core::EdgeLabel::Index(_) => None,
    }
}

fn devtools_essential_edges(graph: &HeapGraph) -> EdgeSet {
    let page = devtools_page_objects(graph);
    let targets = graph.edge_targets();
    let kinds = graph.edge_kinds();
    EdgeSet::from_fn(graph, |source, e| {
        let i = e as usize;
        let kind = kinds[i];
        if kind == EdgeKind::Internal && weakmap_table_id(graph, e) == Some(graph.object_id(source))
        {
            return false;
        }
        if kind.is_weak_like() {
            return false;
        }
        let target = targets[i];
        if source == target {
            return false;
        }
        if source.index() != 0 {
            if kind == EdgeKind::Shortcut {
                return false;
            }
            if page[target.index()] && !page[source.index()] {
                return false;
            }
        }
        true
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn weakmap_names_parse_like_devtools() {
        let name =
            b"3 / part of key (Object @71) -> value (Object @73) pair in WeakMap (table @77)";
        let parsed = parse_weakmap_edge_name(name).unwrap();
        assert_eq!(parsed.table_id, 77);
        assert_eq!(
            parsed.duplicated_part,
            &b" / part of key (Object @71) -> value (Object @73) pair in WeakMap (table @77)"[..]
        );
        // Key names may contain the separator text themselves.
        let tricky =
            b"12 / part of key (a @1) -> value (b @2) -> value (c @3) pair in WeakMap (table @9)";
        assert_eq!(parse_weakmap_edge_name(tricky).unwrap().table_id, 9);
        assert!(parse_weakmap_edge_name(b"map").is_none());
        assert!(
            parse_weakmap_edge_name(b"3 / part of key (x) pair in WeakMap (table @7)").is_none()
        );
        assert!(parse_weakmap_edge_name(
            b"x / part of key (a @1) -> value (b @2) pair in WeakMap (table @7)"
        )
        .is_none());
        assert!(parse_weakmap_edge_name(
            b"1 / part of key (a @1) -> value (b @2) pair in WeakMap (table @)"
        )
        .is_none());
    }

    #[test]
    fn edge_sets() {
        let mut set = EdgeSet::none(130);
        assert_eq!(set.count(), 0);
        set.insert(0);
        set.insert(129);
        set.insert(500); // ignored
        assert!(set.contains(129) && set.contains(0) && !set.contains(64));
        set.remove(0);
        assert_eq!(set.count(), 1);
        assert_eq!(EdgeSet::all(130).count(), 130);
        assert!(!EdgeSet::all(130).contains(130));
    }
}
