//! `heapgraph strings`: duplicate strings.

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
