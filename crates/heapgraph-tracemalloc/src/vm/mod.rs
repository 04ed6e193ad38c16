//! A small pickle virtual machine that understands only what
//! `tracemalloc.Snapshot.dump()` (and `pickle.dump(snapshot, f, 0..=5)`)
//! writes, and streams the traces into a compact trace table (stack, size,
//! domain) over the core string and stack tables.
//!
//! It never imports or calls anything: the only globals it accepts are the
//! allow-listed class names, which become inert tags. Stack values are small
//! `Copy` handles; frames, tracebacks and traces are interned the moment their
//! tuple is built, so the memo is a dense vector of 4-byte tagged handles
//! (a 65 MB dump holds about 9 M memo entries).

use std::borrow::Cow;
use std::io::Read;

use heapgraph_core::{FrameId, Limits, StackId, StackTableBuilder, StringInterner};

use crate::error::{TracemallocError, TracemallocErrorKind as Kind};
use crate::{ParseOptions, TraceShape, TracemallocSnapshot};

use memo::{IntMap, SparseMemo};
use value::{Container, Object, Tb, Val};

pub(crate) use execute::opcode_name;

mod execute;
mod fast_path;
mod finish;
mod input;
mod memo;
mod objects;
mod stack;
mod traces;
mod value;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

/// Most values the stack may hold at once.
const MAX_STACK: usize = 1 << 20;
/// Most nested MARKs.
const MAX_MARKS: usize = 1 << 16;
/// Most memoized values that are not strings, frames, tracebacks or traces.
const MAX_MISC_MEMO: usize = 1 << 20;
/// Most items held by generic containers (dicts, lists, tuples) together.
const MAX_CONTAINER_ITEMS: usize = 1 << 20;
/// Most generic containers and objects.
const MAX_CONTAINERS: usize = 1 << 20;
/// Frame and trace tuples are never shared by CPython's pickles, so the memo
/// keeps only the most recent of them (a dense memo of every entry would cost
/// 4 bytes per frame and trace: 37 MB on a 65 MB dump).
const RECENT_MASK: u64 = (1 << 16) - 1;
/// Memo indices at or above this are refused (the recent ring keeps
/// `index >> 16` in 32 bits); a pickle would need 128 TiB to reach it.
const MAX_MEMO_INDEX: u64 = 1 << 47;
/// log2 of the entries (16 bytes each) of the direct-mapped trie-edge
/// cache: at most 2^16, fewer for small inputs.
const MAX_CACHE_BITS: u32 = 16;
/// Frames of one traceback tuple.
const MAX_FRAMES: usize = 1 << 16;

const TAG_SHIFT: u32 = 29;
const PAYLOAD_MASK: u32 = (1 << TAG_SHIFT) - 1;
const TAG_STR: u32 = 0;
const TAG_FRAME: u32 = 1;
const TAG_TB: u32 = 2;
const TAG_TRACE: u32 = 3;
const TAG_MISC: u32 = 4;
const MEMO_EMPTY: u32 = u32::MAX;
const NO_STACK: u32 = u32::MAX;
/// The size column's marker for a size that does not fit below it (kept in
/// the `large_sizes` side table).
const LARGE_SIZE: u32 = u32::MAX;

/// Bytes read from a reader at a time.
const READ_CHUNK: usize = 1 << 20;

/// Reads a whole dump held in memory.
pub(crate) fn run(
    data: &[u8],
    options: &ParseOptions,
) -> Result<TracemallocSnapshot, TracemallocError> {
    let len = data.len() as u64;
    let mut vm = Vm::<std::io::Empty>::new(Cow::Borrowed(data), None, Some(len), options);
    vm.execute()?;
    vm.finish()
}

/// Reads a dump from a stream through a window of about [`READ_CHUNK`].
pub(crate) fn run_reader<R: Read>(
    reader: R,
    total_len: Option<u64>,
    options: &ParseOptions,
) -> Result<TracemallocSnapshot, TracemallocError> {
    let mut vm = Vm::new(Cow::Owned(Vec::new()), Some(reader), total_len, options);
    vm.execute()?;
    vm.finish()
}

