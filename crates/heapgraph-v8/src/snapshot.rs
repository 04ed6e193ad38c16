//! `.heapsnapshot` files: [`parse_snapshot`] and [`V8Snapshot`].
//!
//! The reader makes two passes over the bytes:
//!
//! 1. **Locate**: walk the top-level object key by key and remember where
//!    each section's value starts, skipping values (integer arrays by a
//!    `memchr` for their `]`). Sections may come in any order; unknown ones
//!    are skipped with a warning.
//! 2. **Read**, in dependency order: `snapshot` (meta and header counts,
//!    checked against [`ParseOptions::limits`] before anything else),
//!    `strings` (appended to the graph's string table so that V8 string
//!    index `i` is [`StringId`] `base + i`), the allocation-trace sections
//!    (frames and stacks), then `nodes` and `edges` scanned straight into the
//!    [`GraphBuilder`] (digits on every core, see `records`), then
//!    `locations`, `samples` and the scope sections.
//!
//! No JSON tree is built and nothing is allocated per node beyond the
//! graph's own columns (and 4 bytes per node for the edge counts while
//! reading `edges`).

use hashbrown::HashMap;
use heapgraph_core::{
    DomState, EdgeKind, Format, Frame, GraphBuilder, HeapGraph, Limits, NodeIndex, NodeKind,
    RootKind, StackId, StringId, V8_NODE_TYPES,
};

use crate::error::{V8Error, V8ErrorKind};
use crate::json::{Cursor, MAX_DEPTH, MAX_FIELDS};
use crate::meta::{parse_meta, SnapshotMeta};
use crate::records::{scan_records, RecordAt, Scan, Split};
use crate::ParseOptions;

/// The program that wrote a snapshot, guessed from its contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Producer {
    /// Node.js (strings name `node:internal/...` modules).
    Node,
    /// Chromium / Chrome (Blink: `(Document DOM trees)`, `Window`, DOM
    /// nodes), with no sign of Node.js.
    Chromium,
    /// Electron: both Blink and Node.js markers.
    Electron,
    /// Deno (`ext:core/...`, `ext:deno_...` scripts, the `Deno` global).
    Deno,
    /// Bun (JavaScriptCore writing V8's format: string 0 is not `<dummy>`).
    Bun,
    /// Julia's `Profile.take_heap_snapshot`, which writes V8's format with
    /// node types of its own and `from_node` as the edges' target type.
    Julia,
    /// A V8 snapshot with no recognisable embedder.
    UnknownV8,
}

impl Producer {
    /// A display name, also stored in the graph's
    /// [`GraphInfo::producer`](heapgraph_core::GraphInfo::producer).
    pub fn as_str(self) -> &'static str {
        match self {
            Producer::Node => "Node.js (V8)",
            Producer::Chromium => "Chromium (V8)",
            Producer::Electron => "Electron (V8)",
            Producer::Deno => "Deno (V8)",
            Producer::Bun => "Bun (JavaScriptCore)",
            Producer::Julia => "Julia",
            Producer::UnknownV8 => "V8",
        }
    }

    /// Whether object ids are stable across snapshots of one process, so
    /// that id-based diffs and three-snapshot leak detection make sense.
    /// False for Bun, whose ids are renumbered for every snapshot, and for
    /// Julia, whose ids are addresses that a freed object's successor may
    /// reuse.
    pub fn ids_stable_across_snapshots(self) -> bool {
        !matches!(self, Producer::Bun | Producer::Julia)
    }
}

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

/// Something odd but recoverable in a snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum V8Warning {
    /// A header count disagrees with its array; the array was used.
    CountMismatch {
        /// The header field (`node_count`, `edge_count`,
        /// `trace_function_count`).
        field: &'static str,
        /// The header's value.
        header: u64,
        /// What the array holds.
        actual: u64,
    },
    /// A top-level section the reader does not know was skipped.
    UnknownSection {
        /// The section's key.
        name: String,
        /// Where its value starts.
        offset: u64,
    },
    /// An edge type name the reader does not know; such edges were read
    /// as [`EdgeKind::Internal`].
    UnknownEdgeType {
        /// The type's name.
        name: String,
    },
    /// Bytes after the closing `}` of the top-level object.
    TrailingData {
        /// Where they start.
        offset: u64,
    },
    /// Nodes use a type index past the end of `meta.node_types`. V8 of
    /// 2016-2017 (Node 6 to 8) wrote `symbol` nodes as type 12 while its
    /// meta still listed only the first 12 names; such indices are named
    /// from V8's own order of node types when the listed names are a prefix
    /// of it.
    UndeclaredNodeType {
        /// The type index the nodes use.
        index: u64,
        /// The name V8 gives that index.
        name: &'static str,
        /// How many nodes use it.
        count: u64,
    },
    /// A Julia snapshot with objects that nothing references. Julia's
    /// collector marks from roots it records no edge for (the remembered
    /// set of old objects, among others), and its writer records only what
    /// the marking reached, so every object in the file was alive: these
    /// are read as GC roots of unknown kind.
    JuliaUnrecordedRoots {
        /// How many objects.
        count: u64,
    },
}

impl std::fmt::Display for V8Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            V8Warning::CountMismatch {
                field,
                header,
                actual,
            } => write!(
                f,
                "the header says {field} = {header} but the file holds {actual}; {actual} used"
            ),
            V8Warning::UnknownSection { name, offset } => {
                write!(f, "unknown section `{name}` at byte {offset} skipped")
            }
            V8Warning::UnknownEdgeType { name } => {
                write!(f, "unknown edge type `{name}` read as internal edges")
            }
            V8Warning::TrailingData { offset } => {
                write!(
                    f,
                    "data after the end of the snapshot at byte {offset} ignored"
                )
            }
            V8Warning::JuliaUnrecordedRoots { count } => write!(
                f,
                "{count} objects of this Julia snapshot have no retainer; read as GC roots \
                 (Julia records no edge for some of the roots it marks from)"
            ),
            V8Warning::UndeclaredNodeType { index, name, count } => write!(
                f,
                "{count} nodes use node type {index}, which meta.node_types does not list; \
                 read as `{name}` (V8's name for that index)"
            ),
        }
    }
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

/// What the `snapshot` section holds.
struct Header {
    meta: SnapshotMeta,
    header: SnapshotHeader,
    extra_native_bytes: Option<u64>,
    /// Where the `node_count` and `edge_count` values are (the section's
    /// start when absent).
    count_at: (usize, usize),
}

/// Where each top-level section's value starts.
#[derive(Default)]
struct Sections {
    snapshot: Option<usize>,
    nodes: Option<usize>,
    edges: Option<usize>,
    /// Where the `nodes` and `edges` arrays' first `]` is, from the locate
    /// pass (the parallel scan splits the text before it).
    nodes_end: Option<usize>,
    edges_end: Option<usize>,
    strings: Option<usize>,
    trace_function_infos: Option<usize>,
    trace_tree: Option<usize>,
    samples: Option<usize>,
    locations: Option<usize>,
    scopes: Option<usize>,
    scope_context_vars: Option<usize>,
    scope_uses: Option<usize>,
}

/// Exact division by the node field count without a `div` instruction in
/// the edge loop: `position` is a multiple of `d = 2^shift * m` (`m` odd)
/// iff its low `shift` bits are zero and `(position >> shift) * m⁻¹` (mod
/// 2^64) is at most `u64::MAX / m`; that product is then the quotient.
#[derive(Clone, Copy, Debug)]
struct ExactDivisor {
    shift: u32,
    inverse: u64,
    limit: u64,
}

