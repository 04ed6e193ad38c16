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
// No panics on data from files: errors are returned, never unwrapped.
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod error;
mod vm;

use heapgraph_core::{HeapGraph, NodeIndex};

pub use error::{TracemallocError, TracemallocErrorKind};

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

/// A tracemalloc snapshot read into the common graph, with the per-trace
/// fields the graph has no column for.
#[derive(Debug)]
pub struct TracemallocSnapshot {
    /// The graph: root, then one allocation-block node per trace.
    pub graph: HeapGraph,
    domains: Option<Vec<u32>>,
    /// `(trace, total_nframe)` for traces whose `total_nframe` is not their
    /// traceback's length (truncated ones); `None` before CPython 3.9.
    total_nframe: Option<Vec<(u32, u32)>>,
    traceback_limit: u64,
    protocol: u8,
    shape: Option<TraceShape>,
    trace_count: u32,
}

impl TracemallocSnapshot {
    /// The number of traces (allocated blocks).
    pub fn trace_count(&self) -> usize {
        self.trace_count as usize
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
        self.domains
            .as_ref()
            .and_then(|d| d.get(index).copied())
            .unwrap_or(0)
    }

    /// Every trace's domain, or `None` when all are 0.
    pub fn domains(&self) -> Option<&[u32]> {
        self.domains.as_deref()
    }

    /// The domain of a trace node (0 for other nodes).
    pub fn node_domain(&self, node: NodeIndex) -> u32 {
        self.node_trace(node).map_or(0, |i| self.domain(i))
    }

    /// The number of frames of trace `index` before truncation to
    /// `traceback_limit` (CPython 3.9+ only).
    pub fn total_nframe(&self, index: usize) -> Option<u32> {
        let exceptions = self.total_nframe.as_ref()?;
        let node = self.trace_node(index)?;
        let index = index as u32;
        match exceptions.binary_search_by_key(&index, |&(i, _)| i) {
            Ok(at) => exceptions.get(at).map(|&(_, n)| n),
            Err(_) => Some(
                self.graph
                    .node_stack(node)
                    .map_or(0, |s| self.graph.stacks().depth(s)),
            ),
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

/// Reads a `Snapshot.dump()` file (any pickle protocol 0–5).
///
/// # Errors
///
/// A [`TracemallocError`] naming the byte offset, the opcode and what was
/// expected when the input is truncated, malformed, exceeds a bound, or is
/// a pickle of anything other than a tracemalloc snapshot.
pub fn parse(bytes: &[u8]) -> Result<TracemallocSnapshot, TracemallocError> {
    vm::run(bytes)
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
) -> Result<TracemallocSnapshot, TracemallocError> {
    vm::run_reader(reader, total_len)
}

/// Reads a dump file by streaming it (see [`parse_reader`]).
///
/// # Errors
///
/// As [`parse_reader`]; a file that cannot be opened is an
/// [`TracemallocErrorKind::Io`] error at offset 0.
pub fn parse_file(
    path: impl AsRef<std::path::Path>,
) -> Result<TracemallocSnapshot, TracemallocError> {
    let io = |e: std::io::Error| TracemallocError {
        offset: 0,
        opcode: None,
        kind: TracemallocErrorKind::Io {
            message: e.to_string(),
        },
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    parse_reader(file, Some(len))
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
