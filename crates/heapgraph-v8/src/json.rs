//! A minimal streaming JSON reader over a byte slice.
//!
//! Only what V8's files need: objects walked key by key, unsigned and signed
//! integer arrays scanned by a hand-written loop, strings decoded into WTF-8
//! bytes, and any other value skipped without recursion. Every error carries
//! the absolute byte offset and the section being read. Nothing here
//! allocates in proportion to the input except the caller's output buffers.

use crate::error::{V8Error, V8ErrorKind};

/// Nesting limit for skipped values and decoded trees.
pub(crate) const MAX_DEPTH: u32 = 1 << 16;

/// The most columns a `nodes` or `edges` record may have.
pub(crate) const MAX_FIELDS: usize = 64;

/// Reads the decimal digits at `pos` eight bytes at a time: returns the
/// value and the number of digits (0 to 7), or `None` when fewer than 8
/// bytes remain or all 8 are digits (the caller then uses a plain loop).
///
/// Per byte `b`, `b - '0'` is a digit iff it is below 10: bytes below `'0'`
/// wrap to a set high bit, bytes above `'9'` get it set by adding `0x76`.
/// Borrows and carries only travel upward from non-digit bytes, so the
/// lowest flagged byte is exactly the first non-digit. The digits are then
/// shifted to the top (zeros become leading zeros) and combined pairwise
/// by three multiplications.
#[inline(always)]
pub(crate) fn swar_digits(bytes: &[u8], pos: usize) -> Option<(u64, usize)> {
    let chunk: [u8; 8] = bytes.get(pos..pos.checked_add(8)?)?.try_into().ok()?;
    let digits = u64::from_le_bytes(chunk).wrapping_sub(0x3030_3030_3030_3030);
    let flags = (digits | digits.wrapping_add(0x7676_7676_7676_7676)) & 0x8080_8080_8080_8080;
    if flags == 0 {
        return None;
    }
    let len = (flags.trailing_zeros() / 8) as usize;
    if len == 0 {
        return Some((0, 0));
    }
    let mut v = digits << (8 * (8 - len));
    v = (v.wrapping_mul(10) + (v >> 8)) & 0x00FF_00FF_00FF_00FF;
    v = (v.wrapping_mul(100) + (v >> 16)) & 0x0000_FFFF_0000_FFFF;
    v = (v.wrapping_mul(10_000) + (v >> 32)) & 0xFFFF_FFFF;
    Some((v, len))
}

