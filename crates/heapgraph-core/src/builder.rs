//! [`GraphBuilder`]: what parsers push nodes and edges into.

use std::sync::OnceLock;

use crate::{
    graph::{BuildDiagnostics, GraphInfo},
    EdgeKind, Format, HeapGraph, NodeIndex, NodeKind, RootKind, StackId, StackTableBuilder,
    StringId, StringInterner, TooManyStacks, TooManyStrings,
};

/// Why a graph could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// More than `u32::MAX - 1` nodes.
    #[error("too many nodes: heapgraph supports at most 4294967294")]
    TooManyNodes,
    /// More than `u32::MAX - 1` edges.
    #[error("too many edges: heapgraph supports at most 4294967294")]
    TooManyEdges,
    /// More than `u32::MAX - 1` strings.
    #[error(transparent)]
    TooManyStrings(#[from] TooManyStrings),
    /// More than `u32::MAX - 1` frames or stacks.
    #[error(transparent)]
    TooManyStacks(#[from] TooManyStacks),
    /// A configured [`Limits`] value was exceeded.
    #[error("{what} exceeds the configured limit of {limit}")]
    LimitExceeded {
        /// What was counted ("nodes", "edges").
        what: &'static str,
        /// The configured limit.
        limit: u64,
    },
}

/// Upper bounds a service can set to refuse oversized dumps early.
///
/// The defaults are the model's own limits (`u32` indices, no limit on
/// string bytes). Parsers check them as they read, and before reading when
/// the file declares its size up front, so an oversized dump is refused
/// without building its graph:
///
/// ```
/// let limits = heapgraph_core::Limits::default()
///     .with_max_nodes(10_000_000)
///     .with_max_string_bytes(256 << 20);
/// assert_eq!(limits.max_nodes, 10_000_000);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The most nodes a graph may have (the synthetic root and root groups
    /// included).
    pub max_nodes: u64,
    /// The most edges a graph may have.
    pub max_edges: u64,
    /// The most bytes all distinct strings (names, labels, frame names and
    /// file names) may take together.
    pub max_string_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_nodes: u64::from(u32::MAX - 1),
            max_edges: u64::from(u32::MAX - 1),
            max_string_bytes: u64::MAX,
        }
    }
}

impl Limits {
    /// These limits with at most `max_nodes` nodes (capped at the model's
    /// `u32::MAX - 1`).
    pub fn with_max_nodes(mut self, max_nodes: u64) -> Self {
        self.max_nodes = max_nodes.min(u64::from(u32::MAX - 1));
        self
    }

    /// These limits with at most `max_edges` edges (capped at the model's
    /// `u32::MAX - 1`).
    pub fn with_max_edges(mut self, max_edges: u64) -> Self {
        self.max_edges = max_edges.min(u64::from(u32::MAX - 1));
        self
    }

    /// These limits with at most `max_string_bytes` bytes of strings.
    pub fn with_max_string_bytes(mut self, max_string_bytes: u64) -> Self {
        self.max_string_bytes = max_string_bytes;
        self
    }

    /// The stricter of `self` and `other`, limit by limit (for a caller
    /// holding limits from two places, such as a format's own options and
    /// a service-wide setting).
    pub fn tightest(self, other: Limits) -> Limits {
        Limits {
            max_nodes: self.max_nodes.min(other.max_nodes),
            max_edges: self.max_edges.min(other.max_edges),
            max_string_bytes: self.max_string_bytes.min(other.max_string_bytes),
        }
    }

    /// Checks a node count the file declares up front (V8's
    /// `node_count`, say), so a parser can refuse before reading further.
    pub fn check_declared_nodes(&self, declared: u64) -> Result<(), BuildError> {
        if declared > self.max_nodes {
            return Err(BuildError::LimitExceeded {
                what: "nodes",
                limit: self.max_nodes,
            });
        }
        Ok(())
    }

    /// Checks an edge count the file declares up front.
    pub fn check_declared_edges(&self, declared: u64) -> Result<(), BuildError> {
        if declared > self.max_edges {
            return Err(BuildError::LimitExceeded {
                what: "edges",
                limit: self.max_edges,
            });
        }
        Ok(())
    }
}

