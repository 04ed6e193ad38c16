//! Top-level records: the record loop, [`walk`] (every record) and [`frame`] (segments only).

use super::heap::{cut_sub_record, heap_body, HeapVisitor};
use super::{read_u4, Body, Header};
use crate::{HprofError, HprofErrorKind, HprofLocation};

/// Receives top-level records other than heap dumps.
pub(crate) trait RecordVisitor<'a> {
    fn record(&mut self, tag: u8, body: Body<'a>) -> Result<(), HprofError>;
}

/// One top-level record, as [`Records`] found it.
pub(crate) struct Record<'a> {
    pub tag: u8,
    /// The part of the body that is present.
    pub body: Body<'a>,
    /// File offsets of that part.
    pub start: usize,
    pub end: usize,
    /// The body was cut by the end of the input (lenient mode only).
    pub cut: bool,
    /// For heap-dump records (`HEAP DUMP`, `HEAP DUMP SEGMENT`): which heap
    /// dump of the file they belong to, from 1; 0 for every other record.
    pub dump: u32,
}

/// The top-level record loop that [`walk`] and [`frame`] share: checks each
/// record's header and length, counts it in the stats, numbers the heap
/// dumps, and hands the walked bytes to `done_with` every [`RELEASE_STEP`]
/// bytes or so.
pub(crate) struct Records<'a, 'f> {
    bytes: &'a [u8],
    id_size: u8,
    pos: usize,
    released: usize,
    lenient: bool,
    /// Heap dumps seen so far.
    dumps: u32,
    /// A run of `HEAP DUMP SEGMENT`s is open (no `HEAP DUMP END` yet).
    in_segments: bool,
    done_with: &'f dyn Fn(std::ops::Range<usize>),
}

impl<'a, 'f> Records<'a, 'f> {
    pub fn new(
        bytes: &'a [u8],
        header: &Header,
        lenient: bool,
        done_with: &'f dyn Fn(std::ops::Range<usize>),
    ) -> Self {
        Records {
            bytes,
            id_size: header.id_size,
            pos: header.records_start,
            released: 0,
            lenient,
            dumps: 0,
            in_segments: false,
            done_with,
        }
    }

    /// The next record; `None` at the end of the input, or (lenient mode)
    /// where a cut record header ends it, recorded in `stats.truncation`.
    pub fn next(
        &mut self,
        stats: &mut crate::RecordStats,
    ) -> Result<Option<Record<'a>>, HprofError> {
        let bytes = self.bytes;
        let pos = self.pos;
        // Reading a record maps its part of a file mapping in (whole
        // page-cache folios): let the walked part go as the walk goes.
        if pos - self.released >= RELEASE_STEP {
            (self.done_with)(self.released..pos.min(bytes.len()));
            self.released = pos.min(bytes.len());
        }
        if pos >= bytes.len() {
            if self.released < bytes.len() {
                (self.done_with)(self.released..bytes.len());
                self.released = bytes.len();
            }
            return Ok(None);
        }
        let tag = bytes.get(pos).copied().unwrap_or(0);
        let location = HprofLocation::Record(tag);
        if bytes.len() - pos < 9 {
            // The record header itself is cut.
            let available = (bytes.len() - pos) as u64;
            let error = HprofError::truncated(pos as u64, location, 9, available);
            if self.lenient {
                stats.truncation = Some(error);
                self.pos = bytes.len();
                return Ok(None);
            }
            return Err(error);
        }
        let declared_length = u64::from(read_u4(bytes, pos + 5, location)?);
        let start = pos + 9;
        let available = (bytes.len() - start) as u64;
        let mut length = declared_length;
        if length > available {
            let error = HprofError::new(
                pos as u64,
                HprofErrorKind::LengthPastEnd {
                    tag,
                    length,
                    available,
                },
            );
            if !self.lenient {
                return Err(error);
            }
            // Keep what the cut record holds (a killed dumper's last segment).
            stats.truncation = Some(error);
            length = available;
        }
        if tag == 0x0C && length < available && (available - length).is_multiple_of(1 << 32) {
            // A 1.0.1 heap over 4 GiB: the u4 length wrapped (MAT's heuristic).
            length = available;
            stats.overflowed_lengths += 1;
        }
        let end = start
            .saturating_add(usize::try_from(length).unwrap_or(usize::MAX))
            .min(bytes.len());
        let entry = stats.records.entry(tag).or_insert((0, 0));
        entry.0 += 1;
        entry.1 += length;
        let dump = match tag {
            0x0C => {
                // A HEAP DUMP record is a whole dump.
                self.dumps += 1;
                self.in_segments = false;
                self.dumps
            }
            0x1C => {
                if !self.in_segments {
                    self.dumps += 1;
                    self.in_segments = true;
                }
                self.dumps
            }
            _ => {
                if tag == 0x2C {
                    stats.heap_dump_ends += 1;
                    self.in_segments = false;
                }
                if !is_known_record(tag) {
                    stats.unknown_records += 1;
                }
                0
            }
        };
        stats.heap_dumps = self.dumps;
        self.pos = end;
        Ok(Some(Record {
            tag,
            body: Body {
                data: bytes.get(start..end).unwrap_or(&[]),
                base: start as u64,
                id_size: self.id_size,
                location,
            },
            start,
            end,
            cut: length < declared_length,
            dump,
        }))
    }

    /// The error for a `selected` heap dump past the last one, once the
    /// whole file has been walked.
    pub fn missing_dump(&self, selected: u32) -> Option<HprofError> {
        (selected > self.dumps.max(1)).then(|| {
            HprofError::new(
                self.bytes.len() as u64,
                HprofErrorKind::NoSuchHeapDump {
                    requested: selected,
                    found: self.dumps,
                },
            )
        })
    }
}

