//! `heapgraph strings`: duplicate strings; with `--arrays`, duplicate
//! primitive arrays (HPROF).

use std::io::Write;
use std::path::Path;

use heapgraph::analysis::strings::DuplicateString;
use serde::Serialize;

use crate::common::{analyse, open_dump, shorten, take_top, write_json};
use crate::format::{bytes, thousands, Align, Table};
use crate::{Failure, GlobalOptions, Outcome};

#[derive(Serialize)]
struct DuplicateJson {
    value: String,
    count: u64,
    total_size: u64,
    wasted_size: u64,
    example_ids: Vec<u64>,
}

#[derive(Serialize)]
struct StringsJson {
    file: String,
    format: &'static str,
    duplicate_values: u64,
    wasted_size: u64,
    strings: Vec<DuplicateJson>,
}

pub(crate) fn run(
    options: &GlobalOptions,
    file: &Path,
    top: usize,
    out: &mut impl Write,
) -> Result<(), Outcome> {
    let dump = open_dump(options, file)?;
    let graph = dump.graph();
    let analysis = analyse(options, &dump);
    let duplicates: Vec<DuplicateString> = dump.duplicate_strings(&analysis).ok_or_else(|| {
        Failure(format!(
            "{}: {} dumps hold no string objects",
            file.display(),
            dump.format()
        ))
    })?;
    let document = StringsJson {
        file: file.display().to_string(),
        format: dump.format().as_str(),
        duplicate_values: duplicates.len() as u64,
        wasted_size: duplicates
            .iter()
            .fold(0, |t: u64, d| t.saturating_add(d.wasted_bytes)),
        strings: take_top(
            duplicates
                .iter()
                .map(|d| DuplicateJson {
                    value: String::from_utf8_lossy(&d.value).into_owned(),
                    count: d.count,
                    total_size: d.total_bytes,
                    wasted_size: d.wasted_bytes,
                    example_ids: d.examples.iter().map(|&n| graph.object_id(n)).collect(),
                })
                .collect(),
            top,
        ),
    };
    if options.json {
        return write_json(out, &document);
    }
    let mut table = Table::new(&[
        ("copies", Align::Right),
        ("wasted", Align::Right),
        ("value", Align::Left),
    ]);
    for d in &document.strings {
        table.row(vec![
            thousands(d.count),
            bytes(d.wasted_size),
            format!("{:?}", shorten(&d.value, 80)),
        ]);
    }
    write!(out, "{}", table.render())?;
    writeln!(
        out,
        "{} duplicated values waste {}",
        thousands(document.duplicate_values),
        bytes(document.wasted_size)
    )?;
    Ok(())
}

#[derive(Serialize)]
struct DuplicateArrayJson {
    #[serde(rename = "type")]
    element_type: String,
    length: u64,
    count: u64,
    total_size: u64,
    wasted_size: u64,
    /// The first 32 bytes of the contents, in hex (big-endian, as dumped).
    contents_hex: String,
    example_ids: Vec<u64>,
}

#[derive(Serialize)]
struct ArraysJson {
    file: String,
    format: &'static str,
    duplicate_arrays: u64,
    wasted_size: u64,
    arrays: Vec<DuplicateArrayJson>,
}

/// `strings --arrays`: primitive arrays with equal type and contents.
pub(crate) fn run_arrays(
    options: &GlobalOptions,
    file: &Path,
    top: usize,
    out: &mut impl Write,
) -> Result<(), Outcome> {
    let dump = crate::common::open_java_dump(options, file, "strings --arrays")?;
    let graph = dump.graph();
    let analysis = analyse(options, &dump);
    let groups = dump.duplicate_arrays(&analysis).unwrap_or_default();
    let document = ArraysJson {
        file: file.display().to_string(),
        format: dump.format().as_str(),
        duplicate_arrays: groups.len() as u64,
        wasted_size: groups
            .iter()
            .fold(0, |t: u64, d| t.saturating_add(d.copies.wasted_bytes)),
        arrays: take_top(
            groups
                .iter()
                .map(|d| DuplicateArrayJson {
                    element_type: format!("{}[]", d.element_type),
                    length: d.length,
                    count: d.copies.count,
                    total_size: d.copies.total_bytes,
                    wasted_size: d.copies.wasted_bytes,
                    contents_hex: d
                        .copies
                        .value
                        .iter()
                        .take(32)
                        .map(|b| format!("{b:02x}"))
                        .collect(),
                    example_ids: d
                        .copies
                        .examples
                        .iter()
                        .map(|&n| graph.object_id(n))
                        .collect(),
                })
                .collect(),
            top,
        ),
    };
    if options.json {
        return write_json(out, &document);
    }
    let mut table = Table::new(&[
        ("copies", Align::Right),
        ("wasted", Align::Right),
        ("array", Align::Left),
        ("contents", Align::Left),
    ]);
    for d in &document.arrays {
        let element = d.element_type.trim_end_matches("[]");
        table.row(vec![
            thousands(d.count),
            bytes(d.wasted_size),
            format!("{element}[{}]", thousands(d.length)),
            format!("{}…", &d.contents_hex[..d.contents_hex.len().min(16)]),
        ]);
    }
    write!(out, "{}", table.render())?;
    writeln!(
        out,
        "{} duplicated arrays waste {}",
        thousands(document.duplicate_arrays),
        bytes(document.wasted_size)
    )?;
    Ok(())
}