/// Collects nodes and edges in any order, then validates and freezes them
/// into an immutable [`HeapGraph`].
///
/// * The first node added is the root (index 0). If none is added, `finish`
///   makes a synthetic `(root)`.
/// * Edges may name nodes that are added later. Edges whose source or target
///   never becomes a node are dropped at `finish` and counted in
///   [`BuildDiagnostics::dangling_edges`], never a panic.
/// * Edges pushed in ascending source order (as V8 lists them) cost 9 bytes
///   each while building; out-of-order edges add 4 bytes per edge and a
///   counting sort at `finish`. The relative order of each node's edges is
///   kept.
/// * GC roots registered with [`add_gc_root`](Self::add_gc_root) are grouped
///   per [`RootKind`] under one root-group node each, created at `finish`
///   after all other nodes, and deduplicated.
#[derive(Debug)]
pub struct GraphBuilder {
    info: GraphInfo,
    limits: Limits,
    kind: Vec<NodeKind>,
    name: Vec<StringId>,
    object_id: Vec<u64>,
    self_size: crate::Sizes,
    edge_target: Vec<u32>,
    edge_kind: Vec<EdgeKind>,
    edge_label: Vec<u32>,
    /// While edges arrive in ascending source order: per-source edge counts.
    edge_counts: Vec<u32>,
    /// Set once an edge arrives out of order: the source of every edge.
    edge_source: Option<Vec<u32>>,
    last_source: u32,
    gc_roots: Vec<(RootKind, u32)>,
    root_groups: Vec<(NodeIndex, RootKind)>,
    strings: StringInterner,
    stacks: StackTableBuilder,
    node_stack: Option<Vec<u32>>,
    unresolved_references: u64,
    /// `(edges, nodes)` the caller had added when `finish` started
    /// appending root groups: those edges may only name those nodes.
    caller_part: Option<(usize, usize)>,
}

impl GraphBuilder {
    /// An empty builder for a graph read from `format`.
    pub fn new(format: Format) -> Self {
        GraphBuilder {
            info: GraphInfo {
                format,
                producer: String::new(),
            },
            limits: Limits::default(),
            kind: Vec::new(),
            name: Vec::new(),
            object_id: Vec::new(),
            self_size: crate::Sizes::new(),
            edge_target: Vec::new(),
            edge_kind: Vec::new(),
            edge_label: Vec::new(),
            edge_counts: Vec::new(),
            edge_source: None,
            last_source: 0,
            gc_roots: Vec::new(),
            root_groups: Vec::new(),
            strings: StringInterner::new(),
            stacks: StackTableBuilder::new(),
            node_stack: None,
            unresolved_references: 0,
            caller_part: None,
        }
    }

