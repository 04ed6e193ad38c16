//! Dense, typed `u32` handles into the graph's tables.
//!
//! Every handle is four bytes, `Copy`, and only meaningful for the graph (or
//! table) that produced it. The dump's own object identifiers are not handles:
//! they are plain `u64` values stored in [`crate::HeapGraph::object_id`].

use std::fmt;

macro_rules! dense_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub(crate) u32);

        impl $name {
            /// Creates the handle for position `index`.
            #[inline]
            pub const fn new(index: u32) -> Self {
                Self(index)
            }

            /// The handle as a `u32`.
            #[inline]
            pub const fn as_u32(self) -> u32 {
                self.0
            }

            /// The handle as a `usize`, for indexing side tables.
            #[inline]
            pub const fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        impl From<$name> for u32 {
            fn from(id: $name) -> u32 {
                id.0
            }
        }
    };
}

dense_id!(
    /// A node of a [`crate::HeapGraph`]: `0..node_count`. Index 0 is always the
    /// synthetic root.
    NodeIndex
);
dense_id!(
    /// An edge of a [`crate::HeapGraph`]: `0..edge_count`, in CSR order (all
    /// edges of node 0, then of node 1, ...).
    EdgeIndex
);
dense_id!(
    /// An interned string of a [`crate::StringTable`].
    StringId
);
dense_id!(
    /// A frame (function, file, line, column) of a [`crate::StackTable`].
    FrameId
);
dense_id!(
    /// A call stack of a [`crate::StackTable`]: a node of its parent-pointer
    /// trie, naming the innermost (most recent) frame of the stack.
    StackId
);

impl NodeIndex {
    /// The synthetic root node, present in every graph.
    pub const ROOT: NodeIndex = NodeIndex(0);
}

impl StringId {
    /// The empty string, interned first in every string table.
    pub const EMPTY: StringId = StringId(0);
}
