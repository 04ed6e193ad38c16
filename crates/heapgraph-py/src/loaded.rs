//! Opened dumps: a parsed dump with its lazily computed analysis, and how dumps are opened.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use heapgraph::analysis::HeapAnalysis;
use heapgraph::hprof::SizeModel;
use heapgraph::{Analysed, Dump, OpenOptions};
use pyo3::prelude::*;

use crate::errors::Failure;

/// A parsed dump with its lazily computed analysis.
pub(crate) struct Loaded {
    path: PathBuf,
    pub(crate) dump: Arc<Dump>,
    /// The analysis, once computed (by a method, or by a query that needed
    /// it).
    pub(crate) analysis: OnceLock<Arc<Analysed>>,
}

impl Loaded {
    /// The analysis, computed on first use (call without the GIL).
    pub(crate) fn analysis(&self) -> &HeapAnalysis<'_> {
        self.analysis
            .get_or_init(|| Arc::new(Analysed::new(Arc::clone(&self.dump))))
            .analysis()
    }

    pub(crate) fn file(&self) -> String {
        self.path.display().to_string()
    }
}

/// How dumps are opened.
#[derive(Clone, Copy)]
pub(crate) struct Options {
    size_model: SizeModel,
    ignore_weak: bool,
    memory_map: bool,
    /// The HPROF heap dump to read, from 1.
    dump: u32,
    /// Refuse up front a dump that would not fit in memory.
    memory_check: bool,
}

impl Options {
    pub(crate) fn parse(
        size_model: &str,
        weak_referents: &str,
        memory_map: bool,
        dump: u32,
        memory_check: bool,
    ) -> PyResult<Options> {
        if dump == 0 {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "dump counts from 1 (the first heap dump of the file)",
            ));
        }
        let size_model = match size_model {
            "mat" => SizeModel::Mat,
            "raw" => SizeModel::Raw,
            other => {
                return Err(pyo3::exceptions::PyValueError::new_err(format!(
                    "size_model must be 'mat' or 'raw', not {other:?}"
                )))
            }
        };
        let ignore_weak = match weak_referents {
            "count" => false,
            "ignore" => true,
            other => {
                return Err(pyo3::exceptions::PyValueError::new_err(format!(
                    "weak_referents must be 'count' or 'ignore', not {other:?}"
                )))
            }
        };
        Ok(Options {
            size_model,
            ignore_weak,
            memory_map,
            dump,
            memory_check,
        })
    }

    pub(crate) fn open(&self, path: &Path) -> Result<Loaded, Failure> {
        let mut open = OpenOptions::default();
        open.memory_map = self.memory_map;
        open.memory_check = self.memory_check;
        open.hprof = open
            .hprof
            .with_size_model(self.size_model)
            .with_dump(self.dump);
        open.weak_referents = if self.ignore_weak {
            heapgraph::WeakReferents::Ignore
        } else {
            heapgraph::WeakReferents::Count
        };
        let dump = heapgraph::open_with(path, &open).map_err(|e| Failure::open(path, e))?;
        Ok(Loaded {
            path: path.to_path_buf(),
            dump: Arc::new(dump),
            analysis: OnceLock::new(),
        })
    }
}
