//! Analyses on a heapgraph object graph.
//!
//! Everything here works on any [`heapgraph_core::HeapGraph`], under an
//! [`EdgePolicy`] that reproduces the reference tool of the graph's format:
//! Chrome DevTools for V8 snapshots, Eclipse MAT (or NetBeans) for HPROF,
//! strong edges for tracemalloc.
//!
//! * [`HeapAnalysis`]: shown shallow sizes, the dominator tree
//!   ([`DominatorTree`], iterative Semi-NCA), retained sizes, distances,
//!   class names ([`ClassTable`]), the class histogram, top dominators,
//!   retainers and shortest retention paths.
//! * [`policy`]: which edges count for dominators and for paths, and what
//!   happens to unreachable nodes ([`UnreachableNodes`]).
//! * Snapshot series: diffs, leaks, suspects, trends, duplicate strings and
//!   tracemalloc-style allocation-site statistics (the other modules).

#![deny(missing_docs)]

pub mod analysis;
pub mod classes;
pub mod consumers;
pub mod diff;
pub mod distance;
pub mod dominator_classes;
pub mod dominators;
pub mod leaks;
pub mod paths;
pub mod policy;
pub mod shallow;
pub mod sites;
pub mod suspects;

pub use analysis::{ClassHistogram, ClassStats, GroupSums, HeapAnalysis, HistogramOrder};
pub use classes::{class_name_matches, listed_in_histogram, ClassId, ClassTable};
pub use distance::{NO_DISTANCE, SYSTEM_DISTANCE};
pub use dominators::{DominatedNodes, DominatorTree, UnreachableReport};
pub use paths::{PathStep, Retainer, RetentionPath};
pub use policy::{EdgePolicy, EdgeSet, Semantics, UnreachableNodes};
pub mod strings;
pub mod trend;

/// The examples of this crate's README, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
