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
use std::hash::{BuildHasherDefault, Hasher};
use std::io::Read;
use std::ops::Range;

use hashbrown::HashMap;
use heapgraph_core::{
    BuildError, Frame, FrameId, Limits, StackId, StackTableBuilder, StringId, StringInterner,
};

use crate::error::{TracemallocError, TracemallocErrorKind as Kind};
use crate::{ParseOptions, TraceColumns, TraceShape, TracemallocSnapshot};

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

/// A multiplicative hasher for small integer keys (frames are looked up
/// millions of times; their keys are two packed `u32`s).
#[derive(Clone, Copy, Default)]
struct IntHasher(u64);

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        // The product's high bits are the well-mixed ones; the table indexes
        // by the low bits, so rotate them down (as rustc-hash 2 does).
        self.0.rotate_left(26)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type IntMap<V> = HashMap<u64, V, BuildHasherDefault<IntHasher>>;

/// Memo entries by index, for the few kinds that can be shared: a bitmap
/// per 64 indices with a rank base, and the values of the set bits in index
/// order (0.25 bytes per memo index plus 4 per kept value). Writes below the
/// high-water mark (out-of-order `PUT`s) go to a small override map.
/// Recent hits are cached (the few filename strings every frame tuple reads
/// come back constantly).
struct SparseMemo {
    /// Per block of 64 indices: which are kept, and the position in
    /// `values` of the block's first kept value.
    blocks: Vec<(u64, u32)>,
    values: Vec<u32>,
    /// Out-of-order writes; `MEMO_EMPTY` marks an entry no longer kept.
    overrides: IntMap<u32>,
    /// Direct-mapped `(index, value)` of recent hits (`u64::MAX`: empty).
    /// Kept entries only change through `overrides`, which clears it.
    hits: [(u64, u32); 16],
}

impl Default for SparseMemo {
    fn default() -> Self {
        SparseMemo {
            blocks: Vec::new(),
            values: Vec::new(),
            overrides: IntMap::default(),
            hits: [(u64::MAX, 0); 16],
        }
    }
}

impl SparseMemo {
    fn set(&mut self, index: u64, packed: u32, keep: bool, high: u64) {
        if index < high {
            self.overrides
                .insert(index, if keep { packed } else { MEMO_EMPTY });
            self.hits = [(u64::MAX, 0); 16];
            return;
        }
        if !keep {
            return;
        }
        let block = (index / 64) as usize;
        while self.blocks.len() <= block {
            self.blocks.push((0, self.values.len() as u32));
        }
        if let Some(entry) = self.blocks.get_mut(block) {
            entry.0 |= 1 << (index % 64);
            self.values.push(packed);
        }
    }

    #[inline]
    fn get(&mut self, index: u64) -> Option<u32> {
        let slot = (index % 16) as usize;
        if let Some(&(i, packed)) = self.hits.get(slot) {
            if i == index {
                return Some(packed);
            }
        }
        let found = self.lookup(index)?;
        if let Some(hit) = self.hits.get_mut(slot) {
            *hit = (index, found);
        }
        Some(found)
    }

    fn lookup(&self, index: u64) -> Option<u32> {
        if !self.overrides.is_empty() {
            if let Some(&p) = self.overrides.get(&index) {
                return (p != MEMO_EMPTY).then_some(p);
            }
        }
        let &(mask, base) = self.blocks.get(usize::try_from(index / 64).ok()?)?;
        let bit = 1u64 << (index % 64);
        if mask & bit == 0 {
            return None;
        }
        let rank = (mask & (bit - 1)).count_ones();
        self.values.get((base + rank) as usize).copied()
    }
}

/// The allow-listed globals.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Global {
    Snapshot,
    Traces,
    Reconstructor,
    Object,
}

/// An integer of at most 64 bits of magnitude and a sign (pickle ints that
/// matter here are u32 or u64), keeping [`Val`] at 16 bytes.
#[derive(Clone, Copy, Debug)]
struct Wide {
    magnitude: u64,
    negative: bool,
}

impl Wide {
    fn new(v: i128) -> Option<Wide> {
        let magnitude = u64::try_from(v.unsigned_abs()).ok()?;
        Some(Wide {
            magnitude,
            negative: v < 0,
        })
    }

    fn get(self) -> i128 {
        let m = i128::from(self.magnitude);
        if self.negative {
            -m
        } else {
            m
        }
    }
}

/// A stack value: a cheap handle.
#[derive(Clone, Copy, Debug)]
enum Val {
    Int(Wide),
    None,
    Bool(bool),
    Str(StringId),
    Global(Global),
    /// Index into `objects`.
    Obj(u32),
    Frame(FrameId),
    /// Index into `tracebacks`.
    Traceback(u32),
    /// Trace index (node = index + 1).
    Trace(u32),
    /// Index into `containers`.
    Container(u32),
    EmptyTuple,
}

impl Val {
    fn type_name(self) -> &'static str {
        match self {
            Val::Int(_) => "an int",
            Val::None => "None",
            Val::Bool(_) => "a bool",
            Val::Str(_) => "a str",
            Val::Global(_) => "a class",
            Val::Obj(_) => "an object",
            Val::Frame(_) => "a frame tuple",
            Val::Traceback(_) => "a traceback tuple",
            Val::Trace(_) => "a trace tuple",
            Val::Container(_) => "a container",
            Val::EmptyTuple => "an empty tuple",
        }
    }
}

#[derive(Debug)]
enum Container {
    Dict(Vec<(Val, Val)>),
    List(Vec<Val>),
    Tuple(Vec<Val>),
    /// The list (or tuple) holding the traces; the traces are graph nodes.
    Traces,
}

#[derive(Debug)]
struct Object {
    class: Global,
    state: Option<Val>,
}

