//! The frame, traceback and trace tuples that make up most of a dump, run in
//! one step each.

use std::io::Read;

use heapgraph_core::StringId;

use super::value::Val;
use super::{
    Vm, MAX_MARKS, MAX_STACK, PAYLOAD_MASK, TAG_FRAME, TAG_SHIFT, TAG_STR, TAG_TB, TAG_TRACE,
};
use crate::error::TracemallocError;
use crate::TraceShape;

impl<R: Read> Vm<'_, R> {
    /// The frame tuple `GET file; BININT1|BININT2 line; TUPLE2` (and the
    /// `MEMOIZE` after it), which makes up most of a dump, run in one step
    /// when the bytes are in the window and the memo entry is a string; the
    /// same checks, results and error offsets as running the opcodes one by
    /// one, which is what happens otherwise (`false`: nothing consumed).
    /// Called with `pos` just after the GET's index.
    #[inline]
    pub(super) fn frame_fast_path(&mut self, index: u64) -> Result<bool, TracemallocError> {
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
    pub(super) fn trace_fast_path(&mut self) -> Result<bool, TracemallocError> {
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
    pub(super) fn traceback_fast_path(&mut self) -> Result<bool, TracemallocError> {
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
