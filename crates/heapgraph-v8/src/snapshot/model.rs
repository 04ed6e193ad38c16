//! The public result: [`V8Snapshot`], its header and its side tables.

#[cfg(doc)]
use heapgraph_core::RootKind;
use heapgraph_core::{DomState, HeapGraph, NodeIndex, StackId, StringId};

use super::{Producer, V8Warning};
use crate::meta::SnapshotMeta;

/// The `snapshot` header values, as written (they may disagree with the
/// arrays; the arrays win, see [`V8Snapshot::warnings`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SnapshotHeader {
    /// `snapshot.title`, if any.
    pub title: Option<String>,
    /// `snapshot.uid`, if any.
    pub uid: Option<u64>,
    /// `snapshot.node_count`.
    pub node_count: Option<u64>,
    /// `snapshot.edge_count`.
    pub edge_count: Option<u64>,
    /// `snapshot.trace_function_count`.
    pub trace_function_count: Option<u64>,
    /// `snapshot.root_index`: the root's position in `nodes` (ordinal ×
    /// node field count), as DevTools reads it. Absent means 0.
    pub root_index: Option<u64>,
}

/// A source position from the `locations` section: of a closure, or of an
/// object's constructor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    /// The closure or object.
    pub node: NodeIndex,
    /// V8's script id.
    pub script_id: u32,
    /// The script's own node (`script_object_index`, V8 15+), if the file
    /// has that column.
    pub script_object: Option<NodeIndex>,
    /// 0-based line.
    pub line: u32,
    /// 0-based column.
    pub column: u32,
}

/// One `trace_function_infos` record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceFunctionInfo {
    /// V8's function id (0 repeats; not unique).
    pub function_id: u64,
    /// The function name.
    pub name: StringId,
    /// The script name or URL.
    pub script_name: StringId,
    /// V8's script id.
    pub script_id: u64,
    /// 1-based line, 0 = unknown.
    pub line: u32,
    /// 1-based column, 0 = unknown.
    pub column: u32,
}

/// One node of the allocation `trace_tree`, in pre-order (a parent comes
/// before its children).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceNode {
    /// The trace node id that heap nodes cite as `trace_node_id`.
    pub id: u64,
    /// The parent's position in [`V8Snapshot::trace_nodes`].
    pub parent: Option<u32>,
    /// The position of its function in [`V8Snapshot::trace_function_infos`].
    pub function_info_index: u32,
    /// Objects allocated here while tracking (live or not).
    pub count: u64,
    /// Bytes allocated here while tracking (live or not).
    pub size: u64,
    /// The allocation stack ending in this node (the top-level `(root)`
    /// node has none).
    pub stack: Option<StackId>,
}

/// One `samples` record (allocation timeline).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimelineSample {
    /// Microseconds since tracking started.
    pub timestamp_us: u64,
    /// The last object id assigned at that time.
    pub last_assigned_id: u64,
}

/// One of the V8 15.6 scope sections, kept as signed values with their
/// column names (`scope_id` can be negative).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScopeSection {
    /// The column names from `snapshot.meta`.
    pub fields: Vec<String>,
    /// The values, `fields.len()` per record.
    pub values: Vec<i64>,
}

/// The V8 15.6 scope sections (`scopes`, `scope_context_vars`, `scope_uses`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScopeSections {
    /// `scopes`.
    pub scopes: ScopeSection,
    /// `scope_context_vars`.
    pub context_vars: ScopeSection,
    /// `scope_uses`.
    pub uses: ScopeSection,
}

/// A parsed `.heapsnapshot`: the graph plus V8-specific side tables.
///
/// Node ordinal *k* of the file is [`NodeIndex`] *k* (V8's root, node 0, is
/// the core root). If `snapshot.root_index` names another node, that node
/// and node 0 swap places. Node names are V8's names (a string's value for
/// strings), node kinds and edge kinds map V8's types one to one; the
/// synthetic children of `(GC roots)` (`(Strong roots)`, `(Handle scope)`,
/// ...) are marked as [`RootKind::Engine`] root groups. Bun hangs its roots
/// directly off `(GC roots)`; then `(GC roots)` itself is the group.
#[derive(Debug)]
#[non_exhaustive]
pub struct V8Snapshot {
    /// The object graph.
    pub graph: HeapGraph,
    /// The column layout.
    pub meta: SnapshotMeta,
    /// The header values as written.
    pub header: SnapshotHeader,
    /// Who wrote the file.
    pub producer: Producer,
    /// Per node (indexed by [`NodeIndex`]): `0` unknown, `1` attached,
    /// `2` detached, when the file has a `detachedness` column.
    pub detachedness: Option<Vec<DomState>>,
    /// `snapshot.extra_native_bytes` (V8 15+): memory DevTools adds to the
    /// total.
    pub extra_native_bytes: Option<u64>,
    /// Closure source positions.
    pub locations: Vec<Location>,
    /// Allocation-tracking functions.
    pub trace_function_infos: Vec<TraceFunctionInfo>,
    /// The allocation-tracking call tree, in pre-order.
    pub trace_nodes: Vec<TraceNode>,
    /// The allocation timeline.
    pub samples: Vec<TimelineSample>,
    /// The scope sections, when present.
    pub scopes: Option<ScopeSections>,
    /// Recoverable oddities.
    pub warnings: Vec<V8Warning>,
}

impl V8Snapshot {
    /// Whether object ids can be compared across snapshots of one process
    /// (see [`Producer::ids_stable_across_snapshots`]).
    pub fn ids_stable_across_snapshots(&self) -> bool {
        self.producer.ids_stable_across_snapshots()
    }

    /// The trace node a V8 `trace_node_id` names, if any.
    pub fn trace_node_by_id(&self, id: u64) -> Option<&TraceNode> {
        self.trace_nodes.iter().find(|node| node.id == id)
    }
}
