//! CPython `tracemalloc.Snapshot.dump()` pickles into the heapgraph object
//! graph, read without executing any pickle code.
//!
//! # The reader
//!
//! A small dedicated pickle VM (not a generic unpickler) runs the opcode
//! subset that `Snapshot.dump()` and `pickle.dump(snapshot, f, 0..=5)` write
//! (protocols 0 to 5). It imports nothing and calls nothing: the only globals
//! it accepts are `tracemalloc.Snapshot`, `tracemalloc._Traces`,
//! `copyreg._reconstructor` (`copy_reg` in protocol 0/1) and
//! `builtins.object` (`__builtin__`); any other global is refused with
//! "pickle of X, not a tracemalloc Snapshot". Stack values are 16-byte `Copy`
//! handles; frames, tracebacks and traces are interned as soon as their tuple
//! is built. The memo keeps shareable entries (strings, tracebacks) in a
//! rank/bitmap table and frame and trace tuples, which CPython never shares,
//! only in a ring of the last 65536 (an older one is refused by offset). The
//! stack, the MARK depth and every other structure are bounded, and every
//! length is checked against the input before use. [`parse_file`] and
//! [`parse_reader`] stream the input through a 1 MiB window.
//!
//! Trace tuples of CPython 3.4–3.5 `(size, traceback)`, 3.6–3.8
//! `(domain, size, traceback)` and 3.9–3.14
//! `(domain, size, traceback, total_nframe)` are accepted.
//!
//! Filenames are kept losslessly as raw bytes: pickle's `surrogatepass`
//! UTF-8 (lone surrogates as 3-byte sequences, whose byte order is Python's
//! code-point order); protocol 0's raw-unicode-escape text is decoded into the
//! same form.
//!
//! # The trace table
//!
//! Traces are read into a compact table ([`TraceColumns`]: stack id and size,
//! 8 bytes per trace, plus a domain column when any domain is non-zero) over
//! the core string and stack tables; site statistics run on it alone. The
//! object graph below is built from it only when
//! [`TracemallocSnapshot::graph`] is first called. [`ParseOptions::limits`]
//! bounds traces (as graph nodes and root edges) and string bytes.
//!
//! # The graph
//!
//! * Node 0 is a synthetic root, `(tracemalloc snapshot)`.
//! * Trace `i` is node `i + 1`, an [`NodeKind::AllocationBlock`] with
//!   `self_size` = the block size, `object_id` = `i` and name = its most recent
//!   frame as `file:line`. The root holds every block through a direct
//!   [`EdgeKind::Element`] edge labelled `i` (no root-group node: a trace is
//!   not a GC root, it is simply part of the snapshot).
//! * Each trace's traceback is interned in the graph's stack table once per
//!   distinct pickled traceback object (CPython shares them), outermost frame
//!   at the trie root; frames have an empty function name, `file` = filename
//!   and `line` = lineno. A trace with an empty traceback has no node stack.
//! * Domains, `total_nframe` and `traceback_limit` live in
//!   [`TracemallocSnapshot`] side tables (domains only when one is non-zero).
//!
//! [`NodeKind::AllocationBlock`]: heapgraph_core::NodeKind::AllocationBlock
//! [`EdgeKind::Element`]: heapgraph_core::EdgeKind::Element

#![deny(missing_docs)]

mod error;
mod graph;
pub mod redact;
mod vm;

use std::sync::OnceLock;

use heapgraph_core::{HeapGraph, Limits, NodeIndex, StackId, StackTable, StringTable};

pub use error::{IoError, TracemallocError, TracemallocErrorKind};

/// The shape of the trace tuples in a dump (which CPython wrote it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TraceShape {
    /// `(size, traceback)`: CPython 3.4–3.5.
    SizeTraceback,
    /// `(domain, size, traceback)`: CPython 3.6–3.8.
    DomainSizeTraceback,
    /// `(domain, size, traceback, total_nframe)`: CPython 3.9 and later.
    WithTotalNframe,
}

impl TraceShape {
    /// A short description naming the CPython versions.
    pub fn describe(self) -> &'static str {
        match self {
            TraceShape::SizeTraceback => "2-tuple traces, CPython 3.4-3.5",
            TraceShape::DomainSizeTraceback => "3-tuple traces, CPython 3.6-3.8",
            TraceShape::WithTotalNframe => "4-tuple traces, CPython 3.9+",
        }
    }
}

