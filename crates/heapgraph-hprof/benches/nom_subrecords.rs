//! The HPROF record and heap-dump sub-record grammar, read two ways: the
//! crate's hand-written style (bounds-checked big-endian reads at offsets,
//! as in `src/stream/`) and `nom` 8 combinators over the byte slice. Both
//! produce the same [`Summary`] (records and sub-records per tag, a checksum
//! of the object ids and one of every other decoded field), asserted equal
//! and checked against the crate's own `scan` counts before timing.
//!
//! The crate's reader is `pub(crate)`, so `hand` below is a minimal copy of
//! its decoder (`stream/heap.rs::decode`, `decode_class`) and record loop
//! (`stream/records.rs::Records::next`) without the visitor, stats map,
//! segment carry, lenient mode and 1.0.1 length-overflow fix-up, which
//! neither walker here has. A sub-record cut by a segment end is an error in
//! both (HotSpot never writes one).
//!
//! Input: `testdata/hprof/hotspot-jdk17-shapes.hprof.gz`, and also the
//! uncompressed dump named by `HEAPGRAPH_HPROF_BENCH_FILE` when set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // bench setup may panic

use std::io::Read;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use heapgraph_hprof::BasicType;

/// A decoded heap-dump sub-record; slices borrow the input.
pub(crate) enum Sub<'a> {
    Root {
        id: u64,
        first: u32,
        second: u32,
    },
    Class {
        id: u64,
        trace_serial: u32,
        super_id: u64,
        loader_id: u64,
        instance_size: u32,
        /// Every constant-pool, static and field entry folded (name ids,
        /// type codes, values): the crate keeps them in `Vec`s.
        members: u64,
    },
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

/// What a walk found; both walkers must agree on every field.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Summary {
    records: [u64; 256],
    sub_records: [u64; 256],
    /// Object ids in file order, mixed.
    ids: u64,
    /// Every other decoded value, summed.
    aux: u64,
}

impl Summary {
    fn new() -> Self {
        Summary {
            records: [0; 256],
            sub_records: [0; 256],
            ids: 0,
            aux: 0,
        }
    }

    #[inline]
    fn id(&mut self, id: u64) {
        self.ids = self.ids.rotate_left(5) ^ id;
    }

    #[inline]
    fn aux(&mut self, v: u64) {
        self.aux = self.aux.wrapping_add(v);
    }

    #[inline]
    fn record(&mut self, tag: u8) {
        self.records[usize::from(tag)] += 1;
    }

    #[inline]
    fn add(&mut self, tag: u8, sub: Sub<'_>) {
        self.sub_records[usize::from(tag)] += 1;
        match sub {
            Sub::Root { id, first, second } => {
                self.id(id);
                self.aux(u64::from(first) + u64::from(second));
            }
            Sub::Class {
                id,
                trace_serial,
                super_id,
                loader_id,
                instance_size,
                members,
            } => {
                self.id(id);
                self.aux(u64::from(trace_serial) + u64::from(instance_size));
                self.aux(super_id ^ loader_id.rotate_left(17) ^ members);
            }
            Sub::Instance {
                id,
                trace_serial,
                class_id,
                fields,
            } => {
                self.id(id);
                self.aux(u64::from(trace_serial) + class_id + fields.len() as u64);
            }
            Sub::ObjectArray {
                id,
                trace_serial,
                class_id,
                length,
                elements,
            } => {
                self.id(id);
                self.aux(u64::from(trace_serial) + class_id + u64::from(length));
                self.aux(elements.len() as u64);
            }
            Sub::PrimitiveArray {
                id,
                trace_serial,
                ty,
                length,
            } => {
                self.id(id);
                self.aux(u64::from(trace_serial) + u64::from(ty.code()) + u64::from(length));
            }
            Sub::HeapInfo { heap_id, name_id } => self.aux(u64::from(heap_id) ^ name_id),
        }
    }
}

/// Mixes one class member (constant, static or field) into a running value.
#[inline]
fn member(acc: u64, name: u64, code: u8, value: u64) -> u64 {
    acc.rotate_left(3) ^ name ^ (u64::from(code) << 56) ^ value
}

/// The crate's style: a [`hand::Body`] of bounds-checked `byteorder` reads
/// at offsets, a `match` on the tag, `Short` for a read past the end.
mod hand {
    use byteorder::{BigEndian, ByteOrder};
    use heapgraph_hprof::BasicType;

    use super::{member, Sub, Summary};

    /// What went wrong, and at which file offset.
    #[derive(Debug)]
    pub(crate) struct WalkError {
        pub(crate) offset: u64,
        pub(crate) what: &'static str,
    }

