//! Analyses on a heapgraph object graph.
//!
//! Work in progress: see the analysis issues.

#![deny(missing_docs)]
// No panics on data from files: errors are returned, never unwrapped.
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod analysis;
pub mod classes;
pub mod diff;
pub mod distance;
pub mod dominators;
pub mod leaks;
pub mod paths;
pub mod policy;
pub mod shallow;
pub mod sites;
pub mod suspects;

pub use analysis::{ClassHistogram, ClassStats, HeapAnalysis, HistogramOrder};
pub use classes::{ClassId, ClassTable};
pub use distance::{NO_DISTANCE, SYSTEM_DISTANCE};
pub use dominators::{DominatedNodes, DominatorTree, UnreachableReport};
pub use paths::{PathStep, Retainer, RetentionPath};
pub use policy::{EdgePolicy, EdgeSet, Semantics, UnreachableNodes};
pub mod strings;
pub mod trend;
