//! [`RecordStats`]: how many records of each kind were read, handled or skipped.

use std::collections::BTreeMap;

/// Counts of everything read, so nothing is dropped silently.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordStats {
    /// Top-level records by tag: (count, body bytes). Unknown tags are
    /// skipped by length and counted here too (see [`record_name`]).
    pub records: BTreeMap<u8, (u64, u64)>,
    /// Heap-dump sub-records by tag.
    pub sub_records: BTreeMap<u8, u64>,
    /// Top-level records with a tag heapgraph does not know (skipped by length).
    pub unknown_records: u64,
    /// `HEAP DUMP END` records.
    pub heap_dump_ends: u64,
    /// Heap dumps in the file: each `HEAP DUMP` record is one, and so is
    /// each run of `HEAP DUMP SEGMENT`s up to a `HEAP DUMP END`. The JVMTI
    /// `hprof` agent writes several into one file; only the one chosen by
    /// [`HprofOptions::dump`](crate::HprofOptions::dump) is read, and
    /// [`RecordStats::sub_records`] counts that one's sub-records.
    pub heap_dumps: u32,
    /// Sub-records that continued from one heap-dump segment into the next.
    pub split_sub_records: u64,
    /// Objects whose id was already used by an earlier object (references
    /// resolve to the first).
    pub duplicate_ids: u64,
    /// Instances or object arrays whose class was never dumped.
    pub missing_classes: u64,
    /// Instances with more field bytes than their class chain declares
    /// (the extra bytes are ignored).
    pub instances_with_extra_bytes: u64,
    /// A 1.0.1 `HEAP DUMP` record whose 32-bit length had overflowed and was
    /// corrected to the rest of the file (heaps over 4 GiB).
    pub overflowed_lengths: u64,
    /// In lenient mode ([`HprofOptions::lenient`](crate::HprofOptions::lenient)):
    /// where the input ended early. Everything before it is in the graph.
    pub truncation: Option<crate::HprofError>,
}

/// The name of a top-level record tag.
pub fn record_name(tag: u8) -> &'static str {
    match tag {
        0x01 => "UTF8",
        0x02 => "LOAD CLASS",
        0x03 => "UNLOAD CLASS",
        0x04 => "STACK FRAME",
        0x05 => "STACK TRACE",
        0x06 => "ALLOC SITES",
        0x07 => "HEAP SUMMARY",
        0x0A => "START THREAD",
        0x0B => "END THREAD",
        0x0C => "HEAP DUMP",
        0x0D => "CPU SAMPLES",
        0x0E => "CONTROL SETTINGS",
        0x1C => "HEAP DUMP SEGMENT",
        0x2C => "HEAP DUMP END",
        _ => "unknown",
    }
}

/// The name of a heap-dump sub-record tag.
pub fn sub_record_name(tag: u8) -> &'static str {
    match tag {
        0xFF => "ROOT UNKNOWN",
        0x01 => "ROOT JNI GLOBAL",
        0x02 => "ROOT JNI LOCAL",
        0x03 => "ROOT JAVA FRAME",
        0x04 => "ROOT NATIVE STACK",
        0x05 => "ROOT STICKY CLASS",
        0x06 => "ROOT THREAD BLOCK",
        0x07 => "ROOT MONITOR USED",
        0x08 => "ROOT THREAD OBJECT",
        0x20 => "CLASS DUMP",
        0x21 => "INSTANCE DUMP",
        0x22 => "OBJECT ARRAY DUMP",
        0x23 => "PRIMITIVE ARRAY DUMP",
        0x89 => "ROOT INTERNED STRING",
        0x8A => "ROOT FINALIZING",
        0x8B => "ROOT DEBUGGER",
        0x8C => "ROOT REFERENCE CLEANUP",
        0x8D => "ROOT VM INTERNAL",
        0x8E => "ROOT JNI MONITOR",
        0x90 => "UNREACHABLE",
        0xC3 => "PRIMITIVE ARRAY NODATA",
        0xFE => "HEAP DUMP INFO",
        _ => "unknown",
    }
}
