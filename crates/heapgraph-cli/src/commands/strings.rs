//! `heapgraph strings`: duplicate strings.

use std::io::Write;
use std::path::Path;

use heapgraph::analysis::strings::{duplicate_strings, v8_strings, DuplicateString};
use heapgraph::core::{EdgeKind, EdgeLabel, NodeIndex};
use heapgraph::{Dump, Format};
use serde::Serialize;

use crate::common::{analyse, open_dump, shorten, take_top, warn_diagnostics, write_json};
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

/// The `java.lang.String` instances of an HPROF dump as (node, value, bytes
/// of the String plus its value array).
fn java_strings(dump: &Dump, shallow: &[u64]) -> Vec<(NodeIndex, Vec<u8>, u64)> {
    let Some(hprof) = dump.hprof() else {
        return Vec::new();
    };
    let graph = dump.graph();
    let value_name = graph.strings().find(b"value");
    graph
        .nodes()
        .filter(|&n| graph.name_str(n) == "java.lang.String")
        .filter(|&n| graph.kind(n) == heapgraph::core::NodeKind::Object)
        .filter_map(|n| {
            let text = hprof.java_string_value(dump.bytes(), n)?;
            let array = graph
                .edges(n)
                .find(|e| {
                    e.kind == EdgeKind::Property
                        && Some(e.label)
                            .zip(value_name)
                            .is_some_and(|(l, v)| l == EdgeLabel::Name(v))
                })
                .map(|e| e.target);
            let size = shallow.get(n.index()).copied().unwrap_or(0)
                + array
                    .and_then(|a| shallow.get(a.index()).copied())
                    .unwrap_or(0);
            Some((n, text.into_bytes(), size))
        })
        .collect()
}

pub(crate) fn run(
    options: &GlobalOptions,
    file: &Path,
    top: usize,
    out: &mut impl Write,
) -> Result<(), Outcome> {
    let dump = open_dump(options, file)?;
    warn_diagnostics(options, file, &dump);
    let graph = dump.graph();
    let duplicates: Vec<DuplicateString> = match dump.format() {
        Format::V8HeapSnapshot => duplicate_strings(v8_strings(graph)),
        Format::Hprof => {
            let analysis = analyse(options, &dump);
            let strings = java_strings(&dump, analysis.shallow_sizes());
            duplicate_strings(strings.iter().map(|(n, v, s)| (*n, v.as_slice(), *s)))
        }
        other => {
            return Err(Failure(format!(
                "{}: {other} dumps hold no string objects",
                file.display()
            ))
            .into())
        }
    };
    let document = StringsJson {
        file: file.display().to_string(),
        format: dump.format().as_str(),
        duplicate_values: duplicates.len() as u64,
        wasted_size: duplicates.iter().map(|d| d.wasted_bytes).sum(),
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
