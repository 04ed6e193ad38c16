//! Framing: the header, the top-level record loop and the heap-dump
//! sub-record stream (consecutive segments read as one stream).
//!
//! Nothing here allocates by a length read from the file: every length is
//! checked against the bytes that are left before it is used.

use byteorder::{BigEndian, ByteOrder};

use crate::{BasicType, HprofError, HprofErrorKind, HprofLocation, HprofVersion};

/// The parsed file header.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Header {
    pub version: HprofVersion,
    pub id_size: u8,
    pub timestamp_ms: u64,
    /// Offset of the first record.
    pub records_start: usize,
}

const MAGIC_PREFIX: &[u8] = b"JAVA PROFILE 1.0";

/// Whether `prefix` (the first bytes of a file) looks like an HPROF dump.
pub fn is_hprof(prefix: &[u8]) -> bool {
    let n = prefix.len().min(MAGIC_PREFIX.len());
    n >= 8 && prefix.get(..n) == MAGIC_PREFIX.get(..n)
}

pub(crate) fn parse_header(bytes: &[u8]) -> Result<Header, HprofError> {
    let nul = bytes.iter().take(32).position(|&b| b == 0).ok_or_else(|| {
        if is_hprof(bytes) && bytes.len() < 32 {
            HprofError::truncated(bytes.len() as u64, HprofLocation::Header, 1, 0)
        } else {
            HprofError::new(0, HprofErrorKind::NotHprof)
        }
    })?;
    let version = match bytes.get(..nul) {
        Some(b"JAVA PROFILE 1.0.1") => HprofVersion::V1_0_1,
        Some(b"JAVA PROFILE 1.0.2") => HprofVersion::V1_0_2,
        Some(b"JAVA PROFILE 1.0.3") => HprofVersion::V1_0_3,
        _ => return Err(HprofError::new(0, HprofErrorKind::NotHprof)),
    };
    let id_at = nul + 1;
    let id_size = read_u4(bytes, id_at, HprofLocation::Header)?;
    if id_size != 4 && id_size != 8 {
        return Err(HprofError::new(
            id_at as u64,
            HprofErrorKind::BadIdSize(id_size),
        ));
    }
    let timestamp_ms = read_u8(bytes, id_at + 4, HprofLocation::Header)?;
    Ok(Header {
        version,
        id_size: id_size as u8,
        timestamp_ms,
        records_start: id_at + 12,
    })
}

fn take(bytes: &[u8], at: usize, n: usize, location: HprofLocation) -> Result<&[u8], HprofError> {
    at.checked_add(n)
        .and_then(|end| bytes.get(at..end))
        .ok_or_else(|| {
            let available = bytes.len().saturating_sub(at) as u64;
            HprofError::truncated(at as u64, location, n as u64, available)
        })
}

fn read_u4(bytes: &[u8], at: usize, location: HprofLocation) -> Result<u32, HprofError> {
    Ok(BigEndian::read_u32(take(bytes, at, 4, location)?))
}

fn read_u8(bytes: &[u8], at: usize, location: HprofLocation) -> Result<u64, HprofError> {
    Ok(BigEndian::read_u64(take(bytes, at, 8, location)?))
}

/// A bounds-checked big-endian reader over one record body (or one joined
/// sub-record window) that reports absolute file offsets.
#[derive(Clone, Copy)]
pub(crate) struct Body<'a> {
    pub data: &'a [u8],
    /// File offset of `data[0]`.
    pub base: u64,
    pub id_size: u8,
    pub location: HprofLocation,
}

/// Reading past the end of a [`Body`]: how many bytes were needed at `at`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Short {
    pub at: usize,
    pub needed: usize,
}

