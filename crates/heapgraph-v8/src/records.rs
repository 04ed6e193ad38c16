//! The `nodes` and `edges` integer arrays, read on every core.
//!
//! [`scan_records`] hands each record of a `[u, u, ...]` array to a callback
//! in file order, exactly as [`Cursor::uint_records`] does; only the digit
//! scanning is spread over threads. The array is cut at commas into chunks
//! of about [`CHUNK_BYTES`]; a round of chunks is scanned in parallel
//! (rayon) into plain `u64` values while the callback consumes the previous
//! round, so at most two rounds of values exist at a time (about 2 MB,
//! whatever the array's size). Both halves run on the pool's threads via
//! `rayon::join` (the caller waits), so on two cores two threads work and
//! the one done first helps with the other's chunks.
//!
//! The result is the same as the sequential scan's, errors included: a
//! chunk starts right after a separator comma, so until the first flaw in
//! the array each chunk reads exactly what the sequential loop reads
//! there, and the first flaw is reported from the first chunk that holds
//! one, after every complete record before it has been handed over. Offsets
//! of records (needed only for error messages) are found again by
//! rescanning from the start of their chunk, see [`RecordAt`].
//!
//! With one rayon thread (`RAYON_NUM_THREADS=1`) or a small array the
//! sequential loop runs on the calling thread, as before.
//!
//! Either way the text already consumed is handed to a `release` callback
//! as the scan goes (each round of chunks, or every [`RELEASE_BYTES`] of
//! the sequential loop), on the calling thread, so a caller that mapped
//! the file can drop those pages while the graph grows.

use std::ops::Range;

use rayon::prelude::*;

use crate::error::{V8Error, V8ErrorKind};
use crate::json::{swar_digits, value_offset, Cursor, MAX_FIELDS};

/// The text handed to one parallel task.
pub(crate) const CHUNK_BYTES: usize = 64 << 10;

/// Chunks scanned together while the previous round is consumed.
const CHUNKS_PER_ROUND: usize = 8;

/// How much text the sequential loop consumes between `release` calls.
pub(crate) const RELEASE_BYTES: usize = 4 << 20;

/// Where a record starts, found lazily: `skip` values after the value
/// starting at byte `base`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RecordAt {
    base: usize,
    skip: usize,
}

impl RecordAt {
    /// A record known to start at `start`.
    pub(crate) fn at(start: usize) -> Self {
        RecordAt {
            base: start,
            skip: 0,
        }
    }

    /// The byte offset where the record starts.
    pub(crate) fn start(self, bytes: &[u8]) -> usize {
        value_offset(bytes, self.base, self.skip)
    }

    /// The byte offset of the record's value number `field`.
    pub(crate) fn field(self, bytes: &[u8], field: usize) -> usize {
        value_offset(bytes, self.start(bytes), field)
    }
}

/// How the scan is split; tests shrink the chunks.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Split {
    /// Bytes of array text per chunk.
    pub(crate) chunk_bytes: usize,
    /// Never use other threads.
    pub(crate) sequential: bool,
}

impl Default for Split {
    fn default() -> Self {
        Split {
            chunk_bytes: CHUNK_BYTES,
            sequential: false,
        }
    }
}

/// How [`scan_records`] is split, and where it hands the text it is done
/// with.
#[derive(Clone, Copy)]
pub(crate) struct Scan<'r> {
    /// How the scan is split.
    pub(crate) split: Split,
    /// Told of each range of text consumed.
    pub(crate) release: &'r dyn Fn(Range<usize>),
}

