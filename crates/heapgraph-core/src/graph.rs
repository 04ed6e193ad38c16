//! The frozen, immutable object graph.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::OnceLock;

use crate::{
    EdgeIndex, EdgeKind, Format, NodeIndex, NodeKind, RootKind, StackId, StackTable, StringId,
    StringTable,
};

/// Where a graph came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphInfo {
    /// The file format.
    pub format: Format,
    /// The runtime that wrote the file, as precisely as the file tells
    /// (`"HotSpot (JAVA PROFILE 1.0.2)"`, `"Node.js (V8)"`, `"CPython"`), or
    /// empty when unknown.
    pub producer: String,
}

/// What [`crate::GraphBuilder::finish`] noticed while validating the input.
///
/// Problems that do not prevent building a graph are counted here instead of
/// failing the whole file; parsers and the CLI report them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildDiagnostics {
    /// Edges dropped because their source or target was not a node.
    pub dangling_edges: u64,
    /// The first dropped edge, as `(source, target)` raw indices, to help
    /// locating the problem.
    pub first_dangling_edge: Option<(u32, u32)>,
    /// Duplicate GC-root registrations merged into one root edge.
    pub duplicate_roots: u64,
    /// References the parser could not resolve to a node (counted by the
    /// parser through [`crate::GraphBuilder::count_unresolved_reference`]).
    pub unresolved_references: u64,
}

/// The label of an edge: a name for named kinds, an index for
/// [`EdgeKind::Element`] and [`EdgeKind::Hidden`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EdgeLabel {
    /// A property, field or variable name.
    Name(StringId),
    /// An element or slot index.
    Index(u32),
}

/// One outgoing edge, as returned by [`HeapGraph::edges`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EdgeRef {
    /// The edge's position in CSR order.
    pub index: EdgeIndex,
    /// The node the edge points to.
    pub target: NodeIndex,
    /// The edge's kind.
    pub kind: EdgeKind,
    /// The edge's name or index.
    pub label: EdgeLabel,
}

/// The object graph read from one dump.
///
/// Nodes are stored as struct-of-arrays columns indexed by [`NodeIndex`];
/// edges in compressed sparse row (CSR) form: the edges leaving node `n` are
/// `edge_start[n]..edge_start[n + 1]`, in the order the producer listed them.
///
/// ```text
/// node:        0      1      2      3
/// edge_start: [0,     2,     3,     3,     5]     node_count + 1 entries
///              |      |      |      |
/// edge:        0  1   2             3  4
/// target:     [1, 2,  3,            0, 1]         edge_count entries
/// ```
///
/// Node 0 is always the synthetic root. GC roots hang off it, directly or
/// through root-group nodes (see [`HeapGraph::root_groups`]).
///
/// The frozen graph costs 21 bytes per node (kind 1, name 4, object id 4,
/// self size 8, edge start 4; the id takes 8 when the dump's ids are too
/// spread out for a 32-bit offset from the smallest) and 9 bytes per edge
/// (target 4, kind 1, label 4), plus 4 bytes per node when allocation stacks
/// are linked, plus strings.
#[derive(Debug)]
pub struct HeapGraph {
    pub(crate) info: GraphInfo,
    pub(crate) kind: Vec<NodeKind>,
    pub(crate) name: Vec<StringId>,
    pub(crate) object_id: crate::object_ids::ObjectIds,
    pub(crate) self_size: crate::Sizes,
    /// `node_count + 1` monotone offsets into the edge columns.
    pub(crate) edge_start: Vec<u32>,
    pub(crate) edge_target: Vec<NodeIndex>,
    pub(crate) edge_kind: Vec<EdgeKind>,
    /// A [`StringId`] or an index, depending on the edge kind.
    pub(crate) edge_label: Vec<u32>,
    /// Root-group nodes and their kinds, sorted by node.
    pub(crate) root_groups: Vec<(NodeIndex, RootKind)>,
    pub(crate) strings: StringTable,
    pub(crate) stacks: StackTable,
    /// Per node allocation stack (`u32::MAX` = none), when the format has them.
    pub(crate) node_stack: Option<Vec<u32>>,
    pub(crate) diagnostics: BuildDiagnostics,
    pub(crate) retainers: OnceLock<Retainers>,
    pub(crate) id_index: OnceLock<Vec<(u64, NodeIndex)>>,
}