    #[derive(Clone, Copy)]
    struct Body<'a> {
        data: &'a [u8],
        base: u64,
        id_size: u8,
    }

    /// A read past the end (the crate's also says where: unused here).
    #[derive(Clone, Copy, Debug)]
    struct Short;

    impl<'a> Body<'a> {
        #[inline]
        fn bytes(&self, at: usize, n: usize) -> Result<&'a [u8], Short> {
            match at.checked_add(n).and_then(|end| self.data.get(at..end)) {
                Some(b) => Ok(b),
                None => Err(Short),
            }
        }
        #[inline]
        fn u1(&self, at: usize) -> Result<u8, Short> {
            self.data.get(at).copied().ok_or(Short)
        }
        #[inline]
        fn u2(&self, at: usize) -> Result<u16, Short> {
            Ok(BigEndian::read_u16(self.bytes(at, 2)?))
        }
        #[inline]
        fn u4(&self, at: usize) -> Result<u32, Short> {
            Ok(BigEndian::read_u32(self.bytes(at, 4)?))
        }
        #[inline]
        fn id(&self, at: usize) -> Result<u64, Short> {
            if self.id_size == 4 {
                Ok(u64::from(BigEndian::read_u32(self.bytes(at, 4)?)))
            } else {
                Ok(BigEndian::read_u64(self.bytes(at, 8)?))
            }
        }
        fn error(&self, at: usize, what: &'static str) -> WalkError {
            WalkError {
                offset: self.base.saturating_add(at as u64),
                what,
            }
        }
    }

    enum Step<'a> {
        Record(Sub<'a>, usize),
        Short,
    }

    macro_rules! tri {
        ($e:expr) => {
            match $e {
                Ok(v) => v,
                Err(_) => return Ok(Step::Short),
            }
        };
    }

    fn len_usize(length: u32) -> usize {
        usize::try_from(length).unwrap_or(usize::MAX)
    }

    fn decode<'a>(body: &Body<'a>, at: usize, tag: u8) -> Result<Step<'a>, WalkError> {
        let id = body.id_size as usize;
        let p = at + 1;
        let root = |first: u32, second: u32, len: usize, id: u64| {
            Step::Record(Sub::Root { id, first, second }, p + len)
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
                    Sub::Instance {
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
                let n = len_usize(length).saturating_mul(id);
                let elements = tri!(body.bytes(start, n));
                Step::Record(
                    Sub::ObjectArray {
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
                        return Err(body.error(p + id + 8, "bad basic type"))
                    }
                    Some(ty) => ty,
                };
                let start = p + id + 9;
                let end = if tag == 0xC3 {
                    start
                } else {
                    let n =
                        len_usize(length).saturating_mul(usize::from(ty.file_size(body.id_size)));
                    tri!(body.bytes(start, n));
                    start + n
                };
                let sub = Sub::PrimitiveArray {
                    id: object,
                    trace_serial,
                    ty,
                    length,
                };
                Step::Record(sub, end)
            }
            0xFE => {
                let heap_id = tri!(body.u4(p));
                let name_id = tri!(body.id(p + 4));
                Step::Record(Sub::HeapInfo { heap_id, name_id }, p + 4 + id)
            }
            _ => return Err(body.error(at, "unknown sub-record")),
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

    fn decode_class<'a>(body: &Body<'a>, at: usize) -> Result<Step<'a>, WalkError> {
        let id = body.id_size as usize;
        let p = at + 1;
        let class_id = tri!(body.id(p));
        let trace_serial = tri!(body.u4(p + id));
        let super_id = tri!(body.id(p + id + 4));
        let loader_id = tri!(body.id(p + 2 * id + 4));
        // signers, protection domain, 2 reserved ids
        let instance_size = tri!(body.u4(p + 7 * id + 4));
        let mut q = p + 7 * id + 8;
        let mut members = 0u64;
        let n_constants = tri!(body.u2(q));
        q += 2;
        for _ in 0..n_constants {
            let index = tri!(body.u2(q));
            let code = tri!(body.u1(q + 2));
            let ty = BasicType::from_code(code).ok_or_else(|| body.error(q + 2, "bad type"))?;
            let (value, next) = tri!(value_of(body, q + 3, ty));
            members = member(members, u64::from(index), code, value);
            q = next;
        }
        let n_statics = tri!(body.u2(q));
        q += 2;
        for _ in 0..n_statics {
            let name_id = tri!(body.id(q));
            let code = tri!(body.u1(q + id));
            let ty = BasicType::from_code(code).ok_or_else(|| body.error(q + id, "bad type"))?;
            let (value, next) = tri!(value_of(body, q + id + 1, ty));
            members = member(members, name_id, code, value);
            q = next;
        }
        let n_fields = tri!(body.u2(q));
        q += 2;
        for _ in 0..n_fields {
            let name_id = tri!(body.id(q));
            let code = tri!(body.u1(q + id));
            BasicType::from_code(code).ok_or_else(|| body.error(q + id, "bad type"))?;
            members = member(members, name_id, code, 0);
            q += id + 1;
        }
        let sub = Sub::Class {
            id: class_id,
            trace_serial,
            super_id,
            loader_id,
            instance_size,
            members,
        };
        Ok(Step::Record(sub, q))
    }

    fn read_u4(bytes: &[u8], at: usize) -> Result<u32, WalkError> {
        at.checked_add(4)
            .and_then(|end| bytes.get(at..end))
            .map(BigEndian::read_u32)
            .ok_or(WalkError {
                offset: at as u64,
                what: "truncated",
            })
    }

    /// Header, then every top-level record; heap-dump bodies sub-record by sub-record.
    pub(crate) fn walk(bytes: &[u8]) -> Result<Summary, WalkError> {
        let not_hprof = WalkError {
            offset: 0,
            what: "not hprof",
        };
        let nul = bytes
            .iter()
            .take(32)
            .position(|&b| b == 0)
            .ok_or(not_hprof)?;
        match bytes.get(..nul) {
            Some(b"JAVA PROFILE 1.0.1" | b"JAVA PROFILE 1.0.2" | b"JAVA PROFILE 1.0.3") => {}
            _ => {
                return Err(WalkError {
                    offset: 0,
                    what: "not hprof",
                })
            }
        }
        let id_size = read_u4(bytes, nul + 1)?;
        if id_size != 4 && id_size != 8 {
            return Err(WalkError {
                offset: nul as u64 + 1,
                what: "id size",
            });
        }
        read_u4(bytes, nul + 9)?; // timestamp, low half
        let mut pos = nul + 13;
        let mut summary = Summary::new();
        while pos < bytes.len() {
            let tag = bytes.get(pos).copied().unwrap_or(0);
            if bytes.len() - pos < 9 {
                return Err(WalkError {
                    offset: pos as u64,
                    what: "truncated record header",
                });
            }
            read_u4(bytes, pos + 1)?; // time
            let length = len_usize(read_u4(bytes, pos + 5)?);
            let start = pos + 9;
            if length > bytes.len() - start {
                return Err(WalkError {
                    offset: pos as u64,
                    what: "length past end",
                });
            }
            let end = start + length;
            summary.record(tag);
            if tag == 0x0C || tag == 0x1C {
                let body = Body {
                    data: bytes.get(start..end).unwrap_or(&[]),
                    base: start as u64,
                    id_size: id_size as u8,
                };
                let mut at = 0;
                while let Some(&tag) = body.data.get(at) {
                    match decode(&body, at, tag)? {
                        Step::Record(sub, next) => {
                            summary.add(tag, sub);
                            at = next;
                        }
                        Step::Short => return Err(body.error(at, "sub-record cut")),
                    }
                }
            }
            pos = end;
        }
        Ok(summary)
    }
}