/// Reads the `[u, u, ...]` array at `pos` (its `[`, possibly after
/// whitespace) as records of `width` values, calling `each(record, at)`
/// once per record, in order, one call at a time (on a pool thread when
/// the scan is split). `end` is the position of the
/// array's first `]` if already known. Returns the number of values and the
/// position after the closing `]`.
///
/// `scan.release` is called, on the calling thread, with ranges of `bytes` the
/// scan has finished with (consecutive, non-overlapping, in order, all
/// inside the array), a round of chunks or a few megabytes at a time. The
/// scan only looks at them again to find the offset of an error.
pub(crate) fn scan_records(
    bytes: &[u8],
    pos: usize,
    end: Option<usize>,
    section: &'static str,
    width: usize,
    scan: Scan<'_>,
    mut each: impl FnMut(&[u64], RecordAt) -> Result<(), V8Error> + Send,
) -> Result<(u64, usize), V8Error> {
    let Scan { split, release } = scan;
    let mut cursor = Cursor::new(bytes, pos, section);
    if split.sequential {
        return scan_sequential(&mut cursor, width, release, &mut each);
    }
    // The array's text, between `[` and the first `]`.
    cursor.skip_ws();
    let open = cursor.pos();
    if bytes.get(open) != Some(&b'[') {
        return scan_sequential(&mut cursor, width, release, &mut each);
    }
    let content = open + 1;
    let mut first = content;
    while bytes.get(first).copied().is_some_and(is_ws) {
        first += 1;
    }
    let close = match end {
        Some(close) if bytes.get(close) == Some(&b']') && close > open => close,
        _ => match memchr::memchr(b']', bytes.get(content..).unwrap_or_default()) {
            Some(found) => content + found,
            None => return scan_sequential(&mut cursor, width, release, &mut each),
        },
    };
    let chunk_bytes = split.chunk_bytes.max(1);
    // An empty array, one too small to be worth splitting, or one thread
    // (asked last: it starts rayon's pool).
    if first >= close || close - content < 2 * chunk_bytes || rayon::current_num_threads() < 2 {
        return scan_sequential(&mut cursor, width, release, &mut each);
    }
    let chunks = cut(bytes, content, close, chunk_bytes);

    let width = width.clamp(1, MAX_FIELDS);
    let mut state = Stitch {
        record: [0u64; MAX_FIELDS],
        field: 0,
        at: RecordAt::at(content),
        count: 0,
        width,
    };
    // Value buffers are recycled from round to round (two rounds' worth
    // in all), so no memory is taken and given back per chunk.
    let scan_round = |round: &[(usize, usize)], mut buffers: Vec<Vec<u64>>| -> Vec<Chunk> {
        buffers.resize_with(round.len(), Vec::new);
        round
            .par_iter()
            .zip(buffers)
            .map(|(&(start, stop), buffer)| scan_chunk(bytes, start, stop, close, section, buffer))
            .collect()
    };
    let mut rounds = chunks.chunks(CHUNKS_PER_ROUND);
    let first_round = rounds.next();
    // The text of the round being consumed: from its first chunk's start
    // to its last chunk's end.
    let span = |round: &[(usize, usize)]| match (round.first(), round.last()) {
        (Some(&(start, _)), Some(&(_, stop))) => start..stop,
        _ => 0..0,
    };
    let mut current_span = first_round.map(span).unwrap_or(0..0);
    let mut current = first_round
        .map(|round| scan_round(round, Vec::new()))
        .unwrap_or_default();
    let mut spare: Vec<Vec<u64>> = Vec::new();
    loop {
        let next_round = rounds.next();
        let buffers = std::mem::take(&mut spare);
        // Both halves run on the pool's threads (the caller waits): the one
        // done first helps with the other's chunks, and no third thread
        // competes for the cores.
        let (outcome, next) = rayon::join(
            || state.apply(&current, &mut each),
            || next_round.map(|round| scan_round(round, buffers)),
        );
        outcome?;
        release(std::mem::replace(
            &mut current_span,
            next_round.map(span).unwrap_or(0..0),
        ));
        match next {
            Some(round) => {
                spare = std::mem::replace(&mut current, round)
                    .into_iter()
                    .map(|chunk| chunk.values)
                    .collect();
            }
            None => break,
        }
    }
    if state.field != 0 {
        return Err(V8Error::new(
            state.at.start(bytes),
            V8ErrorKind::RaggedArray {
                section,
                len: state.count,
                width: width as u64,
            },
        ));
    }
    Ok((state.count, close + 1))
}