impl<'a> Body<'a> {
    #[inline]
    pub fn bytes(&self, at: usize, n: usize) -> Result<&'a [u8], Short> {
        match at.checked_add(n).and_then(|end| self.data.get(at..end)) {
            Some(b) => Ok(b),
            None => Err(Short { at, needed: n }),
        }
    }
    #[inline]
    pub fn u1(&self, at: usize) -> Result<u8, Short> {
        self.data.get(at).copied().ok_or(Short { at, needed: 1 })
    }
    #[inline]
    pub fn u2(&self, at: usize) -> Result<u16, Short> {
        Ok(BigEndian::read_u16(self.bytes(at, 2)?))
    }
    #[inline]
    pub fn u4(&self, at: usize) -> Result<u32, Short> {
        Ok(BigEndian::read_u32(self.bytes(at, 4)?))
    }
    #[inline]
    pub fn id(&self, at: usize) -> Result<u64, Short> {
        if self.id_size == 4 {
            Ok(u64::from(BigEndian::read_u32(self.bytes(at, 4)?)))
        } else {
            Ok(BigEndian::read_u64(self.bytes(at, 8)?))
        }
    }
    pub fn offset(&self, at: usize) -> u64 {
        self.base.saturating_add(at as u64)
    }
    /// The error for a [`Short`] read.
    pub fn short(&self, short: Short) -> HprofError {
        let available = self.data.len().saturating_sub(short.at) as u64;
        HprofError::truncated(
            self.offset(short.at),
            self.location,
            short.needed as u64,
            available,
        )
    }
}

/// A length from the file as `usize` (saturating on 16/32-bit targets, so an
/// oversized length becomes a short read, never a wrap).
#[inline]
pub(crate) fn len_usize(length: u32) -> usize {
    usize::try_from(length).unwrap_or(usize::MAX)
}

/// Reads an identifier value of `id_size` bytes from a slice known to hold it.
#[inline]
pub(crate) fn id_at(bytes: &[u8], id_size: u8) -> u64 {
    if id_size == 4 {
        bytes
            .get(..4)
            .map_or(0, |b| u64::from(BigEndian::read_u32(b)))
    } else {
        bytes.get(..8).map_or(0, BigEndian::read_u64)
    }
}

/// One field or static value type plus its raw value bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StaticField {
    pub name_id: u64,
    pub ty: BasicType,
    pub value: u64,
}

/// A CLASS DUMP sub-record.
#[derive(Clone, Debug)]
pub(crate) struct ClassDump {
    pub id: u64,
    pub trace_serial: u32,
    pub super_id: u64,
    pub loader_id: u64,
    pub statics: Vec<StaticField>,
    /// Instance fields this class declares: (name id, type).
    pub fields: Vec<(u64, BasicType)>,
}

/// A decoded heap-dump sub-record.
pub(crate) enum SubRecord<'a> {
    /// Any GC root: tag, object id and up to two u4 extras (thread serial,
    /// frame number / trace serial / stack depth), 0 when absent.
    Root {
        tag: u8,
        id: u64,
        first: u32,
        second: u32,
    },
    Class(ClassDump),
    Instance {
        id: u64,
        trace_serial: u32,
        class_id: u64,
        fields: &'a [u8],
    },
    ObjectArray {
        id: u64,
        trace_serial: u32,
        class_id: u64,
        length: u32,
        elements: &'a [u8],
    },
    /// A primitive array (0x23) or Android's NODATA one (0xC3); the
    /// contents are read again through the record offset when needed.
    PrimitiveArray {
        id: u64,
        trace_serial: u32,
        ty: BasicType,
        length: u32,
    },
    HeapInfo {
        heap_id: u32,
        name_id: u64,
    },
}

/// Receives heap sub-records in file order.
pub(crate) trait HeapVisitor {
    /// `offset` is the sub-record's tag offset; `contiguous` says whether the
    /// whole sub-record lies in one segment (so it can be re-read there).
    fn sub_record(
        &mut self,
        record: SubRecord<'_>,
        offset: u64,
        contiguous: bool,
    ) -> Result<(), HprofError>;
}

/// Receives top-level records other than heap dumps.
pub(crate) trait RecordVisitor<'a> {
    fn record(&mut self, tag: u8, body: Body<'a>) -> Result<(), HprofError>;
}

/// Result of decoding one sub-record from a window.
enum Step<'a> {
    Record(SubRecord<'a>, usize),
    /// Incomplete at the end of the window.
    Short,
}

fn bad_type(body: &Body<'_>, at: usize, tag: u8, code: u8) -> HprofError {
    HprofError::new(
        body.offset(at),
        HprofErrorKind::BadBasicType {
            location: HprofLocation::SubRecord(tag),
            code,
        },
    )
}

macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(_) => return Ok(Step::Short),
        }
    };
}

