//! Java HPROF heap dumps into the heapgraph object graph.
//!
//! Work in progress: see the HPROF issue.