/// The same grammar with `nom` 8 combinators: the input is a `&[u8]` that
/// each parser advances; errors are nom's (`Failure` for a bad tag or type).
mod with_nom {
    use heapgraph_hprof::BasicType;
    use nom::bytes::complete::{tag, take, take_till};
    use nom::combinator::{all_consuming, cut, map, map_opt, verify};
    use nom::error::{Error, ErrorKind};
    use nom::multi::{fold_many0, fold_many_m_n, length_data};
    use nom::number::complete::{be_u16, be_u32, be_u64, u8};
    use nom::sequence::terminated;
    use nom::{IResult, Parser};

    use super::{member, Sub, Summary};

    type Res<'a, T> = IResult<&'a [u8], T>;

    /// An identifier of `size` (4 or 8) bytes.
    fn id<'a>(size: u8) -> impl Fn(&'a [u8]) -> Res<'a, u64> {
        move |i| {
            if size == 4 {
                map(be_u32, u64::from).parse(i)
            } else {
                be_u64(i)
            }
        }
    }

    /// A basic type code; anything else is a hard failure.
    fn basic_type(i: &[u8]) -> Res<'_, (u8, BasicType)> {
        cut(map_opt(u8, |c| BasicType::from_code(c).map(|ty| (c, ty)))).parse(i)
    }

    /// A value of type `ty`.
    fn value<'a>(ty: BasicType, size: u8) -> impl Fn(&'a [u8]) -> Res<'a, u64> {
        move |i| match ty.file_size(size) {
            1 => map(u8, u64::from).parse(i),
            2 => map(be_u16, u64::from).parse(i),
            4 => map(be_u32, u64::from).parse(i),
            _ => be_u64(i),
        }
    }

    fn class_dump(size: u8, i: &[u8]) -> Res<'_, Sub<'_>> {
        let id = id(size);
        let (i, (class_id, trace_serial, super_id, loader_id)) =
            (&id, be_u32, &id, &id).parse(i)?;
        // signers, protection domain, 2 reserved ids; instance size
        let (i, (_, _, _, _, instance_size)) = (&id, &id, &id, &id, be_u32).parse(i)?;
        let (i, n) = be_u16(i)?;
        let constant = (be_u16, basic_type)
            .flat_map(|(index, (code, ty))| map(value(ty, size), move |v| (index, code, v)));
        let (i, members) = fold_many_m_n(
            n.into(),
            n.into(),
            constant,
            || 0u64,
            |acc, (index, code, v)| member(acc, u64::from(index), code, v),
        )
        .parse(i)?;
        let (i, n) = be_u16(i)?;
        let statics = (&id, basic_type)
            .flat_map(|(name, (code, ty))| map(value(ty, size), move |v| (name, code, v)));
        let (i, members) = fold_many_m_n(
            n.into(),
            n.into(),
            statics,
            move || members,
            |acc, (name, code, v)| member(acc, name, code, v),
        )
        .parse(i)?;
        let (i, n) = be_u16(i)?;
        let (i, members) = fold_many_m_n(
            n.into(),
            n.into(),
            (&id, basic_type),
            move || members,
            |acc, (name, (code, _))| member(acc, name, code, 0),
        )
        .parse(i)?;
        let sub = Sub::Class {
            id: class_id,
            trace_serial,
            super_id,
            loader_id,
            instance_size,
            members,
        };
        Ok((i, sub))
    }

    /// One heap-dump sub-record: its tag, then the body the tag selects.
    fn sub_record<'a>(size: u8) -> impl Fn(&'a [u8]) -> Res<'a, (u8, Sub<'a>)> {
        move |i| {
            let id = id(size);
            let (i, t) = u8(i)?;
            let root = |(id, first, second)| Sub::Root { id, first, second };
            let (i, sub) = match t {
                0xFF | 0x05 | 0x07 | 0x89 | 0x8A | 0x8B | 0x8C | 0x8D | 0x90 => {
                    map(&id, |id| root((id, 0, 0))).parse(i)?
                }
                0x01 => map((&id, &id), |(id, _)| root((id, 0, 0))).parse(i)?,
                0x02 | 0x03 | 0x08 | 0x8E => map((&id, be_u32, be_u32), root).parse(i)?,
                0x04 | 0x06 => map((&id, be_u32), |(id, a)| root((id, a, 0))).parse(i)?,
                0x20 => class_dump(size, i)?,
                0x21 => map(
                    (&id, be_u32, &id, length_data(be_u32)),
                    |(id, trace_serial, class_id, fields)| Sub::Instance {
                        id,
                        trace_serial,
                        class_id,
                        fields,
                    },
                )
                .parse(i)?,
                0x22 => {
                    let (i, (id, trace_serial, length, class_id)) =
                        (&id, be_u32, be_u32, &id).parse(i)?;
                    let n = usize::try_from(length).unwrap_or(usize::MAX);
                    let (i, elements) = take(n.saturating_mul(usize::from(size)))(i)?;
                    let sub = Sub::ObjectArray {
                        id,
                        trace_serial,
                        class_id,
                        length,
                        elements,
                    };
                    (i, sub)
                }
                0x23 | 0xC3 => {
                    let prim = verify(basic_type, |(_, ty)| *ty != BasicType::Object);
                    let (i, (id, trace_serial, length, (_, ty))) =
                        (&id, be_u32, be_u32, cut(prim)).parse(i)?;
                    let (i, _) = if t == 0x23 {
                        let n = usize::try_from(length).unwrap_or(usize::MAX);
                        take(n.saturating_mul(usize::from(ty.file_size(size))))(i)?
                    } else {
                        (i, &i[..0]) // Android NODATA: no contents follow
                    };
                    let sub = Sub::PrimitiveArray {
                        id,
                        trace_serial,
                        ty,
                        length,
                    };
                    (i, sub)
                }
                0xFE => map((be_u32, &id), |(heap_id, name_id)| Sub::HeapInfo {
                    heap_id,
                    name_id,
                })
                .parse(i)?,
                _ => return Err(nom::Err::Failure(Error::new(i, ErrorKind::Switch))),
            };
            Ok((i, (t, sub)))
        }
    }

    /// `JAVA PROFILE 1.0.x\0`, id size, timestamp: the id size.
    fn header(i: &[u8]) -> Res<'_, u8> {
        let version = verify(take_till(|b| b == 0), |v: &[u8]| {
            matches!(
                v,
                b"JAVA PROFILE 1.0.1" | b"JAVA PROFILE 1.0.2" | b"JAVA PROFILE 1.0.3"
            )
        });
        let (i, _) = terminated(version, tag(&b"\0"[..])).parse(i)?;
        let (i, (size, _timestamp)) = (verify(be_u32, |s| *s == 4 || *s == 8), be_u64).parse(i)?;
        Ok((i, size as u8))
    }

    /// Header, then every top-level record; heap-dump bodies sub-record by sub-record.
    pub(crate) fn walk(bytes: &[u8]) -> Result<Summary, nom::Err<Error<&[u8]>>> {
        let (mut i, size) = header(bytes)?;
        let mut summary = Summary::new();
        while !i.is_empty() {
            let (rest, (t, _time, body)) = (u8, be_u32, length_data(be_u32)).parse(i)?;
            summary.record(t);
            if t == 0x0C || t == 0x1C {
                all_consuming(fold_many0(
                    sub_record(size),
                    || (),
                    |(), (t, sub)| summary.add(t, sub),
                ))
                .parse(body)?;
            }
            i = rest;
        }
        Ok(summary)
    }
}