/// The plain loop of [`Cursor::uint_records`], releasing the text before
/// the current record every [`RELEASE_BYTES`].
fn scan_sequential<F>(
    cursor: &mut Cursor<'_>,
    width: usize,
    release: &dyn Fn(Range<usize>),
    each: &mut F,
) -> Result<(u64, usize), V8Error>
where
    F: FnMut(&[u64], RecordAt) -> Result<(), V8Error>,
{
    let mut released = cursor.pos();
    let count = cursor.uint_records(width, |record, start| {
        if start.saturating_sub(released) >= RELEASE_BYTES {
            release(released..start);
            released = start;
        }
        each(record, RecordAt::at(start))
    })?;
    let end = cursor.pos();
    if end > released {
        release(released..end);
    }
    Ok((count, end))
}

/// Chunk bounds `(start, stop)`: `start` after `[` or a comma, `stop` at the
/// next chunk's comma or at the closing `]`.
fn cut(bytes: &[u8], content: usize, close: usize, chunk_bytes: usize) -> Vec<(usize, usize)> {
    let mut chunks = Vec::with_capacity((close - content) / chunk_bytes + 1);
    let mut start = content;
    loop {
        let target = start.saturating_add(chunk_bytes);
        let comma = if target < close {
            memchr::memchr(b',', bytes.get(target..close).unwrap_or_default()).map(|i| target + i)
        } else {
            None
        };
        match comma {
            Some(comma) => {
                chunks.push((start, comma));
                start = comma + 1;
            }
            None => {
                chunks.push((start, close));
                return chunks;
            }
        }
    }
}

/// One chunk's values, and the flaw that stopped it, if any.
struct Chunk {
    /// Where its first value starts (after whitespace).
    first: usize,
    values: Vec<u64>,
    error: Option<V8Error>,
}

/// Scans the values of `bytes[start..stop]`: `stop` is a separator comma,
/// or `close` (the array's `]`) for the last chunk, into `values`
/// (cleared first). The loop is [`Cursor::uint_records`]'s.
fn scan_chunk(
    bytes: &[u8],
    start: usize,
    stop: usize,
    close: usize,
    section: &'static str,
    mut values: Vec<u64>,
) -> Chunk {
    let mut pos = start;
    while bytes.get(pos).copied().is_some_and(is_ws) {
        pos += 1;
    }
    values.clear();
    // Numbers take at least two bytes with their separator; a chunk that
    // ran long (no comma for a while) grows as its values are read.
    values.reserve(((stop - start) / 2 + 1).min(CHUNK_BYTES / 2 + 1));
    let mut chunk = Chunk {
        first: pos,
        values,
        error: None,
    };
    let unexpected =
        |at: usize, expected: &'static str| Cursor::new(bytes, at, section).unexpected(expected);
    loop {
        let value_start = pos;
        let value;
        if let Some((swar_value, digits)) = swar_digits(bytes, pos) {
            if digits == 0 {
                chunk.error = Some(unexpected(value_start, "an unsigned integer"));
                return chunk;
            }
            value = swar_value;
            pos += digits;
        } else {
            let mut slow = 0u64;
            while let Some(&c) = bytes.get(pos) {
                let digit = c.wrapping_sub(b'0');
                if digit > 9 {
                    break;
                }
                slow = slow.wrapping_mul(10).wrapping_add(u64::from(digit));
                pos += 1;
            }
            let digits = pos - value_start;
            if digits == 0 {
                chunk.error = Some(unexpected(value_start, "an unsigned integer"));
                return chunk;
            }
            if digits > 19 {
                let mut cursor = Cursor::new(bytes, value_start, section);
                match cursor.uint() {
                    Ok(v) => slow = v,
                    Err(e) => {
                        chunk.error = Some(e);
                        return chunk;
                    }
                }
            }
            value = slow;
        }
        chunk.values.push(value);
        while bytes.get(pos).copied().is_some_and(is_ws) {
            pos += 1;
        }
        match bytes.get(pos) {
            Some(b',') if pos == stop => return chunk,
            Some(b',') => pos += 1,
            Some(b']') if pos == close => return chunk,
            _ => {
                chunk.error = Some(unexpected(pos, "`,` or `]`"));
                return chunk;
            }
        }
        while bytes.get(pos).copied().is_some_and(is_ws) {
            pos += 1;
        }
    }
}