impl ExactDivisor {
    /// `None` for 0.
    fn new(divisor: u64) -> Option<Self> {
        if divisor == 0 {
            return None;
        }
        let shift = divisor.trailing_zeros();
        let odd = divisor >> shift;
        // Newton's iteration: each step doubles the correct low bits
        // (an odd number is its own inverse modulo 8).
        let mut inverse = odd;
        for _ in 0..5 {
            inverse = inverse.wrapping_mul(2u64.wrapping_sub(odd.wrapping_mul(inverse)));
        }
        Some(ExactDivisor {
            shift,
            inverse,
            limit: u64::MAX / odd,
        })
    }

    /// `value / divisor` if the division is exact.
    #[inline]
    fn divide(self, value: u64) -> Option<u64> {
        if value & ((1u64 << self.shift) - 1) != 0 {
            return None;
        }
        let quotient = (value >> self.shift).wrapping_mul(self.inverse);
        (quotient <= self.limit).then_some(quotient)
    }
}

/// Whether a snapshot was written by Julia: its edges' target column is
/// typed `from_node` (V8, Bun and every other writer say `node`), or its
/// node types are Julia's C types (`jl_datatype_t`, ...).
fn is_julia(meta: &SnapshotMeta) -> bool {
    meta.edge_value_types.iter().any(|t| t == "from_node")
        || meta.node_types.iter().any(|t| t.starts_with("jl_"))
}

fn map_edge_type(name: &str) -> Option<EdgeKind> {
    Some(match name {
        "context" => EdgeKind::Context,
        "element" => EdgeKind::Element,
        "property" => EdgeKind::Property,
        "internal" => EdgeKind::Internal,
        "hidden" => EdgeKind::Hidden,
        "shortcut" => EdgeKind::Shortcut,
        "weak" => EdgeKind::Weak,
        _ => return None,
    })
}

/// Parses a whole `.heapsnapshot` file.
///
/// # Errors
///
/// A [`V8Error`] with the byte offset of the first problem: truncation,
/// malformed JSON, a missing required section (`snapshot`, `nodes`,
/// `edges`, `strings`) or meta column, an index out of range, or edge
/// counts that disagree with the `edges` array.
pub fn parse_snapshot(bytes: &[u8]) -> Result<V8Snapshot, V8Error> {
    parse(bytes, &ParseOptions::default())
}

/// Reads a `.heapsnapshot` held in memory. This is the parser contract
/// every heapgraph parser crate shares: [`sniff`](crate::sniff) on a
/// prefix, then `parse(bytes, &options)`.
///
/// [`ParseOptions::limits`] refuses a snapshot whose header declares more
/// nodes or edges than allowed before reading anything else, and one whose
/// arrays or strings go over a limit at the record or string that does.
/// [`ParseOptions::on_consumed`] gets the `nodes`, `edges`, `locations`
/// and `strings` sections as they are consumed, a few hundred kilobytes to
/// a few megabytes at a time, in order within each section, never
/// overlapping, from the calling thread; a caller that memory-mapped the
/// file drops those pages there, so the JSON is not resident next to the
/// graph being built (together they would set the peak at the end of the
/// parse). The parse may look at a released range again (to find the
/// offset of an error), so the bytes must stay valid and unchanged.
///
/// # Errors
///
/// As [`parse_snapshot`], and [`V8ErrorKind::Graph`] with
/// [`BuildError::LimitExceeded`](heapgraph_core::BuildError::LimitExceeded)
/// (at the declared `node_count` or `edge_count`, or at the first record
/// over the limit) or a string-bytes
/// [`TooManyStrings`](heapgraph_core::TooManyStrings) (at the string) for a
/// limit.
pub fn parse(bytes: &[u8], options: &ParseOptions) -> Result<V8Snapshot, V8Error> {
    Reader::new(bytes, options, &|range| options.on_consumed.consumed(range)).read()
}

/// [`parse_snapshot`] with the `nodes`/`edges` split chosen by a test.
#[cfg(test)]
fn parse_split(bytes: &[u8], split: Split) -> Result<V8Snapshot, V8Error> {
    parse_split_releasing(bytes, split, &|_| {})
}

/// [`parse`] with a release hook and the split chosen by a test.
#[cfg(test)]
fn parse_split_releasing(
    bytes: &[u8],
    split: Split,
    done_with: &dyn Fn(std::ops::Range<usize>),
) -> Result<V8Snapshot, V8Error> {
    let mut reader = Reader::new(bytes, &ParseOptions::default(), done_with);
    reader.split = split;
    reader.read()
}

struct Reader<'a> {
    bytes: &'a [u8],
    limits: Limits,
    builder: GraphBuilder,
    warnings: Vec<V8Warning>,
    /// `StringId` of V8 string 0.
    string_base: u32,
    string_count: u64,
    gc_roots_string: Option<u64>,
    root_string: Option<u64>,
    /// Strings counted by the locate pass, and the section's byte length.
    string_reserve: (u64, usize),
    /// How the `nodes` and `edges` arrays are split across threads.
    split: Split,
    /// Told of the byte ranges the parse has finished reading.
    release: &'a dyn Fn(std::ops::Range<usize>),
}

fn section_error(section: &'static str) -> V8ErrorKind {
    V8ErrorKind::MissingSection { section }
}

impl<'a> Reader<'a> {
    fn new(
        bytes: &'a [u8],
        options: &ParseOptions,
        release: &'a dyn Fn(std::ops::Range<usize>),
    ) -> Self {
        Reader {
            bytes,
            limits: options.limits,
            builder: GraphBuilder::new(Format::V8HeapSnapshot).with_limits(options.limits),
            warnings: Vec::new(),
            string_base: 0,
            string_count: 0,
            gc_roots_string: None,
            root_string: None,
            string_reserve: (0, 0),
            split: Split::default(),
            release,
        }
    }