/// Decodes the sub-record starting at `at` (its tag byte).
fn decode<'a>(body: &Body<'a>, at: usize) -> Result<Step<'a>, HprofError> {
    let id = body.id_size as usize;
    let tag = tri!(body.u1(at));
    let p = at + 1;
    let root = |first: u32, second: u32, len: usize, id_value: u64| {
        Step::Record(
            SubRecord::Root {
                tag,
                id: id_value,
                first,
                second,
            },
            p + len,
        )
    };
    Ok(match tag {
        0xFF | 0x05 | 0x07 | 0x89 | 0x8A | 0x8B | 0x8C | 0x8D | 0x90 => {
            root(0, 0, id, tri!(body.id(p)))
        }
        0x01 => {
            tri!(body.bytes(p, 2 * id));
            root(0, 0, 2 * id, tri!(body.id(p)))
        }
        0x02 | 0x03 | 0x08 | 0x8E => {
            let v = tri!(body.id(p));
            root(tri!(body.u4(p + id)), tri!(body.u4(p + id + 4)), id + 8, v)
        }
        0x04 | 0x06 => {
            let v = tri!(body.id(p));
            root(tri!(body.u4(p + id)), 0, id + 4, v)
        }
        0x20 => return decode_class(body, at),
        0x21 => {
            let object = tri!(body.id(p));
            let trace_serial = tri!(body.u4(p + id));
            let class_id = tri!(body.id(p + id + 4));
            let n = len_usize(tri!(body.u4(p + 2 * id + 4)));
            let start = p + 2 * id + 8;
            let fields = tri!(body.bytes(start, n));
            Step::Record(
                SubRecord::Instance {
                    id: object,
                    trace_serial,
                    class_id,
                    fields,
                },
                start + n,
            )
        }
        0x22 => {
            let object = tri!(body.id(p));
            let trace_serial = tri!(body.u4(p + id));
            let length = tri!(body.u4(p + id + 4));
            let class_id = tri!(body.id(p + id + 8));
            let start = p + 2 * id + 8;
            // u32 × 8 fits in usize on 64-bit; on 32-bit targets a too-large
            // product is simply a short read.
            let n = len_usize(length).saturating_mul(id);
            let elements = tri!(body.bytes(start, n));
            Step::Record(
                SubRecord::ObjectArray {
                    id: object,
                    trace_serial,
                    class_id,
                    length,
                    elements,
                },
                start + n,
            )
        }
        0x23 | 0xC3 => {
            let object = tri!(body.id(p));
            let trace_serial = tri!(body.u4(p + id));
            let length = tri!(body.u4(p + id + 4));
            let code = tri!(body.u1(p + id + 8));
            let ty = match BasicType::from_code(code) {
                Some(BasicType::Object) | None => {
                    return Err(bad_type(body, p + id + 8, tag, code))
                }
                Some(ty) => ty,
            };
            let start = p + id + 9;
            if tag == 0xC3 {
                Step::Record(
                    SubRecord::PrimitiveArray {
                        id: object,
                        trace_serial,
                        ty,
                        length,
                    },
                    start,
                )
            } else {
                let n = len_usize(length).saturating_mul(usize::from(ty.file_size(body.id_size)));
                tri!(body.bytes(start, n));
                Step::Record(
                    SubRecord::PrimitiveArray {
                        id: object,
                        trace_serial,
                        ty,
                        length,
                    },
                    start + n,
                )
            }
        }
        0xFE => {
            let heap_id = tri!(body.u4(p));
            let name_id = tri!(body.id(p + 4));
            Step::Record(SubRecord::HeapInfo { heap_id, name_id }, p + 4 + id)
        }
        _ => {
            return Err(HprofError::new(
                body.offset(at),
                HprofErrorKind::UnknownSubRecord(tag),
            ))
        }
    })
}

fn value_of(body: &Body<'_>, at: usize, ty: BasicType) -> Result<(u64, usize), Short> {
    let n = usize::from(ty.file_size(body.id_size));
    let b = body.bytes(at, n)?;
    let v = match n {
        1 => u64::from(b.first().copied().unwrap_or(0)),
        2 => u64::from(BigEndian::read_u16(b)),
        4 => u64::from(BigEndian::read_u32(b)),
        _ => BigEndian::read_u64(b),
    };
    Ok((v, at + n))
}

