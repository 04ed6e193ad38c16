//! The heap-dump sub-record stream: sub-records decoded, continued across segment ends.

use byteorder::{BigEndian, ByteOrder};

use super::{len_usize, Body, Short};
use crate::{BasicType, HprofError, HprofErrorKind, HprofLocation};

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