fn small_input() -> (String, Vec<u8>) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/hprof/hotspot-jdk17-shapes.hprof.gz"
    );
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    ("shapes".to_string(), out)
}

fn bench_input(c: &mut Criterion, name: &str, bytes: &[u8]) {
    let hand = hand::walk(bytes).unwrap_or_else(|e| panic!("{} at {}", e.what, e.offset));
    let nom = with_nom::walk(bytes).unwrap();
    assert_eq!(hand, nom, "the two walkers disagree on {name}");
    // And both agree with the crate's own index pass on the counts.
    let (stats, _) = heapgraph_hprof::scan(bytes).unwrap();
    for (tag, &count) in hand.sub_records.iter().enumerate() {
        let crate_count = stats.sub_records.get(&(tag as u8)).copied().unwrap_or(0);
        assert_eq!(count, crate_count, "sub-record {tag:#04x} on {name}");
    }
    for (tag, &count) in hand.records.iter().enumerate() {
        let crate_count = stats.records.get(&(tag as u8)).map_or(0, |e| e.0);
        assert_eq!(count, crate_count, "record {tag:#04x} on {name}");
    }
    let subs: u64 = hand.sub_records.iter().sum();
    eprintln!(
        "{name}: {} bytes, {} records, {subs} sub-records, ids {:#018x}",
        bytes.len(),
        hand.records.iter().sum::<u64>(),
        hand.ids
    );

    let tags: Vec<String> = (0..=255u8)
        .filter(|&t| hand.sub_records[usize::from(t)] > 0)
        .map(|t| format!("{t:#04x}:{}", hand.sub_records[usize::from(t)]))
        .collect();
    eprintln!("{name}: sub-records by tag {}", tags.join(" "));
    let big = bytes.len() > 100_000_000;
    let mut group = c.benchmark_group(format!("hprof-subrecords/{name}"));
    group.throughput(Throughput::BytesDecimal(bytes.len() as u64));
    if big {
        group.sampling_mode(SamplingMode::Flat);
        group.sample_size(10);
        group.warm_up_time(Duration::from_secs(3));
        group.measurement_time(Duration::from_secs(15));
    } else {
        group.sample_size(50);
        group.measurement_time(Duration::from_secs(8));
    }
    group.bench_function("hand", |b| {
        b.iter(|| hand::walk(std::hint::black_box(bytes)).unwrap())
    });
    group.bench_function("nom", |b| {
        b.iter(|| with_nom::walk(std::hint::black_box(bytes)).unwrap())
    });
    group.finish();
}

fn bench(c: &mut Criterion) {
    let (name, bytes) = small_input();
    bench_input(c, &name, &bytes);
    drop(bytes);
    if let Ok(path) = std::env::var("HEAPGRAPH_HPROF_BENCH_FILE") {
        let bytes = std::fs::read(&path).unwrap();
        let name = std::path::Path::new(&path)
            .file_stem()
            .map_or_else(|| "file".into(), |s| s.to_string_lossy().into_owned());
        bench_input(c, &name, &bytes);
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
