//! [`HprofError`]: what went wrong, where (absolute byte offset) and in which record.

use std::fmt;

use heapgraph_core::BuildError;

/// Where in the file structure an error happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HprofLocation {
    /// The file header (magic, identifier size, timestamp).
    Header,
    /// A top-level record with this tag (`0x01` UTF8, `0x1C` HEAP DUMP SEGMENT, ...).
    Record(u8),
    /// A heap-dump sub-record with this tag (`0x20` CLASS DUMP, `0x21` INSTANCE DUMP, ...).
    SubRecord(u8),
}

impl fmt::Display for HprofLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            HprofLocation::Header => f.write_str("the header"),
            HprofLocation::Record(tag) => {
                write!(f, "record 0x{tag:02X} ({})", crate::stats::record_name(tag))
            }
            HprofLocation::SubRecord(tag) => {
                write!(
                    f,
                    "heap sub-record 0x{tag:02X} ({})",
                    crate::stats::sub_record_name(tag)
                )
            }
        }
    }
}

/// What was wrong with the input.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HprofErrorKind {
    /// The file does not start with `JAVA PROFILE 1.0.1`, `1.0.2` or `1.0.3`.
    NotHprof,
    /// The identifier size is not 4 or 8.
    BadIdSize(u32),
    /// The input ended inside a header, record or sub-record.
    Truncated {
        /// The structure being read.
        location: HprofLocation,
        /// Bytes needed to finish the field being read.
        needed: u64,
        /// Bytes that were left.
        available: u64,
    },
    /// A top-level record's length runs past the end of the input.
    LengthPastEnd {
        /// The record tag.
        tag: u8,
        /// The length the record declares.
        length: u64,
        /// Bytes left after the record header.
        available: u64,
    },
    /// A heap-dump sub-record tag that is not part of any known HPROF dialect
    /// (sub-records carry no length, so the rest of the segment is unreadable).
    UnknownSubRecord(u8),
    /// A basic-type code outside 2 and 4..=11.
    BadBasicType {
        /// Where the type code was read.
        location: HprofLocation,
        /// The code found.
        code: u8,
    },
    /// An instance has fewer field bytes than its class chain declares.
    ClassChainTooShort {
        /// The class of the instance.
        class_id: u64,
        /// Field bytes the class chain needs.
        needed: u64,
        /// Field bytes the instance record has.
        available: u64,
    },
    /// A class is its own (indirect) superclass.
    SuperclassCycle {
        /// A class on the cycle.
        class_id: u64,
    },
    /// [`HprofOptions::dump`](crate::HprofOptions::dump) asked for a heap
    /// dump the file does not have.
    NoSuchHeapDump {
        /// The dump asked for (from 1).
        requested: u32,
        /// How many heap dumps the file holds.
        found: u32,
    },
    /// The graph could not be built (too many nodes, edges or strings).
    Graph(BuildError),
}

impl fmt::Display for HprofErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HprofErrorKind::NotHprof => {
                f.write_str("not an HPROF file (expected \"JAVA PROFILE 1.0.1\", \"1.0.2\" or \"1.0.3\")")
            }
            HprofErrorKind::BadIdSize(size) => {
                write!(f, "identifier size {size} is not supported (only 4 and 8)")
            }
            HprofErrorKind::Truncated {
                location,
                needed,
                available,
            } => write!(
                f,
                "input ends inside {location}: needed {needed} more bytes, {available} left"
            ),
            HprofErrorKind::LengthPastEnd {
                tag,
                length,
                available,
            } => write!(
                f,
                "{} declares {length} bytes but only {available} are left",
                HprofLocation::Record(*tag)
            ),
            HprofErrorKind::UnknownSubRecord(tag) => {
                write!(f, "unknown heap sub-record tag 0x{tag:02X}")
            }
            HprofErrorKind::BadBasicType { location, code } => {
                write!(f, "bad basic type {code} in {location}")
            }
            HprofErrorKind::ClassChainTooShort {
                class_id,
                needed,
                available,
            } => write!(
                f,
                "instance of class 0x{class_id:x} has {available} field bytes but its class chain needs {needed}"
            ),
            HprofErrorKind::SuperclassCycle { class_id } => {
                write!(f, "class 0x{class_id:x} is its own superclass")
            }
            HprofErrorKind::NoSuchHeapDump { requested, found } => write!(
                f,
                "heap dump {requested} was asked for but the file holds {found} heap dump{}",
                if *found == 1 { "" } else { "s" }
            ),
            HprofErrorKind::Graph(err) => write!(f, "cannot build the graph: {err}"),
        }
    }
}

/// An HPROF parse error: what was wrong and the absolute byte offset of the
/// record or field where it was found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at byte {offset}")]
pub struct HprofError {
    /// Absolute byte offset in the input.
    pub offset: u64,
    /// What was wrong.
    pub kind: HprofErrorKind,
}

impl HprofError {
    pub(crate) fn new(offset: u64, kind: HprofErrorKind) -> Self {
        HprofError { offset, kind }
    }

    pub(crate) fn truncated(
        offset: u64,
        location: HprofLocation,
        needed: u64,
        available: u64,
    ) -> Self {
        HprofError::new(
            offset,
            HprofErrorKind::Truncated {
                location,
                needed,
                available,
            },
        )
    }

    pub(crate) fn graph(offset: u64, err: BuildError) -> Self {
        HprofError::new(offset, HprofErrorKind::Graph(err))
    }
}
