//! The input window: bytes, lengths and text lines, from memory or a reader.

use std::io::Read;
use std::ops::Range;

use super::value::Val;
use super::{err_at, Vm, READ_CHUNK};
use crate::error::{TracemallocError, TracemallocErrorKind as Kind};

impl<R: Read> Vm<'_, R> {
    /// The absolute offset of the next byte.
    pub(super) fn position(&self) -> u64 {
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
    pub(super) fn take(
        &mut self,
        n: usize,
        expected: &'static str,
    ) -> Result<Range<usize>, TracemallocError> {
        if self.window.len() - self.pos < n && !self.fill(n)? {
            return Err(self.truncated(expected));
        }
        let start = self.pos;
        self.pos += n;
        Ok(start..start + n)
    }

    pub(super) fn take_array<const N: usize>(
        &mut self,
        expected: &'static str,
    ) -> Result<[u8; N], TracemallocError> {
        let range = self.take(N, expected)?;
        let mut out = [0u8; N];
        out.copy_from_slice(&self.window[range]);
        Ok(out)
    }

    #[inline]
    pub(super) fn u8(&mut self, expected: &'static str) -> Result<u8, TracemallocError> {
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
    pub(super) fn length(&mut self, declared: u64, width: u64) -> Result<usize, TracemallocError> {
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
    pub(super) fn line(
        &mut self,
        expected: &'static str,
    ) -> Result<Range<usize>, TracemallocError> {
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
    pub(super) fn line_vec(&mut self, expected: &'static str) -> Result<Vec<u8>, TracemallocError> {
        let range = self.line(expected)?;
        Ok(self.window[range].to_vec())
    }

    /// Interns the string in `range` of the window.
    pub(super) fn intern_range(&mut self, range: Range<usize>) -> Result<Val, TracemallocError> {
        let (op_start, op) = (self.op_start, self.op);
        let id = self
            .strings
            .intern(&self.window[range])
            .map_err(|e| err_at(op_start, op, Kind::Graph(e.into())))?;
        Ok(Val::Str(id))
    }
}
