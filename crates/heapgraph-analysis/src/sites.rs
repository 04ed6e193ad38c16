//! Allocation-site statistics with CPython tracemalloc's exact semantics.
//!
//! The input is an [`Allocations`] set: nodes of a [`HeapGraph`] that carry an
//! allocation stack (tracemalloc traces, V8 `.heapprofile` samples, V8
//! snapshot nodes with allocation tracking), each counted once with its
//! `self_size`, plus an optional domain per node; or the rows of a parser's
//! compact allocation table ([`AllocationColumns`]: stack, size, domain, about
//! 8 bytes each) over a string and stack table, with no graph at all. On it:
//!
//! * [`Allocations::statistics`] is `Snapshot.statistics(key_type,
//!   cumulative)`: the same keys, sums, **cumulative double counting** (a
//!   recursive frame counts a trace once per occurrence) and the same order,
//!   descending by `(size, count, traceback)`.
//! * [`Allocations::compare_to`] is `Snapshot.compare_to(old, ...)`, sorted by
//!   `(|size_diff|, size, |count_diff|, count, traceback)` descending.
//! * [`Allocations::filter_traces`] is `Snapshot.filter_traces` with
//!   [`Filter`] (fnmatch patterns, `.pyc` → `.py`, optional lineno, domain
//!   and `all_frames`) and [`DomainFilter`].
//! * `Display` of [`Statistic`], [`StatisticDiff`] and [`Traceback`] prints
//!   Python's `str()` text, with `_format_size`; [`Traceback::format`] is
//!   `Traceback.format()`.
//! * [`Allocations::call_tree`] gives deduplicated inclusive sizes per call
//!   path (what a flame graph needs; never the cumulative double counts).
//!
//! Keys compare like Python's: a frame is `(filename, lineno)` (a function
//! name or column, which V8 frames have, is ignored), filenames compare by
//! their raw bytes, which for UTF-8 and surrogate-carrying WTF-8 is code-point
//! order, and tracebacks compare as oldest-first frame sequences.

mod allocations;
mod call_tree;
mod filter;
mod fnmatch;
mod statistics;
mod traceback;

#[cfg(test)]
mod tests;

#[cfg(doc)]
use heapgraph_core::HeapGraph;

pub use allocations::{Allocation, AllocationColumns, Allocations};
pub use call_tree::CallTree;
pub use filter::{DomainFilter, Filter, TraceFilter};
pub use statistics::{format_size, Statistic, StatisticDiff};
pub use traceback::{SiteFrame, Traceback};

/// What groups allocations (`key_type` of `Snapshot.statistics`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// `'lineno'`: the most recent frame.
    Lineno,
    /// `'filename'`: the most recent frame's file.
    Filename,
    /// `'traceback'`: the whole traceback.
    Traceback,
}

impl KeyType {
    /// Python's name for the key type.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::Lineno => "lineno",
            KeyType::Filename => "filename",
            KeyType::Traceback => "traceback",
        }
    }
}

/// Why a statistic could not be computed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SitesError {
    /// `cumulative=True` with `key_type='traceback'`, which Python refuses too.
    #[error("cumulative mode cannot be used with key type 'traceback'")]
    CumulativeTraceback,
}
