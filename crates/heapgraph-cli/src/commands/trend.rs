//! `heapgraph trend`: per class growth over a series of snapshots.

use std::io::Write;
use std::path::PathBuf;

use heapgraph::analysis::leaks::growth::PathSeries;
use heapgraph::analysis::leaks::IgnoreList;
use heapgraph::analysis::trend::trends;
use serde::Serialize;

use crate::common::{analyse, open_dump, take_top, write_json, PathGrowthJson};
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
    /// Retention paths (allocation tracebacks for tracemalloc) whose object
    /// count grew from every snapshot to the next.
    growing_paths: Vec<PathGrowthJson>,
}

pub(crate) fn run(
    options: &GlobalOptions,
    files: &[PathBuf],
    top: usize,
    out: &mut impl Write,
) -> Result<(), Outcome> {
    let mut series = Vec::with_capacity(files.len());
    let mut paths = PathSeries::new();
    let mut growing = Vec::new();
    let mut format = None;
    for (i, file) in files.iter().enumerate() {
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
        let analysis = analyse(options, &dump);
        series.push(analysis.class_totals());
        paths.add(&analysis);
        if i + 1 == files.len() {
            growing = paths
                .growing(&analysis, &IgnoreList::default())
                .into_iter()
                .take(if top == 0 { usize::MAX } else { top })
                .map(|p| PathGrowthJson::new(&analysis, p))
                .collect();
        }
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
        growing_paths: growing,
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
    if !document.growing_paths.is_empty() {
        writeln!(
            out,
            "\nretention paths whose object count grew from each snapshot to the next:"
        )?;
        for p in &document.growing_paths {
            let counts: Vec<String> = p.counts.iter().map(u64::to_string).collect();
            writeln!(
                out,
                "  {}, retaining {} at the end\n    {}",
                counts.join(" → "),
                bytes(p.retained_sizes.last().copied().unwrap_or(0)),
                p.shape
            )?;
        }
    }
    Ok(())
}
