//! `heapgraph strings`: duplicate strings; with `--arrays`, duplicate
//! primitive arrays (HPROF).

use std::io::Write;
use std::path::Path;

use heapgraph::analysis::strings::DuplicateString;
use serde::Serialize;

use crate::common::{analyse, open_dump, shorten, take_top, write_json};
use crate::format::{bytes, thousands, Align, Table};
use crate::{Failure, GlobalOptions, Outcome};

/// What strings and arrays report of their copies alike.
#[derive(Serialize)]
struct CopiesJson {
    count: u64,
    total_size: u64,
    wasted_size: u64,
    example_ids: Vec<u64>,
}

impl CopiesJson {
    fn of(graph: &heapgraph::HeapGraph, copies: &DuplicateString) -> CopiesJson {
        CopiesJson {
            count: copies.count,
            total_size: copies.total_bytes,
            wasted_size: copies.wasted_bytes,
            example_ids: copies
                .examples
                .iter()
                .map(|&n| graph.object_id(n))
                .collect(),
        }
    }
}

/// The bytes every group wastes together (saturating).
fn total_wasted<'a>(groups: impl Iterator<Item = &'a DuplicateString>) -> u64 {
    groups.fold(0, |total: u64, d| total.saturating_add(d.wasted_bytes))
}

#[derive(Serialize)]
struct DuplicateJson {
    value: String,
    #[serde(flatten)]
    copies: CopiesJson,
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
        wasted_size: total_wasted(duplicates.iter()),
        strings: take_top(
            duplicates
                .iter()
                .map(|d| DuplicateJson {
                    value: String::from_utf8_lossy(&d.value).into_owned(),
                    copies: CopiesJson::of(graph, d),
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
            thousands(d.copies.count),
            bytes(d.copies.wasted_size),
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
    /// The first 32 bytes of the contents, in hex (big-endian, as dumped).
    contents_hex: String,
    #[serde(flatten)]
    copies: CopiesJson,
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
        wasted_size: total_wasted(groups.iter().map(|d| &d.copies)),
        arrays: take_top(
            groups
                .iter()
                .map(|d| DuplicateArrayJson {
                    element_type: format!("{}[]", d.element_type),
                    length: d.length,
                    contents_hex: d
                        .copies
                        .value
                        .iter()
                        .take(32)
                        .map(|b| format!("{b:02x}"))
                        .collect(),
                    copies: CopiesJson::of(graph, &d.copies),
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
            thousands(d.copies.count),
            bytes(d.copies.wasted_size),
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