    /// Applies limits; nodes or edges beyond them make `add_*` fail.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self.strings.set_max_bytes(limits.max_string_bytes);
        self
    }

    /// Reserves room for `nodes` nodes and `edges` edges. Callers must bound
    /// these by what the input can hold (never trust a header count alone).
    pub fn reserve(&mut self, nodes: usize, edges: usize) {
        let nodes = nodes.min(self.limits.max_nodes as usize);
        let edges = edges.min(self.limits.max_edges as usize);
        self.kind.reserve(nodes);
        self.name.reserve(nodes);
        self.object_id.reserve(nodes);
        self.self_size.reserve(nodes);
        self.edge_target.reserve(edges);
        self.edge_kind.reserve(edges);
        self.edge_label.reserve(edges);
    }

    /// Sets the producer description (see [`GraphInfo::producer`]).
    pub fn set_producer(&mut self, producer: impl Into<String>) {
        self.info.producer = producer.into();
    }

    /// The string interner, for names and labels.
    pub fn strings(&mut self) -> &mut StringInterner {
        &mut self.strings
    }

    /// Interns a string (shorthand for `strings().intern(..)`).
    pub fn intern(&mut self, s: &[u8]) -> Result<StringId, BuildError> {
        Ok(self.strings.intern(s)?)
    }

    /// The stack-table builder, for allocation stacks.
    pub fn stacks(&mut self) -> &mut StackTableBuilder {
        &mut self.stacks
    }

    /// The number of nodes added so far.
    pub fn node_count(&self) -> usize {
        self.kind.len()
    }

    /// The number of edges added so far.
    pub fn edge_count(&self) -> usize {
        self.edge_target.len()
    }

    /// Adds a node and returns its index. The first node is the root.
    pub fn add_node(
        &mut self,
        kind: NodeKind,
        name: StringId,
        object_id: u64,
        self_size: u64,
    ) -> Result<NodeIndex, BuildError> {
        let index = self.kind.len();
        if index as u64 >= self.limits.max_nodes {
            return Err(self.node_limit_error());
        }
        self.kind.push(kind);
        self.name.push(name);
        self.object_id.push(object_id);
        self.self_size.push(self_size);
        Ok(NodeIndex(index as u32))
    }

    fn node_limit_error(&self) -> BuildError {
        if self.limits.max_nodes >= u64::from(u32::MAX - 1) {
            BuildError::TooManyNodes
        } else {
            BuildError::LimitExceeded {
                what: "nodes",
                limit: self.limits.max_nodes,
            }
        }
    }

    /// Adds an edge with a name label (property, context, internal, ...).
    pub fn add_named_edge(
        &mut self,
        source: NodeIndex,
        target: NodeIndex,
        kind: EdgeKind,
        name: StringId,
    ) -> Result<(), BuildError> {
        self.push_edge(source.0, target.0, kind, name.0)
    }

    /// Adds an edge with an index label (element, hidden).
    pub fn add_indexed_edge(
        &mut self,
        source: NodeIndex,
        target: NodeIndex,
        kind: EdgeKind,
        index: u32,
    ) -> Result<(), BuildError> {
        self.push_edge(source.0, target.0, kind, index)
    }

    /// Adds an edge with a raw label: a [`StringId`] value for named kinds, an
    /// index for [`EdgeKind::has_index`] kinds. Targets may be any `u32`;
    /// those that never become nodes are dropped and counted at `finish`.
    pub fn push_edge(
        &mut self,
        source: u32,
        target: u32,
        kind: EdgeKind,
        label: u32,
    ) -> Result<(), BuildError> {
        let index = self.edge_target.len() as u64;
        if index >= self.limits.max_edges {
            return Err(if self.limits.max_edges >= u64::from(u32::MAX - 1) {
                BuildError::TooManyEdges
            } else {
                BuildError::LimitExceeded {
                    what: "edges",
                    limit: self.limits.max_edges,
                }
            });
        }
        match &mut self.edge_source {
            Some(sources) => sources.push(source),
            None if source >= self.last_source && (source as usize) <= self.kind.len() => {
                let s = source as usize;
                if self.edge_counts.len() <= s {
                    self.edge_counts.resize(s + 1, 0);
                }
                self.edge_counts[s] += 1;
                self.last_source = source;
            }
            None => {
                // First edge out of source order (or from a node not added
                // yet): expand the counts into explicit sources.
                let mut sources =
                    Vec::with_capacity(self.edge_target.capacity().max(index as usize + 1));
                for (s, &count) in self.edge_counts.iter().enumerate() {
                    sources.extend(std::iter::repeat_n(s as u32, count as usize));
                }
                sources.push(source);
                self.edge_counts = Vec::new();
                self.edge_source = Some(sources);
            }
        }
        self.edge_target.push(target);
        self.edge_kind.push(kind);
        self.edge_label.push(label);
        Ok(())
    }

    /// Registers `target` as a GC root of `kind`. At `finish`, the root gets
    /// one root-group node per kind, holding its roots in registration order;
    /// a target registered twice under one kind is held once.
    pub fn add_gc_root(&mut self, target: NodeIndex, kind: RootKind) {
        self.gc_roots.push((kind, target.0));
    }

    /// Declares an existing node to be a root group of `kind` (for formats
    /// that bring their own root structure, like V8's `(GC roots)` children).
    pub fn mark_root_group(&mut self, node: NodeIndex, kind: RootKind) {
        self.root_groups.push((node, kind));
    }

    /// Links a node to its allocation stack.
    pub fn set_node_stack(&mut self, node: NodeIndex, stack: StackId) {
        let stacks = self.node_stack.get_or_insert_with(Vec::new);
        let i = node.index();
        if stacks.len() <= i {
            stacks.resize(i + 1, u32::MAX);
        }
        stacks[i] = stack.0;
    }

    /// Counts a reference the parser could not resolve to any node (for
    /// example an HPROF field pointing to an object that was not dumped).
    pub fn count_unresolved_reference(&mut self) {
        self.unresolved_references += 1;
    }

    /// Validates everything and freezes the graph.
    pub fn finish(mut self) -> Result<HeapGraph, BuildError> {
        if self.kind.is_empty() {
            let name = self.strings.intern(b"(root)")?;
            self.add_node(NodeKind::Synthetic, name, 0, 0)?;
        }
        let mut diagnostics = BuildDiagnostics {
            unresolved_references: self.unresolved_references,
            ..BuildDiagnostics::default()
        };
        self.attach_gc_roots(&mut diagnostics)?;

        let n = self.kind.len();
        let (edge_start, edge_target, edge_kind, edge_label) = self.freeze_edges(&mut diagnostics);

        let mut root_groups = std::mem::take(&mut self.root_groups);
        root_groups.retain(|(node, _)| node.index() < n);
        root_groups.sort_unstable_by_key(|&(node, _)| node);
        root_groups.dedup_by_key(|&mut (node, _)| node);

        let node_stack = self.node_stack.take().map(|mut stacks| {
            stacks.resize(n, u32::MAX);
            stacks.shrink_to_fit();
            stacks
        });
        let mut kind = self.kind;
        let mut name = self.name;
        let object_id = crate::object_ids::ObjectIds::new(self.object_id);
        let mut self_size = self.self_size;
        kind.shrink_to_fit();
        name.shrink_to_fit();
        self_size.shrink_to_fit();

        Ok(HeapGraph {
            info: self.info,
            kind,
            name,
            object_id,
            self_size,
            edge_start,
            edge_target,
            edge_kind,
            edge_label,
            root_groups,
            strings: self.strings.finish(),
            stacks: self.stacks.finish(),
            node_stack,
            diagnostics,
            retainers: OnceLock::new(),
            id_index: OnceLock::new(),
        })
    }

    /// Creates the root-group nodes and their edges.
    fn attach_gc_roots(&mut self, diagnostics: &mut BuildDiagnostics) -> Result<(), BuildError> {
        if self.gc_roots.is_empty() {
            return Ok(());
        }
        self.caller_part = Some((self.edge_target.len(), self.kind.len()));
        let mut roots = std::mem::take(&mut self.gc_roots);
        // A root naming a node never added is a dangling edge; kept, its
        // index would land on a root-group node appended below.
        let named = roots.len();
        roots.retain(|&(_, target)| (target as usize) < self.kind.len());
        diagnostics.dangling_edges += (named - roots.len()) as u64;
        let registered = roots.len();
        // Stable sort keeps registration order within a kind.
        roots.sort_by_key(|&(kind, _)| kind);
        let mut seen = hashbrown::HashSet::with_capacity(roots.len());
        roots.retain(|&pair| seen.insert(pair));
        diagnostics.duplicate_roots = (registered - roots.len()) as u64;

        let mut current: Option<(RootKind, NodeIndex, u32)> = None;
        for (kind, target) in roots {
            let (group, ordinal) = match current {
                Some((k, group, ordinal)) if k == kind => (group, ordinal),
                _ => {
                    let label = self.strings.intern(root_group_name(kind).as_bytes())?;
                    let group = self.add_node(NodeKind::RootGroup, label, 0, 0)?;
                    self.push_edge(0, group.0, EdgeKind::Root, label.0)?;
                    self.root_groups.push((group, kind));
                    (group, 0)
                }
            };
            self.push_edge(group.0, target, EdgeKind::Element, ordinal)?;
            current = Some((kind, group, ordinal + 1));
        }
        Ok(())
    }

    /// Turns the collected edges into CSR columns, dropping dangling ones.
    fn freeze_edges(
        &mut self,
        diagnostics: &mut BuildDiagnostics,
    ) -> (Vec<u32>, Vec<NodeIndex>, Vec<EdgeKind>, Vec<u32>) {
        let n = self.kind.len();
        // An edge the caller pushed to or from a node it never added stays
        // dangling even when a root group appended at finish took that index.
        let (caller_edges, caller_nodes) = self.caller_part.unwrap_or((usize::MAX, n));
        let valid = |edge: usize, source: u32, target: u32| {
            let bound = if edge < caller_edges { caller_nodes } else { n };
            (source as usize) < bound && (target as usize) < bound
        };
        let targets = std::mem::take(&mut self.edge_target);
        let kinds = std::mem::take(&mut self.edge_kind);
        let labels = std::mem::take(&mut self.edge_label);
        let mut dangling = |source: u32, target: u32| {
            diagnostics.dangling_edges += 1;
            diagnostics
                .first_dangling_edge
                .get_or_insert((source, target));
        };

        match self.edge_source.take() {
            None => {
                // In source order already: compact away dangling edges.
                let mut counts = std::mem::take(&mut self.edge_counts);
                let mut out_target = targets;
                let mut out_kind = kinds;
                let mut out_label = labels;
                let mut write = 0usize;
                let mut read = 0usize;
                for (source, count) in counts.iter_mut().enumerate() {
                    let mut kept = 0u32;
                    for _ in 0..*count {
                        let target = out_target[read];
                        if valid(read, source as u32, target) {
                            out_target[write] = target;
                            out_kind[write] = out_kind[read];
                            out_label[write] = out_label[read];
                            write += 1;
                            kept += 1;
                        } else {
                            dangling(source as u32, target);
                        }
                        read += 1;
                    }
                    *count = kept;
                }
                out_target.truncate(write);
                out_kind.truncate(write);
                out_label.truncate(write);
                let mut edge_start = Vec::with_capacity(n + 1);
                let mut total = 0u32;
                edge_start.push(0);
                for i in 0..n {
                    total += counts.get(i).copied().unwrap_or(0);
                    edge_start.push(total);
                }
                out_target.shrink_to_fit();
                out_kind.shrink_to_fit();
                out_label.shrink_to_fit();
                (
                    edge_start,
                    into_node_indices(out_target),
                    out_kind,
                    out_label,
                )
            }
            Some(sources) => {
                // Counting sort by source, stable.
                let mut edge_start = vec![0u32; n + 1];
                let mut kept = 0usize;
                for (i, (&source, &target)) in sources.iter().zip(&targets).enumerate() {
                    if valid(i, source, target) {
                        edge_start[source as usize + 1] += 1;
                        kept += 1;
                    } else {
                        dangling(source, target);
                    }
                }
                for i in 0..n {
                    edge_start[i + 1] += edge_start[i];
                }
                let mut fill = edge_start.clone();
                let mut out_target = vec![NodeIndex(0); kept];
                let mut out_kind = vec![EdgeKind::Property; kept];
                let mut out_label = vec![0u32; kept];
                for (i, (&source, &target)) in sources.iter().zip(&targets).enumerate() {
                    if valid(i, source, target) {
                        let slot = fill[source as usize] as usize;
                        out_target[slot] = NodeIndex(target);
                        out_kind[slot] = kinds[i];
                        out_label[slot] = labels[i];
                        fill[source as usize] += 1;
                    }
                }
                (edge_start, out_target, out_kind, out_label)
            }
        }
    }
}

