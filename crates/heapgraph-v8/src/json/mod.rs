//! A minimal streaming JSON reader over a byte slice.
//!
//! Only what V8's files need: objects walked key by key, unsigned and signed
//! integer arrays scanned by a hand-written loop, strings decoded into WTF-8
//! bytes, and any other value skipped without recursion. Every error carries
//! the absolute byte offset and the section being read. Nothing here
//! allocates in proportion to the input except the caller's output buffers.
//!
//! This module holds the [`Cursor`], the structure (objects, arrays, keys)
//! and skipping; [`numbers`] reads integers and integer arrays (the hot
//! loops), [`strings`] reads strings.

mod numbers;
mod strings;
#[cfg(test)]
mod tests;

use crate::error::{V8Error, V8ErrorKind};

pub(crate) use numbers::{swar_digits, value_offset};

/// Nesting limit for skipped values and decoded trees.
pub(crate) const MAX_DEPTH: u32 = 1 << 16;

/// The most columns a `nodes` or `edges` record may have.
pub(crate) const MAX_FIELDS: usize = 64;

/// A read position in the input, tagged with the section being read.
#[derive(Clone, Debug)]
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    section: &'static str,
}

#[inline]
fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\r' | b'\t')
}

/// The first non-whitespace byte at or after `*pos`, moving `*pos` to it.
/// The common case (a separator right after a number) costs one test.
#[inline(always)]
fn next_non_ws(bytes: &[u8], pos: &mut usize) -> Option<u8> {
    let mut c = bytes.get(*pos).copied();
    if c.is_some_and(is_ws) {
        while bytes.get(*pos).copied().is_some_and(is_ws) {
            *pos += 1;
        }
        c = bytes.get(*pos).copied();
    }
    c
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(bytes: &'a [u8], pos: usize, section: &'static str) -> Self {
        Cursor {
            bytes,
            pos,
            section,
        }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn set_section(&mut self, section: &'static str) {
        self.section = section;
    }

    pub(crate) fn error(&self, kind: V8ErrorKind) -> V8Error {
        V8Error::new(self.pos, kind)
    }

    pub(crate) fn error_at(&self, pos: usize, kind: V8ErrorKind) -> V8Error {
        V8Error::new(pos, kind)
    }

    /// The error for "wanted `expected` at the current position".
    pub(crate) fn unexpected(&self, expected: &'static str) -> V8Error {
        self.unexpected_at(self.pos, expected)
    }

    fn unexpected_at(&self, pos: usize, expected: &'static str) -> V8Error {
        match self.bytes.get(pos) {
            None => V8Error::new(
                pos,
                V8ErrorKind::Truncated {
                    section: self.section,
                    expected,
                },
            ),
            Some(&c) => V8Error::new(
                pos,
                V8ErrorKind::Syntax {
                    section: self.section,
                    expected,
                    found: c as char,
                },
            ),
        }
    }

    #[inline]
    pub(crate) fn skip_ws(&mut self) {
        while let Some(&c) = self.bytes.get(self.pos) {
            if !is_ws(c) {
                break;
            }
            self.pos += 1;
        }
    }

    /// The next non-whitespace byte, not consumed.
    #[inline]
    pub(crate) fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.bytes.get(self.pos).copied()
    }

    /// Consumes `byte` after optional whitespace.
    #[inline]
    pub(crate) fn expect(&mut self, byte: u8, expected: &'static str) -> Result<(), V8Error> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    /// Inside an object or array: returns `false` (and consumes `close`) at
    /// its end; otherwise consumes the `,` before every item but the first.
    pub(crate) fn next_item(&mut self, close: u8, first: bool) -> Result<bool, V8Error> {
        let expected = if close == b'}' {
            if first {
                "a key or `}`"
            } else {
                "`,` or `}`"
            }
        } else if first {
            "a value or `]`"
        } else {
            "`,` or `]`"
        };
        match self.peek() {
            Some(c) if c == close => {
                self.pos += 1;
                Ok(false)
            }
            Some(b',') if !first => {
                self.pos += 1;
                Ok(true)
            }
            Some(_) if first => Ok(true),
            _ => Err(self.unexpected(expected)),
        }
    }

    /// Reads an object key and its `:` into `buf`.
    pub(crate) fn key(&mut self, buf: &mut Vec<u8>) -> Result<(), V8Error> {
        self.string(buf)?;
        self.expect(b':', "`:`")
    }

    /// Skips any JSON value without recursion. Only the structure is
    /// checked loosely (brackets must balance, strings must close).
    pub(crate) fn skip_value(&mut self) -> Result<(), V8Error> {
        let mut stack: Vec<u8> = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.unexpected("a value"));
            };
            match c {
                b'"' => self.skip_string()?,
                b'[' | b'{' => {
                    if stack.len() as u32 >= MAX_DEPTH {
                        return Err(self.error(V8ErrorKind::TooDeep {
                            section: self.section,
                            limit: MAX_DEPTH,
                        }));
                    }
                    stack.push(if c == b'[' { b']' } else { b'}' });
                    self.pos += 1;
                }
                b']' | b'}' => {
                    if stack.last() != Some(&c) {
                        return Err(self.unexpected("a value"));
                    }
                    stack.pop();
                    self.pos += 1;
                }
                b',' | b':' if !stack.is_empty() => self.pos += 1,
                _ => {
                    // A scalar: number, true, false, null.
                    let start = self.pos;
                    while let Some(&c) = self.bytes.get(self.pos) {
                        if matches!(c, b'-' | b'+' | b'.' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
                        {
                            self.pos += 1;
                        } else {
                            break;
                        }
                    }
                    if self.pos == start {
                        return Err(self.unexpected("a value"));
                    }
                }
            }
            if stack.is_empty() {
                return Ok(());
            }
        }
    }

    /// Skips a `[...]` array of plain numbers quickly: finds its first `]`.
    /// Content is validated later when the array is actually read, which
    /// reports any string or nested value in it.
    /// The search goes 8 MiB at a time and hands each window searched to
    /// `release`, so that a memory-mapped input is never resident whole.
    pub(crate) fn skip_number_array_releasing(
        &mut self,
        release: &dyn Fn(std::ops::Range<usize>),
    ) -> Result<(), V8Error> {
        if self.peek() != Some(b'[') {
            return self.skip_value();
        }
        const WINDOW: usize = 8 << 20;
        // A plain number array ends at its first `]`; anything else in it
        // (strings, nested values) is reported when the section is read.
        let mut start = self.pos;
        while start < self.bytes.len() {
            let end = start.saturating_add(WINDOW).min(self.bytes.len());
            let window = self.bytes.get(start..end).unwrap_or_default();
            if let Some(found) = find_first(b']', window) {
                self.pos = start + found + 1;
                return Ok(());
            }
            release(start..end);
            start = end;
        }
        self.pos = self.bytes.len();
        Err(self.unexpected("`,` or `]`"))
    }
}

/// The first `byte` in `haystack`; big haystacks are searched in pieces on
/// every rayon thread (the `nodes` and `edges` arrays are hundreds of MB).
fn find_first(byte: u8, haystack: &[u8]) -> Option<usize> {
    use rayon::prelude::*;
    const PIECE: usize = 1 << 20;
    if haystack.len() < 8 * PIECE || rayon::current_num_threads() < 2 {
        return memchr::memchr(byte, haystack);
    }
    let piece = haystack
        .par_chunks(PIECE)
        .position_first(|piece| memchr::memchr(byte, piece).is_some())?;
    let start = piece * PIECE;
    memchr::memchr(byte, haystack.get(start..)?).map(|i| start + i)
}