fn decode_class<'a>(body: &Body<'a>, at: usize) -> Result<Step<'a>, HprofError> {
    let id = body.id_size as usize;
    let p = at + 1;
    let class_id = tri!(body.id(p));
    let trace_serial = tri!(body.u4(p + id));
    let super_id = tri!(body.id(p + id + 4));
    let loader_id = tri!(body.id(p + 2 * id + 4));
    // signers, protection domain, 2 reserved ids
    tri!(body.u4(p + 7 * id + 4)); // instance size: recomputed from the fields
    let mut q = p + 7 * id + 8;
    let n_constants = tri!(body.u2(q));
    q += 2;
    for _ in 0..n_constants {
        let code = tri!(body.u1(q + 2));
        let ty = BasicType::from_code(code).ok_or_else(|| bad_type(body, q + 2, 0x20, code))?;
        q = tri!(value_of(body, q + 3, ty)).1;
    }
    let n_statics = tri!(body.u2(q));
    q += 2;
    // Each static takes at least id + 2 bytes: cap the allocation by what is left.
    let room = body.data.len().saturating_sub(q) / (id + 2);
    let mut statics = Vec::with_capacity(usize::from(n_statics).min(room));
    for _ in 0..n_statics {
        let name_id = tri!(body.id(q));
        let code = tri!(body.u1(q + id));
        let ty = BasicType::from_code(code).ok_or_else(|| bad_type(body, q + id, 0x20, code))?;
        let (value, next) = tri!(value_of(body, q + id + 1, ty));
        statics.push(StaticField { name_id, ty, value });
        q = next;
    }
    let n_fields = tri!(body.u2(q));
    q += 2;
    let room = body.data.len().saturating_sub(q) / (id + 1);
    let mut fields = Vec::with_capacity(usize::from(n_fields).min(room));
    for _ in 0..n_fields {
        let name_id = tri!(body.id(q));
        let code = tri!(body.u1(q + id));
        let ty = BasicType::from_code(code).ok_or_else(|| bad_type(body, q + id, 0x20, code))?;
        fields.push((name_id, ty));
        q += id + 1;
    }
    Ok(Step::Record(
        SubRecord::Class(ClassDump {
            id: class_id,
            trace_serial,
            super_id,
            loader_id,
            statics,
            fields,
        }),
        q,
    ))
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

pub(crate) fn cut_sub_record(offset: u64, pending: &[u8]) -> HprofError {
    let tag = pending.first().copied().unwrap_or(0);
    HprofError::truncated(
        offset,
        HprofLocation::SubRecord(tag),
        1,
        pending.len() as u64,
    )
}

/// Decodes one heap-dump record body, continuing a sub-record cut at the
/// end of the previous segment. Returns the new cut-off tail, if any.
pub(crate) fn heap_body(
    body: Body<'_>,
    carry: Option<(u64, Vec<u8>)>,
    heap: &mut dyn HeapVisitor,
    stats: &mut crate::RecordStats,
) -> Result<Option<(u64, Vec<u8>)>, HprofError> {
    let mut at = 0usize;
    if let Some((carry_offset, mut joined)) = carry {
        // Rare (some Android writers split sub-records across segments):
        // decode the cut sub-record from a joined copy of its two parts.
        let carried = joined.len();
        joined.extend_from_slice(body.data);
        let window = Body {
            data: &joined,
            base: carry_offset,
            id_size: body.id_size,
            location: body.location,
        };
        match decode(&window, 0)? {
            Step::Short => {
                // Still incomplete: the whole segment joins the carry.
                return Ok(Some((carry_offset, joined)));
            }
            Step::Record(record, end) => {
                stats.split_sub_records += 1;
                let tag = joined.first().copied().unwrap_or(0);
                *stats.sub_records.entry(tag).or_insert(0) += 1;
                heap.sub_record(record, carry_offset, false)?;
                at = end.saturating_sub(carried);
            }
        }
    }
    let mut counts = [0u64; 256];
    let result = (|| {
        while at < body.data.len() {
            match decode(&body, at)? {
                Step::Record(record, end) => {
                    let tag = body.data.get(at).copied().unwrap_or(0);
                    if let Some(c) = counts.get_mut(usize::from(tag)) {
                        *c += 1;
                    }
                    heap.sub_record(record, body.offset(at), true)?;
                    at = end;
                }
                Step::Short => {
                    let tail = body.data.get(at..).unwrap_or(&[]).to_vec();
                    return Ok(Some((body.offset(at), tail)));
                }
            }
        }
        Ok(None)
    })();
    for (tag, &count) in counts.iter().enumerate() {
        if count > 0 {
            *stats.sub_records.entry(tag as u8).or_insert(0) += count;
        }
    }
    result
}
