//! Allocation-site statistics with CPython tracemalloc's exact semantics.
//!
//! Work in progress: see the tracemalloc issue.
