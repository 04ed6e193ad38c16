//! Redaction of tracemalloc snapshots: see [`redact`].

use std::io::Write;

use heapgraph_redact::{Options, Redactor, Report};

use crate::{TracemallocError, TracemallocErrorKind};

/// What can go wrong while redacting a snapshot: the input is malformed (or
/// cannot be redacted), or the output cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum TracemallocRedactError {
    /// The input is not a well-formed tracemalloc snapshot (the offset is
    /// in the error).
    #[error(transparent)]
    Malformed(#[from] TracemallocError),
    /// A protocol-0 pickle whose file names carry `\u` escapes: not
    /// redacted (rewriting escapes in place is not supported).
    #[error("at byte {offset}: a protocol 0 file name with escapes cannot be redacted; re-save the snapshot with Snapshot.dump()")]
    EscapedName {
        /// The offset of the `UNICODE` opcode.
        offset: u64,
    },
    /// Writing the output failed.
    #[error("cannot write the redacted snapshot: {0}")]
    Write(#[from] std::io::Error),
}

/// The strings of a snapshot pickle that are its structure, not file names.
const STRUCTURE: [&[u8]; 12] = [
    b"tracemalloc",
    b"Snapshot",
    b"_Traces",
    b"copyreg",
    b"copy_reg",
    b"_reconstructor",
    b"builtins",
    b"__builtin__",
    b"object",
    b"traces",
    b"_traces",
    b"traceback_limit",
];

/// The pseudonym of a file name: every directory and the stem replaced,
/// the extension and `<frozen …>`-style names kept.
fn file_pseudonym(name: &str, redactor: &Redactor) -> String {
    if name.starts_with('<') {
        return name.to_owned();
    }
    redactor.file_pseudonym(name, &|_| false)
}

/// Redacts a `Snapshot.dump()` pickle into `out`. A snapshot holds no
/// values, only sizes, line numbers and file names: without
/// [`Options::names`] it is copied unchanged; with it every file name
/// (except `<unknown>`, `<frozen …>` and other `<…>` names) gets a
/// same-length pseudonym with its extension kept, so the pickle keeps every
/// length and offset and still loads in Python.
///
/// # Errors
///
/// [`TracemallocRedactError::Malformed`] if the input is not a snapshot
/// (checked by parsing it first), [`TracemallocRedactError::EscapedName`],
/// or [`TracemallocRedactError::Write`].
pub fn redact(
    bytes: &[u8],
    options: &Options,
    out: &mut dyn Write,
) -> Result<Report, TracemallocRedactError> {
    crate::parse(bytes, &crate::ParseOptions::default())?;
    let mut report = Report::default();
    if !options.names {
        out.write_all(bytes)?;
        out.flush()?;
        return Ok(report);
    }
    let redactor = Redactor::new(&options.key);
    // Replacements keep lengths and come in file order: copy up to each.
    let mut written = 0usize;
    let mut pos = 0usize;
    let truncated = |at: usize| TracemallocError {
        offset: at as u64,
        opcode: None,
        kind: TracemallocErrorKind::Truncated {
            expected: "an opcode argument",
        },
    };
    let line_end = |at: usize| -> Result<usize, TracemallocError> {
        bytes
            .get(at..)
            .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
            .map(|n| at + n + 1)
            .ok_or_else(|| truncated(at))
    };
    let le = |at: usize, n: usize| -> Result<u64, TracemallocError> {
        let b = bytes.get(at..at + n).ok_or_else(|| truncated(at))?;
        Ok(b.iter()
            .rev()
            .fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
    };
    while let Some(&op) = bytes.get(pos) {
        let at = pos + 1;
        // The string's byte range, for string opcodes.
        let mut text = None;
        pos = match op {
            b'.' => break,
            0x80 | b'K' | b'q' | b'h' => at + 1,
            b'M' => at + 2,
            b'J' | b'r' | b'j' => at + 4,
            0x95 => at + 8,
            0x8a => (at + 1).saturating_add(le(at, 1)? as usize),
            0x8b => (at + 4).saturating_add(usize::try_from(le(at, 4)?).unwrap_or(usize::MAX)),
            0x8c | b'X' | 0x8d => {
                let width = match op {
                    0x8c => 1,
                    b'X' => 4,
                    _ => 8,
                };
                let n = usize::try_from(le(at, width)?).map_err(|_| truncated(at))?;
                let start = at + width;
                let end = start.checked_add(n).filter(|&e| e <= bytes.len());
                let end = end.ok_or_else(|| truncated(start))?;
                text = Some(start..end);
                end
            }
            b'V' => {
                let end = line_end(at)?;
                if bytes.get(at..end).is_some_and(|l| l.contains(&b'\\')) {
                    return Err(TracemallocRedactError::EscapedName { offset: pos as u64 });
                }
                text = Some(at..end - 1);
                end
            }
            b'I' | b'L' | b'p' | b'g' => line_end(at)?,
            b'c' => line_end(line_end(at)?)?,
            _ => at,
        };
        let Some(range) = text else { continue };
        let Some(raw) = bytes.get(range.clone()) else {
            continue;
        };
        if STRUCTURE.contains(&raw) {
            continue;
        }
        let replaced = match std::str::from_utf8(raw) {
            Ok(name) if name.starts_with('<') => {
                report.names_kept += 1;
                continue;
            }
            Ok(name) => {
                let pseudonym = file_pseudonym(name, &redactor);
                report.names_map.insert(name.to_owned(), pseudonym.clone());
                pseudonym.into_bytes()
            }
            Err(_) => redactor.replaced(raw),
        };
        report.names_replaced += 1;
        if replaced.len() == range.len() && range.start >= written {
            out.write_all(bytes.get(written..range.start).unwrap_or(&[]))?;
            out.write_all(&replaced)?;
            written = range.end;
        }
    }
    out.write_all(bytes.get(written..).unwrap_or(&[]))?;
    out.flush()?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_keep_extension_and_length() {
        let r = Redactor::new(&heapgraph_redact::Key::from_salt(b"x"));
        let p = file_pseudonym("/srv/acme/billing.py", &r);
        assert_eq!(p.len(), 20);
        assert!(p.ends_with(".py"));
        assert!(!p.contains("acme"));
        assert_eq!(
            file_pseudonym("<frozen importlib._bootstrap>", &r),
            "<frozen importlib._bootstrap>"
        );
        let no_ext = file_pseudonym("/a.b/c", &r);
        assert_eq!(no_ext.len(), 6);
    }
}