/// The offset of value number `field` of a record starting at
/// `record_start` (for error messages; rescans the record).
pub(crate) fn value_offset(bytes: &[u8], record_start: usize, field: usize) -> usize {
    let mut pos = record_start;
    for _ in 0..field {
        while matches!(bytes.get(pos), Some(b'0'..=b'9')) {
            pos += 1;
        }
        while matches!(bytes.get(pos), Some(b',' | b' ' | b'\n' | b'\r' | b'\t')) {
            pos += 1;
        }
    }
    pos
}

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

    /// An unsigned integer.
    #[inline]
    pub(crate) fn uint(&mut self) -> Result<u64, V8Error> {
        self.skip_ws();
        let start = self.pos;
        let mut value: u64 = 0;
        while let Some(&c) = self.bytes.get(self.pos) {
            let digit = c.wrapping_sub(b'0');
            if digit > 9 {
                break;
            }
            value = match value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(digit)))
            {
                Some(v) => v,
                None => return Err(self.number_too_large(start, u64::MAX)),
            };
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.unexpected("an unsigned integer"));
        }
        Ok(value)
    }

    /// A signed integer.
    pub(crate) fn int(&mut self) -> Result<i64, V8Error> {
        self.skip_ws();
        let start = self.pos;
        let negative = self.bytes.get(self.pos) == Some(&b'-');
        if negative {
            self.pos += 1;
        }
        if !matches!(self.bytes.get(self.pos), Some(b'0'..=b'9')) {
            return Err(self.unexpected("an integer"));
        }
        let magnitude = self.uint()?;
        let limit = if negative {
            i64::MIN.unsigned_abs()
        } else {
            i64::MAX as u64
        };
        if magnitude > limit {
            return Err(self.number_too_large(start, i64::MAX as u64));
        }
        Ok(if negative {
            0i64.wrapping_sub_unsigned(magnitude)
        } else {
            magnitude as i64
        })
    }

    /// A number that should be an integer but may be written with a
    /// fraction or exponent (`1.6e1`, `12.0`): rounded toward zero and
    /// saturated. Used for `.heapprofile` fields that a JavaScript producer
    /// writes as doubles.
    pub(crate) fn int_lenient(&mut self) -> Result<i64, V8Error> {
        self.skip_ws();
        let start = self.pos;
        let mut end = start;
        let mut integer = true;
        while let Some(&c) = self.bytes.get(end) {
            match c {
                b'0'..=b'9' | b'-' => {}
                b'.' | b'e' | b'E' | b'+' => integer = false,
                _ => break,
            }
            end += 1;
        }
        if integer {
            return self.int();
        }
        let text = self
            .bytes
            .get(start..end)
            .and_then(|b| std::str::from_utf8(b).ok());
        match text.and_then(|t| t.parse::<f64>().ok()) {
            Some(value) if value.is_finite() => {
                self.pos = end;
                // `as` saturates at the i64 range.
                Ok(value.trunc() as i64)
            }
            _ => Err(self.unexpected("a number")),
        }
    }

    fn number_too_large(&self, pos: usize, max: u64) -> V8Error {
        self.error_at(
            pos,
            V8ErrorKind::NumberTooLarge {
                section: self.section,
                max,
            },
        )
    }

    /// Scans a whole `[u, u, ...]` array of unsigned integers, calling
    /// `each(value, offset)` for every element. Returns the element count.
    ///
    /// This is the hot loop for `nodes` and `edges`.
    #[inline]
    pub(crate) fn uint_array(
        &mut self,
        mut each: impl FnMut(u64, usize) -> Result<(), V8Error>,
    ) -> Result<u64, V8Error> {
        self.expect(b'[', "`[`")?;
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(0);
        }
        let bytes = self.bytes;
        let mut pos = self.pos;
        let mut count = 0u64;
        loop {
            let start = pos;
            let mut value: u64 = 0;
            while let Some(&c) = bytes.get(pos) {
                let digit = c.wrapping_sub(b'0');
                if digit > 9 {
                    break;
                }
                value = match value
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(u64::from(digit)))
                {
                    Some(v) => v,
                    None => return Err(self.number_too_large(start, u64::MAX)),
                };
                pos += 1;
            }
            if pos == start {
                self.pos = pos;
                return Err(self.unexpected("an unsigned integer"));
            }
            each(value, start)?;
            count += 1;
            let c = next_non_ws(bytes, &mut pos);
            match c {
                Some(b',') => pos += 1,
                Some(b']') => {
                    self.pos = pos + 1;
                    return Ok(count);
                }
                _ => {
                    self.pos = pos;
                    return Err(self.unexpected("`,` or `]`"));
                }
            }
            while bytes.get(pos).copied().is_some_and(is_ws) {
                pos += 1;
            }
        }
    }

    /// Scans a whole `[u, u, ...]` array of unsigned integers as records of
    /// `width` values (at most [`MAX_FIELDS`]), calling
    /// `each(record, record_start)` once per complete record. Returns the
    /// number of values; a trailing partial record is an error.
    ///
    /// This is the hot loop for `nodes` and `edges`: per value, an
    /// unchecked-overflow digit loop (numbers of up to 19 digits cannot
    /// overflow; longer ones take a checked slow path) and a separator test.
    /// Exact offsets of a value, for errors, come from [`value_offset`].
    pub(crate) fn uint_records(
        &mut self,
        width: usize,
        mut each: impl FnMut(&[u64], usize) -> Result<(), V8Error>,
    ) -> Result<u64, V8Error> {
        let section = self.section;
        self.expect(b'[', "`[`")?;
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(0);
        }
        let width = width.clamp(1, MAX_FIELDS);
        let bytes = self.bytes;
        let mut record = [0u64; MAX_FIELDS];
        let mut field = 0usize;
        let mut record_start = self.pos;
        let mut pos = self.pos;
        let mut count = 0u64;
        loop {
            if field == 0 {
                record_start = pos;
            }
            let start = pos;
            let mut value: u64;
            if let Some((swar_value, digits)) = swar_digits(bytes, pos) {
                // 0 to 7 digits, read without a branch per digit.
                if digits == 0 {
                    self.pos = start;
                    return Err(self.unexpected("an unsigned integer"));
                }
                value = swar_value;
                pos += digits;
            } else {
                // Near the end of the input, or 8+ digits.
                value = 0;
                while let Some(&c) = bytes.get(pos) {
                    let digit = c.wrapping_sub(b'0');
                    if digit > 9 {
                        break;
                    }
                    value = value.wrapping_mul(10).wrapping_add(u64::from(digit));
                    pos += 1;
                }
                let digits = pos - start;
                if digits == 0 || digits > 19 {
                    self.pos = start;
                    if digits == 0 {
                        return Err(self.unexpected("an unsigned integer"));
                    }
                    value = self.uint()?;
                }
            }
            if let Some(slot) = record.get_mut(field) {
                *slot = value;
            }
            field += 1;
            count += 1;
            if field == width {
                field = 0;
                each(record.get(..width).unwrap_or_default(), record_start)?;
            }
            let c = next_non_ws(bytes, &mut pos);
            match c {
                Some(b',') => pos += 1,
                Some(b']') => {
                    self.pos = pos + 1;
                    break;
                }
                _ => {
                    self.pos = pos;
                    return Err(self.unexpected("`,` or `]`"));
                }
            }
            while bytes.get(pos).copied().is_some_and(is_ws) {
                pos += 1;
            }
        }
        if field != 0 {
            return Err(self.error_at(
                record_start,
                V8ErrorKind::RaggedArray {
                    section,
                    len: count,
                    width: width as u64,
                },
            ));
        }
        Ok(count)
    }

    /// Counts the strings of a `["...", ...]` array and skips it. Falls
    /// back to a plain skip (count 0) if the array holds anything else.
    pub(crate) fn skip_string_array(&mut self) -> Result<u64, V8Error> {
        let save = self.pos;
        if self.peek() != Some(b'[') {
            return self.skip_value().map(|()| 0);
        }
        self.pos += 1;
        let mut count = 0u64;
        let mut first = true;
        while self.next_item(b']', first)? {
            first = false;
            if self.peek() != Some(b'"') {
                self.pos = save;
                return self.skip_value().map(|()| 0);
            }
            self.skip_string()?;
            count += 1;
        }
        Ok(count)
    }

    /// Scans a whole array of signed integers (the scope sections).
    pub(crate) fn int_array(
        &mut self,
        mut each: impl FnMut(i64) -> Result<(), V8Error>,
    ) -> Result<u64, V8Error> {
        self.expect(b'[', "`[`")?;
        let mut first = true;
        let mut count = 0u64;
        while self.next_item(b']', first)? {
            first = false;
            each(self.int()?)?;
            count += 1;
        }
        Ok(count)
    }

    /// Reads a JSON string, decoding escapes into `out` (cleared first) as
    /// WTF-8: surrogate pairs become one 4-byte sequence, lone surrogates
    /// their 3-byte encoding. Raw bytes (UTF-8 or not) are copied as is.
    pub(crate) fn string(&mut self, out: &mut Vec<u8>) -> Result<(), V8Error> {
        out.clear();
        self.expect(b'"', "`\"`")?;
        let bytes = self.bytes;
        loop {
            let rest = bytes.get(self.pos..).unwrap_or_default();
            let Some(found) = memchr::memchr2(b'"', b'\\', rest) else {
                self.pos = bytes.len();
                return Err(self.unexpected("`\"`"));
            };
            out.extend_from_slice(rest.get(..found).unwrap_or_default());
            self.pos += found;
            if bytes.get(self.pos) == Some(&b'"') {
                self.pos += 1;
                return Ok(());
            }
            // A backslash.
            self.pos += 1;
            let Some(&escape) = bytes.get(self.pos) else {
                return Err(self.unexpected("an escape"));
            };
            let simple = match escape {
                b'"' => Some(b'"'),
                b'\\' => Some(b'\\'),
                b'/' => Some(b'/'),
                b'b' => Some(0x08),
                b'f' => Some(0x0C),
                b'n' => Some(b'\n'),
                b'r' => Some(b'\r'),
                b't' => Some(b'\t'),
                b'u' => None,
                _ => return Err(self.unexpected("a JSON escape")),
            };
            if let Some(byte) = simple {
                out.push(byte);
                self.pos += 1;
                continue;
            }
            self.pos += 1;
            let unit = self.hex4()?;
            let code_point = if (0xD800..0xDC00).contains(&unit)
                && bytes.get(self.pos) == Some(&b'\\')
                && bytes.get(self.pos + 1) == Some(&b'u')
            {
                let save = self.pos;
                self.pos += 2;
                let low = self.hex4()?;
                if (0xDC00..0xE000).contains(&low) {
                    0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    // Not a pair: emit the lone high surrogate, re-read the
                    // second escape on its own.
                    self.pos = save;
                    unit
                }
            } else {
                unit
            };
            heapgraph_core::push_wtf8(out, code_point);
        }
    }

    fn hex4(&mut self) -> Result<u32, V8Error> {
        let mut value = 0u32;
        for _ in 0..4 {
            let digit = match self.bytes.get(self.pos) {
                Some(&c @ b'0'..=b'9') => c - b'0',
                Some(&c @ b'a'..=b'f') => c - b'a' + 10,
                Some(&c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return Err(self.unexpected("a hex digit")),
            };
            value = value * 16 + u32::from(digit);
            self.pos += 1;
        }
        Ok(value)
    }

    /// Skips over a string without decoding it.
    fn skip_string(&mut self) -> Result<(), V8Error> {
        // At the opening quote.
        self.pos += 1;
        loop {
            let rest = self.bytes.get(self.pos..).unwrap_or_default();
            let Some(found) = memchr::memchr2(b'"', b'\\', rest) else {
                self.pos = self.bytes.len();
                return Err(self.unexpected("`\"`"));
            };
            self.pos += found;
            if self.bytes.get(self.pos) == Some(&b'"') {
                self.pos += 1;
                return Ok(());
            }
            // Backslash: skip it and the escaped byte.
            self.pos += 2;
            if self.pos > self.bytes.len() {
                self.pos = self.bytes.len();
                return Err(self.unexpected("an escape"));
            }
        }
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
    pub(crate) fn skip_number_array(&mut self) -> Result<(), V8Error> {
        if self.peek() != Some(b'[') {
            return self.skip_value();
        }
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        // A plain number array ends at its first `]`; anything else in it
        // (strings, nested values) is reported when the section is read.
        match find_first(b']', rest) {
            Some(found) => {
                self.pos += found + 1;
                Ok(())
            }
            None => {
                self.pos = self.bytes.len();
                Err(self.unexpected("`,` or `]`"))
            }
        }
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn decode(json: &str) -> Result<Vec<u8>, V8Error> {
        let mut out = Vec::new();
        Cursor::new(json.as_bytes(), 0, "test").string(&mut out)?;
        Ok(out)
    }

    #[test]
    fn strings_decode_escapes_pairs_and_lone_surrogates() {
        assert_eq!(decode(r#""a\"b\\c\/d\n\t""#).unwrap(), b"a\"b\\c/d\n\t");
        assert_eq!(decode(r#""\u00e9""#).unwrap(), "é".as_bytes());
        assert_eq!(decode(r#""\ud83d\ude00!""#).unwrap(), "😀!".as_bytes());
        // Lone high surrogate, then a normal escape.
        assert_eq!(decode(r#""\ud800\u0041""#).unwrap(), b"\xED\xA0\x80A");
        // Lone low surrogate.
        assert_eq!(decode(r#""x\udc00""#).unwrap(), b"x\xED\xB0\x80");
        // High surrogate at the end of the string.
        assert_eq!(decode(r#""\uD83D""#).unwrap(), b"\xED\xA0\xBD");
        // Raw UTF-8 passes through.
        assert_eq!(decode("\"日本\"").unwrap(), "日本".as_bytes());
        assert!(decode(r#""\x""#).is_err());
        assert!(decode(r#""\u12""#).is_err());
        let err = decode(r#""abc"#).unwrap_err();
        assert_eq!(err.offset, 4);
        assert!(matches!(err.kind, V8ErrorKind::Truncated { .. }));
    }

    #[test]
    fn uint_arrays_report_offsets() {
        let mut seen = Vec::new();
        let n = Cursor::new(b"[1, 2,\n3 ,4]", 0, "nodes")
            .uint_array(|v, _| {
                seen.push(v);
                Ok(())
            })
            .unwrap();
        assert_eq!((n, seen), (4, vec![1, 2, 3, 4]));
        assert_eq!(
            Cursor::new(b" [ ]", 0, "x")
                .uint_array(|_, _| Ok(()))
                .unwrap(),
            0
        );
        let err = Cursor::new(b"[1,2", 0, "nodes")
            .uint_array(|_, _| Ok(()))
            .unwrap_err();
        assert_eq!(err.offset, 4);
        assert_eq!(
            err.to_string(),
            "truncated in section `nodes`: expected `,` or `]` at byte 4"
        );
        let err = Cursor::new(b"[1,-2]", 0, "nodes")
            .uint_array(|_, _| Ok(()))
            .unwrap_err();
        assert_eq!(err.offset, 3);
        let err = Cursor::new(b"[99999999999999999999999]", 0, "nodes")
            .uint_array(|_, _| Ok(()))
            .unwrap_err();
        assert!(matches!(err.kind, V8ErrorKind::NumberTooLarge { .. }));
    }

    #[test]
    fn swar_digits_match_a_plain_parse() {
        let separators: &[u8] = b",] \n\"-.x\xFF\x00/:";
        let mut state = 1u64;
        for _ in 0..200_000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = (state >> 60) as usize % 9;
            let number: String = (0..len)
                .map(|i| char::from(b'0' + ((state >> (i * 4)) % 10) as u8))
                .collect();
            let mut text = number.clone().into_bytes();
            text.push(separators[(state >> 40) as usize % separators.len()]);
            text.extend_from_slice(b"12345678");
            match swar_digits(&text, 0) {
                Some((value, digits)) => {
                    assert_eq!(digits, number.len(), "{number}");
                    if digits > 0 {
                        assert_eq!(value, number.parse::<u64>().unwrap(), "{number}");
                    }
                }
                None => assert!(number.len() >= 8),
            }
        }
        assert_eq!(swar_digits(b"1234567", 0), None, "fewer than 8 bytes");
        assert_eq!(swar_digits(b"9999999,", 0), Some((9_999_999, 7)));
        assert_eq!(swar_digits(b"0000001]", 0), Some((1, 7)));
    }

    #[test]
    fn uint_records_group_values_and_find_offsets() {
        let text = b"[1,2,3,\n 40,5,60]";
        let mut records = Vec::new();
        let n = Cursor::new(text, 0, "edges")
            .uint_records(3, |r, start| {
                records.push((r.to_vec(), start));
                Ok(())
            })
            .unwrap();
        assert_eq!(n, 6);
        assert_eq!(records, vec![(vec![1, 2, 3], 1), (vec![40, 5, 60], 9)]);
        assert_eq!(value_offset(text, 9, 2), 14);
        let err = Cursor::new(b"[1,2,3,4]", 0, "edges")
            .uint_records(3, |_, _| Ok(()))
            .unwrap_err();
        assert!(matches!(
            err.kind,
            V8ErrorKind::RaggedArray {
                len: 4,
                width: 3,
                ..
            }
        ));
        assert_eq!(err.offset, 7);
        let big = Cursor::new(b"[18446744073709551615,00000000000000000000001]", 0, "x")
            .uint_records(1, |r, _| {
                assert!(r[0] == u64::MAX || r[0] == 1);
                Ok(())
            })
            .unwrap();
        assert_eq!(big, 2);
        assert!(Cursor::new(b"[18446744073709551616]", 0, "x")
            .uint_records(1, |_, _| Ok(()))
            .is_err());
        let mut c = Cursor::new(b"[\"a\", \"b\\\"]\"] ", 0, "strings");
        assert_eq!(c.skip_string_array().unwrap(), 2);
        assert_eq!(c.pos(), 13);
    }

    #[test]
    fn find_first_matches_memchr() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let mut haystack = vec![b'1'; 20 << 20];
        assert_eq!(pool.install(|| find_first(b']', &haystack)), None);
        for at in [haystack.len() - 1, 13 << 20, (3 << 20) + 5, 7, 0] {
            haystack[at] = b']';
            let expected = memchr::memchr(b']', &haystack);
            assert_eq!(expected, Some(at));
            assert_eq!(pool.install(|| find_first(b']', &haystack)), expected);
        }
    }

    #[test]
    fn signed_and_lenient_numbers() {
        let mut seen = Vec::new();
        Cursor::new(b"[-2, 0, 7]", 0, "scopes")
            .int_array(|v| {
                seen.push(v);
                Ok(())
            })
            .unwrap();
        assert_eq!(seen, vec![-2, 0, 7]);
        assert_eq!(
            Cursor::new(b"-9223372036854775808", 0, "x").int().unwrap(),
            i64::MIN
        );
        assert!(Cursor::new(b"9223372036854775808", 0, "x").int().is_err());
        assert_eq!(Cursor::new(b"1.5e3", 0, "x").int_lenient().unwrap(), 1500);
        assert_eq!(Cursor::new(b"1e400", 0, "x").int_lenient().ok(), None);
        assert_eq!(Cursor::new(b"1.e", 0, "x").int_lenient().ok(), None);
        assert_eq!(Cursor::new(b"12.75", 0, "x").int_lenient().unwrap(), 12);
    }

    #[test]
    fn skip_value_handles_nesting_and_strings() {
        let text = br#"{"a":[1,{"b":"]}\"x"}],"c":null} ,"#;
        let mut cursor = Cursor::new(text, 0, "x");
        cursor.skip_value().unwrap();
        assert_eq!(cursor.pos(), text.len() - 2);
        assert!(Cursor::new(b"[1,[2]", 0, "x").skip_value().is_err());
        assert!(Cursor::new(b"[1}", 0, "x").skip_value().is_err());
    }
}
