//! `heapgraph sites`: allocation-site statistics with tracemalloc's exact
//! semantics, for tracemalloc dumps, `.heapprofile` files and V8 snapshots
//! taken with allocation tracking.

use std::io::Write;
use std::path::Path;

use heapgraph::analysis::sites::{Filter, KeyType, TraceFilter, Traceback};
use serde::Serialize;

use crate::common::{open_allocations, take_top, write_json};
use crate::format::{bytes, thousands, Align, Table};
use crate::{Failure, GlobalOptions, Outcome, SiteKey};

/// The options of `sites`, as parsed.
pub(crate) struct SitesArgs<'a> {
    pub(crate) file: &'a Path,
    pub(crate) by: SiteKey,
    pub(crate) cumulative: bool,
    pub(crate) compare: Option<&'a Path>,
    pub(crate) include: &'a [String],
    pub(crate) exclude: &'a [String],
    pub(crate) top: usize,
    pub(crate) python: bool,
}

#[derive(Serialize)]
struct FrameJson {
    filename: String,
    lineno: u32,
}

#[derive(Serialize)]
struct StatJson {
    /// Frames, oldest first (as Python's `Traceback` indexes them).
    traceback: Vec<FrameJson>,
    size: u64,
    count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    size_diff: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    count_diff: Option<i64>,
}

#[derive(Serialize)]
struct SitesJson {
    file: String,
    format: &'static str,
    key_type: &'static str,
    cumulative: bool,
    compare_to: Option<String>,
    allocation_count: u64,
    total_size: u64,
    statistics: Vec<StatJson>,
}

fn frames(traceback: &Traceback<'_>) -> Vec<FrameJson> {
    traceback
        .frames()
        .iter()
        .map(|f| FrameJson {
            filename: String::from_utf8_lossy(f.filename).into_owned(),
            lineno: f.lineno,
        })
        .collect()
}

/// One line of the people's table.
struct TableRow {
    site: String,
    size: u64,
    count: u64,
    /// `(size_diff, count_diff)` when comparing.
    diff: Option<(i64, i64)>,
}

