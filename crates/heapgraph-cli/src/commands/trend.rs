//! `heapgraph trend`: per class growth over a series of snapshots.

use std::io::Write;
use std::path::PathBuf;

use heapgraph::analysis::trend::trends;
use serde::Serialize;

use crate::common::{analyse, open_dump, take_top, write_json};
use crate::format::{bytes, Align, Table};
use crate::{Failure, GlobalOptions, Outcome};

#[derive(Serialize)]
struct TrendJson {
    class: String,
    counts: Vec<u64>,
    shallow_sizes: Vec<u64>,
    bytes_per_snapshot: f64,
    count_per_snapshot: f64,
    r_squared: f64,
    monotonic_growth: bool,
    growing: bool,
}

#[derive(Serialize)]
struct TrendsJson {
    files: Vec<String>,
    format: &'static str,
    classes: Vec<TrendJson>,
}

pub(crate) fn run(
    options: &GlobalOptions,
    files: &[PathBuf],
    top: usize,
    out: &mut impl Write,
) -> Result<(), Outcome> {
    let mut series = Vec::with_capacity(files.len());
    let mut format = None;
    for file in files {
        // One dump at a time: only its class totals are kept.
        let dump = open_dump(options, file)?;
        match format {
            None => format = Some(dump.format()),
            Some(f) if f != dump.format() => {
                return Err(Failure(format!(
                    "cannot compare {f} with {}: {} is of another format",
                    dump.format(),
                    file.display()
                ))
                .into())
            }
            Some(_) => {}
        }
        series.push(analyse(options, &dump).class_totals());
    }
    let rows: Vec<TrendJson> = trends(&series)
        .into_iter()
        .map(|t| TrendJson {
            growing: t.is_growing(),
            counts: t.series.iter().map(|g| g.count).collect(),
            shallow_sizes: t.series.iter().map(|g| g.bytes).collect(),
            class: t.key,
            bytes_per_snapshot: t.bytes_per_snapshot,
            count_per_snapshot: t.count_per_snapshot,
            r_squared: t.r_squared,
            monotonic_growth: t.monotonic_growth,
        })
        .collect();
    let document = TrendsJson {
        files: files.iter().map(|f| f.display().to_string()).collect(),
        format: format.map_or("", |f| f.as_str()),
        classes: take_top(rows, top),
    };
    if options.json {
        return write_json(out, &document);
    }
    let mut table = Table::new(&[
        ("bytes/snapshot", Align::Right),
        ("count/snapshot", Align::Right),
        ("R²", Align::Right),
        ("growing", Align::Left),
        ("shallow sizes", Align::Left),
        ("class", Align::Left),
    ]);
    for row in &document.classes {
        let sizes: Vec<String> = row.shallow_sizes.iter().map(|&b| bytes(b)).collect();
        table.row(vec![
            format!("{:+.0}", row.bytes_per_snapshot),
            format!("{:+.1}", row.count_per_snapshot),
            format!("{:.2}", row.r_squared),
            if row.growing { "yes" } else { "" }.to_string(),
            sizes.join(" → "),
            row.class.clone(),
        ]);
    }
    write!(out, "{}", table.render())?;
    Ok(())
}
