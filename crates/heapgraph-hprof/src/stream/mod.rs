//! Framing: the header, the top-level record loop and the heap-dump
//! sub-record stream (consecutive segments read as one stream).
//!
//! This module reads the header and holds the bounds-checked [`Body`]
//! reader; [`records`] walks the top-level records ([`walk`], [`frame`]);
//! [`heap`] decodes the heap-dump sub-records ([`heap_body`]).
//!
//! Nothing here allocates by a length read from the file: every length is
//! checked against the bytes that are left before it is used.

mod heap;
mod records;

use byteorder::{BigEndian, ByteOrder};

use crate::{HprofError, HprofErrorKind, HprofLocation, HprofVersion};

pub(crate) use heap::{cut_sub_record, heap_body, ClassDump, HeapVisitor, SubRecord};
pub(crate) use records::{frame, walk, HeapSegment, RecordVisitor};

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
        // A read may start past the body's end (a field after a skipped
        // one): report where the bytes run out, which is inside the input.
        HprofError::truncated(
            self.offset(short.at.min(self.data.len())),
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
