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
            let mut c = bytes.get(pos).copied();
            if c.is_some_and(is_ws) {
                while bytes.get(pos).copied().is_some_and(is_ws) {
                    pos += 1;
                }
                c = bytes.get(pos).copied();
            }
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
            push_wtf8(out, code_point);
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

    /// Skips a `[...]` array of plain numbers quickly: finds its `]`.
    /// Content is validated later when the array is actually read.
    pub(crate) fn skip_number_array(&mut self) -> Result<(), V8Error> {
        if self.peek() != Some(b'[') {
            return self.skip_value();
        }
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        match memchr::memchr3(b']', b'"', b'{', rest) {
            Some(found) if rest.get(found) == Some(&b']') => {
                self.pos += found + 1;
                Ok(())
            }
            // Not a plain number array: fall back to the general skipper.
            Some(_) => self.skip_value(),
            None => {
                self.pos = self.bytes.len();
                Err(self.unexpected("`,` or `]`"))
            }
        }
    }
}

/// Appends a code point (possibly a lone surrogate) as WTF-8.
pub(crate) fn push_wtf8(out: &mut Vec<u8>, code_point: u32) {
    let c = code_point;
    if c < 0x80 {
        out.push(c as u8);
    } else if c < 0x800 {
        out.extend_from_slice(&[0xC0 | (c >> 6) as u8, 0x80 | (c & 0x3F) as u8]);
    } else if c < 0x10000 {
        out.extend_from_slice(&[
            0xE0 | (c >> 12) as u8,
            0x80 | ((c >> 6) & 0x3F) as u8,
            0x80 | (c & 0x3F) as u8,
        ]);
    } else {
        out.extend_from_slice(&[
            0xF0 | (c >> 18) as u8,
            0x80 | ((c >> 12) & 0x3F) as u8,
            0x80 | ((c >> 6) & 0x3F) as u8,
            0x80 | (c & 0x3F) as u8,
        ]);
    }
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
