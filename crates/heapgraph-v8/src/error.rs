//! [`V8Error`]: what went wrong, and at which byte of the input.

use heapgraph_core::BuildError;

/// A snapshot or profile could not be read.
///
/// `offset` is the absolute byte position in the input where the problem was
/// found (for a truncated file, its length).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at byte {offset}")]
pub struct V8Error {
    /// Absolute byte offset into the input.
    pub offset: u64,
    /// What was wrong.
    pub kind: V8ErrorKind,
}

impl V8Error {
    pub(crate) fn new(offset: usize, kind: V8ErrorKind) -> Self {
        V8Error {
            offset: offset as u64,
            kind,
        }
    }
}

/// What was wrong with the input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum V8ErrorKind {
    /// The input ended inside a section.
    #[error("truncated in section `{section}`: expected {expected}")]
    Truncated {
        /// The section being read (`nodes`, `strings`, `head`, ...).
        section: &'static str,
        /// What the parser was looking for.
        expected: &'static str,
    },
    /// A byte that does not fit the JSON grammar or the section's shape.
    #[error("in section `{section}`: expected {expected}, found {found:?}")]
    Syntax {
        /// The section being read.
        section: &'static str,
        /// What the parser was looking for.
        expected: &'static str,
        /// The byte found instead, as a character.
        found: char,
    },
    /// An integer too large for the field it fills.
    #[error("in section `{section}`: number larger than {max}")]
    NumberTooLarge {
        /// The section being read.
        section: &'static str,
        /// The largest value allowed there.
        max: u64,
    },
    /// A required top-level section is absent.
    #[error("missing section `{section}`")]
    MissingSection {
        /// The section's key.
        section: &'static str,
    },
    /// A section appears twice.
    #[error("duplicate section `{section}`")]
    DuplicateSection {
        /// The section's key.
        section: &'static str,
    },
    /// `snapshot.meta` lacks a column the parser needs.
    #[error("`snapshot.meta.{list}` has no `{column}` column")]
    MissingColumn {
        /// The meta list (`node_fields`, `edge_fields`, ...).
        list: &'static str,
        /// The column name.
        column: &'static str,
    },
    /// `snapshot.meta` has an unexpected shape.
    #[error("malformed `snapshot.meta`: {what}")]
    BadMeta {
        /// What was expected.
        what: &'static str,
    },
    /// An index into a table (strings, node types, nodes, function infos)
    /// is out of range.
    #[error("in section `{section}`: {what} {index} out of range (only {len})")]
    IndexOutOfRange {
        /// The section being read.
        section: &'static str,
        /// What kind of index.
        what: &'static str,
        /// The index found.
        index: u64,
        /// The size of the table it indexes.
        len: u64,
    },
    /// A `nodes` position (`to_node`, `object_index`) that is not a multiple
    /// of the node field count.
    #[error("in section `{section}`: node position {position} is not a multiple of {field_count}")]
    MisalignedNodePosition {
        /// The section being read.
        section: &'static str,
        /// The position found.
        position: u64,
        /// The number of node fields.
        field_count: u64,
    },
    /// A flat record array whose length is not a multiple of its field count.
    #[error("section `{section}` holds {len} numbers, not a multiple of its {width} fields")]
    RaggedArray {
        /// The section.
        section: &'static str,
        /// The number of values found.
        len: u64,
        /// The number of fields per record.
        width: u64,
    },
    /// The nodes' `edge_count` fields disagree with the `edges` array.
    #[error("the nodes' edge counts add up to {declared} edges but `edges` holds {found}")]
    EdgeCountMismatch {
        /// Sum of the nodes' `edge_count`.
        declared: u64,
        /// Edge records in `edges`.
        found: u64,
    },
    /// Nesting deeper than the parser accepts.
    #[error("in section `{section}`: nesting deeper than {limit}")]
    TooDeep {
        /// The section being read.
        section: &'static str,
        /// The depth limit.
        limit: u32,
    },
    /// The graph exceeded a limit of the core model.
    #[error("cannot build the graph: {0}")]
    Graph(BuildError),
}