    fn cursor(&self, pos: usize, section: &'static str) -> Cursor<'a> {
        Cursor::new(self.bytes, pos, section)
    }

    fn read(mut self) -> Result<V8Snapshot, V8Error> {
        let sections = self.locate()?;
        let end = self.bytes.len();
        let snapshot_pos = sections
            .snapshot
            .ok_or_else(|| V8Error::new(end, section_error("snapshot")))?;
        let Header {
            meta,
            header,
            extra_native_bytes,
            count_at,
        } = self.read_header(snapshot_pos)?;
        // Refuse an oversized snapshot before reading its strings.
        let refuse = |at: usize| move |e| V8Error::new(at, V8ErrorKind::Graph(e));
        if let Some(declared) = header.node_count {
            self.limits
                .check_declared_nodes(declared)
                .map_err(refuse(count_at.0))?;
        }
        if let Some(declared) = header.edge_count {
            self.limits
                .check_declared_edges(declared)
                .map_err(refuse(count_at.1))?;
        }

        let strings_pos = sections
            .strings
            .ok_or_else(|| V8Error::new(end, section_error("strings")))?;
        let markers = self.read_strings(strings_pos)?;

        let trace_function_infos = match sections.trace_function_infos {
            Some(pos) => self.read_trace_function_infos(pos, &meta, &header)?,
            None => Vec::new(),
        };
        let mut trace_nodes = match sections.trace_tree {
            Some(pos) => self.read_trace_tree(pos, &meta, trace_function_infos.len())?,
            None => Vec::new(),
        };
        let stack_by_trace_id = self.build_stacks(
            &trace_function_infos,
            &mut trace_nodes,
            sections.trace_tree.unwrap_or(0),
        )?;

        let nodes_pos = sections
            .nodes
            .ok_or_else(|| V8Error::new(end, section_error("nodes")))?;
        let edges_pos = sections
            .edges
            .ok_or_else(|| V8Error::new(end, section_error("edges")))?;
        let nodes = self.read_nodes(
            nodes_pos,
            sections.nodes_end,
            &meta,
            &header,
            &stack_by_trace_id,
        )?;
        self.read_edges(edges_pos, sections.edges_end, &meta, &header, &nodes)?;

        let locations = match sections.locations {
            Some(pos) => self.read_locations(pos, &meta, &nodes)?,
            None => Vec::new(),
        };
        let samples = match sections.samples {
            Some(pos) => self.read_samples(pos, &meta)?,
            None => Vec::new(),
        };
        let scopes = if sections.scopes.is_some()
            || sections.scope_context_vars.is_some()
            || sections.scope_uses.is_some()
        {
            Some(ScopeSections {
                scopes: self.read_scope_section(sections.scopes, "scopes", &meta.scope_fields)?,
                context_vars: self.read_scope_section(
                    sections.scope_context_vars,
                    "scope_context_vars",
                    &meta.scope_context_var_fields,
                )?,
                uses: self.read_scope_section(
                    sections.scope_uses,
                    "scope_uses",
                    &meta.scope_use_fields,
                )?,
            })
        } else {
            None
        };

        let producer = if is_julia(&meta) {
            Producer::Julia
        } else {
            markers.producer()
        };
        self.builder.set_producer(producer.as_str());
        let graph = self
            .builder
            .finish()
            .map_err(|e| V8Error::new(end, V8ErrorKind::Graph(e)))?;
        Ok(V8Snapshot {
            graph,
            meta,
            header,
            producer,
            detachedness: nodes.detachedness,
            extra_native_bytes,
            locations,
            trace_function_infos,
            trace_nodes,
            samples,
            scopes,
            warnings: self.warnings,
        })
    }

    /// Pass 1: the top-level object's sections.
    fn locate(&mut self) -> Result<Sections, V8Error> {
        let mut sections = Sections::default();
        let start = if self.bytes.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        let mut cursor = self.cursor(start, "top level");
        cursor.expect(b'{', "`{`")?;
        let mut key = Vec::new();
        let mut first = true;
        while cursor.next_item(b'}', first)? {
            first = false;
            cursor.set_section("top level");
            cursor.key(&mut key)?;
            cursor.skip_ws();
            let pos = cursor.pos();
            let (slot, name, numbers): (Option<&mut Option<usize>>, &'static str, bool) =
                match key.as_slice() {
                    b"snapshot" => (Some(&mut sections.snapshot), "snapshot", false),
                    b"nodes" => (Some(&mut sections.nodes), "nodes", true),
                    b"edges" => (Some(&mut sections.edges), "edges", true),
                    b"strings" => (Some(&mut sections.strings), "strings", false),
                    b"trace_function_infos" => (
                        Some(&mut sections.trace_function_infos),
                        "trace_function_infos",
                        true,
                    ),
                    b"trace_tree" => (Some(&mut sections.trace_tree), "trace_tree", false),
                    b"samples" => (Some(&mut sections.samples), "samples", true),
                    b"locations" => (Some(&mut sections.locations), "locations", true),
                    b"scopes" => (Some(&mut sections.scopes), "scopes", true),
                    b"scope_context_vars" => (
                        Some(&mut sections.scope_context_vars),
                        "scope_context_vars",
                        true,
                    ),
                    b"scope_uses" => (Some(&mut sections.scope_uses), "scope_uses", true),
                    _ => (None, "unknown section", false),
                };
            cursor.set_section(name);
            match slot {
                Some(slot) => {
                    if slot.is_some() {
                        return Err(V8Error::new(
                            pos,
                            V8ErrorKind::DuplicateSection { section: name },
                        ));
                    }
                    *slot = Some(pos);
                }
                None => self.warnings.push(V8Warning::UnknownSection {
                    name: String::from_utf8_lossy(&key).into_owned(),
                    offset: pos as u64,
                }),
            }
            if numbers {
                let is_array = cursor.peek() == Some(b'[');
                cursor.skip_number_array()?;
                let end = is_array.then(|| cursor.pos().saturating_sub(1));
                match name {
                    "nodes" => sections.nodes_end = end,
                    "edges" => sections.edges_end = end,
                    _ => {}
                }
            } else if name == "strings" {
                let count = cursor.skip_string_array()?;
                self.string_reserve = (count, cursor.pos().saturating_sub(pos));
            } else {
                cursor.skip_value()?;
            }
        }
        cursor.skip_ws();
        if cursor.pos() < self.bytes.len() {
            self.warnings.push(V8Warning::TrailingData {
                offset: cursor.pos() as u64,
            });
        }
        Ok(sections)
    }

    fn read_header(&mut self, pos: usize) -> Result<Header, V8Error> {
        let mut cursor = self.cursor(pos, "snapshot");
        let mut header = SnapshotHeader::default();
        let mut meta = None;
        let mut extra_native_bytes = None;
        let mut count_at = (pos, pos);
        let mut key = Vec::new();
        let mut buf = Vec::new();
        cursor.expect(b'{', "`{`")?;
        let mut first = true;
        while cursor.next_item(b'}', first)? {
            first = false;
            cursor.key(&mut key)?;
            match key.as_slice() {
                b"meta" => {
                    cursor.set_section("meta");
                    meta = Some(parse_meta(&mut cursor)?);
                    cursor.set_section("snapshot");
                }
                b"node_count" => {
                    cursor.skip_ws();
                    count_at.0 = cursor.pos();
                    header.node_count = Some(cursor.uint()?);
                }
                b"edge_count" => {
                    cursor.skip_ws();
                    count_at.1 = cursor.pos();
                    header.edge_count = Some(cursor.uint()?);
                }
                b"trace_function_count" => header.trace_function_count = Some(cursor.uint()?),
                b"root_index" => header.root_index = Some(cursor.uint()?),
                b"uid" => header.uid = Some(cursor.uint()?),
                b"extra_native_bytes" => extra_native_bytes = Some(cursor.uint()?),
                b"title" if cursor.peek() == Some(b'"') => {
                    cursor.string(&mut buf)?;
                    header.title = Some(String::from_utf8_lossy(&buf).into_owned());
                }
                _ => cursor.skip_value()?,
            }
        }
        let meta = meta.ok_or_else(|| V8Error::new(pos, section_error("snapshot.meta")))?;
        Ok(Header {
            meta,
            header,
            extra_native_bytes,
            count_at,
        })
    }

    fn read_strings(&mut self, pos: usize) -> Result<ProducerMarkers, V8Error> {
        let mut cursor = self.cursor(pos, "strings");
        let mut markers = ProducerMarkers::default();
        let mut buf = Vec::new();
        // Both bounded by the input: the count was found in it, and decoded
        // strings are never longer than their JSON text.
        let (strings, section_bytes) = self.string_reserve;
        let max_bytes = usize::try_from(self.limits.max_string_bytes).unwrap_or(usize::MAX);
        self.builder
            .strings()
            .reserve(strings as usize, section_bytes.min(max_bytes));
        cursor.expect(b'[', "`[`")?;
        let mut first = true;
        let mut count = 0u64;
        while cursor.next_item(b']', first)? {
            first = false;
            cursor.skip_ws();
            let at = cursor.pos();
            cursor.string(&mut buf)?;
            let id = self
                .builder
                .strings()
                .push_unique(&buf)
                .map_err(|e| V8Error::new(at, V8ErrorKind::Graph(e.into())))?;
            if count == 0 {
                self.string_base = id.as_u32();
                markers.first_is_dummy = buf == b"<dummy>";
            }
            if self.gc_roots_string.is_none() && buf == b"(GC roots)" {
                self.gc_roots_string = Some(count);
            }
            if self.root_string.is_none() && buf == b"(root)" {
                self.root_string = Some(count);
            }
            markers.observe(&buf);
            count += 1;
        }
        // Nothing reads the strings' text again.
        (self.release)(pos..cursor.pos());
        self.string_count = count;
        Ok(markers)
    }

    /// Maps a V8 string index to the graph's string id.
    #[inline]
    fn string_id(&self, index: u64, section: &'static str, at: usize) -> Result<u32, V8Error> {
        if index >= self.string_count {
            return Err(V8Error::new(
                at,
                V8ErrorKind::IndexOutOfRange {
                    section,
                    what: "string index",
                    index,
                    len: self.string_count,
                },
            ));
        }
        // Both fit in u32: string_count is at most the interner's u32 range.
        Ok(self.string_base + index as u32)
    }

    /// Reads a flat record array into `values`, checking its width.
    fn read_flat(
        &self,
        pos: usize,
        section: &'static str,
        width: usize,
    ) -> Result<Vec<(u64, usize)>, V8Error> {
        let mut cursor = self.cursor(pos, section);
        let mut values = Vec::new();
        let count = cursor.uint_array(|value, at| {
            values.push((value, at));
            Ok(())
        })?;
        if width == 0 || count % width as u64 != 0 {
            return Err(V8Error::new(
                pos,
                V8ErrorKind::RaggedArray {
                    section,
                    len: count,
                    width: width as u64,
                },
            ));
        }
        Ok(values)
    }

    fn read_trace_function_infos(
        &mut self,
        pos: usize,
        meta: &SnapshotMeta,
        header: &SnapshotHeader,
    ) -> Result<Vec<TraceFunctionInfo>, V8Error> {
        const LIST: &str = "trace_function_info_fields";
        let fields = &meta.trace_function_info_fields;
        let mut cursor = self.cursor(pos, "trace_function_infos");
        if cursor.peek() == Some(b'[') && fields.is_empty() {
            // Tolerate an empty section without a layout.
            let count = cursor.uint_array(|_, _| Ok(()))?;
            if count == 0 {
                return Ok(Vec::new());
            }
        }
        let col = |name: &'static str| {
            SnapshotMeta::column(fields, name).ok_or_else(|| {
                V8Error::new(
                    pos,
                    V8ErrorKind::MissingColumn {
                        list: LIST,
                        column: name,
                    },
                )
            })
        };
        let (c_id, c_name, c_script_name, c_script_id, c_line, c_column) = (
            col("function_id")?,
            col("name")?,
            col("script_name")?,
            col("script_id")?,
            col("line")?,
            col("column")?,
        );
        let width = fields.len();
        let values = self.read_flat(pos, "trace_function_infos", width)?;
        let mut infos = Vec::with_capacity(values.len() / width.max(1));
        for record in values.chunks_exact(width) {
            let get = |c: usize| record.get(c).copied().unwrap_or((0, pos));
            let small = |c: usize| {
                let (v, at) = get(c);
                u32::try_from(v).map_err(|_| {
                    V8Error::new(
                        at,
                        V8ErrorKind::NumberTooLarge {
                            section: "trace_function_infos",
                            max: u64::from(u32::MAX),
                        },
                    )
                })
            };
            let (name, name_at) = get(c_name);
            let (script_name, script_at) = get(c_script_name);
            infos.push(TraceFunctionInfo {
                function_id: get(c_id).0,
                name: StringId::new(self.string_id(name, "trace_function_infos", name_at)?),
                script_name: StringId::new(self.string_id(
                    script_name,
                    "trace_function_infos",
                    script_at,
                )?),
                script_id: get(c_script_id).0,
                line: small(c_line)?,
                column: small(c_column)?,
            });
        }
        if let Some(declared) = header.trace_function_count {
            if declared != infos.len() as u64 {
                self.warnings.push(V8Warning::CountMismatch {
                    field: "trace_function_count",
                    header: declared,
                    actual: infos.len() as u64,
                });
            }
        }
        Ok(infos)
    }

    /// Reads the nested `trace_tree` iteratively into a pre-order table.
    fn read_trace_tree(
        &mut self,
        pos: usize,
        meta: &SnapshotMeta,
        function_count: usize,
    ) -> Result<Vec<TraceNode>, V8Error> {
        const SECTION: &str = "trace_tree";
        let fields = &meta.trace_node_fields;
        let mut cursor = self.cursor(pos, SECTION);
        let mut nodes: Vec<TraceNode> = Vec::new();
        if fields.is_empty() {
            // Tolerate an empty tree without a layout.
            cursor.expect(b'[', "`[`")?;
            cursor.expect(b']', "`]` (no `trace_node_fields` in meta)")?;
            return Ok(nodes);
        }
        let col = |name: &'static str| {
            SnapshotMeta::column(fields, name).ok_or_else(|| {
                V8Error::new(
                    pos,
                    V8ErrorKind::MissingColumn {
                        list: "trace_node_fields",
                        column: name,
                    },
                )
            })
        };
        let c_id = col("id")?;
        let c_function = col("function_info_index")?;
        let c_count = SnapshotMeta::column(fields, "count");
        let c_size = SnapshotMeta::column(fields, "size");
        let c_children = col("children")?;
        let width = fields.len();

        /// One open list of records: whose children they are, which field
        /// comes next, and the record being filled.
        struct Open {
            parent: Option<u32>,
            field: usize,
            record: u32,
            first: bool,
        }
        cursor.expect(b'[', "`[`")?;
        let mut stack = vec![Open {
            parent: None,
            field: 0,
            record: 0,
            first: true,
        }];
        while let Some(top) = stack.last_mut() {
            if !cursor.next_item(b']', top.first)? {
                if top.field != 0 {
                    return Err(cursor.error(V8ErrorKind::RaggedArray {
                        section: SECTION,
                        len: top.field as u64,
                        width: width as u64,
                    }));
                }
                stack.pop();
                if let Some(parent) = stack.last_mut() {
                    parent.field += 1;
                    if parent.field == width {
                        parent.field = 0;
                    }
                }
                continue;
            }
            top.first = false;
            if top.field == 0 {
                top.record = u32::try_from(nodes.len()).map_err(|_| {
                    cursor.error(V8ErrorKind::NumberTooLarge {
                        section: SECTION,
                        max: u64::from(u32::MAX),
                    })
                })?;
                nodes.push(TraceNode {
                    id: 0,
                    parent: top.parent,
                    function_info_index: 0,
                    count: 0,
                    size: 0,
                    stack: None,
                });
            }
            let field = top.field;
            let record = top.record;
            if field == c_children {
                cursor.expect(b'[', "`[` (children)")?;
                if stack.len() as u32 >= MAX_DEPTH {
                    return Err(cursor.error(V8ErrorKind::TooDeep {
                        section: SECTION,
                        limit: MAX_DEPTH,
                    }));
                }
                stack.push(Open {
                    parent: Some(record),
                    field: 0,
                    record: 0,
                    first: true,
                });
                continue;
            }
            let at = cursor.pos();
            let value = cursor.uint()?;
            if let Some(node) = nodes.get_mut(record as usize) {
                if field == c_id {
                    node.id = value;
                } else if field == c_function {
                    if value >= function_count as u64 {
                        return Err(V8Error::new(
                            at,
                            V8ErrorKind::IndexOutOfRange {
                                section: SECTION,
                                what: "function_info_index",
                                index: value,
                                len: function_count as u64,
                            },
                        ));
                    }
                    node.function_info_index = value as u32;
                } else if Some(field) == c_count {
                    node.count = value;
                } else if Some(field) == c_size {
                    node.size = value;
                }
            }
            top.field += 1;
            if top.field == width {
                top.field = 0;
            }
        }
        Ok(nodes)
    }