impl HeapGraph {
    /// Where the graph came from.
    pub fn info(&self) -> &GraphInfo {
        &self.info
    }

    /// The file format the graph was read from.
    pub fn format(&self) -> crate::Format {
        self.info.format
    }

    /// What the builder noticed while validating the input.
    pub fn diagnostics(&self) -> &BuildDiagnostics {
        &self.diagnostics
    }

    /// The number of nodes, including the synthetic root.
    pub fn node_count(&self) -> usize {
        self.kind.len()
    }

    /// The number of edges.
    pub fn edge_count(&self) -> usize {
        self.edge_target.len()
    }

    /// All node indices, root first.
    pub fn nodes(&self) -> impl ExactSizeIterator<Item = NodeIndex> + DoubleEndedIterator {
        (0..self.node_count() as u32).map(NodeIndex)
    }

    /// A node's kind.
    #[inline]
    pub fn kind(&self, node: NodeIndex) -> NodeKind {
        self.kind[node.index()]
    }

    /// A node's name: its class name for objects, its value for strings, the
    /// allocation site for allocation blocks.
    #[inline]
    pub fn name(&self, node: NodeIndex) -> StringId {
        self.name[node.index()]
    }

    /// A node's name decoded for display.
    pub fn name_str(&self, node: NodeIndex) -> Cow<'_, str> {
        self.strings.get(self.name(node))
    }

    /// The identifier the dump gave the object (V8 node id, HPROF address,
    /// tracemalloc trace index). Synthetic nodes made by heapgraph have 0.
    #[inline]
    pub fn object_id(&self, node: NodeIndex) -> u64 {
        self.object_id.get(node.index())
    }

    /// The node's own size in bytes, as the file states it.
    #[inline]
    pub fn self_size(&self, node: NodeIndex) -> u64 {
        self.self_size.get(node.index())
    }

    /// The sum of all nodes' self sizes (saturating: sizes come from files).
    pub fn total_self_size(&self) -> u64 {
        self.self_size.sum()
    }

    /// The kinds column.
    pub fn kinds(&self) -> &[NodeKind] {
        &self.kind
    }

    /// The names column.
    pub fn names(&self) -> &[StringId] {
        &self.name
    }

    /// Every node's object id, in node order (the column is stored in 4
    /// bytes per node where the ids allow, so it is read, not borrowed).
    pub fn object_ids(&self) -> impl ExactSizeIterator<Item = u64> + '_ {
        (0..self.object_id.len()).map(|i| self.object_id.get(i))
    }

    /// The self-size column.
    pub fn self_sizes(&self) -> &crate::Sizes {
        &self.self_size
    }

    /// The CSR offsets: `node_count + 1` entries, the last equal to
    /// `edge_count`.
    pub fn edge_starts(&self) -> &[u32] {
        &self.edge_start
    }

    /// The edge-target column, in CSR order.
    pub fn edge_targets(&self) -> &[NodeIndex] {
        &self.edge_target
    }

    /// The edge-kind column, in CSR order.
    pub fn edge_kinds(&self) -> &[EdgeKind] {
        &self.edge_kind
    }

    /// The edges leaving `node`, as a range of edge indices.
    #[inline]
    pub fn edge_range(&self, node: NodeIndex) -> Range<u32> {
        let i = node.index();
        self.edge_start[i]..self.edge_start[i + 1]
    }

    /// The number of edges leaving `node`.
    pub fn out_degree(&self, node: NodeIndex) -> usize {
        self.edge_range(node).len()
    }

    /// The node an edge points to.
    #[inline]
    pub fn edge_target(&self, edge: EdgeIndex) -> NodeIndex {
        self.edge_target[edge.index()]
    }

    /// An edge's kind.
    #[inline]
    pub fn edge_kind(&self, edge: EdgeIndex) -> EdgeKind {
        self.edge_kind[edge.index()]
    }

    /// An edge's name or index.
    #[inline]
    pub fn edge_label(&self, edge: EdgeIndex) -> EdgeLabel {
        let raw = self.edge_label[edge.index()];
        if self.edge_kind(edge).has_index() {
            EdgeLabel::Index(raw)
        } else {
            EdgeLabel::Name(StringId(raw))
        }
    }

    /// An edge's label for display: the name, or `[index]` for elements.
    pub fn edge_label_str(&self, edge: EdgeIndex) -> Cow<'_, str> {
        match self.edge_label(edge) {
            EdgeLabel::Name(id) => self.strings.get(id),
            EdgeLabel::Index(i) => Cow::Owned(format!("[{i}]")),
        }
    }

    /// The source node of an edge (binary search over the CSR offsets).
    pub fn edge_source(&self, edge: EdgeIndex) -> NodeIndex {
        // The source is the last node whose start is <= edge.
        let upper = self.edge_start.partition_point(|&start| start <= edge.0);
        NodeIndex(upper.saturating_sub(1) as u32)
    }

    /// The edges leaving `node`, in the order the producer listed them.
    pub fn edges(&self, node: NodeIndex) -> impl ExactSizeIterator<Item = EdgeRef> + '_ {
        self.edge_range(node).map(move |e| {
            let index = EdgeIndex(e);
            EdgeRef {
                index,
                target: self.edge_target(index),
                kind: self.edge_kind(index),
                label: self.edge_label(index),
            }
        })
    }

    /// The root-group nodes (children of the root that group GC roots of one
    /// kind), with their kinds, sorted by node.
    pub fn root_groups(&self) -> &[(NodeIndex, RootKind)] {
        &self.root_groups
    }

    /// The root kind of a root-group node, or `None` for other nodes.
    pub fn root_kind(&self, node: NodeIndex) -> Option<RootKind> {
        self.root_groups
            .binary_search_by_key(&node, |&(n, _)| n)
            .ok()
            .map(|i| self.root_groups[i].1)
    }

    /// The string table.
    pub fn strings(&self) -> &StringTable {
        &self.strings
    }

    /// The allocation-stack table (empty when the format records none).
    pub fn stacks(&self) -> &StackTable {
        &self.stacks
    }

    /// The allocation stack of a node, when known.
    pub fn node_stack(&self, node: NodeIndex) -> Option<StackId> {
        let stacks = self.node_stack.as_ref()?;
        match stacks.get(node.index()) {
            Some(&s) if s != u32::MAX => Some(StackId(s)),
            _ => None,
        }
    }

    /// Whether any node has an allocation stack.
    pub fn has_node_stacks(&self) -> bool {
        self.node_stack.is_some()
    }

    /// The node whose dump identifier is `object_id`, if any. The first call
    /// builds a sorted index (12 bytes per node). If several nodes share the
    /// id, a heap object is preferred over the synthetic root and root
    /// groups (a tracemalloc graph's trace 0 and its root both have id 0),
    /// then the lowest index.
    pub fn node_by_object_id(&self, object_id: u64) -> Option<NodeIndex> {
        let index = self.id_index.get_or_init(|| {
            let mut index: Vec<(u64, NodeIndex)> = self
                .object_ids()
                .enumerate()
                .map(|(i, id)| (id, NodeIndex(i as u32)))
                .collect();
            index.sort_unstable();
            index
        });
        let i = index.partition_point(|&(id, _)| id < object_id);
        let same = index
            .get(i..)
            .unwrap_or(&[])
            .iter()
            .take_while(|&&(id, _)| id == object_id)
            .map(|&(_, node)| node);
        let mut first = None;
        for node in same {
            let synthetic = node == NodeIndex::ROOT
                || matches!(self.kind(node), NodeKind::Synthetic | NodeKind::RootGroup);
            if !synthetic {
                return Some(node);
            }
            first.get_or_insert(node);
        }
        first
    }

    /// The reverse edges (retainers), built on first use and kept.
    pub fn retainers(&self) -> &Retainers {
        self.retainers.get_or_init(|| Retainers::build(self))
    }

    /// Heap bytes held by the node columns, edge columns, strings and stacks
    /// (not counting lazily built indexes).
    pub fn heap_bytes(&self) -> GraphMemory {
        let n = self.node_count();
        let per_node_columns = self.kind.capacity()
            + self.name.capacity() * 4
            + self.object_id.heap_bytes()
            + self.self_size.heap_bytes()
            + self.edge_start.capacity() * 4
            + self.node_stack.as_ref().map_or(0, |s| s.capacity() * 4);
        let edge_columns = self.edge_target.capacity() * 4
            + self.edge_kind.capacity()
            + self.edge_label.capacity() * 4;
        GraphMemory {
            node_bytes: per_node_columns,
            edge_bytes: edge_columns,
            string_bytes: self.strings.heap_bytes(),
            nodes: n,
            edges: self.edge_count(),
        }
    }
}

