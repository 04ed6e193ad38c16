//! The object-graph model shared by every heapgraph parser and analysis.
//!
//! A heap dump, whatever runtime wrote it, becomes one [`HeapGraph`]:
//!
//! * **Nodes** are struct-of-arrays columns indexed by [`NodeIndex`] (a `u32`):
//!   [`NodeKind`], name ([`StringId`]), the dump's own object id (`u64`) and
//!   self size (bytes, in a 4-byte [`Sizes`] column with a side table for
//!   4 GiB and more). No per-node allocation, 17 bytes per node (21 where
//!   the dump's object ids are too spread out to be kept as 32-bit
//!   offsets).
//! * **Edges** are in CSR form: `node_count + 1` offsets, then per edge its
//!   target, [`EdgeKind`] and label (a name or an element index), 9 bytes per
//!   edge. Reverse edges ([`Retainers`]) are built on demand.
//! * **Node 0 is the synthetic root.** GC roots hang off it through
//!   root-group nodes that carry a [`RootKind`].
//! * **Strings** ([`StringTable`]) are interned raw bytes, so formats that are
//!   not valid UTF-8 (modified UTF-8, WTF-8) keep their identity.
//! * **Allocation stacks** ([`StackTable`]) are interned frames and a
//!   parent-pointer trie of stacks, shared by tracemalloc tracebacks, V8
//!   allocation traces, `.heapprofile` call trees and HPROF stack traces.
//!
//! Parsers fill a [`GraphBuilder`], which validates (dangling edges are
//! counted, never a panic) and freezes into the immutable, `Send + Sync`
//! graph. Nothing format-specific lives in these types: parsers keep their
//! extras in side tables of their own.
//!
//! ```
//! use heapgraph_core::{EdgeKind, Format, GraphBuilder, NodeKind, RootKind};
//!
//! let mut builder = GraphBuilder::new(Format::Synthetic);
//! let root_name = builder.intern(b"(root)")?;
//! let root = builder.add_node(NodeKind::Synthetic, root_name, 0, 0)?;
//! let class = builder.intern(b"Order")?;
//! let order = builder.add_node(NodeKind::Object, class, 0x1000, 24)?;
//! let field = builder.intern(b"next")?;
//! builder.add_named_edge(order, order, EdgeKind::Property, field)?;
//! builder.add_gc_root(order, RootKind::JniGlobal);
//! let graph = builder.finish()?;
//!
//! assert_eq!(root.as_u32(), 0);
//! assert_eq!(graph.node_count(), 3); // root, Order, the "(JNI Global)" group
//! assert_eq!(graph.name_str(order), "Order");
//! assert_eq!(graph.self_size(order), 24);
//! assert_eq!(graph.retainers().count(order), 2); // itself and the root group
//! # Ok::<(), heapgraph_core::BuildError>(())
//! ```

#![deny(missing_docs)]

mod builder;
mod consumed;
pub mod csr;
mod graph;
mod ids;
mod kinds;
mod object_ids;
mod sizes;
mod stacks;
mod strings;

pub use builder::{root_group_name, BuildError, GraphBuilder, Limits};
pub use consumed::OnConsumed;
pub use graph::{
    BuildDiagnostics, EdgeLabel, EdgeRef, GraphInfo, GraphMemory, HeapGraph, Retainers,
};
pub use ids::{EdgeIndex, FrameId, NodeIndex, StackId, StringId};
pub use kinds::{DomState, EdgeKind, Format, NodeKind, RootKind, V8_NODE_TYPES};
pub use sizes::{SizeSums, Sizes};
pub use stacks::{Frame, StackTable, StackTableBuilder, TooManyStacks};
pub use strings::{push_wtf8, StringInterner, StringTable, TooManyStrings};

/// The examples of this crate's README, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
