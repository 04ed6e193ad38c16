//! V8 heap snapshots (`.heapsnapshot`) and sampling heap profiles
//! (`.heapprofile`) into the heapgraph object graph.
//!
//! Work in progress: see the V8 issue.