/// How much memory a frozen graph holds, for the budget checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GraphMemory {
    /// Bytes of per-node columns.
    pub node_bytes: usize,
    /// Bytes of per-edge columns.
    pub edge_bytes: usize,
    /// Bytes of the string table.
    pub string_bytes: usize,
    /// The number of nodes.
    pub nodes: usize,
    /// The number of edges.
    pub edges: usize,
}

impl GraphMemory {
    /// Bytes per node of the node columns.
    pub fn bytes_per_node(&self) -> f64 {
        self.node_bytes as f64 / self.nodes.max(1) as f64
    }

    /// Bytes per edge of the edge columns.
    pub fn bytes_per_edge(&self) -> f64 {
        self.edge_bytes as f64 / self.edges.max(1) as f64
    }
}

/// The reverse of the edge relation: for each node, the edges that point to
/// it, in CSR form (4 bytes per edge plus 8 per node). Each edge's source is
/// found by binary search over a copy of the graph's CSR offsets instead of
/// being stored per edge.
#[derive(Debug)]
pub struct Retainers {
    /// `node_count + 1` offsets into `edge`.
    start: Vec<u32>,
    /// Edge indices grouped by target, each group in ascending edge order.
    edge: Vec<EdgeIndex>,
    /// The graph's `node_count + 1` forward offsets (edge → source node).
    edge_start: Vec<u32>,
}