struct Tb {
    stack: u32,
    depth: u32,
}

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

    // ---- input -------------------------------------------------------

    /// The absolute offset of the next byte.
    fn position(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Makes at least `need` bytes available after `pos` by reading more
    /// (reader mode only); `false` at end of input. Reads at most
    /// [`READ_CHUNK`] at a time, so memory follows the data actually present,
    /// never a declared length.
    fn fill(&mut self, need: usize) -> Result<bool, TracemallocError> {
        let Some(reader) = self.reader.as_mut() else {
            return Ok(false);
        };
        let buf = self.window.to_mut();
        if self.pos > 0 {
            buf.drain(..self.pos);
            self.base += self.pos as u64;
            self.pos = 0;
        }
        while buf.len() < need {
            let old = buf.len();
            // `read_to_end` fills spare capacity without zeroing it first.
            let read = match reader.by_ref().take(READ_CHUNK as u64).read_to_end(buf) {
                Ok(n) => n,
                Err(e) => {
                    return Err(err_at(
                        self.base + old as u64,
                        self.op,
                        Kind::Io { source: e.into() },
                    ))
                }
            };
            if read == 0 {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn truncated(&self, expected: &'static str) -> TracemallocError {
        err_at(
            self.base + self.window.len() as u64,
            self.op,
            Kind::Truncated { expected },
        )
    }

    /// The window range of the next `n` bytes (valid until the next read).
    fn take(&mut self, n: usize, expected: &'static str) -> Result<Range<usize>, TracemallocError> {
        if self.window.len() - self.pos < n && !self.fill(n)? {
            return Err(self.truncated(expected));
        }
        let start = self.pos;
        self.pos += n;
        Ok(start..start + n)
    }

    fn take_array<const N: usize>(
        &mut self,
        expected: &'static str,
    ) -> Result<[u8; N], TracemallocError> {
        let range = self.take(N, expected)?;
        let mut out = [0u8; N];
        out.copy_from_slice(&self.window[range]);
        Ok(out)
    }

    #[inline]
    fn u8(&mut self, expected: &'static str) -> Result<u8, TracemallocError> {
        if let Some(&b) = self.window.get(self.pos) {
            self.pos += 1;
            return Ok(b);
        }
        Ok(self.take_array::<1>(expected)?[0])
    }

    /// A length field, checked against the bytes left when the input size is
    /// known (and in any case never trusted for an allocation).
    /// `width` is the size of the length field just read (the error names
    /// the field's offset).
    fn length(&mut self, declared: u64, width: u64) -> Result<usize, TracemallocError> {
        let remaining = self.total_len.map(|t| t.saturating_sub(self.position()));
        match (usize::try_from(declared), remaining) {
            (Ok(n), Some(rem)) if declared <= rem => Ok(n),
            (Ok(n), None) => Ok(n),
            _ => Err(err_at(
                self.position() - width,
                self.op,
                Kind::LengthTooLarge {
                    length: declared,
                    remaining: remaining.unwrap_or(0),
                },
            )),
        }
    }

    /// The window range of a text line without its `\n`.
    fn line(&mut self, expected: &'static str) -> Result<Range<usize>, TracemallocError> {
        let mut scanned = 0usize;
        loop {
            let rest = self.window.get(self.pos + scanned..).unwrap_or_default();
            if let Some(n) = rest.iter().position(|&b| b == b'\n') {
                let start = self.pos;
                let end = start + scanned + n;
                self.pos = end + 1;
                return Ok(start..end);
            }
            scanned += rest.len();
            let have = self.window.len() - self.pos;
            if !self.fill(have + 1)? {
                return Err(self.truncated(expected));
            }
        }
    }

    /// A text line copied out (for short lines: integers, globals).
    fn line_vec(&mut self, expected: &'static str) -> Result<Vec<u8>, TracemallocError> {
        let range = self.line(expected)?;
        Ok(self.window[range].to_vec())
    }

    /// Interns the string in `range` of the window.
    fn intern_range(&mut self, range: Range<usize>) -> Result<Val, TracemallocError> {
        let (op_start, op) = (self.op_start, self.op);
        let id = self
            .strings
            .intern(&self.window[range])
            .map_err(|e| err_at(op_start, op, Kind::Graph(e.into())))?;
        Ok(Val::Str(id))
    }

    // ---- stack -------------------------------------------------------

    fn push(&mut self, v: Val) -> Result<(), TracemallocError> {
        if self.stack.len() >= MAX_STACK {
            return Err(self.err(Kind::LimitExceeded {
                what: "pickle stack depth",
                limit: MAX_STACK as u64,
            }));
        }
        self.stack.push(v);
        Ok(())
    }

    fn pop(&mut self) -> Result<Val, TracemallocError> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err(self.err(Kind::StackUnderflow));
        }
        self.stack
            .pop()
            .ok_or_else(|| self.err(Kind::StackUnderflow))
    }

    fn top(&self) -> Result<Val, TracemallocError> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err(self.err(Kind::StackUnderflow));
        }
        self.stack
            .last()
            .copied()
            .ok_or_else(|| self.err(Kind::StackUnderflow))
    }

    /// Moves the items above the last mark into `scratch` and drops the mark.
    fn pop_mark(&mut self) -> Result<Vec<Val>, TracemallocError> {
        let mark = self
            .marks
            .pop()
            .ok_or_else(|| self.err(Kind::MissingMark))?;
        let mut items = std::mem::take(&mut self.scratch);
        items.clear();
        items.extend_from_slice(self.stack.get(mark..).unwrap_or_default());
        self.stack.truncate(mark);
        Ok(items)
    }

    /// Runs `f` on the stack items from `start` on (without copying them),
    /// then drops them.
    fn in_place<T>(
        &mut self,
        start: usize,
        f: impl FnOnce(&mut Self, &[Val]) -> Result<T, TracemallocError>,
    ) -> Result<T, TracemallocError> {
        let stack = std::mem::take(&mut self.stack);
        let result = f(self, stack.get(start..).unwrap_or_default());
        self.stack = stack;
        self.stack.truncate(start);
        result
    }

    // ---- memo --------------------------------------------------------

    fn encode_memo(&mut self, v: Val) -> Result<u32, TracemallocError> {
        let (tag, payload) = match v {
            Val::Str(s) => (TAG_STR, s.as_u32()),
            Val::Frame(f) => (TAG_FRAME, f.as_u32()),
            Val::Traceback(t) => (TAG_TB, t),
            Val::Trace(t) => (TAG_TRACE, t),
            other => {
                if self.misc.len() >= MAX_MISC_MEMO {
                    return Err(self.err(Kind::LimitExceeded {
                        what: "memoized values other than strings and tuples",
                        limit: MAX_MISC_MEMO as u64,
                    }));
                }
                self.misc.push(other);
                (TAG_MISC, (self.misc.len() - 1) as u32)
            }
        };
        if payload > PAYLOAD_MASK {
            return Err(self.err(Kind::LimitExceeded {
                what: "memoized handle",
                limit: u64::from(PAYLOAD_MASK),
            }));
        }
        Ok((tag << TAG_SHIFT) | payload)
    }

    fn memo_put(&mut self, index: u64) -> Result<(), TracemallocError> {
        let v = self.top()?;
        // Every memo entry needs at least one byte of input, so a genuine
        // pickle never stores beyond its own length.
        if index > self.position() || index >= MAX_MEMO_INDEX {
            return Err(self.err(Kind::MemoIndexTooLarge(index)));
        }
        let packed = self.encode_memo(v)?;
        let tag = packed >> TAG_SHIFT;
        // Frame and trace tuples are never shared by CPython: only the
        // recent ring keeps them.
        let keep = tag != TAG_FRAME && tag != TAG_TRACE;
        if keep || index < self.memo_high {
            self.memo_kept.set(index, packed, keep, self.memo_high);
        }
        self.remember_recent(index, packed);
        Ok(())
    }

    /// `memo_put` at the next index (`MEMOIZE`) of a frame or trace
    /// (`tag`), which only the recent ring keeps: what `memo_put` does for
    /// them, without the stack.
    #[inline]
    fn memoize_unshared(&mut self, tag: u32, payload: u32) -> Result<(), TracemallocError> {
        let index = self.memo_high;
        if index > self.position() || index >= MAX_MEMO_INDEX {
            return Err(self.err(Kind::MemoIndexTooLarge(index)));
        }
        if payload > PAYLOAD_MASK {
            return Err(self.err(Kind::LimitExceeded {
                what: "memoized handle",
                limit: u64::from(PAYLOAD_MASK),
            }));
        }
        self.remember_recent(index, (tag << TAG_SHIFT) | payload);
        Ok(())
    }

    /// Stores a memo entry in the ring of recent ones and moves the high
    /// mark. The ring grows with the memo (small dumps stay small) up to
    /// its fixed size, then wraps.
    #[inline]
    fn remember_recent(&mut self, index: u64, packed: u32) {
        let slot = (index & RECENT_MASK) as usize;
        if slot >= self.memo_recent.len() {
            self.memo_recent.resize(slot + 1, u64::MAX);
        }
        if let Some(entry) = self.memo_recent.get_mut(slot) {
            *entry = ((index >> 16) << 32) | u64::from(packed);
        }
        self.memo_high = self.memo_high.max(index + 1);
    }

    fn memo_get(&mut self, index: u64) -> Result<(), TracemallocError> {
        let packed = match self.memo_kept.get(index) {
            Some(p) => p,
            None => match self.memo_recent.get((index & RECENT_MASK) as usize) {
                Some(&entry) if entry != u64::MAX && entry >> 32 == index >> 16 => entry as u32,
                _ if index < self.memo_high => {
                    return Err(self.err(Kind::MemoNotKept(index)));
                }
                _ => return Err(self.err(Kind::MissingMemo(index))),
            },
        };
        let payload = packed & PAYLOAD_MASK;
        let v = match packed >> TAG_SHIFT {
            TAG_STR => Val::Str(StringId::new(payload)),
            TAG_FRAME => Val::Frame(FrameId::new(payload)),
            TAG_TB => Val::Traceback(payload),
            TAG_TRACE => Val::Trace(payload),
            TAG_MISC => match self.misc.get(payload as usize) {
                Some(&v) => v,
                None => return Err(self.err(Kind::MissingMemo(index))),
            },
            _ => return Err(self.err(Kind::MissingMemo(index))),
        };
        self.push(v)
    }

    // ---- values ------------------------------------------------------

    fn new_container(&mut self, c: Container) -> Result<Val, TracemallocError> {
        if self.containers.len() >= MAX_CONTAINERS {
            return Err(self.err(Kind::LimitExceeded {
                what: "containers",
                limit: MAX_CONTAINERS as u64,
            }));
        }
        self.containers.push(c);
        Ok(Val::Container((self.containers.len() - 1) as u32))
    }

    fn count_items(&mut self, n: usize) -> Result<(), TracemallocError> {
        self.container_items += n;
        if self.container_items > MAX_CONTAINER_ITEMS {
            return Err(self.err(Kind::LimitExceeded {
                what: "items in non-trace containers",
                limit: MAX_CONTAINER_ITEMS as u64,
            }));
        }
        Ok(())
    }

    fn intern_str(&mut self, bytes: &[u8]) -> Result<Val, TracemallocError> {
        let id = self
            .strings
            .intern(bytes)
            .map_err(|e| self.err(Kind::Graph(e.into())))?;
        Ok(Val::Str(id))
    }

    fn push_int_checked(&mut self, v: i128) -> Result<(), TracemallocError> {
        let wide = Wide::new(v).ok_or_else(|| {
            self.err(Kind::BadInteger {
                what: "an integer beyond 64 bits",
            })
        })?;
        self.push(Val::Int(wide))
    }

    /// The frame `(file, line)`, interned.
    #[inline]
    fn frame(&mut self, file: StringId, line: u32) -> Result<FrameId, TracemallocError> {
        let key = (u64::from(file.as_u32()) << 32) | u64::from(line);
        if let Some(&id) = self.frames.get(&key) {
            return Ok(FrameId::new(id));
        }
        let frame = Frame {
            function: StringId::EMPTY,
            file,
            line,
            column: 0,
        };
        let id = self
            .stack_table
            .intern_frame(frame)
            .map_err(|e| self.err(Kind::Graph(e.into())))?;
        self.frames.insert(key, id.as_u32());
        Ok(id)
    }

    /// The frame tuple `GET file; BININT1|BININT2 line; TUPLE2` (and the
    /// `MEMOIZE` after it), which makes up most of a dump, run in one step
    /// when the bytes are in the window and the memo entry is a string; the
    /// same checks, results and error offsets as running the opcodes one by
    /// one, which is what happens otherwise (`false`: nothing consumed).
    /// Called with `pos` just after the GET's index.
    #[inline]
    fn frame_fast_path(&mut self, index: u64) -> Result<bool, TracemallocError> {
        let rest = self.window.get(self.pos..).unwrap_or_default();
        let (line, len) = match *rest {
            [b'K', line, 0x86, ..] => (u32::from(line), 2),
            [b'M', lo, hi, 0x86, ..] => (u32::from(u16::from_le_bytes([lo, hi])), 3),
            _ => return Ok(false),
        };
        let memoize = rest.get(len + 1) == Some(&0x94);
        let Some(packed) = self.memo_kept.get(index) else {
            return Ok(false);
        };
        // The two pushes must fit as they would one by one.
        if packed >> TAG_SHIFT != TAG_STR || self.stack.len() + 2 > MAX_STACK {
            return Ok(false);
        }
        let file = StringId::new(packed & PAYLOAD_MASK);
        let tuple_at = self.pos + len;
        self.op_start = self.base + tuple_at as u64;
        self.op = Some(0x86);
        let frame = self.frame(file, line)?;
        self.pos = tuple_at + 1;
        self.stack.push(Val::Frame(frame));
        if memoize {
            self.op_start = self.position();
            self.op = Some(0x94);
            self.pos += 1;
            self.memoize_unshared(TAG_FRAME, frame.as_u32())?;
        }
        Ok(true)
    }

    /// The trace tuple of CPython 3.9+ whose traceback was seen before,
    /// `MARK int int GET int TUPLE` (and the `MEMOIZE` after it), most of
    /// the traces of a real dump, run in one step when the bytes are in the
    /// window and the memo entry is a traceback; the same checks, results and
    /// error offsets as running the opcodes one by one, which is what happens
    /// otherwise (`false`: nothing consumed). Called with `pos` just after
    /// the MARK.
    #[inline]
    fn trace_fast_path(&mut self) -> Result<bool, TracemallocError> {
        let rest = self.window.get(self.pos..).unwrap_or_default();
        let Some((domain, a)) = small_int(rest, 0) else {
            return Ok(false);
        };
        let Some((size, b)) = small_int(rest, a) else {
            return Ok(false);
        };
        let Some((traceback, c)) = memo_ref(rest, a + b) else {
            return Ok(false);
        };
        let Some((nframe, d)) = small_int(rest, a + b + c) else {
            return Ok(false);
        };
        let tuple_at = a + b + c + d;
        if rest.get(tuple_at) != Some(&b't') {
            return Ok(false);
        }
        let memoize = rest.get(tuple_at + 1) == Some(&0x94);
        // The bounds the MARK and the four pushes would check.
        if self.marks.len() >= MAX_MARKS || self.stack.len() + 4 > MAX_STACK {
            return Ok(false);
        }
        let Some(packed) = self.memo_kept.get(traceback) else {
            return Ok(false);
        };
        if packed >> TAG_SHIFT != TAG_TB {
            return Ok(false);
        }
        self.op_start = self.base + (self.pos + tuple_at) as u64;
        self.op = Some(b't');
        let trace = self.make_trace(
            TraceShape::WithTotalNframe,
            domain,
            size,
            Val::Traceback(packed & PAYLOAD_MASK),
            Some(nframe),
        )?;
        self.pos += tuple_at + 1;
        self.stack.push(trace);
        if memoize {
            self.op_start = self.position();
            self.op = Some(0x94);
            self.pos += 1;
            let Val::Trace(index) = trace else {
                return Err(self.unexpected("a trace tuple", trace));
            };
            self.memoize_unshared(TAG_TRACE, index)?;
        }
        Ok(true)
    }

    /// A traceback tuple of frame tuples, `MARK (GET file; BININT1|BININT2
    /// line; TUPLE2; [MEMOIZE])+ TUPLE` (and the `MEMOIZE` after it), run in
    /// one step when all of it is in the window and every memo entry read is
    /// a string; the same checks, results, memo entries and error offsets as
    /// opcode by opcode, which is what happens otherwise (`false`: nothing
    /// consumed). Called with `pos` just after the MARK.
    fn traceback_fast_path(&mut self) -> Result<bool, TracemallocError> {
        // Scan first: (file, line, offset of TUPLE2, memoized) per frame.
        let mut frames = std::mem::take(&mut self.fast_frames);
        frames.clear();
        let rest = self.window.get(self.pos..).unwrap_or_default();
        let mut at = 0;
        let end = loop {
            if rest.get(at) == Some(&b't') && !frames.is_empty() {
                break at;
            }
            let scanned = memo_ref(rest, at).and_then(|(index, a)| {
                let (line, b) = match *rest.get(at + a..)? {
                    [b'K', line, 0x86, ..] => (u32::from(line), 2),
                    [b'M', lo, hi, 0x86, ..] => (u32::from(u16::from_le_bytes([lo, hi])), 3),
                    _ => return None,
                };
                let packed = self.memo_kept.get(index)?;
                (packed >> TAG_SHIFT == TAG_STR).then_some((packed & PAYLOAD_MASK, line, a + b))
            });
            let Some((file, line, tuple_at)) = scanned else {
                self.fast_frames = frames;
                return Ok(false);
            };
            let memoized = rest.get(at + tuple_at + 1) == Some(&0x94);
            frames.push((file, line, (at + tuple_at) as u32, memoized));
            at += tuple_at + 1 + usize::from(memoized);
        };
        // The bounds the MARK and the pushes would check (a frame tuple
        // briefly holds two stack slots).
        if self.marks.len() >= MAX_MARKS || self.stack.len() + frames.len() + 2 > MAX_STACK {
            self.fast_frames = frames;
            return Ok(false);
        }
        let start = self.pos;
        let mut items = std::mem::take(&mut self.scratch);
        items.clear();
        let mut result = Ok(());
        for &(file, line, tuple_at, memoized) in &frames {
            self.op_start = self.base + (start + tuple_at as usize) as u64;
            self.op = Some(0x86);
            self.pos = start + tuple_at as usize + 1;
            let frame = match self.frame(StringId::new(file), line) {
                Ok(frame) => frame,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            };
            items.push(Val::Frame(frame));
            if memoized {
                self.op_start = self.position();
                self.op = Some(0x94);
                self.pos += 1;
                result = self.memoize_unshared(TAG_FRAME, frame.as_u32());
                if result.is_err() {
                    break;
                }
            }
        }
        self.fast_frames = frames;
        let traceback = result.and_then(|()| {
            self.op_start = self.base + (start + end) as u64;
            self.op = Some(b't');
            self.pos = start + end + 1;
            self.make_traceback(&items)
        });
        self.scratch = items;
        self.stack.push(traceback?);
        if self.window.get(self.pos) == Some(&0x94) {
            self.op_start = self.position();
            self.op = Some(0x94);
            self.pos += 1;
            let next = self.memo_high;
            self.memo_put(next)?;
        }
        Ok(true)
    }

    /// Builds a tuple from `items`, recognising frames, tracebacks and traces.
    fn make_tuple(&mut self, items: &[Val]) -> Result<Val, TracemallocError> {
        match items {
            [] => return Ok(Val::EmptyTuple),
            [Val::Str(file), Val::Int(line)] => {
                if let Ok(line) = u32::try_from(line.get()) {
                    return Ok(Val::Frame(self.frame(*file, line)?));
                }
            }
            [Val::Int(size), tb @ (Val::Traceback(_) | Val::EmptyTuple)] => {
                return self.make_trace(TraceShape::SizeTraceback, 0, size.get(), *tb, None);
            }
            [Val::Int(domain), Val::Int(size), tb @ (Val::Traceback(_) | Val::EmptyTuple)] => {
                return self.make_trace(
                    TraceShape::DomainSizeTraceback,
                    domain.get(),
                    size.get(),
                    *tb,
                    None,
                );
            }
            [Val::Int(domain), Val::Int(size), tb @ (Val::Traceback(_) | Val::EmptyTuple), Val::Int(nframe)] =>
            {
                return self.make_trace(
                    TraceShape::WithTotalNframe,
                    domain.get(),
                    size.get(),
                    *tb,
                    Some(nframe.get()),
                );
            }
            _ => {}
        }
        if items.iter().all(|v| matches!(v, Val::Frame(_))) {
            return self.make_traceback(items);
        }
        if items.iter().all(|v| matches!(v, Val::Trace(_))) {
            let list = self.new_container(Container::List(Vec::new()))?;
            let Val::Container(id) = list else {
                return Err(self.err(Kind::StackUnderflow));
            };
            self.append(id, items)?;
            return Ok(list);
        }
        self.count_items(items.len())?;
        self.new_container(Container::Tuple(items.to_vec()))
    }

    fn make_traceback(&mut self, items: &[Val]) -> Result<Val, TracemallocError> {
        if items.len() > MAX_FRAMES {
            return Err(self.err(Kind::LimitExceeded {
                what: "frames in a traceback",
                limit: MAX_FRAMES as u64,
            }));
        }
        let mut frames = std::mem::take(&mut self.frame_scratch);
        frames.clear();
        frames.extend(items.iter().filter_map(|v| match v {
            Val::Frame(f) => Some(*f),
            _ => None,
        }));
        // Outermost frame first. The callers the previous traceback shares
        // (the frames of consecutive tracebacks mostly do) come from its
        // path; the rest through a small direct-mapped cache of trie edges
        // in front of the stack table's own index.
        let mut path = std::mem::take(&mut self.last_path);
        let shared = path
            .iter()
            .zip(frames.iter().rev())
            .take_while(|((known, _), frame)| known == *frame)
            .count();
        path.truncate(shared);
        let mut stack: Option<StackId> = path.last().map(|&(_, s)| s);
        for &frame in frames.iter().rev().skip(shared) {
            let parent = stack.map_or(u32::MAX, StackId::as_u32);
            let key = (u64::from(parent) << 32) | u64::from(frame.as_u32());
            let slot = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - self.cache_bits)) as usize;
            match self.edge_cache.get(slot) {
                Some(&(k, s)) if k == key => stack = Some(StackId::new(s)),
                _ => {
                    let (op_start, op) = (self.op_start, self.op);
                    let s = self
                        .stack_table
                        .push_frame(stack, frame)
                        .map_err(|e| err_at(op_start, op, Kind::Graph(e.into())))?;
                    if let Some(entry) = self.edge_cache.get_mut(slot) {
                        *entry = (key, s.as_u32());
                    }
                    stack = Some(s);
                }
            }
            if let Some(s) = stack {
                path.push((frame, s));
            }
        }
        self.last_path = path;
        self.frame_scratch = frames;
        self.tracebacks.push(Tb {
            stack: stack.map_or(NO_STACK, StackId::as_u32),
            depth: items.len() as u32,
        });
        Ok(Val::Traceback((self.tracebacks.len() - 1) as u32))
    }

    fn make_trace(
        &mut self,
        shape: TraceShape,
        domain: i128,
        size: i128,
        traceback: Val,
        nframe: Option<i128>,
    ) -> Result<Val, TracemallocError> {
        match self.shape {
            None => self.shape = Some(shape),
            Some(s) if s == shape => {}
            Some(_) => {
                return Err(self.err(Kind::Unexpected {
                    expected: "trace tuples of one shape",
                    found: "a trace tuple of another length",
                }))
            }
        }
        let domain = u32::try_from(domain).map_err(|_| {
            self.err(Kind::BadInteger {
                what: "trace domain",
            })
        })?;
        let size =
            u64::try_from(size).map_err(|_| self.err(Kind::BadInteger { what: "trace size" }))?;
        let nframe = match nframe {
            Some(n) => Some(u32::try_from(n).map_err(|_| {
                self.err(Kind::BadInteger {
                    what: "total_nframe",
                })
            })?),
            None => None,
        };
        let (stack, depth) = match traceback {
            Val::Traceback(t) => match self.tracebacks.get(t as usize) {
                Some(tb) => (tb.stack, tb.depth),
                None => (NO_STACK, 0),
            },
            _ => (NO_STACK, 0),
        };
        self.emit_trace(domain, size, stack, nframe, depth)
    }

    fn emit_trace(
        &mut self,
        domain: u32,
        size: u64,
        stack: u32,
        nframe: Option<u32>,
        depth: u32,
    ) -> Result<Val, TracemallocError> {
        let index = self.trace_count;
        if index >= self.max_traces {
            return Err(self.trace_limit_error());
        }
        self.trace_stacks.push(stack);
        match u32::try_from(size) {
            Ok(small) if small != LARGE_SIZE => self.trace_sizes.push(small),
            _ => {
                self.trace_sizes.push(LARGE_SIZE);
                self.large_sizes.push((index, size));
            }
        }
        if domain != 0 && self.domains.is_none() {
            self.domains = Some(vec![0; index as usize]);
        }
        if let Some(domains) = &mut self.domains {
            domains.push(domain);
        }
        if let Some(n) = nframe {
            // Usually the traceback's own length: keep only the others.
            let exceptions = self.total_nframe.get_or_insert_with(Vec::new);
            if n != depth {
                exceptions.push((index, n));
            }
        }
        self.trace_count += 1;
        Ok(Val::Trace(index))
    }

    /// The error for one trace more than the limits allow: each trace is a
    /// graph node (besides the root) with one root edge.
    #[cold]
    fn trace_limit_error(&self) -> TracemallocError {
        let default = Limits::default();
        let kind = if self.limits.max_nodes < default.max_nodes
            && self.limits.max_nodes.saturating_sub(1) <= self.limits.max_edges
        {
            Kind::Graph(BuildError::LimitExceeded {
                what: "nodes",
                limit: self.limits.max_nodes,
            })
        } else if self.limits.max_edges < default.max_edges {
            Kind::Graph(BuildError::LimitExceeded {
                what: "edges",
                limit: self.limits.max_edges,
            })
        } else {
            Kind::LimitExceeded {
                what: "traces",
                limit: u64::from(self.max_traces),
            }
        };
        self.err(kind)
    }

    /// Appends values to the list `id`.
    fn append(&mut self, id: u32, items: &[Val]) -> Result<(), TracemallocError> {
        let Some(container) = self.containers.get_mut(id as usize) else {
            return Err(self.err(Kind::StackUnderflow));
        };
        let traces = items.iter().filter(|v| matches!(v, Val::Trace(_))).count();
        match container {
            Container::List(list) if traces == 0 => {
                list.extend_from_slice(items);
                return self.count_items(items.len());
            }
            Container::List(list) if list.is_empty() && traces == items.len() => {
                if self.traces_container.is_some() {
                    return Err(self.err(Kind::Unexpected {
                        expected: "one list of traces",
                        found: "a second list of traces",
                    }));
                }
                *container = Container::Traces;
                self.traces_container = Some(id);
            }
            Container::Traces if traces == items.len() => {}
            Container::Dict(_) | Container::Tuple(_) => {
                return Err(self.err(Kind::Unexpected {
                    expected: "a list to append to",
                    found: "a dict or tuple",
                }))
            }
            _ => {
                return Err(self.err(Kind::Unexpected {
                    expected: "only trace tuples in the traces list",
                    found: "a mix of traces and other values",
                }))
            }
        }
        for &item in items {
            let Val::Trace(index) = item else { continue };
            if index == self.appended {
                self.appended += 1;
            } else if index < self.appended {
                return Err(self.err(Kind::Unexpected {
                    expected: "each trace tuple listed once",
                    found: "a trace tuple listed twice",
                }));
            } else {
                return Err(self.err(Kind::Unexpected {
                    expected: "trace tuples appended in the order they were built",
                    found: "a trace tuple built earlier but not yet listed",
                }));
            }
        }
        Ok(())
    }

    fn setitems(&mut self, dict: Val, items: &[Val]) -> Result<(), TracemallocError> {
        if !items.len().is_multiple_of(2) {
            return Err(self.err(Kind::Unexpected {
                expected: "key/value pairs",
                found: "an odd number of items",
            }));
        }
        let Val::Container(id) = dict else {
            return Err(self.unexpected("a dict", dict));
        };
        self.count_items(items.len())?;
        match self.containers.get_mut(id as usize) {
            Some(Container::Dict(pairs)) => {
                for pair in items.chunks_exact(2) {
                    pairs.push((pair[0], pair[1]));
                }
                Ok(())
            }
            _ => Err(self.unexpected("a dict", dict)),
        }
    }

    fn global(&mut self, module: &[u8], name: &[u8]) -> Result<(), TracemallocError> {
        let g = match (module, name) {
            (b"tracemalloc", b"Snapshot") => Global::Snapshot,
            (b"tracemalloc", b"_Traces") => Global::Traces,
            (b"copy_reg" | b"copyreg", b"_reconstructor") => Global::Reconstructor,
            (b"__builtin__" | b"builtins", b"object") => Global::Object,
            _ => {
                return Err(self.err(Kind::NotASnapshot {
                    what: format!(
                        "{}.{}",
                        String::from_utf8_lossy(module),
                        String::from_utf8_lossy(name)
                    ),
                }))
            }
        };
        self.push(Val::Global(g))
    }

    fn new_object(&mut self, class: Val) -> Result<Val, TracemallocError> {
        match class {
            Val::Global(g @ (Global::Snapshot | Global::Traces)) => {
                if self.objects.len() >= MAX_CONTAINERS {
                    return Err(self.err(Kind::LimitExceeded {
                        what: "objects",
                        limit: MAX_CONTAINERS as u64,
                    }));
                }
                self.objects.push(Object {
                    class: g,
                    state: None,
                });
                Ok(Val::Obj((self.objects.len() - 1) as u32))
            }
            Val::Global(g) => Err(self.err(Kind::NotASnapshot {
                what: format!("an instance of {g:?}"),
            })),
            other => Err(self.unexpected("a class", other)),
        }
    }

    fn str_bytes(&mut self, v: Val) -> Option<Vec<u8>> {
        match v {
            Val::Str(s) => Some(self.strings.table().bytes(s).to_vec()),
            _ => None,
        }
    }

    // ---- the loop ----------------------------------------------------

    fn execute(&mut self) -> Result<(), TracemallocError> {
        loop {
            self.op_start = self.position();
            self.op = None;
            let op = self.u8("an opcode")?;
            self.op = Some(op);
            match op {
                // Framing and protocol.
                0x80 => {
                    let p = self.u8("a protocol number")?;
                    if p > 5 {
                        return Err(self.err(Kind::UnsupportedProtocol(p)));
                    }
                    self.protocol = p;
                }
                0x95 => {
                    let len = u64::from_le_bytes(self.take_array::<8>("a FRAME length")?);
                    self.length(len, 8)?;
                }
                b'.' => {
                    let v = self.pop()?;
                    self.result = Some(v);
                    return Ok(());
                }
                // Marks.
                b'(' => {
                    if self.fast_paths && (self.trace_fast_path()? || self.traceback_fast_path()?) {
                        continue;
                    }
                    if self.marks.len() >= MAX_MARKS {
                        return Err(self.err(Kind::LimitExceeded {
                            what: "nested MARKs",
                            limit: MAX_MARKS as u64,
                        }));
                    }
                    self.marks.push(self.stack.len());
                }
                // Integers.
                b'K' => {
                    let v = self.u8("a BININT1 value")?;
                    self.push_int_checked(i128::from(v))?;
                }
                b'M' => {
                    let v = u16::from_le_bytes(self.take_array::<2>("a BININT2 value")?);
                    self.push_int_checked(i128::from(v))?;
                }
                b'J' => {
                    let v = i32::from_le_bytes(self.take_array::<4>("a BININT value")?);
                    self.push_int_checked(i128::from(v))?;
                }
                0x8a => {
                    let n = self.u8("a LONG1 length")?;
                    self.long_bytes(u64::from(n), 1)?;
                }
                0x8b => {
                    let n = u32::from_le_bytes(self.take_array::<4>("a LONG4 length")?);
                    self.long_bytes(u64::from(n), 4)?;
                }
                b'I' => {
                    let line = self.line_vec("an INT line")?;
                    let v = match line.as_slice() {
                        b"01" => Val::Bool(true),
                        b"00" => Val::Bool(false),
                        digits => {
                            let v = self.parse_decimal(digits, "INT")?;
                            Val::Int(
                                Wide::new(v)
                                    .ok_or_else(|| self.err(Kind::BadInteger { what: "INT" }))?,
                            )
                        }
                    };
                    self.push(v)?;
                }
                b'L' => {
                    let line = self.line_vec("a LONG line")?;
                    let digits = line.strip_suffix(b"L").unwrap_or(&line);
                    let v = self.parse_decimal(digits, "LONG")?;
                    self.push_int_checked(v)?;
                }
                b'N' => self.push(Val::None)?,
                0x88 => self.push(Val::Bool(true))?,
                0x89 => self.push(Val::Bool(false))?,
                // Strings.
                0x8c => {
                    let n = self.u8("a SHORT_BINUNICODE length")?;
                    let n = self.length(u64::from(n), 1)?;
                    let range = self.take(n, "string bytes")?;
                    let v = self.intern_range(range)?;
                    self.push(v)?;
                }
                b'X' => {
                    let n = u32::from_le_bytes(self.take_array::<4>("a BINUNICODE length")?);
                    let n = self.length(u64::from(n), 4)?;
                    let range = self.take(n, "string bytes")?;
                    let v = self.intern_range(range)?;
                    self.push(v)?;
                }
                0x8d => {
                    let n = u64::from_le_bytes(self.take_array::<8>("a BINUNICODE8 length")?);
                    let n = self.length(n, 8)?;
                    let range = self.take(n, "string bytes")?;
                    let v = self.intern_range(range)?;
                    self.push(v)?;
                }
                b'V' => {
                    let line = self.line("a UNICODE line")?;
                    let mut text = std::mem::take(&mut self.text);
                    text.clear();
                    let decoded = decode_raw_unicode_escape(&self.window[line], &mut text);
                    let v = match decoded {
                        Ok(()) => self.intern_str(&text),
                        Err(what) => Err(self.err(Kind::BadString(what))),
                    };
                    self.text = text;
                    self.push(v?)?;
                }
                // Memo.
                0x94 => {
                    let next = self.memo_high;
                    self.memo_put(next)?;
                }
                b'q' => {
                    let i = self.u8("a BINPUT index")?;
                    self.memo_put(u64::from(i))?;
                }
                b'r' => {
                    let i = u32::from_le_bytes(self.take_array::<4>("a LONG_BINPUT index")?);
                    self.memo_put(u64::from(i))?;
                }
                b'p' => {
                    let line = self.line_vec("a PUT index")?;
                    let i = self.parse_index(&line)?;
                    self.memo_put(i)?;
                }
                b'h' => {
                    let i = self.u8("a BINGET index")?;
                    if !(self.fast_paths && self.frame_fast_path(u64::from(i))?) {
                        self.memo_get(u64::from(i))?;
                    }
                }
                b'j' => {
                    let i = u32::from_le_bytes(self.take_array::<4>("a LONG_BINGET index")?);
                    if !(self.fast_paths && self.frame_fast_path(u64::from(i))?) {
                        self.memo_get(u64::from(i))?;
                    }
                }
                b'g' => {
                    let line = self.line_vec("a GET index")?;
                    let i = self.parse_index(&line)?;
                    self.memo_get(i)?;
                }
                // Tuples.
                b')' => self.push(Val::EmptyTuple)?,
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    let floor = self.marks.last().copied().unwrap_or(0);
                    if self.stack.len() < floor + n {
                        return Err(self.err(Kind::StackUnderflow));
                    }
                    let start = self.stack.len() - n;
                    let v = self.in_place(start, |vm, items| vm.make_tuple(items))?;
                    self.push(v)?;
                }
                b't' => {
                    let mark = self
                        .marks
                        .pop()
                        .ok_or_else(|| self.err(Kind::MissingMark))?;
                    let v = self.in_place(mark, |vm, items| vm.make_tuple(items))?;
                    self.push(v)?;
                }
                // Lists.
                b']' => {
                    let v = self.new_container(Container::List(Vec::new()))?;
                    self.push(v)?;
                }
                b'l' => {
                    let items = self.pop_mark()?;
                    let result = self.new_list_from(&items);
                    self.scratch = items;
                    let v = result?;
                    self.push(v)?;
                }
                b'a' => {
                    let item = self.pop()?;
                    let list = self.top()?;
                    let Val::Container(id) = list else {
                        return Err(self.unexpected("a list", list));
                    };
                    self.append(id, &[item])?;
                }
                b'e' => {
                    let mark = self
                        .marks
                        .pop()
                        .ok_or_else(|| self.err(Kind::MissingMark))?;
                    let floor = self.marks.last().copied().unwrap_or(0);
                    let list = match mark.checked_sub(1) {
                        Some(i) if i >= floor => self.stack.get(i).copied(),
                        _ => None,
                    };
                    match list {
                        Some(Val::Container(id)) => {
                            self.in_place(mark, |vm, items| vm.append(id, items))?;
                        }
                        Some(other) => return Err(self.unexpected("a list", other)),
                        None => return Err(self.err(Kind::StackUnderflow)),
                    }
                }
                // Dicts.
                b'}' => {
                    let v = self.new_container(Container::Dict(Vec::new()))?;
                    self.push(v)?;
                }
                b'd' => {
                    let items = self.pop_mark()?;
                    let result = self
                        .new_container(Container::Dict(Vec::new()))
                        .and_then(|d| self.setitems(d, &items).map(|()| d));
                    self.scratch = items;
                    let v = result?;
                    self.push(v)?;
                }
                b's' => {
                    let value = self.pop()?;
                    let key = self.pop()?;
                    let dict = self.top()?;
                    self.setitems(dict, &[key, value])?;
                }
                b'u' => {
                    let items = self.pop_mark()?;
                    let result = self.top().and_then(|d| self.setitems(d, &items));
                    self.scratch = items;
                    result?;
                }
                // Classes and objects.
                b'c' => {
                    let module = self.line_vec("a GLOBAL module")?;
                    let name = self.line_vec("a GLOBAL name")?;
                    self.global(&module, &name)?;
                }
                0x93 => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    let (Some(m), Some(n)) = (self.str_bytes(module), self.str_bytes(name)) else {
                        return Err(self.unexpected("module and name strings", module));
                    };
                    self.global(&m, &n)?;
                }
                0x81 => {
                    let args = self.pop()?;
                    let class = self.pop()?;
                    if !self.is_empty_args(args) {
                        return Err(self.unexpected("empty constructor arguments", args));
                    }
                    let obj = self.new_object(class)?;
                    self.push(obj)?;
                }
                b'R' => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    let obj = self.reduce(callable, args)?;
                    self.push(obj)?;
                }
                b'b' => {
                    let state = self.pop()?;
                    let obj = self.top()?;
                    let Val::Obj(i) = obj else {
                        return Err(self.unexpected("an object to BUILD", obj));
                    };
                    if let Some(o) = self.objects.get_mut(i as usize) {
                        o.state = Some(state);
                    }
                }
                // Known opcodes that snapshots never need.
                b'0'
                | b'1'
                | b'2'
                | b'F'
                | b'P'
                | b'Q'
                | b'S'
                | b'T'
                | b'U'
                | b'i'
                | b'o'
                | b'G'
                | b'B'
                | b'C'
                | 0x82..=0x84
                | 0x8e..=0x92
                | 0x96..=0x98 => {
                    return Err(self.err(Kind::ForbiddenOpcode));
                }
                other => return Err(self.err(Kind::UnknownOpcode(other))),
            }
        }
    }

    fn new_list_from(&mut self, items: &[Val]) -> Result<Val, TracemallocError> {
        let list = self.new_container(Container::List(Vec::new()))?;
        if let Val::Container(id) = list {
            self.append(id, items)?;
        }
        Ok(list)
    }

    fn is_empty_args(&self, args: Val) -> bool {
        match args {
            Val::EmptyTuple => true,
            Val::Container(id) => {
                matches!(self.containers.get(id as usize), Some(Container::Tuple(t)) if t.is_empty())
            }
            _ => false,
        }
    }

    fn reduce(&mut self, callable: Val, args: Val) -> Result<Val, TracemallocError> {
        if !matches!(callable, Val::Global(Global::Reconstructor)) {
            return Err(match callable {
                Val::Global(g) => self.err(Kind::NotASnapshot {
                    what: format!("a call of {g:?}"),
                }),
                other => self.unexpected("copyreg._reconstructor", other),
            });
        }
        let class = match args {
            Val::Container(id) => match self.containers.get(id as usize) {
                Some(Container::Tuple(t)) => match t.as_slice() {
                    [class, Val::Global(Global::Object), Val::None] => Some(*class),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        };
        match class {
            Some(class) => self.new_object(class),
            None => Err(self.unexpected("(class, object, None) arguments", args)),
        }
    }

    fn long_bytes(&mut self, n: u64, width: u64) -> Result<(), TracemallocError> {
        let n = self.length(n, width)?;
        let range = self.take(n, "integer bytes")?;
        let bytes = &self.window[range];
        if bytes.len() > 16 {
            return Err(self.err(Kind::BadInteger {
                what: "an integer wider than 128 bits",
            }));
        }
        let mut buf = [0u8; 16];
        if bytes.last().is_some_and(|&b| b & 0x80 != 0) {
            buf = [0xff; 16];
        }
        buf[..n].copy_from_slice(bytes);
        self.push_int_checked(i128::from_le_bytes(buf))
    }

    fn parse_decimal(&self, digits: &[u8], what: &'static str) -> Result<i128, TracemallocError> {
        std::str::from_utf8(digits)
            .ok()
            .and_then(|s| s.trim().parse::<i128>().ok())
            .ok_or_else(|| self.err(Kind::BadInteger { what }))
    }

    fn parse_index(&self, line: &[u8]) -> Result<u64, TracemallocError> {
        std::str::from_utf8(line)
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| self.err(Kind::BadInteger { what: "memo index" }))
    }

    // ---- the result ----------------------------------------------------

    fn dict_get(&mut self, dict: Val, key: &[u8]) -> Option<Val> {
        let Val::Container(id) = dict else {
            return None;
        };
        let Some(Container::Dict(pairs)) = self.containers.get(id as usize) else {
            return None;
        };
        let strings = self.strings.table();
        pairs
            .iter()
            .rev()
            .find(|(k, _)| matches!(k, Val::Str(s) if strings.bytes(*s) == key))
            .map(|&(_, v)| v)
    }

    fn object_state(&self, v: Val, class: Global) -> Option<Val> {
        let Val::Obj(i) = v else { return None };
        let o = self.objects.get(i as usize)?;
        if o.class != class {
            return None;
        }
        o.state
    }

    fn finish(mut self) -> Result<TracemallocSnapshot, TracemallocError> {
        let stop = self.op_start;
        let fail = |kind: Kind| err_at(stop, Some(b'.'), kind);
        let result = self.result.unwrap_or(Val::None);
        let Some(state) = self.object_state(result, Global::Snapshot) else {
            return Err(fail(Kind::NotASnapshot {
                what: match result {
                    Val::Obj(_) => "a _Traces object or an unbuilt Snapshot".to_owned(),
                    other => other.type_name().to_owned(),
                },
            }));
        };
        let traceback_limit = match self.dict_get(state, b"traceback_limit") {
            Some(Val::Int(v)) => u64::try_from(v.get()).map_err(|_| {
                fail(Kind::BadInteger {
                    what: "traceback_limit",
                })
            })?,
            Some(Val::Bool(b)) => u64::from(b),
            Some(other) => {
                return Err(fail(Kind::Unexpected {
                    expected: "an int traceback_limit",
                    found: other.type_name(),
                }))
            }
            None => {
                return Err(fail(Kind::Unexpected {
                    expected: "a traceback_limit in the Snapshot state",
                    found: "none",
                }))
            }
        };
        let traces_obj = self.dict_get(state, b"traces").unwrap_or(Val::None);
        let Some(traces_state) = self.object_state(traces_obj, Global::Traces) else {
            return Err(fail(Kind::Unexpected {
                expected: "a built tracemalloc._Traces as Snapshot.traces",
                found: traces_obj.type_name(),
            }));
        };
        let list = self.dict_get(traces_state, b"_traces").unwrap_or(Val::None);
        let ok = match list {
            Val::EmptyTuple => self.trace_count == 0,
            Val::Container(id) => match self.containers.get(id as usize) {
                Some(Container::Traces) => self.traces_container == Some(id),
                Some(Container::List(v) | Container::Tuple(v)) => {
                    v.is_empty() && self.trace_count == 0
                }
                _ => false,
            },
            _ => false,
        };
        if !ok || self.appended != self.trace_count {
            return Err(fail(Kind::Unexpected {
                expected: "_Traces._traces to be the list of every trace tuple",
                found: "another value or stray trace tuples",
            }));
        }
        let stop_end = self.position();
        let mut trailing = (self.window.len() - self.pos) as u64;
        if let Some(reader) = self.reader.as_mut() {
            trailing += std::io::copy(reader, &mut std::io::sink()).unwrap_or(0);
        }
        if trailing != 0 {
            return Err(err_at(stop_end, None, Kind::TrailingBytes(trailing)));
        }
        let producer = format!(
            "CPython tracemalloc (pickle protocol {}, {})",
            self.protocol,
            self.shape.map_or("no traces", TraceShape::describe)
        );
        let mut trace_stacks = std::mem::take(&mut self.trace_stacks);
        let mut trace_sizes = std::mem::take(&mut self.trace_sizes);
        trace_stacks.shrink_to_fit();
        trace_sizes.shrink_to_fit();
        let mut large_sizes = std::mem::take(&mut self.large_sizes);
        large_sizes.shrink_to_fit();
        let strings = std::mem::take(&mut self.strings).finish();
        let stacks = std::mem::take(&mut self.stack_table).finish();
        Ok(TracemallocSnapshot::new(
            strings,
            stacks,
            TraceColumns {
                stacks: trace_stacks,
                sizes: trace_sizes,
                large_sizes,
                domains: self.domains.take(),
            },
            self.total_nframe.take(),
            traceback_limit,
            self.protocol,
            self.shape,
            producer,
        ))
    }
}