    /// Interns frames and stacks for the trace tree; maps trace node ids to
    /// stacks.
    fn build_stacks(
        &mut self,
        infos: &[TraceFunctionInfo],
        trace_nodes: &mut [TraceNode],
        section_pos: usize,
    ) -> Result<HashMap<u64, StackId>, V8Error> {
        let mut by_id = HashMap::with_capacity(trace_nodes.len());
        let root_name = self
            .root_string
            .map(|index| StringId::new(self.string_base + index as u32));
        for i in 0..trace_nodes.len() {
            let Some(node) = trace_nodes.get(i).copied() else {
                break;
            };
            let Some(info) = infos.get(node.function_info_index as usize) else {
                continue;
            };
            let parent_stack = node
                .parent
                .and_then(|p| trace_nodes.get(p as usize))
                .and_then(|p| p.stack);
            let stack = if node.parent.is_none() && Some(info.name) == root_name {
                None
            } else {
                let frame = self
                    .builder
                    .stacks()
                    .intern_frame(Frame {
                        function: info.name,
                        file: info.script_name,
                        line: info.line,
                        column: info.column,
                    })
                    .map_err(|e| V8Error::new(section_pos, V8ErrorKind::Graph(e.into())))?;
                Some(
                    self.builder
                        .stacks()
                        .push_frame(parent_stack, frame)
                        .map_err(|e| V8Error::new(section_pos, V8ErrorKind::Graph(e.into())))?,
                )
            };
            if let Some(slot) = trace_nodes.get_mut(i) {
                slot.stack = stack;
            }
            if let Some(stack) = stack {
                by_id.insert(node.id, stack);
            }
        }
        Ok(by_id)
    }