fn into_node_indices(targets: Vec<u32>) -> Vec<NodeIndex> {
    // A `Vec<u32>` and a `Vec<NodeIndex>` have the same layout, but converting
    // without copying needs unsafe code; this map compiles to an in-place
    // collect (same size and alignment), so it neither copies nor allocates.
    targets.into_iter().map(NodeIndex).collect()
}

/// The display name of a root-group node (MAT's names where they exist).
pub fn root_group_name(kind: RootKind) -> &'static str {
    match kind {
        RootKind::Unknown => "(Unknown roots)",
        RootKind::JniGlobal => "(JNI Global)",
        RootKind::JniLocal => "(JNI Local)",
        RootKind::JavaFrame => "(Java Local)",
        RootKind::NativeStack => "(Native Stack)",
        RootKind::StickyClass => "(System Class)",
        RootKind::ThreadBlock => "(Thread Block)",
        RootKind::MonitorUsed => "(Busy Monitor)",
        RootKind::ThreadObject => "(Thread)",
        RootKind::InternedString => "(Interned String)",
        RootKind::Finalizing => "(Finalizing)",
        RootKind::Debugger => "(Debugger)",
        RootKind::ReferenceCleanup => "(Reference Cleanup)",
        RootKind::VmInternal => "(VM Internal)",
        RootKind::JniMonitor => "(JNI Monitor)",
        RootKind::Engine => "(Engine roots)",
        RootKind::Allocation => "(Allocations)",
    }
}
