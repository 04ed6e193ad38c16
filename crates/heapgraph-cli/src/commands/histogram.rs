//! `heapgraph histogram`: count, shallow and retained size per class.

use std::io::Write;
use std::path::Path;

use heapgraph::analysis::{class_name_matches, ClassHistogram, HeapAnalysis, HistogramOrder};
use serde::Serialize;

use crate::common::{analyse, open_dump, write_json};
use crate::format::{bytes, thousands, Align, Table};
use crate::{GlobalOptions, Outcome, SortKey};

/// One class in JSON output.
#[derive(Serialize, Clone, Debug)]
pub(crate) struct ClassRow {
    pub(crate) class: String,
    pub(crate) count: u64,
    pub(crate) shallow_size: u64,
    pub(crate) retained_size: u64,
}

/// The first `top` rows of a histogram (0 = all) as JSON rows.
pub(crate) fn class_rows(
    analysis: &HeapAnalysis<'_>,
    histogram: &ClassHistogram,
    top: usize,
) -> Vec<ClassRow> {
    let rows = histogram.rows().iter().map(|r| ClassRow {
        class: analysis.classes().name(r.class).to_string(),
        count: r.count,
        shallow_size: r.shallow_size,
        retained_size: r.retained_size,
    });
    if top > 0 {
        rows.take(top).collect()
    } else {
        rows.collect()
    }
}

#[derive(Serialize)]
struct HistogramJson {
    file: String,
    format: &'static str,
    sort: &'static str,
    class_count: u64,
    total_count: u64,
    total_shallow_size: u64,
    classes: Vec<ClassRow>,
}

pub(crate) fn run(
    options: &GlobalOptions,
    file: &Path,
    sort: SortKey,
    top: usize,
    class: Option<&str>,
    out: &mut impl Write,
) -> Result<(), Outcome> {
    let dump = open_dump(options, file)?;
    let analysis = analyse(options, &dump);
    let mut histogram = analysis.class_histogram();
    let (order, sort_name) = match sort {
        SortKey::Count => (HistogramOrder::Count, "count"),
        SortKey::Shallow => (HistogramOrder::ShallowSize, "shallow"),
        SortKey::Retained => (HistogramOrder::RetainedSize, "retained"),
    };
    histogram.sort_by(order);
    let mut rows = class_rows(&analysis, &histogram, 0);
    if let Some(pattern) = class {
        rows.retain(|r| class_name_matches(pattern, &r.class));
    }
    let document = HistogramJson {
        file: file.display().to_string(),
        format: dump.format().as_str(),
        sort: sort_name,
        class_count: rows.len() as u64,
        total_count: rows.iter().map(|r| r.count).sum(),
        total_shallow_size: rows.iter().map(|r| r.shallow_size).sum(),
        classes: crate::common::take_top(rows, top),
    };
    if options.json {
        return write_json(out, &document);
    }
    let mut table = Table::new(&[
        ("count", Align::Right),
        ("shallow", Align::Right),
        ("retained", Align::Right),
        ("class", Align::Left),
    ]);
    for row in &document.classes {
        table.row(vec![
            thousands(row.count),
            bytes(row.shallow_size),
            bytes(row.retained_size),
            row.class.clone(),
        ]);
    }
    write!(out, "{}", table.render())?;
    writeln!(
        out,
        "{} classes, {} objects, {} shallow",
        thousands(document.class_count),
        thousands(document.total_count),
        bytes(document.total_shallow_size)
    )?;
    Ok(())
}