    fn read_nodes(
        &mut self,
        pos: usize,
        end: Option<usize>,
        meta: &SnapshotMeta,
        header: &SnapshotHeader,
        stack_by_trace_id: &HashMap<u64, StackId>,
    ) -> Result<NodesInfo, V8Error> {
        const SECTION: &str = "nodes";
        const LIST: &str = "node_fields";
        let fields = &meta.node_fields;
        let col = |name: &'static str| {
            SnapshotMeta::column(fields, name).ok_or_else(|| {
                V8Error::new(
                    pos,
                    V8ErrorKind::MissingColumn {
                        list: LIST,
                        column: name,
                    },
                )
            })
        };
        let c_type = col("type")?;
        let c_name = col("name")?;
        let c_id = col("id")?;
        let c_size = col("self_size")?;
        let c_edges = col("edge_count")?;
        let c_trace = SnapshotMeta::column(fields, "trace_node_id");
        let c_detached = SnapshotMeta::column(fields, "detachedness");
        let nf = fields.len();
        if nf > MAX_FIELDS {
            return Err(V8Error::new(
                pos,
                V8ErrorKind::BadMeta {
                    what: "more than 64 node fields",
                },
            ));
        }
        // Julia's `array` nodes are Julia objects (`Array{Any, 1}`, ...), not
        // V8's internal arrays that DevTools folds into their owners.
        let julia = is_julia(meta);
        let mut kinds: Vec<NodeKind> = meta
            .node_types
            .iter()
            .map(|t| match t.as_str() {
                "array" if julia => NodeKind::Object,
                _ => NodeKind::from_v8_type(t),
            })
            .collect();
        // Type indices past the listed names, named from V8's own order
        // when the listed names follow it (see `UndeclaredNodeType`).
        let declared_types = kinds.len();
        let follows_v8_order = declared_types > 0
            && meta
                .node_types
                .iter()
                .zip(V8_NODE_TYPES)
                .all(|(listed, (v8, _))| listed == v8)
            && declared_types <= V8_NODE_TYPES.len();
        if follows_v8_order {
            kinds.extend(
                V8_NODE_TYPES[declared_types..]
                    .iter()
                    .map(|&(_, kind)| kind),
            );
        }
        let mut undeclared_uses = [0u64; V8_NODE_TYPES.len()];
        let bytes = self.bytes;

        // The root swap, when `root_index` names another node.
        let root_ordinal = match header.root_index {
            None | Some(0) => 0,
            Some(position) => {
                if position % nf as u64 != 0 {
                    return Err(V8Error::new(
                        pos,
                        V8ErrorKind::MisalignedNodePosition {
                            section: "snapshot.root_index",
                            position,
                            field_count: nf as u64,
                        },
                    ));
                }
                position / nf as u64
            }
        };
        let mut root_record = ([0u64; MAX_FIELDS], RecordAt::at(pos));
        if root_ordinal != 0 {
            let mut ordinal = 0u64;
            let mut found = false;
            // Nothing released: the nodes are read again just below.
            let keep = Scan {
                split: self.split,
                release: &|_| {},
            };
            scan_records(bytes, pos, end, SECTION, nf, keep, |record, start| {
                if ordinal == root_ordinal {
                    for (slot, &value) in root_record.0.iter_mut().zip(record) {
                        *slot = value;
                    }
                    root_record.1 = start;
                    found = true;
                }
                ordinal += 1;
                Ok(())
            })?;
            if !found {
                return Err(V8Error::new(
                    pos,
                    V8ErrorKind::IndexOutOfRange {
                        section: "snapshot.root_index",
                        what: "root node",
                        index: root_ordinal,
                        len: ordinal,
                    },
                ));
            }
        }

        let mut info = NodesInfo {
            field_count: nf as u64,
            edge_counts: Vec::new(),
            detachedness: c_detached.map(|_| Vec::new()),
            gc_roots: None,
            synthetic: Vec::new(),
            root_ordinal,
            node_count: 0,
        };
        // Bound the reservation by what the bytes can hold (>= 2 bytes per
        // number).
        let upper = bytes.len().saturating_sub(pos) / (2 * nf.max(1));
        let reserve = header.node_count.map_or(0, |n| (n as usize).min(upper));
        self.builder.reserve(reserve, 0);
        info.edge_counts.reserve(reserve);
        if let Some(d) = info.detachedness.as_mut() {
            d.reserve(reserve);
        }

