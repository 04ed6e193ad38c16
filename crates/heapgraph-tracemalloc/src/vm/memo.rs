//! The memo: entries that may be shared kept sparsely, frames and traces
//! only in a ring of recent ones; `PUT` and `GET`.

use std::hash::{BuildHasherDefault, Hasher};
use std::io::Read;

use hashbrown::HashMap;
use heapgraph_core::{FrameId, StringId};

use super::value::Val;
use super::{
    Vm, MAX_MEMO_INDEX, MAX_MISC_MEMO, MEMO_EMPTY, PAYLOAD_MASK, RECENT_MASK, TAG_FRAME, TAG_MISC,
    TAG_SHIFT, TAG_STR, TAG_TB, TAG_TRACE,
};
use crate::error::{TracemallocError, TracemallocErrorKind as Kind};

/// A multiplicative hasher for small integer keys (frames are looked up
/// millions of times; their keys are two packed `u32`s).
#[derive(Clone, Copy, Default)]
pub(super) struct IntHasher(u64);

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

pub(super) type IntMap<V> = HashMap<u64, V, BuildHasherDefault<IntHasher>>;

/// Memo entries by index, for the few kinds that can be shared: a bitmap
/// per 64 indices with a rank base, and the values of the set bits in index
/// order (0.25 bytes per memo index plus 4 per kept value). Writes below the
/// high-water mark (out-of-order `PUT`s) go to a small override map.
/// Recent hits are cached (the few filename strings every frame tuple reads
/// come back constantly).
pub(super) struct SparseMemo {
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
    pub(super) fn get(&mut self, index: u64) -> Option<u32> {
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

impl<R: Read> Vm<'_, R> {
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

    pub(super) fn memo_put(&mut self, index: u64) -> Result<(), TracemallocError> {
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
    pub(super) fn memoize_unshared(
        &mut self,
        tag: u32,
        payload: u32,
    ) -> Result<(), TracemallocError> {
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

    pub(super) fn memo_get(&mut self, index: u64) -> Result<(), TracemallocError> {
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
}
