//! Java HPROF heap dumps into the heapgraph object graph.
//!
//! Reads `JAVA PROFILE 1.0.1` and `1.0.2` (HotSpot: `jmap`, `jcmd
//! GC.heap_dump`, `-XX:+HeapDumpOnOutOfMemoryError`, the JVMTI `hprof`
//! agent) and `1.0.3` (Android ART) with 4- or 8-byte identifiers, from a
//! byte slice (the facade memory-maps files).
//!
//! # The graph
//!
//! * Node 0 is a synthetic root; every CLASS DUMP, instance, object array and
//!   primitive array is a node ([`NodeKind::Class`], [`NodeKind::Object`],
//!   [`NodeKind::Array`], [`NodeKind::PrimitiveArray`]) whose `object_id` is
//!   the dump's id (the address for HotSpot). Names are MAT's display names
//!   (`java.lang.String`, `int[]`, `java.lang.Object[]`); a class node has its
//!   class's name too and is told apart by its kind.
//! * Edges: every object → its class (`Internal`, `<class>`); instance →
//!   non-null reference fields (`Property`, field name; fields laid out own
//!   class first, then up the super chain); object array → elements
//!   (`Element`, index); class → `<super>`, `<classloader>` (`Internal`) and
//!   static references (`Property`, the static's name). The `referent` of
//!   instances of `WeakReference`, `SoftReference`, `PhantomReference` and
//!   `FinalReference` subclasses is an `EdgeKind::Weak`/`Soft`/`Phantom`/
//!   `Final` edge.
//! * GC roots keep their HPROF kind ([`RootKind`]). As Eclipse MAT does,
//!   JAVA FRAME and JNI LOCAL roots of a known thread become edges from the
//!   thread object (`<Java Local>`, `<JNI Local>`); dumps without
//!   sticky-class roots get the boot loader's classes as
//!   [`RootKind::StickyClass`] roots.
//! * Stack traces become the core stack table (frame function
//!   `pkg.Class.method`, file = source file or class name, line when known);
//!   objects with a non-empty allocation trace get it as their node stack,
//!   thread objects' stacks are in [`HprofDump::thread_stacks`].
//! * Self sizes follow the chosen [`SizeModel`].
//!
//! # Passes and memory
//!
//! Pass 1 (the index pass) reads every record once, keeping 32 bytes per
//! object; pass 2 re-reads the heap-dump stream and emits edges in node
//! order. Primitive array contents are never copied: their offsets are kept
//! so strings can be read lazily ([`HprofDump::primitive_array`],
//! [`HprofDump::java_string_value`]).
//!
//! # Errors
//!
//! Malformed input gives an [`HprofError`] with the absolute byte offset and
//! the record or sub-record tag; every length is checked against the bytes
//! left before use, so nothing panics or allocates by an unchecked length.
//! [`HprofOptions::lenient`] accepts dumps cut short (killed dumpers): what
//! was complete is kept and the cut is reported in
//! [`RecordStats::truncation`].
//!
//! ```
//! // The smallest valid dump: a header and no records.
//! let mut file = b"JAVA PROFILE 1.0.2\0".to_vec();
//! file.extend_from_slice(&8u32.to_be_bytes());
//! file.extend_from_slice(&0u64.to_be_bytes());
//! assert!(heapgraph_hprof::sniff(&file));
//! let dump = heapgraph_hprof::parse(&file, &Default::default())?;
//! assert_eq!(dump.graph().node_count(), 1);
//! assert_eq!(dump.graph().info().producer, "HotSpot (JAVA PROFILE 1.0.2, 8-byte ids)");
//!
//! file[19..23].copy_from_slice(&3u32.to_be_bytes());
//! let err = heapgraph_hprof::parse(&file, &Default::default()).unwrap_err();
//! assert_eq!(err.offset, 19);
//! # Ok::<(), heapgraph_hprof::HprofError>(())
//! ```
//!
//! [`NodeKind::Class`]: heapgraph_core::NodeKind::Class
//! [`NodeKind::Object`]: heapgraph_core::NodeKind::Object
//! [`NodeKind::Array`]: heapgraph_core::NodeKind::Array
//! [`NodeKind::PrimitiveArray`]: heapgraph_core::NodeKind::PrimitiveArray
//! [`RootKind`]: heapgraph_core::RootKind
//! [`RootKind::StickyClass`]: heapgraph_core::RootKind::StickyClass

#![deny(missing_docs)]

mod build;
mod compressed;
mod dump;
mod error;
mod histogram;
mod ids;
mod names;
mod offsets;
pub mod redact;
mod stats;
mod stream;
mod types;

pub use dump::{thread_state, FieldValue, HprofDump, JavaThread, ThreadLocal};
pub use error::{HprofError, HprofErrorKind, HprofLocation};
pub use histogram::{shallow_class_histogram, ShallowHistogram, ShallowHistogramRow};
pub use names::normalize_class_name;
pub use stats::{record_name, sub_record_name, RecordStats};
pub use types::{BasicType, HprofOptions, HprofVersion, PrimitiveType, SizeModel};

/// Whether `prefix` (the first bytes of a file, 8 or more) looks like an
/// HPROF dump: the `JAVA PROFILE 1.0` magic. Cheap and bounded; [`parse`]
/// checks the rest of the header.
pub fn sniff(prefix: &[u8]) -> bool {
    stream::is_hprof(prefix)
}

/// Parses a whole HPROF dump held in memory into a graph and side tables.
/// This is the parser contract every heapgraph parser crate shares:
/// [`sniff`] on a prefix, then `parse(bytes, &options)`, with the limits
/// and the [`on_consumed`](HprofOptions::on_consumed) hook in the options.
///
/// # Errors
///
/// An [`HprofError`] naming the byte offset and record for a bad header,
/// an identifier size other than 4 or 8, truncation, a record length past
/// the end, an unknown heap sub-record, a bad basic type, an instance
/// shorter than its class chain or a superclass cycle.
pub fn parse(bytes: &[u8], options: &HprofOptions) -> Result<HprofDump, HprofError> {
    build::parse(bytes, options, &|range| options.on_consumed.consumed(range))
}

/// Runs only the index pass (pass 1 of [`parse`]): validates the framing
/// of every record and sub-record and indexes the heap objects, without
/// building the graph. Returns the record counts and the number of heap
/// objects (classes, instances and arrays).
///
/// # Errors
///
/// As [`parse`], except the checks that need resolved classes (instance
/// shorter than its class chain, superclass cycles).
pub fn scan(bytes: &[u8]) -> Result<(RecordStats, u64), HprofError> {
    build::scan(bytes)
}

/// The examples of this crate's README, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