        let mut saved_zero = ([0u64; MAX_FIELDS], RecordAt::at(pos));
        let mut ordinal = 0u64;
        let string_count = self.string_count;
        let string_base = self.string_base;
        let gc_roots_string = self.gc_roots_string;
        let builder = &mut self.builder;
        let split = Scan {
            split: self.split,
            release: self.release,
        };
        scan_records(bytes, pos, end, SECTION, nf, split, |record, start| {
            // The record to add at this position (swapped for the root).
            let (this, this_start): (&[u64], RecordAt) = if root_ordinal == 0 {
                (record, start)
            } else if ordinal == 0 {
                for (slot, &value) in saved_zero.0.iter_mut().zip(record) {
                    *slot = value;
                }
                saved_zero.1 = start;
                (&root_record.0, root_record.1)
            } else if ordinal == root_ordinal {
                (&saved_zero.0, saved_zero.1)
            } else {
                (record, start)
            };
            let get = |c: usize| this.get(c).copied().unwrap_or(0);
            let type_index = get(c_type);
            let Some(&kind) = kinds.get(type_index as usize) else {
                return Err(V8Error::new(
                    this_start.field(bytes, c_type),
                    V8ErrorKind::IndexOutOfRange {
                        section: SECTION,
                        what: "node type",
                        index: type_index,
                        len: declared_types as u64,
                    },
                ));
            };
            if type_index as usize >= declared_types {
                if let Some(uses) = undeclared_uses.get_mut(type_index as usize) {
                    *uses += 1;
                }
            }
            let name = get(c_name);
            if name >= string_count {
                return Err(V8Error::new(
                    this_start.field(bytes, c_name),
                    V8ErrorKind::IndexOutOfRange {
                        section: SECTION,
                        what: "string index",
                        index: name,
                        len: string_count,
                    },
                ));
            }
            let node = builder
                .add_node(
                    kind,
                    StringId::new(string_base + name as u32),
                    get(c_id),
                    get(c_size),
                )
                .map_err(|e| V8Error::new(this_start.start(bytes), V8ErrorKind::Graph(e)))?;
            if let Some(c) = c_trace {
                let trace_id = get(c);
                if trace_id != 0 {
                    if let Some(&stack) = stack_by_trace_id.get(&trace_id) {
                        builder.set_node_stack(node, stack);
                    }
                }
            }
            if let (Some(c), Some(d)) = (c_detached, info.detachedness.as_mut()) {
                d.push(DomState::from_v8(get(c)));
            }
            if kind == NodeKind::Synthetic {
                info.synthetic.push(node.as_u32());
                if info.gc_roots.is_none() && Some(name) == gc_roots_string {
                    info.gc_roots = Some(node.as_u32());
                }
            }
            // Edge counts stay in file order (unswapped).
            let edges = record.get(c_edges).copied().unwrap_or(0);
            let Ok(edges) = u32::try_from(edges) else {
                return Err(V8Error::new(
                    start.field(bytes, c_edges),
                    V8ErrorKind::NumberTooLarge {
                        section: SECTION,
                        max: u64::from(u32::MAX),
                    },
                ));
            };
            info.edge_counts.push(edges);
            ordinal += 1;
            Ok(())
        })?;
        info.node_count = ordinal;
        for (index, &count) in undeclared_uses.iter().enumerate() {
            if count > 0 {
                self.warnings.push(V8Warning::UndeclaredNodeType {
                    index: index as u64,
                    name: V8_NODE_TYPES[index].0,
                    count,
                });
            }
        }
        // Ascending already, except where the root swap moved one.
        info.synthetic.sort_unstable();
        if let Some(declared) = header.node_count {
            if declared != ordinal {
                self.warnings.push(V8Warning::CountMismatch {
                    field: "node_count",
                    header: declared,
                    actual: ordinal,
                });
            }
        }
        Ok(info)
    }

    fn read_edges(
        &mut self,
        pos: usize,
        end: Option<usize>,
        meta: &SnapshotMeta,
        header: &SnapshotHeader,
        nodes: &NodesInfo,
    ) -> Result<(), V8Error> {
        const SECTION: &str = "edges";
        let fields = &meta.edge_fields;
        let col = |name: &'static str| {
            SnapshotMeta::column(fields, name).ok_or_else(|| {
                V8Error::new(
                    pos,
                    V8ErrorKind::MissingColumn {
                        list: "edge_fields",
                        column: name,
                    },
                )
            })
        };
        let c_type = col("type")?;
        let c_label = col("name_or_index")?;
        let c_target = col("to_node")?;
        let ef = fields.len();
        if ef > MAX_FIELDS {
            return Err(V8Error::new(
                pos,
                V8ErrorKind::BadMeta {
                    what: "more than 64 edge fields",
                },
            ));
        }
        let mut kinds = Vec::with_capacity(meta.edge_types.len());
        for name in &meta.edge_types {
            kinds.push(map_edge_type(name).unwrap_or_else(|| {
                self.warnings
                    .push(V8Warning::UnknownEdgeType { name: name.clone() });
                EdgeKind::Internal
            }));
        }
        let declared: u64 = nodes.edge_counts.iter().map(|&c| u64::from(c)).sum();
        let bytes = self.bytes;
        let upper = (bytes.len().saturating_sub(pos) / (2 * ef.max(1))) as u64;
        self.builder
            .reserve(0, declared.min(upper).min(u64::from(u32::MAX)) as usize);

        let nf = nodes.field_count;
        let Some(divisor) = ExactDivisor::new(nf) else {
            return Err(V8Error::new(
                pos,
                V8ErrorKind::BadMeta {
                    what: "no node fields",
                },
            ));
        };
        let node_count = nodes.node_count;
        let root = nodes.root_ordinal;
        let swap = |ordinal: u64| -> u64 {
            if root == 0 {
                ordinal
            } else if ordinal == 0 {
                root
            } else if ordinal == root {
                0
            } else {
                ordinal
            }
        };
        let string_count = self.string_count;
        let string_base = self.string_base;
        let gc_roots = nodes.gc_roots.map(u64::from);
        let synthetic = &nodes.synthetic;
        // Julia: which nodes are referenced (one bit each), and what the
        // root references; see `add_julia_roots`.
        let julia = is_julia(meta);
        let mut referenced: Vec<u64> = if julia {
            vec![0; (node_count as usize).div_ceil(64)]
        } else {
            Vec::new()
        };
        let mut root_targets: Vec<u32> = Vec::new();
        let mut source = 0u64;
        let mut remaining: u32 = nodes.edge_counts.first().copied().unwrap_or(0);
        let mut found = 0u64;
        let builder = &mut self.builder;
        let edge_counts = &nodes.edge_counts;
        let how_to_scan = Scan {
            split: self.split,
            release: self.release,
        };
        let (_, end_pos) = scan_records(
            bytes,
            pos,
            end,
            SECTION,
            ef,
            how_to_scan,
            |record, start| {
                found += 1;
                while remaining == 0 {
                    source += 1;
                    match edge_counts.get(source as usize) {
                        Some(&c) => remaining = c,
                        None => {
                            return Err(V8Error::new(
                                start.start(bytes),
                                V8ErrorKind::EdgeCountMismatch { declared, found },
                            ))
                        }
                    }
                }
                remaining -= 1;
                let get = |c: usize| record.get(c).copied().unwrap_or(0);
                let type_index = get(c_type);
                let Some(&kind) = kinds.get(type_index as usize) else {
                    return Err(V8Error::new(
                        start.field(bytes, c_type),
                        V8ErrorKind::IndexOutOfRange {
                            section: SECTION,
                            what: "edge type",
                            index: type_index,
                            len: kinds.len() as u64,
                        },
                    ));
                };
                let label = get(c_label);
                let label = if kind.has_index() {
                    match u32::try_from(label) {
                        Ok(label) => label,
                        Err(_) => {
                            return Err(V8Error::new(
                                start.field(bytes, c_label),
                                V8ErrorKind::NumberTooLarge {
                                    section: SECTION,
                                    max: u64::from(u32::MAX),
                                },
                            ))
                        }
                    }
                } else if label < string_count {
                    string_base + label as u32
                } else {
                    return Err(V8Error::new(
                        start.field(bytes, c_label),
                        V8ErrorKind::IndexOutOfRange {
                            section: SECTION,
                            what: "string index",
                            index: label,
                            len: string_count,
                        },
                    ));
                };
                let to_node = get(c_target);
                let Some(target) = divisor.divide(to_node) else {
                    return Err(V8Error::new(
                        start.field(bytes, c_target),
                        V8ErrorKind::MisalignedNodePosition {
                            section: SECTION,
                            position: to_node,
                            field_count: nf,
                        },
                    ));
                };
                if target >= node_count {
                    return Err(V8Error::new(
                        start.field(bytes, c_target),
                        V8ErrorKind::IndexOutOfRange {
                            section: SECTION,
                            what: "to_node ordinal",
                            index: target,
                            len: node_count,
                        },
                    ));
                }
                // Both fit in u32: node_count is bounded by the builder.
                let src = swap(source) as u32;
                let tgt = swap(target) as u32;
                builder
                    .push_edge(src, tgt, kind, label)
                    .map_err(|e| V8Error::new(start.start(bytes), V8ErrorKind::Graph(e)))?;
                if Some(u64::from(src)) == gc_roots {
                    // V8 hangs synthetic groups (`(Strong roots)`, ...) off
                    // `(GC roots)`; Bun hangs the roots themselves, and then
                    // `(GC roots)` is the group.
                    let group = if synthetic.binary_search(&tgt).is_ok() {
                        tgt
                    } else {
                        src
                    };
                    builder.mark_root_group(NodeIndex::new(group), RootKind::Engine);
                }
                if julia {
                    if let Some(word) = referenced.get_mut(tgt as usize / 64) {
                        *word |= 1 << (tgt % 64);
                    }
                    if src == 0 {
                        root_targets.push(tgt);
                    }
                }
                Ok(())
            },
        )?;
        if julia {
            self.add_julia_roots(&referenced, &root_targets, synthetic, node_count);
        }
        if found != declared {
            return Err(V8Error::new(
                end_pos,
                V8ErrorKind::EdgeCountMismatch { declared, found },
            ));
        }
        if let Some(header_count) = header.edge_count {
            if header_count != found {
                self.warnings.push(V8Warning::CountMismatch {
                    field: "edge_count",
                    header: header_count,
                    actual: found,
                });
            }
        }
        Ok(())
    }

    /// Julia's root structure as core root groups. Current Julia hangs
    /// `GC roots` and `GC finalizer list roots` (synthetic nodes) off the
    /// root, which become root groups; its 2021 writer hangs the roots off
    /// the root directly, and those become roots. Objects nothing
    /// references are roots too ([`V8Warning::JuliaUnrecordedRoots`]).
    fn add_julia_roots(
        &mut self,
        referenced: &[u64],
        root_targets: &[u32],
        synthetic: &[u32],
        node_count: u64,
    ) {
        for &target in root_targets {
            if synthetic.binary_search(&target).is_ok() {
                self.builder
                    .mark_root_group(NodeIndex::new(target), RootKind::Engine);
            } else {
                self.builder
                    .add_gc_root(NodeIndex::new(target), RootKind::Engine);
            }
        }
        let mut unrecorded = 0u64;
        for node in 1..node_count as u32 {
            let is_referenced = referenced
                .get(node as usize / 64)
                .is_some_and(|word| word & (1 << (node % 64)) != 0);
            if !is_referenced {
                self.builder
                    .add_gc_root(NodeIndex::new(node), RootKind::Unknown);
                unrecorded += 1;
            }
        }
        if unrecorded > 0 {
            self.warnings
                .push(V8Warning::JuliaUnrecordedRoots { count: unrecorded });
        }
    }

    fn read_locations(
        &mut self,
        pos: usize,
        meta: &SnapshotMeta,
        nodes: &NodesInfo,
    ) -> Result<Vec<Location>, V8Error> {
        const SECTION: &str = "locations";
        let fields = &meta.location_fields;
        if fields.is_empty() {
            let count = self.cursor(pos, SECTION).uint_array(|_, _| Ok(()))?;
            if count == 0 {
                return Ok(Vec::new());
            }
        }
        let col = |name: &'static str| {
            SnapshotMeta::column(fields, name).ok_or_else(|| {
                V8Error::new(
                    pos,
                    V8ErrorKind::MissingColumn {
                        list: "location_fields",
                        column: name,
                    },
                )
            })
        };
        let (c_object, c_script, c_line, c_column) = (
            col("object_index")?,
            col("script_id")?,
            col("line")?,
            col("column")?,
        );
        let c_script_object = SnapshotMeta::column(fields, "script_object_index");
        let width = fields.len();
        if width > MAX_FIELDS {
            return Err(V8Error::new(
                pos,
                V8ErrorKind::BadMeta {
                    what: "more than 64 location fields",
                },
            ));
        }
        let mut locations = Vec::new();
        let root = nodes.root_ordinal;
        let bytes = self.bytes;
        let divisor = ExactDivisor::new(nodes.field_count);
        let split = Scan {
            split: self.split,
            release: self.release,
        };
        scan_records(bytes, pos, None, SECTION, width, split, |record, start| {
            let get = |c: usize| record.get(c).copied().unwrap_or(0);
            let small = |c: usize| {
                u32::try_from(get(c)).map_err(|_| {
                    V8Error::new(
                        start.field(bytes, c),
                        V8ErrorKind::NumberTooLarge {
                            section: SECTION,
                            max: u64::from(u32::MAX),
                        },
                    )
                })
            };
            // A `nodes` position as a (root-swapped) node.
            let node_at = |c: usize, what: &'static str| {
                let position = get(c);
                // Found again only for an error.
                let at = || start.field(bytes, c);
                let Some(ordinal) = divisor.and_then(|d| d.divide(position)) else {
                    return Err(V8Error::new(
                        at(),
                        V8ErrorKind::MisalignedNodePosition {
                            section: SECTION,
                            position,
                            field_count: nodes.field_count,
                        },
                    ));
                };
                if ordinal >= nodes.node_count {
                    return Err(V8Error::new(
                        at(),
                        V8ErrorKind::IndexOutOfRange {
                            section: SECTION,
                            what,
                            index: ordinal,
                            len: nodes.node_count,
                        },
                    ));
                }
                let swapped = if root != 0 && ordinal == 0 {
                    root
                } else if root != 0 && ordinal == root {
                    0
                } else {
                    ordinal
                };
                // Below node_count, which the builder keeps within u32.
                Ok(NodeIndex::new(swapped as u32))
            };
            let node = node_at(c_object, "object_index ordinal")?;
            let script_object = match c_script_object {
                Some(c) => Some(node_at(c, "script_object_index ordinal")?),
                None => None,
            };
            locations.push(Location {
                node,
                script_object,
                script_id: small(c_script)?,
                line: small(c_line)?,
                column: small(c_column)?,
            });
            Ok(())
        })?;
        Ok(locations)
    }

    fn read_samples(
        &mut self,
        pos: usize,
        meta: &SnapshotMeta,
    ) -> Result<Vec<TimelineSample>, V8Error> {
        const SECTION: &str = "samples";
        let fields = &meta.sample_fields;
        let values = if fields.is_empty() {
            let count = self.cursor(pos, SECTION).uint_array(|_, _| Ok(()))?;
            if count == 0 {
                return Ok(Vec::new());
            }
            return Err(V8Error::new(
                pos,
                V8ErrorKind::MissingColumn {
                    list: "sample_fields",
                    column: "timestamp_us",
                },
            ));
        } else {
            self.read_flat(pos, SECTION, fields.len())?
        };
        let c_time = SnapshotMeta::column(fields, "timestamp_us");
        let c_id = SnapshotMeta::column(fields, "last_assigned_id");
        Ok(values
            .chunks_exact(fields.len())
            .map(|record| {
                let get = |c: Option<usize>| c.and_then(|c| record.get(c)).map_or(0, |v| v.0);
                TimelineSample {
                    timestamp_us: get(c_time),
                    last_assigned_id: get(c_id),
                }
            })
            .collect())
    }

    fn read_scope_section(
        &mut self,
        pos: Option<usize>,
        section: &'static str,
        fields: &[String],
    ) -> Result<ScopeSection, V8Error> {
        let Some(pos) = pos else {
            return Ok(ScopeSection {
                fields: fields.to_vec(),
                values: Vec::new(),
            });
        };
        let mut values = Vec::new();
        let count = self.cursor(pos, section).int_array(|v| {
            values.push(v);
            Ok(())
        })?;
        if count != 0 && (fields.is_empty() || count % fields.len() as u64 != 0) {
            return Err(V8Error::new(
                pos,
                V8ErrorKind::RaggedArray {
                    section,
                    len: count,
                    width: fields.len() as u64,
                },
            ));
        }
        Ok(ScopeSection {
            fields: fields.to_vec(),
            values,
        })
    }
}

