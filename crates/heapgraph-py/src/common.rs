//! Helpers the methods and functions share: running without the GIL, arguments, rows.

use heapgraph::analysis::sites::{DomainFilter, Filter, KeyType, TraceFilter};
use heapgraph::analysis::{HeapAnalysis, HistogramOrder, RetentionPath};
use pyo3::prelude::*;

use crate::errors::{ErrorClass, Failure};
use crate::table::{ArrowStream, Table};

/// Runs `work` without the GIL and raises its failure, if any.
pub(crate) fn detached<T: Send>(
    py: Python<'_>,
    work: impl FnOnce() -> Result<T, Failure> + Send,
) -> PyResult<T> {
    py.detach(work).map_err(PyErr::from)
}

/// Runs `work` without the GIL and hands its table to Python.
pub(crate) fn table_of(
    py: Python<'_>,
    work: impl FnOnce() -> Result<Table, Failure> + Send,
) -> PyResult<ArrowStream> {
    ArrowStream::new(detached(py, work)?)
}

/// Appends a retention path's steps: ids, and the path as one line.
pub(crate) fn path_ids(analysis: &HeapAnalysis<'_>, path: &RetentionPath) -> Vec<u64> {
    let graph = analysis.graph();
    path.steps
        .iter()
        .map(|s| graph.object_id(s.target))
        .collect()
}

/// The histogram order for a sort key.
pub(crate) fn histogram_order(sort: &str) -> Result<HistogramOrder, Failure> {
    match sort {
        "retained" => Ok(HistogramOrder::RetainedSize),
        "shallow" => Ok(HistogramOrder::ShallowSize),
        "count" => Ok(HistogramOrder::Count),
        other => Err(Failure::new(
            ErrorClass::Analysis,
            format!("sort must be 'retained', 'shallow' or 'count', not {other:?}"),
        )),
    }
}

/// Keeps the first `top` items (0 = all).
pub(crate) fn take_top<T>(mut items: Vec<T>, top: usize) -> Vec<T> {
    if top > 0 {
        items.truncate(top);
    }
    items
}

/// One filter as the Python wrapper passes it: `(is_domain_filter,
/// inclusive, filename_pattern, lineno, all_frames, domain)`.
pub(crate) type FilterSpec = (bool, bool, Option<String>, Option<u32>, bool, Option<u32>);

pub(crate) fn trace_filters(specs: Vec<FilterSpec>) -> Result<Vec<TraceFilter>, Failure> {
    specs
        .into_iter()
        .map(
            |(is_domain, inclusive, pattern, lineno, all_frames, domain)| {
                if is_domain {
                    let domain = domain.ok_or_else(|| {
                        Failure::new(ErrorClass::Analysis, "a DomainFilter needs a domain")
                    })?;
                    Ok(TraceFilter::Domain(DomainFilter { inclusive, domain }))
                } else {
                    let mut filter = Filter::new(inclusive, pattern.unwrap_or_default());
                    filter.lineno = lineno;
                    filter.all_frames = all_frames;
                    filter.domain = domain;
                    Ok(TraceFilter::Filter(filter))
                }
            },
        )
        .collect()
}

pub(crate) fn key_type(by: &str) -> Result<KeyType, Failure> {
    match by {
        "lineno" => Ok(KeyType::Lineno),
        "filename" => Ok(KeyType::Filename),
        "traceback" => Ok(KeyType::Traceback),
        other => Err(Failure::new(
            ErrorClass::Analysis,
            format!("by must be 'lineno', 'filename' or 'traceback', not {other:?}"),
        )),
    }
}

pub(crate) fn frames(traceback: &heapgraph::analysis::sites::Traceback<'_>) -> Vec<(String, u32)> {
    traceback
        .frames()
        .iter()
        .map(|f| (String::from_utf8_lossy(f.filename).into_owned(), f.lineno))
        .collect()
}

pub(crate) fn clamp(value: i128) -> i64 {
    value.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}
