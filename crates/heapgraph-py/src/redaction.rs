//! `heapgraph.redact`: a shareable copy of a dump (see the CLI's `redact`).

use std::path::PathBuf;

use heapgraph::redact::{Key, Options, RedactError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::common::detached;
use crate::errors::{ErrorClass, Failure};

/// Writes a redacted copy of the dump at `input` to `output` and returns
/// what was replaced, with the CLI's `redact --json` keys; `names_map` is
/// a dict of original name to pseudonym (keep it private).
#[pyfunction]
#[pyo3(signature = (input, output, names = false, salt = None))]
pub(crate) fn redact<'py>(
    py: Python<'py>,
    input: PathBuf,
    output: PathBuf,
    names: bool,
    salt: Option<String>,
) -> PyResult<Bound<'py, PyDict>> {
    let salted = salt.is_some();
    let report = detached(py, || {
        let key = match &salt {
            Some(salt) => Key::from_salt(salt.as_bytes()),
            None => Key::random().map_err(|e| Failure::new(ErrorClass::Analysis, e.to_string()))?,
        };
        let options = Options { key, names };
        heapgraph::redact::redact_file(&input, &output, &options).map_err(|error| match error {
            RedactError::Open(error) => Failure::open(&input, error),
            RedactError::Write { .. } => Failure::new(ErrorClass::Read, error.to_string()),
            RedactError::SameFile(_) => Failure::new(ErrorClass::Analysis, error.to_string()),
            other => Failure::new(
                ErrorClass::InvalidDump,
                format!("{}: {other}", input.display()),
            ),
        })
    })?;
    let d = PyDict::new(py);
    d.set_item("input", input.display().to_string())?;
    d.set_item("output", output.display().to_string())?;
    d.set_item("names", names)?;
    d.set_item("salted", salted)?;
    d.set_item("values", report.values)?;
    d.set_item("value_bytes", report.value_bytes)?;
    d.set_item("unused_scrubbed", report.unused_scrubbed)?;
    d.set_item("hashes_cleared", report.hashes_cleared)?;
    d.set_item("opaque_records", report.opaque_records)?;
    d.set_item("names_replaced", report.names_replaced)?;
    d.set_item("names_kept", report.names_kept)?;
    let map = PyDict::new(py);
    for (original, pseudonym) in &report.names_map {
        map.set_item(original, pseudonym)?;
    }
    d.set_item("names_map", map)?;
    Ok(d)
}