#[inline]
fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\r' | b'\t')
}

/// Values of consecutive chunks joined into records.
struct Stitch {
    record: [u64; MAX_FIELDS],
    field: usize,
    /// Where the record being filled starts.
    at: RecordAt,
    count: u64,
    width: usize,
}

impl Stitch {
    fn apply(
        &mut self,
        chunks: &[Chunk],
        each: &mut impl FnMut(&[u64], RecordAt) -> Result<(), V8Error>,
    ) -> Result<(), V8Error> {
        let width = self.width;
        for chunk in chunks {
            let mut values = chunk.values.as_slice();
            let mut index = 0usize;
            // Finish a record begun in an earlier chunk.
            while self.field != 0 {
                let Some((&value, rest)) = values.split_first() else {
                    break;
                };
                if let Some(slot) = self.record.get_mut(self.field) {
                    *slot = value;
                }
                values = rest;
                index += 1;
                self.field += 1;
                if self.field == width {
                    self.field = 0;
                    each(self.record.get(..width).unwrap_or_default(), self.at)?;
                }
            }
            let mut records = values.chunks_exact(width);
            for record in &mut records {
                each(
                    record,
                    RecordAt {
                        base: chunk.first,
                        skip: index,
                    },
                )?;
                index += width;
            }
            let rest = records.remainder();
            if !rest.is_empty() {
                self.at = RecordAt {
                    base: chunk.first,
                    skip: index,
                };
                for (slot, &value) in self.record.iter_mut().zip(rest) {
                    *slot = value;
                }
                self.field = rest.len();
            }
            self.count += chunk.values.len() as u64;
            if let Some(error) = &chunk.error {
                return Err(error.clone());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    type Seen = Vec<(Vec<u64>, usize)>;

    fn collect(text: &[u8], width: usize, split: Split) -> (Seen, Result<(u64, usize), V8Error>) {
        let mut seen = Vec::new();
        let released = std::cell::RefCell::new(Vec::new());
        let release = |range: Range<usize>| released.borrow_mut().push(range);
        let result = scan_records(
            text,
            0,
            None,
            "edges",
            width,
            Scan {
                split,
                release: &release,
            },
            |record, at| {
                seen.push((record.to_vec(), at.start(text)));
                Ok(())
            },
        );
        check_released(text, &released.into_inner(), &result);
        (seen, result)
    }

    /// Released ranges come in order, never overlap and stay inside the
    /// text read; after a complete scan they cover every digit of the array.
    fn check_released(
        text: &[u8],
        released: &[Range<usize>],
        result: &Result<(u64, usize), V8Error>,
    ) {
        let mut after = 0;
        for range in released {
            assert!(
                after <= range.start && range.start <= range.end,
                "{released:?}"
            );
            after = range.end;
        }
        assert!(after <= text.len(), "{released:?} past {}", text.len());
        if let Ok((_, end)) = result {
            assert!(after <= *end, "{released:?} past the array's end {end}");
            for (at, c) in text[..*end].iter().enumerate() {
                if c.is_ascii_digit() {
                    assert!(
                        released.iter().any(|r| r.contains(&at)),
                        "digit at {at} never released: {released:?} in {:?}",
                        String::from_utf8_lossy(text)
                    );
                }
            }
        }
    }

    #[test]
    fn sequential_scans_release_every_few_megabytes() {
        let text = format!(
            "[{}]",
            (0..3_000_000u32)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        );
        let released = std::cell::RefCell::new(Vec::new());
        let release = |range: Range<usize>| released.borrow_mut().push(range);
        let split = Split {
            chunk_bytes: 1,
            sequential: true,
        };
        let mut count = 0u64;
        let result = scan_records(
            text.as_bytes(),
            0,
            None,
            "nodes",
            3,
            Scan {
                split,
                release: &release,
            },
            |_, _| {
                count += 1;
                Ok(())
            },
        );
        assert_eq!(result.as_ref().unwrap(), &(3_000_000, text.len()));
        let released = released.into_inner();
        check_released(text.as_bytes(), &released, &result);
        // About 21 MB of text: several calls, each about RELEASE_BYTES.
        assert_eq!(
            released.len(),
            text.len() / RELEASE_BYTES + 1,
            "{released:?}"
        );
        for range in &released[..released.len() - 1] {
            assert!(range.len() >= RELEASE_BYTES && range.len() < RELEASE_BYTES + 64);
        }
    }

    #[test]
    fn chunked_scans_match_the_sequential_loop() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state >> 33
        };
        for case in 0..400 {
            let n = (next() % 60) as usize;
            let mut text = String::from(if case % 3 == 0 { " [ " } else { "[" });
            for i in 0..n {
                if i > 0 {
                    text.push_str([",", ", ", " ,\n", ","][(next() % 4) as usize]);
                }
                let v = match next() % 5 {
                    0 => next() % 10,
                    1 => next(),
                    2 => u64::MAX - next() % 3,
                    _ => next() % 100_000,
                };
                text.push_str(&v.to_string());
            }
            text.push_str(if case % 2 == 0 { "]" } else { " ] ," });
            let mut bytes = text.into_bytes();
            // Some cases get a flaw somewhere.
            if case % 4 == 1 && bytes.len() > 3 {
                let at = 1 + (next() as usize) % (bytes.len() - 2);
                bytes[at] = b"x,\"-9 ]"[(next() % 7) as usize];
            }
            for width in [1, 3, 7] {
                let sequential = collect(
                    &bytes,
                    width,
                    Split {
                        chunk_bytes: 1,
                        sequential: true,
                    },
                );
                for chunk_bytes in [1, 2, 5, 13] {
                    let split = Split {
                        chunk_bytes,
                        sequential: false,
                    };
                    let parallel = pool.install(|| collect(&bytes, width, split));
                    assert_eq!(
                        parallel,
                        sequential,
                        "{:?} width {width} chunk {chunk_bytes}",
                        String::from_utf8_lossy(&bytes)
                    );
                }
            }
        }
    }

    #[test]
    fn callback_errors_stop_the_scan_in_order() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let text: String = format!(
            "[{}]",
            (0..3000)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        );
        let bytes = text.as_bytes();
        let run = |split: Split| {
            let mut seen = 0u64;
            let scan = Scan {
                split,
                release: &|_| {},
            };
            let result = scan_records(bytes, 0, None, "nodes", 2, scan, |record, at| {
                seen += 1;
                if record[0] == 1500 {
                    return Err(V8Error::new(
                        at.field(bytes, 1),
                        V8ErrorKind::BadMeta { what: "test" },
                    ));
                }
                Ok(())
            });
            (result, seen)
        };
        let sequential = run(Split {
            chunk_bytes: 1,
            sequential: true,
        });
        let parallel = pool.install(|| {
            run(Split {
                chunk_bytes: 64,
                sequential: false,
            })
        });
        assert_eq!(sequential, parallel);
        assert_eq!(sequential.1, 751);
        let offset = sequential.0.unwrap_err().offset as usize;
        assert_eq!(&bytes[offset..offset + 5], b"1501,");
    }
}