/// One trace: an allocated memory block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trace {
    /// The block's size in bytes.
    pub size: u64,
    /// The allocator domain (0 = Python's allocator; numpy uses 389047).
    pub domain: u32,
    /// The traceback in [`TracemallocSnapshot::stacks`] (outermost frame at
    /// the trie root), `None` for an empty traceback.
    pub stack: Option<StackId>,
}

/// The trace table's columns, one entry per trace in dump order (see
/// [`TracemallocSnapshot::columns`]): about 8 bytes per trace.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct TraceColumns {
    /// Per trace: its [`StackId`] as `u32`, or `u32::MAX` for an empty
    /// traceback.
    pub stacks: Vec<u32>,
    /// Per trace: its size, or `u32::MAX` when the size is `u32::MAX` or
    /// more (then `large_sizes` holds it).
    pub sizes: Vec<u32>,
    /// `(trace, size)` for the sizes marked `u32::MAX`, ascending by trace.
    pub large_sizes: Vec<(u32, u64)>,
    /// Per trace: its domain; `None` when every domain is 0.
    pub domains: Option<Vec<u32>>,
}

/// A tracemalloc snapshot: a compact trace table over the core string and
/// stack tables, and the common graph built from it on first use.
///
/// Site statistics need only the table ([`trace`](Self::trace),
/// [`columns`](Self::columns), [`strings`](Self::strings),
/// [`stacks`](Self::stacks)); [`graph`](Self::graph) builds the object graph
/// (one node per trace, about 40 bytes each) the first time it is called.
#[derive(Debug)]
pub struct TracemallocSnapshot {
    strings: StringTable,
    stacks: StackTable,
    columns: TraceColumns,
    /// `(trace, total_nframe)` for traces whose `total_nframe` is not their
    /// traceback's length (truncated ones); `None` before CPython 3.9.
    total_nframe: Option<Vec<(u32, u32)>>,
    traceback_limit: u64,
    protocol: u8,
    shape: Option<TraceShape>,
    producer: String,
    /// The bounds the snapshot was read under, which its graph obeys too.
    limits: Limits,
    graph: OnceLock<Result<HeapGraph, heapgraph_core::BuildError>>,
}

/// The size column's marker for sizes kept in `large_sizes`.
const LARGE_SIZE: u32 = u32::MAX;