fn clamp(value: i128) -> i64 {
    value.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

pub(crate) fn run(
    options: &GlobalOptions,
    args: &SitesArgs<'_>,
    out: &mut impl Write,
) -> Result<(), Outcome> {
    let key_type = match args.by {
        SiteKey::Lineno => KeyType::Lineno,
        SiteKey::Filename => KeyType::Filename,
        SiteKey::Traceback => KeyType::Traceback,
    };
    let filters: Vec<TraceFilter> = args
        .include
        .iter()
        .map(|p| TraceFilter::Filter(Filter::new(true, p.clone())))
        .chain(
            args.exclude
                .iter()
                .map(|p| TraceFilter::Filter(Filter::new(false, p.clone()))),
        )
        .collect();
    // By line or file, without cumulative, tracemalloc looks at each
    // traceback's innermost frame alone (and the filters here are on that
    // frame too): the rest of each traceback need not be kept.
    let innermost = key_type != KeyType::Traceback && !args.cumulative;
    let dump = open_allocations(options, args.file, innermost)?;
    let old_dump = match args.compare {
        Some(old) => {
            let old_dump = open_allocations(options, old, innermost)?;
            if old_dump.format() != dump.format() {
                return Err(Failure(format!(
                    "cannot compare {} with {}: both dumps must be of the same format",
                    old_dump.format(),
                    dump.format()
                ))
                .into());
            }
            Some(old_dump)
        }
        None => None,
    };
    let allocations = dump.allocations().filter_traces(&filters);
    if allocations.is_empty() && !dump.graph().has_node_stacks() && !options.quiet {
        eprintln!(
            "heapgraph: note: {} has no allocation stacks (take V8 snapshots with allocation tracking, or use a tracemalloc dump or .heapprofile)",
            args.file.display()
        );
    }
    let cumulative_error = |e: heapgraph::analysis::sites::SitesError| Failure(e.to_string());
    let mut document = SitesJson {
        file: args.file.display().to_string(),
        format: dump.format().as_str(),
        key_type: key_type.as_str(),
        cumulative: args.cumulative,
        compare_to: args.compare.map(|p| p.display().to_string()),
        allocation_count: allocations.len() as u64,
        total_size: allocations.total_size(),
        statistics: Vec::new(),
    };
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut rows: Vec<TableRow> = Vec::new();
    match &old_dump {
        Some(old_dump) => {
            let old = old_dump.allocations().filter_traces(&filters);
            let diffs = allocations
                .compare_to(&old, key_type, args.cumulative)
                .map_err(cumulative_error)?;
            for d in take_top(diffs, args.top) {
                lines.push(d.to_bytes());
                rows.push(TableRow {
                    site: d.traceback.to_string(),
                    size: d.size,
                    count: d.count,
                    diff: Some((clamp(d.size_diff), clamp(d.count_diff))),
                });
                document.statistics.push(StatJson {
                    traceback: frames(&d.traceback),
                    size: d.size,
                    count: d.count,
                    size_diff: Some(clamp(d.size_diff)),
                    count_diff: Some(clamp(d.count_diff)),
                });
            }
        }
        None => {
            let stats = allocations
                .statistics(key_type, args.cumulative)
                .map_err(cumulative_error)?;
            for s in take_top(stats, args.top) {
                lines.push(s.to_bytes());
                rows.push(TableRow {
                    site: s.traceback.to_string(),
                    size: s.size,
                    count: s.count,
                    diff: None,
                });
                document.statistics.push(StatJson {
                    traceback: frames(&s.traceback),
                    size: s.size,
                    count: s.count,
                    size_diff: None,
                    count_diff: None,
                });
            }
        }
    }
    if args.python {
        // Exactly what `print(stat)` prints, one statistic per line; file
        // names keep their raw bytes.
        for line in lines {
            out.write_all(&surrogateescape(&line))?;
            out.write_all(b"\n")?;
        }
        return Ok(());
    }
    if options.json {
        return write_json(out, &document);
    }
    let diff_columns = old_dump.is_some();
    let mut header = vec![("size", Align::Right), ("count", Align::Right)];
    if diff_columns {
        header.extend([("Δ size", Align::Right), ("Δ count", Align::Right)]);
    }
    header.extend([("average", Align::Right), ("site", Align::Left)]);
    let mut table = Table::new(&header);
    for TableRow {
        site,
        size,
        count,
        diff,
    } in &rows
    {
        let mut cells = vec![bytes(*size), thousands(*count)];
        if let Some((size_diff, count_diff)) = diff {
            cells.push(super::diff::signed_bytes(*size_diff));
            cells.push(super::diff::signed(*count_diff));
        }
        cells.push(if *count > 0 {
            bytes(size / count)
        } else {
            "-".to_string()
        });
        // Control characters in file names would break the table's lines.
        cells.push(
            site.chars()
                .map(|c| {
                    if c.is_control() {
                        c.escape_default().to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect(),
        );
        table.row(cells);
    }
    write!(out, "{}", table.render())?;
    writeln!(
        out,
        "{} allocations, {} in all (key: {}{})",
        thousands(document.allocation_count),
        bytes(document.total_size),
        key_type.as_str(),
        if args.cumulative { ", cumulative" } else { "" }
    )?;
    Ok(())
}

/// Bytes that Python decoded from a file name with `surrogateescape` (each
/// undecodable byte 0x80-0xFF became a lone surrogate U+DC80-U+DCFF, which
/// the graph keeps as its 3-byte WTF-8 form) back as the raw byte, as
/// Python's `print` writes them where its stdout uses `surrogateescape`.
fn surrogateescape(line: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let escaped = |w: &[u8]| matches!(w, [0xED, 0xB2 | 0xB3, 0x80..=0xBF, ..]);
    if !line.windows(3).any(escaped) {
        return std::borrow::Cow::Borrowed(line);
    }
    let mut out = Vec::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        match line.get(i..i + 3) {
            Some(&[0xED, second @ (0xB2 | 0xB3), third @ 0x80..=0xBF]) => {
                out.push(0x80 | ((second & 0x01) << 6) | (third & 0x3F));
                i += 3;
            }
            _ => {
                out.push(line[i]);
                i += 1;
            }
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::surrogateescape;

    #[test]
    fn lone_low_surrogates_become_their_raw_bytes() {
        // "bad\udcff.py" and "caf\udce9" as WTF-8.
        assert_eq!(&*surrogateescape(b"bad\xed\xb3\xbf.py:1"), b"bad\xff.py:1");
        assert_eq!(&*surrogateescape(b"caf\xed\xb3\xa9"), b"caf\xe9");
        assert_eq!(&*surrogateescape(b"\xed\xb2\x80"), b"\x80");
        // Real characters and other surrogates stay.
        assert_eq!(&*surrogateescape("é😀".as_bytes()), "é😀".as_bytes());
        assert_eq!(&*surrogateescape(b"\xed\xa0\x80"), b"\xed\xa0\x80");
    }
}
