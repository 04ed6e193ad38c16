//! [`V8Warning`]: what a snapshot had that was odd but recoverable.

#[cfg(doc)]
use heapgraph_core::EdgeKind;

/// Something odd but recoverable in a snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum V8Warning {
    /// A header count disagrees with its array; the array was used.
    CountMismatch {
        /// The header field (`node_count`, `edge_count`,
        /// `trace_function_count`).
        field: &'static str,
        /// The header's value.
        header: u64,
        /// What the array holds.
        actual: u64,
    },
    /// A top-level section the reader does not know was skipped.
    UnknownSection {
        /// The section's key.
        name: String,
        /// Where its value starts.
        offset: u64,
    },
    /// An edge type name the reader does not know; such edges were read
    /// as [`EdgeKind::Internal`].
    UnknownEdgeType {
        /// The type's name.
        name: String,
    },
    /// Bytes after the closing `}` of the top-level object.
    TrailingData {
        /// Where they start.
        offset: u64,
    },
    /// Nodes use a type index past the end of `meta.node_types`. V8 of
    /// 2016-2017 (Node 6 to 8) wrote `symbol` nodes as type 12 while its
    /// meta still listed only the first 12 names; such indices are named
    /// from V8's own order of node types when the listed names are a prefix
    /// of it.
    UndeclaredNodeType {
        /// The type index the nodes use.
        index: u64,
        /// The name V8 gives that index.
        name: &'static str,
        /// How many nodes use it.
        count: u64,
    },
    /// A Julia snapshot with objects that nothing references. Julia's
    /// collector marks from roots it records no edge for (the remembered
    /// set of old objects, among others), and its writer records only what
    /// the marking reached, so every object in the file was alive: these
    /// are read as GC roots of unknown kind.
    JuliaUnrecordedRoots {
        /// How many objects.
        count: u64,
    },
}

impl std::fmt::Display for V8Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            V8Warning::CountMismatch {
                field,
                header,
                actual,
            } => write!(
                f,
                "the header says {field} = {header} but the file holds {actual}; {actual} used"
            ),
            V8Warning::UnknownSection { name, offset } => {
                write!(f, "unknown section `{name}` at byte {offset} skipped")
            }
            V8Warning::UnknownEdgeType { name } => {
                write!(f, "unknown edge type `{name}` read as internal edges")
            }
            V8Warning::TrailingData { offset } => {
                write!(
                    f,
                    "data after the end of the snapshot at byte {offset} ignored"
                )
            }
            V8Warning::JuliaUnrecordedRoots { count } => write!(
                f,
                "{count} objects of this Julia snapshot have no retainer; read as GC roots \
                 (Julia records no edge for some of the roots it marks from)"
            ),
            V8Warning::UndeclaredNodeType { index, name, count } => write!(
                f,
                "{count} nodes use node type {index}, which meta.node_types does not list; \
                 read as `{name}` (V8's name for that index)"
            ),
        }
    }
}