impl TracemallocSnapshot {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        strings: StringTable,
        stacks: StackTable,
        columns: TraceColumns,
        total_nframe: Option<Vec<(u32, u32)>>,
        traceback_limit: u64,
        protocol: u8,
        shape: Option<TraceShape>,
        producer: String,
    ) -> Self {
        TracemallocSnapshot {
            strings,
            stacks,
            columns,
            total_nframe,
            traceback_limit,
            protocol,
            shape,
            producer,
            limits: Limits::default(),
            graph: OnceLock::new(),
        }
    }

    /// The snapshot with the bounds it was read under, for its graph.
    pub(crate) fn read_under(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The bounds the snapshot was read under ([`ParseOptions::limits`]),
    /// which [`graph`](Self::graph) obeys too.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The number of traces (allocated blocks).
    pub fn trace_count(&self) -> usize {
        self.columns.stacks.len()
    }

    /// Trace `index`, in dump order.
    pub fn trace(&self, index: usize) -> Option<Trace> {
        let stack = *self.columns.stacks.get(index)?;
        let size = *self.columns.sizes.get(index)?;
        Some(Trace {
            size: if size == LARGE_SIZE {
                self.large_size(index)
            } else {
                u64::from(size)
            },
            domain: self.domain(index),
            stack: (stack != u32::MAX).then(|| StackId::new(stack)),
        })
    }

    fn large_size(&self, index: usize) -> u64 {
        let large = &self.columns.large_sizes;
        match large.binary_search_by_key(&(index as u32), |&(i, _)| i) {
            Ok(at) => large.get(at).map_or(u64::from(LARGE_SIZE), |&(_, s)| s),
            Err(_) => u64::from(LARGE_SIZE),
        }
    }

    /// Every trace, in dump order.
    pub fn traces(&self) -> impl ExactSizeIterator<Item = Trace> + '_ {
        let columns = &self.columns;
        columns.stacks.iter().zip(&columns.sizes).enumerate().map(
            move |(index, (&stack, &size))| Trace {
                size: if size == LARGE_SIZE {
                    self.large_size(index)
                } else {
                    u64::from(size)
                },
                domain: self.domain(index),
                stack: (stack != u32::MAX).then(|| StackId::new(stack)),
            },
        )
    }

    /// The trace table's raw columns (for site statistics without the graph).
    pub fn columns(&self) -> &TraceColumns {
        &self.columns
    }

    /// The strings: filenames (and, once the graph is built, in the graph's
    /// own copy, the `file:line` node names).
    pub fn strings(&self) -> &StringTable {
        &self.strings
    }

    /// The frames and tracebacks (a trie, outermost frame at the root);
    /// frames have an empty function name, `file` = filename, `line` =
    /// lineno.
    pub fn stacks(&self) -> &StackTable {
        &self.stacks
    }

    /// The producer description, e.g. `CPython tracemalloc (pickle protocol
    /// 5, 4-tuple traces, CPython 3.9+)`.
    pub fn producer(&self) -> &str {
        &self.producer
    }

    /// The object graph: the root, then one allocation-block node per trace
    /// (see the crate docs). Built from the trace table on the first call
    /// (about 40 bytes per trace), then kept.
    ///
    /// # Errors
    ///
    /// The builder's refusal, should the graph's strings (the snapshot's
    /// and one `file:line` name per frame) not fit the string table or the
    /// bound on string bytes the snapshot was read under
    /// ([`limits`](Self::limits)); the reader has bounded everything else.
    /// The same error on every call.
    pub fn graph(&self) -> Result<&HeapGraph, heapgraph_core::BuildError> {
        self.graph
            .get_or_init(|| graph::build(self))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Whether [`graph`](Self::graph) has been built yet.
    pub fn graph_is_built(&self) -> bool {
        self.graph.get().is_some()
    }

    /// The graph node of trace `index` (`index + 1`).
    pub fn trace_node(&self, index: usize) -> Option<NodeIndex> {
        if index < self.trace_count() {
            Some(NodeIndex::new(index as u32 + 1))
        } else {
            None
        }
    }

    /// The trace index of a node, if it is a trace.
    pub fn node_trace(&self, node: NodeIndex) -> Option<usize> {
        let i = node.index().checked_sub(1)?;
        (i < self.trace_count()).then_some(i)
    }

    /// The domain of trace `index` (0 = Python's allocator; numpy uses
    /// 389047). 0 for traces of CPython 3.4–3.5 or out-of-range indices.
    pub fn domain(&self, index: usize) -> u32 {
        self.columns
            .domains
            .as_ref()
            .and_then(|d| d.get(index).copied())
            .unwrap_or(0)
    }

    /// Every trace's domain, or `None` when all are 0.
    pub fn domains(&self) -> Option<&[u32]> {
        self.columns.domains.as_deref()
    }

    /// The domain of a trace node (0 for other nodes).
    pub fn node_domain(&self, node: NodeIndex) -> u32 {
        self.node_trace(node).map_or(0, |i| self.domain(i))
    }

    /// The number of frames of trace `index` before truncation to
    /// `traceback_limit` (CPython 3.9+ only).
    pub fn total_nframe(&self, index: usize) -> Option<u32> {
        let exceptions = self.total_nframe.as_ref()?;
        let trace = self.trace(index)?;
        match exceptions.binary_search_by_key(&(index as u32), |&(i, _)| i) {
            Ok(at) => exceptions.get(at).map(|&(_, n)| n),
            Err(_) => Some(trace.stack.map_or(0, |s| self.stacks.depth(s))),
        }
    }

    /// `Snapshot.traceback_limit`: the most frames a traceback holds.
    pub fn traceback_limit(&self) -> u64 {
        self.traceback_limit
    }

    /// The pickle protocol of the dump (0 when no `PROTO` opcode).
    pub fn protocol(&self) -> u8 {
        self.protocol
    }

    /// The trace tuple shape, `None` for a snapshot with no traces.
    pub fn trace_shape(&self) -> Option<TraceShape> {
        self.shape
    }
}

/// How a dump is read.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct ParseOptions {
    /// Bounds on what the dump may produce: each trace is a graph node
    /// (besides the root) with one root edge, so traces beyond
    /// `max_nodes - 1` or `max_edges` are refused, as are strings
    /// (filenames) beyond `max_string_bytes` in all; the error names the
    /// offset of the trace or string that went over.
    pub limits: Limits,
    /// Keep only each traceback's innermost frame (default `false`: every
    /// frame). Every frame is still read and checked, but each traceback's
    /// stack is its most recent frame alone, which spares building the
    /// trie of call stacks (the bulk of reading a dump of deep, distinct
    /// tracebacks). Enough, and exactly the same, for what looks only at
    /// that frame: `statistics` and `compare_to` by `'lineno'` or
    /// `'filename'` without `cumulative`, and filters without `all_frames`.
    /// A snapshot read this way has one-frame stacks and no
    /// [`TracemallocSnapshot::total_nframe`].
    pub innermost_frame_only: bool,
}

