//! Numbers: unsigned and signed integers, and the hot loops over integer arrays.

use super::{is_ws, next_non_ws, Cursor, MAX_FIELDS};
use crate::error::{V8Error, V8ErrorKind};

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

impl Cursor<'_> {
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
}