impl Retainers {
    fn build(graph: &HeapGraph) -> Retainers {
        let (start, edge) = crate::csr::group_by_key(graph.node_count(), || {
            graph
                .edge_target
                .iter()
                .enumerate()
                .map(|(e, target)| (target.0, e as u32))
        });
        Retainers {
            start,
            edge: edge.into_iter().map(EdgeIndex).collect(),
            edge_start: graph.edge_start.clone(),
        }
    }

    /// The source node of `edge`: the last node whose edges start at or
    /// before it.
    fn source(&self, edge: EdgeIndex) -> NodeIndex {
        let upper = self.edge_start.partition_point(|&start| start <= edge.0);
        NodeIndex(upper.saturating_sub(1) as u32)
    }

    /// The edges pointing to `node`, as `(source node, edge)` pairs in
    /// ascending edge order.
    pub fn of(
        &self,
        node: NodeIndex,
    ) -> impl ExactSizeIterator<Item = (NodeIndex, EdgeIndex)> + '_ {
        let i = node.index();
        let range = self.start[i] as usize..self.start[i + 1] as usize;
        self.edge[range]
            .iter()
            .map(move |&edge| (self.source(edge), edge))
    }

    /// The number of edges pointing to `node`.
    pub fn count(&self, node: NodeIndex) -> usize {
        let i = node.index();
        (self.start[i + 1] - self.start[i]) as usize
    }
}
