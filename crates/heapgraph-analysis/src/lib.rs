//! Analyses on a heapgraph object graph.
//!
//! Work in progress: see the analysis issues.

#![deny(missing_docs)]

pub mod sites;
pub mod trend;
pub mod strings;