/// Walks all records. The heap-dump bodies of heap dump `dump` (from 1; see
/// [`HprofOptions::dump`](crate::HprofOptions::dump)) go to `heap` as one
/// sub-record stream; the other heap dumps are skipped; other records go to
/// `records` (when given). `done_with` gets the byte ranges walked so far,
/// every [`RELEASE_STEP`] bytes or so.
#[allow(clippy::too_many_arguments)]
pub(crate) fn walk<'a>(
    bytes: &'a [u8],
    header: &Header,
    mut records: Option<&mut dyn RecordVisitor<'a>>,
    heap: &mut dyn HeapVisitor,
    stats: &mut crate::RecordStats,
    lenient: bool,
    dump: u32,
    done_with: &dyn Fn(std::ops::Range<usize>),
) -> Result<(), HprofError> {
    let mut walk = Records::new(bytes, header, lenient, done_with);
    // Bytes of a sub-record cut by a segment end: (file offset, bytes, tag).
    let mut carry: Option<(u64, Vec<u8>)> = None;
    while let Some(record) = walk.next(stats)? {
        if record.dump == dump {
            carry = heap_body(record.body, carry.take(), heap, stats)?;
            continue;
        }
        if let Some((offset, pending)) = carry.take() {
            return Err(cut_sub_record(offset, &pending));
        }
        if record.dump != 0 {
            continue; // another heap dump of the file
        }
        // A record cut by the end of the input (lenient mode only) is
        // dropped: its fields cannot be trusted.
        if let Some(visitor) = records.as_deref_mut().filter(|_| !record.cut) {
            visitor.record(record.tag, record.body)?;
        }
    }
    if let Some((offset, pending)) = carry {
        let error = cut_sub_record(offset, &pending);
        if lenient {
            stats.truncation.get_or_insert(error);
            return Ok(());
        }
        return Err(error);
    }
    match walk.missing_dump(dump) {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// How many bytes [`walk`] reads between two `done_with` calls.
pub(crate) const RELEASE_STEP: usize = 8 << 20;

/// One heap-dump record body (`HEAP DUMP` or `HEAP DUMP SEGMENT`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct HeapSegment {
    /// File offsets of the body (the part that is present).
    pub start: usize,
    pub end: usize,
    pub tag: u8,
    /// Whether the record before it was a heap-dump record of the same
    /// dump (a sub-record cut at the previous segment's end may continue
    /// here).
    pub after_heap: bool,
}

/// The heap-dump records of a dump, found by a walk over the top-level
/// records only (no sub-record is decoded), with the other records given to
/// `records` and counted in `stats` exactly as [`walk`] does.
pub(crate) struct Framing {
    pub segments: Vec<HeapSegment>,
    /// The error [`walk`] would stop at after the last segment listed (a
    /// bad record or one `records` refused), if any.
    pub error: Option<HprofError>,
    /// Whether a record that is not a heap dump followed the last segment.
    pub record_after_last_segment: bool,
}

/// The framing pass over heap dump `dump` (from 1): see [`Framing`].
pub(crate) fn frame<'a>(
    bytes: &'a [u8],
    header: &Header,
    records: &mut dyn RecordVisitor<'a>,
    stats: &mut crate::RecordStats,
    lenient: bool,
    dump: u32,
    done_with: &dyn Fn(std::ops::Range<usize>),
) -> Framing {
    let mut framing = Framing {
        segments: Vec::new(),
        error: None,
        record_after_last_segment: false,
    };
    let mut walk = Records::new(bytes, header, lenient, done_with);
    let mut previous_heap = false;
    loop {
        let record = match walk.next(stats) {
            Ok(Some(record)) => record,
            Ok(None) => break,
            Err(error) => {
                framing.error = Some(error);
                return framing;
            }
        };
        if record.dump == dump {
            framing.segments.push(HeapSegment {
                start: record.start,
                end: record.end,
                tag: record.tag,
                after_heap: previous_heap,
            });
            framing.record_after_last_segment = false;
            previous_heap = true;
            continue;
        }
        previous_heap = false;
        if !framing.segments.is_empty() {
            framing.record_after_last_segment = true;
        }
        if record.dump != 0 || record.cut {
            continue;
        }
        if let Err(error) = records.record(record.tag, record.body) {
            framing.error = Some(error);
            return framing;
        }
    }
    framing.error = walk.missing_dump(dump);
    framing
}

fn is_known_record(tag: u8) -> bool {
    matches!(tag, 0x01..=0x07 | 0x0A..=0x0E | 0x1C | 0x2C)
}
