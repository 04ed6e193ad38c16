//! CPython `tracemalloc.Snapshot.dump()` pickles into the heapgraph object
//! graph.
//!
//! Work in progress: see the tracemalloc issue.