/// The `BININT1`, `BININT2` or `BININT` opcode at `at`: its value and length.
#[inline]
fn small_int(rest: &[u8], at: usize) -> Option<(i128, usize)> {
    match *rest.get(at..)? {
        [b'K', v, ..] => Some((i128::from(v), 2)),
        [b'M', lo, hi, ..] => Some((i128::from(u16::from_le_bytes([lo, hi])), 3)),
        [b'J', b0, b1, b2, b3, ..] => Some((i128::from(i32::from_le_bytes([b0, b1, b2, b3])), 5)),
        _ => None,
    }
}

/// The `BINGET` or `LONG_BINGET` opcode at `at`: its index and length.
#[inline]
fn memo_ref(rest: &[u8], at: usize) -> Option<(u64, usize)> {
    match *rest.get(at..)? {
        [b'h', i, ..] => Some((u64::from(i), 2)),
        [b'j', b0, b1, b2, b3, ..] => Some((u64::from(u32::from_le_bytes([b0, b1, b2, b3])), 5)),
        _ => None,
    }
}

/// Decodes Python's `raw-unicode-escape` (protocol 0 `UNICODE`) into
/// generalized UTF-8 (lone surrogates as 3-byte sequences, like
/// `surrogatepass`).
fn decode_raw_unicode_escape(line: &[u8], out: &mut Vec<u8>) -> Result<(), &'static str> {
    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        if b != b'\\' {
            heapgraph_core::push_wtf8(out, u32::from(b));
            i += 1;
            continue;
        }
        // Count a run of backslashes: only an odd run escapes.
        let run_start = i;
        while i < line.len() && line[i] == b'\\' {
            i += 1;
        }
        let run = i - run_start;
        let next = line.get(i).copied();
        let escapes = run % 2 == 1 && matches!(next, Some(b'u' | b'U'));
        let literal = if escapes { run - 1 } else { run };
        for _ in 0..literal {
            out.push(b'\\');
        }
        if !escapes {
            continue;
        }
        let digits = if next == Some(b'u') { 4 } else { 8 };
        let hex = line
            .get(i + 1..i + 1 + digits)
            .ok_or("truncated \\u escape")?;
        let mut cp = 0u32;
        for &h in hex {
            let d = (h as char)
                .to_digit(16)
                .ok_or("bad hex digit in \\u escape")?;
            cp = cp.checked_mul(16).ok_or("bad \\U escape")? + d;
        }
        if cp > 0x10FFFF {
            return Err("\\U escape beyond U+10FFFF");
        }
        heapgraph_core::push_wtf8(out, cp);
        i += 1 + digits;
    }
    Ok(())
}

