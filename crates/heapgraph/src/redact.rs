//! Redaction: a dump rewritten so it can be shared without its secrets
//! (`heapgraph redact`).
//!
//! The output is a valid dump of the same format in which every value (Java
//! strings and primitive arrays, V8 string values) is replaced by a keyed
//! permutation of the same length, so equal values stay equal and different
//! values stay different: duplicate-string and duplicate-array analysis
//! gives the same groups, sizes and wasted bytes. Everything the analysis
//! reads (nodes, edges, sizes, ids, roots, stacks) is unchanged. With
//! [`Options::names`], names become stable pseudonyms of the same length
//! too; the names the analysis depends on are kept. The key is drawn at
//! random unless a salt is given, and is never written to the output. See
//! [`heapgraph_redact`] for the construction and each format's rewriter for
//! what it replaces:
//! [`heapgraph_hprof::redact`](crate::hprof::redact::redact),
//! [`heapgraph_v8::redact_snapshot`](crate::v8::redact_snapshot),
//! [`heapgraph_v8::redact_heapprofile`](crate::v8::redact_heapprofile),
//! [`heapgraph_tracemalloc::redact`](crate::tracemalloc::redact::redact).

use std::io::Write;
use std::path::{Path, PathBuf};

pub use heapgraph_redact::{Key, Options, Redactor, Report};

use crate::source::Source;
use crate::{sniff, Error, InputKind, OpenOptions};

/// Why a dump could not be redacted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedactError {
    /// The input could not be opened or decompressed, or is not a dump.
    #[error(transparent)]
    Open(#[from] Error),
    /// The HPROF dump is malformed.
    #[cfg(feature = "hprof")]
    #[error("invalid HPROF dump: {0}")]
    Hprof(heapgraph_hprof::HprofError),
    /// The V8 file is malformed.
    #[cfg(feature = "v8")]
    #[error("invalid V8 file: {0}")]
    V8(heapgraph_v8::V8Error),
    /// The tracemalloc snapshot is malformed or cannot be redacted.
    #[cfg(feature = "tracemalloc")]
    #[error("cannot redact the tracemalloc snapshot: {0}")]
    Tracemalloc(heapgraph_tracemalloc::redact::TracemallocRedactError),
    /// The output could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The output file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The output would overwrite the input.
    #[error("the output {0} is the input: write the redacted dump to another file")]
    SameFile(PathBuf),
}

/// Redacts the dump at `input` into `output` (see the [module](self)). A
/// gzip input is read through a scratch file as [`crate::open`] does; an
/// output whose name ends in `.gz` is written gzip-compressed. The output is
/// written to `OUTPUT.partial` and renamed into place only when complete, so
/// a failure leaves no half-redacted file behind.
///
/// # Errors
///
/// [`RedactError`]: the input cannot be read or is malformed (with the
/// offset), or the output cannot be written.
pub fn redact_file(input: &Path, output: &Path, options: &Options) -> Result<Report, RedactError> {
    redact_file_with(input, output, options, &OpenOptions::default())
}

/// As [`redact_file`], reading the input under `open`: a gzip input is
/// decompressed into a scratch file in [`OpenOptions::scratch_dir`] (the
/// command line's `--scratch`) instead of the system temp directory. Only
/// how the input is read depends on `open`; the output does not.
///
/// # Errors
///
/// As [`redact_file`].
pub fn redact_file_with(
    input: &Path,
    output: &Path,
    options: &Options,
    open: &OpenOptions,
) -> Result<Report, RedactError> {
    if let (Ok(a), Ok(b)) = (input.canonicalize(), output.canonicalize()) {
        if a == b {
            return Err(RedactError::SameFile(output.to_path_buf()));
        }
    }
    let source = Source::open(input, open)?;
    let bytes = source.bytes();
    let kind = sniff(bytes).ok_or_else(|| Error::UnsupportedFormat {
        start: String::from_utf8_lossy(bytes.get(..16).unwrap_or(bytes))
            .escape_debug()
            .to_string(),
    })?;

    let mut partial = output.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let write_error = |source: std::io::Error| RedactError::Write {
        path: output.to_path_buf(),
        source,
    };
    let file = std::fs::File::create(&partial).map_err(write_error)?;
    let buffered = std::io::BufWriter::with_capacity(1 << 20, file);
    let gzip = output.extension().is_some_and(|e| e == "gz");
    let mut out: Box<dyn Write> = if gzip {
        Box::new(flate2::write::GzEncoder::new(
            buffered,
            flate2::Compression::new(6),
        ))
    } else {
        Box::new(buffered)
    };
    let release = |range: std::ops::Range<usize>| source.release_range(range);
    let result = redact_bytes(bytes, kind, options, &mut *out, &release);
    let finished = result.and_then(|report| {
        out.flush().map_err(write_error)?;
        drop(out);
        std::fs::rename(&partial, output).map_err(write_error)?;
        Ok(report)
    });
    if finished.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    finished
}

/// Redacts a dump held in memory, of the kind [`sniff`] found, into `out`.
/// `release` gets byte ranges the rewriter has finished with.
///
/// # Errors
///
/// As [`redact_file`]; write errors name no path (`Write` with an empty
/// path).
pub fn redact_bytes(
    bytes: &[u8],
    kind: InputKind,
    options: &Options,
    out: &mut dyn Write,
    release: &dyn Fn(std::ops::Range<usize>),
) -> Result<Report, RedactError> {
    let write_error = |source: std::io::Error| RedactError::Write {
        path: PathBuf::new(),
        source,
    };
    #[cfg(not(all(feature = "hprof", feature = "v8", feature = "tracemalloc")))]
    let _ = (&write_error, &release, &out, options);
    match kind {
        #[cfg(feature = "hprof")]
        InputKind::Hprof => {
            use heapgraph_hprof::redact::HprofRedactError as E;
            heapgraph_hprof::redact::redact(bytes, options, out, release).map_err(|e| match e {
                E::Malformed(e) => RedactError::Hprof(e),
                E::Write(e) => write_error(e),
            })
        }
        #[cfg(feature = "v8")]
        InputKind::V8HeapSnapshot | InputKind::V8HeapProfile => {
            use heapgraph_v8::V8RedactError as E;
            let result = if kind == InputKind::V8HeapSnapshot {
                heapgraph_v8::redact_snapshot(bytes, options, out, release)
            } else {
                heapgraph_v8::redact_heapprofile(bytes, options, out)
            };
            result.map_err(|e| match e {
                E::Malformed(e) => RedactError::V8(e),
                E::Write(e) => write_error(e),
            })
        }
        #[cfg(feature = "tracemalloc")]
        InputKind::Pickle => {
            use heapgraph_tracemalloc::redact::TracemallocRedactError as E;
            heapgraph_tracemalloc::redact::redact(bytes, options, out).map_err(|e| match e {
                E::Write(e) => write_error(e),
                other => RedactError::Tracemalloc(other),
            })
        }
        InputKind::Gzip => Err(RedactError::Open(Error::NoParser("gzip inside gzip"))),
        #[allow(unreachable_patterns)]
        other => Err(RedactError::Open(Error::NoParser(other.as_str()))),
    }
}
