//! Strings: decoded into WTF-8, skipped, or counted.

use super::Cursor;
use crate::error::V8Error;

impl Cursor<'_> {
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
    pub(super) fn skip_string(&mut self) -> Result<(), V8Error> {
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

    /// Counts the strings of a `["...", ...]` array and skips it. Falls
    /// back to a plain skip (count 0) if the array holds anything else.
    /// What it has passed goes to `release` every 8 MiB or so.
    pub(crate) fn skip_string_array_releasing(
        &mut self,
        release: &dyn Fn(std::ops::Range<usize>),
    ) -> Result<u64, V8Error> {
        let save = self.pos;
        let mut released = self.pos;
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
            if self.pos - released >= 8 << 20 {
                release(released..self.pos);
                released = self.pos;
            }
        }
        Ok(count)
    }
}