/// What [`Reader::read_nodes`] learned for reading edges.
struct NodesInfo {
    field_count: u64,
    /// Per node ordinal (file order): its edge count.
    edge_counts: Vec<u32>,
    detachedness: Option<Vec<DomState>>,
    /// The `(GC roots)` node (graph index).
    gc_roots: Option<u32>,
    /// The `synthetic` nodes (graph indices), sorted.
    synthetic: Vec<u32>,
    root_ordinal: u64,
    node_count: u64,
}

/// Strings that betray the embedder.
#[derive(Default)]
struct ProducerMarkers {
    first_is_dummy: bool,
    node: bool,
    blink: bool,
    deno: bool,
}

impl ProducerMarkers {
    fn observe(&mut self, s: &[u8]) {
        // Cheap first-byte filter: most strings match none of these.
        if s.len() < 6 || !matches!(s.first(), Some(b'n' | b'e' | b'(' | b'W' | b'H')) {
            return;
        }
        if s.starts_with(b"node:internal/") {
            self.node = true;
        } else if s.starts_with(b"ext:core/") || s.starts_with(b"ext:deno_") {
            self.deno = true;
        } else if s == b"(Document DOM trees)"
            || s == b"Window"
            || s.starts_with(b"Window / ")
            || s == b"HTMLDocument"
        {
            self.blink = true;
        }
    }