impl ParseOptions {
    /// These options with `limits`.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// These options keeping only each traceback's innermost frame (see
    /// [`ParseOptions::innermost_frame_only`]).
    pub fn with_innermost_frame_only(mut self, innermost_frame_only: bool) -> Self {
        self.innermost_frame_only = innermost_frame_only;
        self
    }
}

/// Reads a `Snapshot.dump()` file (any pickle protocol 0–5) held in
/// memory. This is the parser contract every heapgraph parser crate
/// shares: [`sniff`] on a prefix, then `parse(bytes, &options)`.
///
/// ```
/// use heapgraph_tracemalloc::{parse, ParseOptions};
/// // A pickle that is not a snapshot (the integer 42) is refused, with
/// // the offset of the opcode that gave it away.
/// let bytes = b"\x80\x04K\x2a.";
/// let err = parse(bytes, &ParseOptions::default()).unwrap_err();
/// assert!(err.offset < bytes.len() as u64);
/// ```
///
/// # Errors
///
/// A [`TracemallocError`] naming the byte offset, the opcode and what was
/// expected when the input is truncated, malformed, exceeds a bound, or is
/// a pickle of anything other than a tracemalloc snapshot; a trace or
/// string beyond [`ParseOptions::limits`] is [`TracemallocErrorKind::Graph`]
/// at its offset.
pub fn parse(
    bytes: &[u8],
    options: &ParseOptions,
) -> Result<TracemallocSnapshot, TracemallocError> {
    Ok(vm::run(bytes, options)?.read_under(options.limits))
}

/// Reads a dump from a stream (a file, a pipe, a decompressor) through a
/// window of about 1 MiB, so the input never has to be in memory whole.
/// `total_len`, when known, lets declared lengths be checked up front.
///
/// # Errors
///
/// As [`parse`], plus [`TracemallocErrorKind::Io`] when reading fails.
pub fn parse_reader<R: std::io::Read>(
    reader: R,
    total_len: Option<u64>,
    options: &ParseOptions,
) -> Result<TracemallocSnapshot, TracemallocError> {
    Ok(vm::run_reader(reader, total_len, options)?.read_under(options.limits))
}

/// Reads a dump file by streaming it (see [`parse_reader`]).
///
/// # Errors
///
/// As [`parse_reader`]; a file that cannot be opened is an
/// [`TracemallocErrorKind::Io`] error at offset 0.
pub fn parse_file(
    path: impl AsRef<std::path::Path>,
    options: &ParseOptions,
) -> Result<TracemallocSnapshot, TracemallocError> {
    let io = |e: std::io::Error| TracemallocError {
        offset: 0,
        opcode: None,
        kind: TracemallocErrorKind::Io { source: e.into() },
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    parse_reader(file, Some(len), options)
}

/// Whether `prefix` (the first bytes of a file) starts like a pickle this
/// crate reads: protocol 2–5's `PROTO` opcode, or protocol 0/1's `GLOBAL`
/// naming `copy_reg` or `tracemalloc`. Cheap and bounded (it looks at the
/// first bytes only). Any pickle is taken, so that one holding something
/// other than a snapshot is refused by [`parse`] with a message saying what
/// it holds; [`is_tracemalloc_pickle`] is the stricter test.
pub fn sniff(prefix: &[u8]) -> bool {
    matches!(prefix, [0x80, protocol, ..] if *protocol <= 5)
        || prefix.starts_with(b"ccopy_reg\n")
        || prefix.starts_with(b"ctracemalloc\n")
}

/// Whether `prefix` (the first bytes of a file, 64 or more recommended) looks
/// like a pickled tracemalloc snapshot: a pickle opening that names
/// `tracemalloc` and `Snapshot` within its first 128 bytes.
pub fn is_tracemalloc_pickle(prefix: &[u8]) -> bool {
    let head = prefix.get(..prefix.len().min(128)).unwrap_or_default();
    let pickle_start = match head {
        [0x80, proto, ..] => *proto <= 5,
        [b'c', ..] => head.starts_with(b"ccopy_reg\n") || head.starts_with(b"ctracemalloc\n"),
        _ => false,
    };
    pickle_start && contains(head, b"tracemalloc") && contains(head, b"Snapshot")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The examples of this crate's README, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