struct Vm<'a, R> {
    /// The bytes being read: the whole input, or a window of a reader.
    window: Cow<'a, [u8]>,
    /// Position in `window`.
    pos: usize,
    /// Absolute offset of `window[0]`.
    base: u64,
    reader: Option<R>,
    total_len: Option<u64>,
    op_start: u64,
    op: Option<u8>,
    protocol: u8,
    limits: Limits,
    strings: StringInterner,
    stack_table: StackTableBuilder,
    stack: Vec<Val>,
    marks: Vec<usize>,
    /// One past the highest memo index stored (`len(memo)` for the
    /// sequential indices picklers write).
    memo_high: u64,
    /// Memo entries that may be shared: strings, tracebacks, other values.
    memo_kept: SparseMemo,
    /// The last [`RECENT`] memo entries of any kind, by index modulo.
    /// Each entry is `(index >> 16) << 32 | packed` (`u64::MAX` when
    /// empty): 8 bytes, half of an `(index, packed)` pair.
    memo_recent: Vec<u64>,
    misc: Vec<Val>,
    containers: Vec<Container>,
    container_items: usize,
    objects: Vec<Object>,
    tracebacks: Vec<Tb>,
    /// `(file << 32 | line)` → frame: every distinct frame (a few thousand
    /// in real dumps), in front of the stack table's own index.
    frames: IntMap<u32>,
    /// Direct-mapped cache `(parent << 32 | frame)` → stack.
    edge_cache: Vec<(u64, u32)>,
    /// log2 of the entries of the edge cache.
    cache_bits: u32,
    /// The previous traceback's frames outermost first, each with the
    /// stack it ends: the prefix the next traceback shares costs no lookup.
    last_path: Vec<(FrameId, StackId)>,
    scratch: Vec<Val>,
    /// The traceback fast path's scan: per frame `(file, line, offset of
    /// its TUPLE2 from the MARK, followed by MEMOIZE)`.
    fast_frames: Vec<(u32, u32, u32, bool)>,
    frame_scratch: Vec<FrameId>,
    text: Vec<u8>,
    // Traces: the columns of the trace table.
    trace_stacks: Vec<u32>,
    trace_sizes: Vec<u32>,
    large_sizes: Vec<(u32, u64)>,
    /// Most traces accepted (from the limits: one graph node and one root
    /// edge per trace, besides the root node).
    max_traces: u32,
    trace_count: u32,
    appended: u32,
    traces_container: Option<u32>,
    domains: Option<Vec<u32>>,
    /// `(trace, total_nframe)` where it differs from the traceback length.
    total_nframe: Option<Vec<(u32, u32)>>,
    shape: Option<TraceShape>,
    result: Option<Val>,
    /// Whether the frame and trace fast paths run (off only in tests that
    /// check them against the opcode-by-opcode path).
    fast_paths: bool,
    /// Each traceback's stack is its innermost frame alone
    /// ([`ParseOptions::innermost_frame_only`]).
    innermost_frame_only: bool,
}

fn err_at(offset: u64, opcode: Option<u8>, kind: Kind) -> TracemallocError {
    TracemallocError {
        offset,
        opcode,
        kind,
    }
}

impl<'a, R: Read> Vm<'a, R> {
    fn new(
        window: Cow<'a, [u8]>,
        reader: Option<R>,
        total_len: Option<u64>,
        options: &ParseOptions,
    ) -> Self {
        let limits = options.limits;
        let mut strings = StringInterner::new();
        strings.set_max_bytes(limits.max_string_bytes);
        // Trace `i` becomes node `i + 1` (after the root) with one root edge.
        let max_traces = limits
            .max_nodes
            .saturating_sub(1)
            .min(limits.max_edges)
            .min(u64::from(PAYLOAD_MASK)) as u32;
        // One cache entry per ~256 input bytes, between 2^8 and 2^16.
        let cache_bits = total_len.map_or(MAX_CACHE_BITS, |len| {
            (64 - (len / 256).leading_zeros()).clamp(8, MAX_CACHE_BITS)
        });
        // A trace takes at least ~11 pickle bytes and real dumps average
        // 25-45: reserving for one per 24 bytes avoids regrowing (and
        // copying) the trace columns; unused capacity is never touched and
        // is released at `finish`.
        let estimate = total_len.map_or(0, |len| {
            (len / 24).min(1 << 26).min(u64::from(max_traces)) as usize
        });
        Vm {
            window,
            pos: 0,
            base: 0,
            reader,
            total_len,
            op_start: 0,
            op: None,
            protocol: 0,
            limits,
            strings,
            stack_table: StackTableBuilder::new(),
            stack: Vec::new(),
            marks: Vec::new(),
            memo_high: 0,
            memo_kept: SparseMemo::default(),
            memo_recent: Vec::new(),
            misc: Vec::new(),
            containers: Vec::new(),
            container_items: 0,
            objects: Vec::new(),
            tracebacks: Vec::new(),
            frames: IntMap::default(),
            cache_bits,
            edge_cache: vec![(u64::MAX, 0); 1 << cache_bits],
            last_path: Vec::new(),
            scratch: Vec::new(),
            fast_frames: Vec::new(),
            frame_scratch: Vec::new(),
            text: Vec::new(),
            trace_stacks: Vec::with_capacity(estimate),
            trace_sizes: Vec::with_capacity(estimate),
            large_sizes: Vec::new(),
            max_traces,
            trace_count: 0,
            appended: 0,
            traces_container: None,
            domains: None,
            total_nframe: None,
            shape: None,
            result: None,
            fast_paths: true,
            innermost_frame_only: options.innermost_frame_only,
        }
    }

    fn err(&self, kind: Kind) -> TracemallocError {
        err_at(self.op_start, self.op, kind)
    }

    fn unexpected(&self, expected: &'static str, found: Val) -> TracemallocError {
        self.err(Kind::Unexpected {
            expected,
            found: found.type_name(),
        })
    }
}
