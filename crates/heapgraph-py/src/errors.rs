//! Python exceptions for heapgraph's errors.
//!
//! The classes live in the pure-Python module `heapgraph._errors` (so they can
//! also derive from `OSError`, `ValueError` or `LookupError`); this module
//! raises them with the same messages the CLI prints.

use std::path::Path;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyType;

/// Which exception class to raise.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ErrorClass {
    /// The file could not be read (`OSError`).
    Read,
    /// The dump is malformed.
    InvalidDump,
    /// The content is not a supported format.
    UnsupportedFormat,
    /// No object with the id asked for.
    ObjectNotFound,
    /// The analysis cannot be done on these inputs.
    Analysis,
    /// The dump would not fit in the memory available (`MemoryError`).
    NotEnoughMemory,
}

impl ErrorClass {
    fn name(self) -> &'static str {
        match self {
            ErrorClass::Read => "ReadError",
            ErrorClass::InvalidDump => "InvalidDumpError",
            ErrorClass::UnsupportedFormat => "UnsupportedFormatError",
            ErrorClass::ObjectNotFound => "ObjectNotFoundError",
            ErrorClass::Analysis => "AnalysisError",
            ErrorClass::NotEnoughMemory => "NotEnoughMemoryError",
        }
    }
}

/// An error computed without the GIL, raised later.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) class: ErrorClass,
    pub(crate) message: String,
    pub(crate) path: Option<String>,
}

impl Failure {
    pub(crate) fn new(class: ErrorClass, message: impl Into<String>) -> Failure {
        Failure {
            class,
            message: message.into(),
            path: None,
        }
    }

    /// Why a dump could not be opened, worded as the CLI words it.
    pub(crate) fn open(path: &Path, error: heapgraph::Error) -> Failure {
        let class = match &error {
            heapgraph::Error::Io { .. } => ErrorClass::Read,
            heapgraph::Error::UnsupportedFormat { .. } | heapgraph::Error::NoParser(_) => {
                ErrorClass::UnsupportedFormat
            }
            heapgraph::Error::NotEnoughMemory { .. }
            | heapgraph::Error::NotEnoughScratch { .. } => ErrorClass::NotEnoughMemory,
            heapgraph::Error::SpillUnavailable { .. } => ErrorClass::Read,
            _ => ErrorClass::InvalidDump,
        };
        let message = match error {
            // The I/O error already names the path.
            heapgraph::Error::Io { .. } => error.to_string(),
            other => format!("{}: {other}", path.display()),
        };
        Failure {
            class,
            message,
            path: Some(path.display().to_string()),
        }
    }
}

impl From<Failure> for PyErr {
    fn from(failure: Failure) -> PyErr {
        Python::attach(|py| make_error(py, &failure))
    }
}

fn make_error(py: Python<'_>, failure: &Failure) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let class = py
            .import("heapgraph._errors")?
            .getattr(failure.class.name())?
            .cast_into::<PyType>()?;
        let value = class.call1((failure.message.as_str(),))?;
        value.setattr("path", failure.path.as_deref())?;
        Ok(PyErr::from_value(value))
    };
    // Without the Python package (the bare extension), still raise.
    build().unwrap_or_else(|_| PyRuntimeError::new_err(failure.message.clone()))
}
