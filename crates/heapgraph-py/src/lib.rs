//! `heapgraph._native`: the compiled part of the `heapgraph` Python package.
//!
//! Every analysis runs without the GIL and returns an [`ArrowStream`] (one
//! record batch behind the Arrow PyCapsule interface) that the Python
//! wrapper turns into a `pyarrow.Table` without copying. The column names
//! and numbers are those of the CLI's `--json` output and `export`.
//!
//! A [`Snapshot`] owns its parsed dump and computes the analysis (dominators,
//! retained sizes, distances, classes) once, on first use; the analysis
//! borrows the dump, so the pair is kept in a `self_cell`.

mod common;
mod compare;
mod errors;
mod loaded;
mod redaction;
mod snapshot;
mod table;

use pyo3::prelude::*;

/// The Rust side's big allocations can move to scratch files when a dump
/// does not fit in memory (`heapgraph::spill`, as in the command line):
/// `heapgraph.open` then spills into the system's temporary directory
/// instead of refusing the dump. Python's own memory is not affected.
#[global_allocator]
static ALLOCATOR: heapgraph::spill::SpillAllocator = heapgraph::spill::SpillAllocator;

use compare::{diff, leaks, trend};
use redaction::redact;
use snapshot::{open, Snapshot};
use table::ArrowStream;

/// The compiled module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Snapshot>()?;
    m.add_class::<ArrowStream>()?;
    m.add_function(wrap_pyfunction!(open, m)?)?;
    m.add_function(wrap_pyfunction!(diff, m)?)?;
    m.add_function(wrap_pyfunction!(leaks, m)?)?;
    m.add_function(wrap_pyfunction!(trend, m)?)?;
    m.add_function(wrap_pyfunction!(redact, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