/// The pickletools name of an opcode byte, for error messages.
pub(crate) fn opcode_name(op: u8) -> String {
    let name = match op {
        b'(' => "MARK",
        b'.' => "STOP",
        b'0' => "POP",
        b'1' => "POP_MARK",
        b'2' => "DUP",
        b'F' => "FLOAT",
        b'I' => "INT",
        b'J' => "BININT",
        b'K' => "BININT1",
        b'L' => "LONG",
        b'M' => "BININT2",
        b'N' => "NONE",
        b'P' => "PERSID",
        b'Q' => "BINPERSID",
        b'R' => "REDUCE",
        b'S' => "STRING",
        b'T' => "BINSTRING",
        b'U' => "SHORT_BINSTRING",
        b'V' => "UNICODE",
        b'X' => "BINUNICODE",
        b'a' => "APPEND",
        b'b' => "BUILD",
        b'c' => "GLOBAL",
        b'd' => "DICT",
        b'}' => "EMPTY_DICT",
        b'e' => "APPENDS",
        b'g' => "GET",
        b'h' => "BINGET",
        b'i' => "INST",
        b'j' => "LONG_BINGET",
        b'l' => "LIST",
        b']' => "EMPTY_LIST",
        b'o' => "OBJ",
        b'p' => "PUT",
        b'q' => "BINPUT",
        b'r' => "LONG_BINPUT",
        b's' => "SETITEM",
        b't' => "TUPLE",
        b')' => "EMPTY_TUPLE",
        b'u' => "SETITEMS",
        b'G' => "BINFLOAT",
        b'B' => "BINBYTES",
        b'C' => "SHORT_BINBYTES",
        0x80 => "PROTO",
        0x81 => "NEWOBJ",
        0x82 => "EXT1",
        0x83 => "EXT2",
        0x84 => "EXT4",
        0x85 => "TUPLE1",
        0x86 => "TUPLE2",
        0x87 => "TUPLE3",
        0x88 => "NEWTRUE",
        0x89 => "NEWFALSE",
        0x8a => "LONG1",
        0x8b => "LONG4",
        0x8c => "SHORT_BINUNICODE",
        0x8d => "BINUNICODE8",
        0x8e => "BINBYTES8",
        0x8f => "EMPTY_SET",
        0x90 => "ADDITEMS",
        0x91 => "FROZENSET",
        0x92 => "NEWOBJ_EX",
        0x93 => "STACK_GLOBAL",
        0x94 => "MEMOIZE",
        0x95 => "FRAME",
        0x96 => "BYTEARRAY8",
        0x97 => "NEXT_BUFFER",
        0x98 => "READONLY_BUFFER",
        _ => return format!("0x{op:02x}"),
    };
    format!("{name} 0x{op:02x}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Runs the VM with or without the fast paths; the trace table or the
    /// error.
    fn run_with(data: &[u8], fast_paths: bool) -> Result<String, TracemallocError> {
        let options = ParseOptions::default();
        let len = Some(data.len() as u64);
        let mut vm = Vm::<std::io::Empty>::new(Cow::Borrowed(data), None, len, &options);
        vm.fast_paths = fast_paths;
        vm.execute()?;
        let snap = vm.finish()?;
        let traces: Vec<_> = snap.traces().collect();
        Ok(format!(
            "{traces:?} {} {} {:?}",
            snap.stacks().stack_count(),
            snap.strings().len(),
            (0..snap.trace_count())
                .map(|i| snap.total_nframe(i))
                .collect::<Vec<_>>()
        ))
    }

    /// The fast paths give exactly what running every opcode gives: the
    /// same tables on real dumps, the same error (offset, opcode, kind) on
    /// every truncation and on thousands of byte flips.
    #[test]
    fn fast_paths_agree_with_the_opcode_by_opcode_path() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/tracemalloc/");
        let mut flips = 0;
        for name in ["app_a.p5.pickle", "mixed_1.p5.pickle", "mixed_1.p2.pickle"] {
            let bytes = std::fs::read(format!("{dir}{name}")).unwrap();
            let fast = run_with(&bytes, true).unwrap();
            assert_eq!(fast, run_with(&bytes, false).unwrap(), "{name}");
            assert!(fast.len() > 100);
            let step = (bytes.len() / 1500).max(1);
            for cut in (0..bytes.len()).step_by(step) {
                let prefix = &bytes[..cut];
                assert_eq!(
                    run_with(prefix, true),
                    run_with(prefix, false),
                    "{name} cut {cut}"
                );
            }
            // Byte flips, biased to values the fast paths look at.
            let mut seed = 0x2545_f491_4f6c_dd1d_u64;
            for _ in 0..1500 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let at = (seed % bytes.len() as u64) as usize;
                let values = [
                    b'K', b'M', b'J', b'h', b'j', b't', 0x86, 0x94, b'(', 0xff, 0,
                ];
                let value = values[(seed >> 40) as usize % values.len()];
                let mut mutated = bytes.clone();
                mutated[at] = value;
                let fast = run_with(&mutated, true);
                assert_eq!(
                    fast,
                    run_with(&mutated, false),
                    "{name}: {value:#x} at {at}"
                );
                flips += 1;
            }
        }
        assert_eq!(flips, 4500);
    }

    /// Reusing the previous traceback's path gives the same stacks as
    /// walking every traceback from its outermost frame.
    #[test]
    fn tracebacks_sharing_callers_get_the_stacks_a_full_walk_gives() {
        let options = ParseOptions::default();
        let new_vm = || Vm::<std::io::Empty>::new(Cow::Borrowed(&[][..]), None, Some(0), &options);
        let (mut reusing, mut walking) = (new_vm(), new_vm());
        let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
        let mut shared = 0;
        for _ in 0..5_000 {
            let mut items = Vec::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            // Innermost first; the outer frames vary little, so consecutive
            // tracebacks often share callers, then diverge and rejoin.
            for depth in (0..seed % 9).rev() {
                let line = (depth as u32) * 4 + ((seed >> (depth * 3)) % (1 + depth % 4)) as u32;
                let a = reusing.frame(StringId::new(1), line).unwrap();
                let b = walking.frame(StringId::new(1), line).unwrap();
                assert_eq!(a, b);
                items.insert(0, Val::Frame(a));
            }
            shared += usize::from(!reusing.last_path.is_empty() && items.len() > 1);
            walking.last_path.clear();
            let (Val::Traceback(a), Val::Traceback(b)) = (
                reusing.make_traceback(&items).unwrap(),
                walking.make_traceback(&items).unwrap(),
            ) else {
                panic!("not tracebacks");
            };
            assert_eq!(
                reusing.tracebacks[a as usize].stack,
                walking.tracebacks[b as usize].stack
            );
            assert_eq!(reusing.tracebacks[a as usize].depth, items.len() as u32);
        }
        let (a, b) = (reusing.stack_table.table(), walking.stack_table.table());
        assert_eq!(a.stack_count(), b.stack_count());
        assert!(a.stack_count() > 200, "{}", a.stack_count());
        assert!(shared > 1_000);
        for id in 0..a.stack_count() as u32 {
            let id = StackId::new(id);
            assert_eq!(a.frames_outermost_first(id), b.frames_outermost_first(id));
        }
    }

    #[test]
    fn raw_unicode_escape_decodes_latin1_escapes_and_surrogates() {
        let mut out = Vec::new();
        decode_raw_unicode_escape(b"a\xe9\\u005c\\udcff\\U0001f600\\\\u", &mut out).unwrap();
        let mut expected = b"a\xc3\xa9\\\xed\xb3\xbf\xf0\x9f\x98\x80".to_vec();
        expected.extend_from_slice(b"\\\\u");
        assert_eq!(out, expected);
        assert!(decode_raw_unicode_escape(b"\\u12", &mut Vec::new()).is_err());
        assert!(decode_raw_unicode_escape(b"\\U00110000", &mut Vec::new()).is_err());
    }
}