    fn producer(&self) -> Producer {
        if !self.first_is_dummy {
            Producer::Bun
        } else if self.deno {
            Producer::Deno
        } else if self.node && self.blink {
            Producer::Electron
        } else if self.node {
            Producer::Node
        } else if self.blink {
            Producer::Chromium
        } else {
            Producer::UnknownV8
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Read;

    fn testdata(name: &str) -> Vec<u8> {
        let path = format!("{}/../../testdata/v8/{name}", env!("CARGO_MANIFEST_DIR"));
        let raw = std::fs::read(&path).unwrap();
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    /// Everything a parse produced, as one comparable value.
    fn digest(result: &Result<V8Snapshot, V8Error>) -> String {
        let snapshot = match result {
            Ok(snapshot) => snapshot,
            Err(e) => return format!("error: {e:?}"),
        };
        let g = &snapshot.graph;
        let labels: Vec<_> = (0..g.edge_count() as u32)
            .map(|e| g.edge_label(heapgraph_core::EdgeIndex::new(e)))
            .collect();
        let stacks: Vec<_> = g.nodes().map(|n| g.node_stack(n)).collect();
        let strings: Vec<_> = g.strings().iter().map(|(_, s)| s.to_vec()).collect();
        format!(
            "{:?}",
            (
                g.kinds(),
                g.names(),
                g.object_ids(),
                g.self_sizes(),
                g.edge_starts(),
                g.edge_targets(),
                g.edge_kinds(),
                labels,
                g.root_groups(),
                stacks,
                strings,
                (
                    &snapshot.detachedness,
                    &snapshot.locations,
                    &snapshot.warnings,
                    g.diagnostics()
                ),
            )
        )
    }

    /// The threaded scan of `nodes` and `edges` (cut into small chunks so
    /// that records straddle them) gives the sequential result, on real
    /// snapshots and on corrupted copies of one, errors included.
    #[test]
    fn split_parse_matches_sequential_parse() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let sequential = Split {
            chunk_bytes: usize::MAX,
            sequential: true,
        };
        let split = Split {
            chunk_bytes: 4096,
            sequential: false,
        };
        for name in [
            "node20-planted.heapsnapshot.gz",
            "node20-tracked.heapsnapshot.gz",
        ] {
            let bytes = testdata(name);
            let expected = digest(&parse_split(&bytes, sequential));
            assert!(!expected.starts_with("error"), "{name}: {expected}");
            let got = pool.install(|| digest(&parse_split(&bytes, split)));
            assert!(got == expected, "{name}: the split parse differs");
        }

        let bytes = testdata("node20-planted.heapsnapshot.gz");
        let nodes = memchr::memmem::find(&bytes, b"\"nodes\":").unwrap();
        let strings = memchr::memmem::find(&bytes, b"\"strings\":").unwrap();
        let mut state = 11u64;
        let mut errors = 0;
        for round in 0..24 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let mut copy = bytes.clone();
            let at = nodes + (state >> 20) as usize % (strings - nodes);
            copy[at] = b"x,9 ]0\"-"[round % 8];
            let expected = digest(&parse_split(&copy, sequential));
            let got = pool.install(|| digest(&parse_split(&copy, split)));
            assert!(
                got == expected,
                "flip at {at}: {got:.300} vs {expected:.300}"
            );
            errors += usize::from(expected.starts_with("error"));
        }
        assert!(errors >= 8, "only {errors} corruptions were errors");
    }

    /// A parse that hands back the ranges it is done with gives the same
    /// result, sequential or split; the ranges stay inside the file, never
    /// overlap, and cover every digit of `nodes` and `edges` and the whole
    /// `strings` section.
    #[test]
    fn releasing_parse_matches_and_releases_the_big_sections() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let sequential = Split {
            chunk_bytes: usize::MAX,
            sequential: true,
        };
        let split = Split {
            chunk_bytes: 4096,
            sequential: false,
        };
        for name in [
            "node20-planted.heapsnapshot.gz",
            "node20-tracked.heapsnapshot.gz",
            "deno2-orders.heapsnapshot.gz",
        ] {
            let bytes = testdata(name);
            let expected = digest(&parse_snapshot(&bytes));
            assert!(!expected.starts_with("error"), "{name}: {expected}");
            for how in [sequential, split] {
                let released = std::sync::Mutex::new(Vec::new());
                let record = |range: std::ops::Range<usize>| released.lock().unwrap().push(range);
                let got = pool.install(|| digest(&parse_split_releasing(&bytes, how, &record)));
                assert!(
                    got == expected,
                    "{name} {how:?}: the releasing parse differs"
                );
                let mut released = released.into_inner().unwrap();
                assert!(released.len() >= 3, "{name} {how:?}: {released:?}");
                released.sort_by_key(|r| r.start);
                let mut after = 0;
                for range in &released {
                    assert!(
                        after <= range.start && range.start < range.end,
                        "{name}: {range:?}"
                    );
                    after = range.end;
                }
                assert!(after <= bytes.len());
                let covered = |at: usize| {
                    let i = released.partition_point(|r| r.start <= at);
                    i > 0 && released[i - 1].contains(&at)
                };
                for key in [&b"\"nodes\":"[..], b"\"edges\":"] {
                    let start = memchr::memmem::find(&bytes, key).unwrap() + key.len();
                    let stop = start + memchr::memchr(b']', &bytes[start..]).unwrap();
                    let missed = (start..stop)
                        .filter(|&at| bytes[at].is_ascii_digit() && !covered(at))
                        .count();
                    assert_eq!(missed, 0, "{name} {how:?}: digits of {key:?} kept");
                }
                let strings = memchr::memmem::find(&bytes, b"\"strings\":").unwrap() + 10;
                let kept = (strings..bytes.len()).filter(|&at| !covered(at)).count();
                // The key's `:` and whitespace, the closing `}` and newline.
                assert!(kept < 8, "{name} {how:?}: {kept} bytes of strings kept");
                let total: usize = released.iter().map(|r| r.len()).sum();
                assert!(
                    total * 10 >= bytes.len() * 9,
                    "{name} {how:?}: {total} of {} bytes released",
                    bytes.len()
                );
            }
        }
    }

    #[test]
    fn exact_divisor_matches_plain_division() {
        assert!(ExactDivisor::new(0).is_none());
        let mut state = 3u64;
        for d in 1..=40u64 {
            let divisor = ExactDivisor::new(d).unwrap();
            for _ in 0..5000 {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                for value in [
                    state,
                    state >> 20,
                    (state >> 40) * d,
                    u64::MAX - (state >> 50),
                ] {
                    let expected = (value % d == 0).then_some(value / d);
                    assert_eq!(divisor.divide(value), expected, "{value} / {d}");
                }
            }
            assert_eq!(divisor.divide(0), Some(0));
            assert_eq!(divisor.divide(u64::MAX / d * d), Some(u64::MAX / d));
        }
    }
}
