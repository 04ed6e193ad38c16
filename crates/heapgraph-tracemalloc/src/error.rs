//! Errors of the tracemalloc reader: every one names the byte offset, the
//! pickle opcode being read (when there was one) and what was wrong.

use std::fmt;

use heapgraph_core::BuildError;

/// Why a tracemalloc dump could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind}{opcode} at byte {offset}", opcode = OpcodeSuffix(*.opcode))]
pub struct TracemallocError {
    /// Absolute byte offset of the opcode (or field) that failed.
    pub offset: u64,
    /// The pickle opcode byte being executed, if any.
    pub opcode: Option<u8>,
    /// What went wrong.
    pub kind: TracemallocErrorKind,
}

struct OpcodeSuffix(Option<u8>);

impl fmt::Display for OpcodeSuffix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(op) => write!(f, " (opcode {})", crate::vm::opcode_name(op)),
            None => Ok(()),
        }
    }
}

/// The kinds of [`TracemallocError`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TracemallocErrorKind {
    /// The input ended before the pickle did.
    #[error("truncated pickle: {expected} needed, input ends")]
    Truncated {
        /// What was being read.
        expected: &'static str,
    },
    /// A byte that is not a pickle opcode.
    #[error("unknown pickle opcode 0x{0:02x}")]
    UnknownOpcode(u8),
    /// A real pickle opcode that tracemalloc dumps never use (and that this
    /// reader refuses, because it could run code or needs a generic object model).
    #[error("pickle opcode not allowed in a tracemalloc dump")]
    ForbiddenOpcode,
    /// `PROTO` with a protocol above 5.
    #[error("unsupported pickle protocol {0}")]
    UnsupportedProtocol(u8),
    /// The pickle builds something other than a tracemalloc snapshot.
    #[error("pickle of {what}, not a tracemalloc Snapshot")]
    NotASnapshot {
        /// What the pickle references or builds instead.
        what: String,
    },
    /// A value of the wrong type or shape where the snapshot needs another.
    #[error("expected {expected}, found {found}")]
    Unexpected {
        /// What the snapshot structure needs here.
        expected: &'static str,
        /// What the stack held instead.
        found: &'static str,
    },
    /// An opcode popped from an empty stack (or below its mark).
    #[error("stack underflow")]
    StackUnderflow,
    /// An opcode that needs a MARK found none.
    #[error("no MARK on the stack")]
    MissingMark,
    /// A memo read of an index never stored.
    #[error("memo index {0} was never stored")]
    MissingMemo(u64),
    /// A memo read of a frame or trace tuple stored more than 65536 memo
    /// entries earlier: CPython never shares those, and this reader keeps
    /// only the recent ones (or an index skipped by out-of-order PUTs).
    #[error("memo index {0} is a frame or trace tuple no longer kept (or was never stored)")]
    MemoNotKept(u64),
    /// A memo write beyond what the input could ever hold.
    #[error("memo index {0} is larger than the input could hold")]
    MemoIndexTooLarge(u64),
    /// A text or binary integer that is malformed or out of range.
    #[error("integer out of range or malformed for {what}")]
    BadInteger {
        /// What the integer was for.
        what: &'static str,
    },
    /// A string that is malformed (bad escape, bad length).
    #[error("malformed string: {0}")]
    BadString(&'static str),
    /// A declared length larger than the rest of the input.
    #[error("declared length {length} exceeds the {remaining} bytes left")]
    LengthTooLarge {
        /// The length the pickle declares.
        length: u64,
        /// The bytes left in the input.
        remaining: u64,
    },
    /// A resource bound (stack, marks, memo values, container items) was hit.
    #[error("{what} exceeds the limit of {limit}")]
    LimitExceeded {
        /// What was counted.
        what: &'static str,
        /// The bound.
        limit: u64,
    },
    /// Bytes follow the `STOP` opcode.
    #[error("{0} bytes after STOP")]
    TrailingBytes(u64),
    /// Reading the input failed.
    #[error("I/O error: {source}")]
    Io {
        /// What the operating system said.
        #[source]
        source: IoError,
    },
    /// The graph builder refused (too many nodes, strings or stacks).
    #[error(transparent)]
    Graph(#[from] BuildError),
}

/// An I/O error, shared so that [`TracemallocError`] stays `Clone` and
/// comparable (two are equal when their kinds and messages are).
#[derive(Clone, Debug)]
pub struct IoError(pub std::sync::Arc<std::io::Error>);

impl From<std::io::Error> for IoError {
    fn from(error: std::io::Error) -> Self {
        IoError(std::sync::Arc::new(error))
    }
}

impl PartialEq for IoError {
    fn eq(&self, other: &Self) -> bool {
        self.0.kind() == other.0.kind() && self.0.to_string() == other.0.to_string()
    }
}

impl Eq for IoError {}

impl fmt::Display for IoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for IoError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}
