//! `heapgraph histogram`: count, shallow and retained size per class; with
//! `--shallow`, count and shallow size only, without dominators.

use std::io::Write;
use std::path::Path;

use heapgraph::analysis::{class_name_matches, ClassHistogram, HeapAnalysis, HistogramOrder};
use serde::Serialize;

use crate::common::{analyse, open_dump, open_java_dump, with_progress, write_json};
use crate::format::{bytes, thousands, Align, Table};
use crate::{Failure, GlobalOptions, GroupBy, Outcome, SortKey};

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

/// One class in `histogram`'s JSON output: `retained_size` is null under
/// `--shallow`.
#[derive(Serialize, Clone, Debug)]
struct HistogramRow {
    class: String,
    count: u64,
    shallow_size: u64,
    retained_size: Option<u64>,
}

#[derive(Serialize)]
struct HistogramJson {
    file: String,
    format: &'static str,
    sort: &'static str,
    class_count: u64,
    total_count: u64,
    total_shallow_size: u64,
    classes: Vec<HistogramRow>,
}

pub(crate) fn run(
    options: &GlobalOptions,
    file: &Path,
    sort: Option<SortKey>,
    top: usize,
    class: Option<&str>,
    shallow: bool,
    out: &mut impl Write,
) -> Result<(), Outcome> {
    let (format, sort_name, mut rows) = if shallow {
        shallow_rows(options, file, sort.unwrap_or(SortKey::Shallow))?
    } else {
        retained_rows(options, file, sort.unwrap_or(SortKey::Retained))?
    };
    if let Some(pattern) = class {
        rows.retain(|r| class_name_matches(pattern, &r.class));
    }
    let document = HistogramJson {
        file: file.display().to_string(),
        format,
        sort: sort_name,
        class_count: rows.len() as u64,
        total_count: rows.iter().map(|r| r.count).sum(),
        total_shallow_size: rows
            .iter()
            .fold(0, |t: u64, r| t.saturating_add(r.shallow_size)),
        classes: crate::common::take_top(rows, top),
    };
    if options.json {
        return write_json(out, &document);
    }
    let mut columns = vec![("count", Align::Right), ("shallow", Align::Right)];
    if !shallow {
        columns.push(("retained", Align::Right));
    }
    columns.push(("class", Align::Left));
    let mut table = Table::new(&columns);
    for row in &document.classes {
        let mut cells = vec![thousands(row.count), bytes(row.shallow_size)];
        if let Some(retained) = row.retained_size {
            cells.push(bytes(retained));
        }
        cells.push(row.class.clone());
        table.row(cells);
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

/// `--shallow`: the facade's histogram without dominators (HPROF without
/// the graph).
fn shallow_rows(
    options: &GlobalOptions,
    file: &Path,
    sort: SortKey,
) -> Result<(&'static str, &'static str, Vec<HistogramRow>), Outcome> {
    // The same options `open_dump` reads dumps with.
    let open = crate::common::open_options(options);
    let histogram = with_progress(
        options,
        format!("counting the objects of {}", file.display()),
        || heapgraph::shallow_histogram(file, &open),
    )
    .map_err(|e| match e {
        // The I/O error already names the path.
        heapgraph::Error::Io { .. } => Failure(e.to_string()),
        other => Failure(format!("{}: {other}", file.display())),
    })?;
    let mut rows: Vec<HistogramRow> = histogram
        .rows
        .into_iter()
        .map(|r| HistogramRow {
            class: r.class_name,
            count: r.count,
            shallow_size: r.shallow_size,
            retained_size: None,
        })
        .collect();
    // The facade's rows come largest shallow size first; the sort is stable.
    let sort_name = match sort {
        SortKey::Count => {
            rows.sort_by_key(|r| std::cmp::Reverse(r.count));
            "count"
        }
        SortKey::Shallow | SortKey::Retained => "shallow",
    };
    Ok((histogram.format.as_str(), sort_name, rows))
}

/// The dominator-based histogram.
fn retained_rows(
    options: &GlobalOptions,
    file: &Path,
    sort: SortKey,
) -> Result<(&'static str, &'static str, Vec<HistogramRow>), Outcome> {
    let dump = open_dump(options, file)?;
    let analysis = analyse(options, &dump);
    let mut histogram = analysis.class_histogram();
    let (order, sort_name) = match sort {
        SortKey::Count => (HistogramOrder::Count, "count"),
        SortKey::Shallow => (HistogramOrder::ShallowSize, "shallow"),
        SortKey::Retained => (HistogramOrder::RetainedSize, "retained"),
    };
    histogram.sort_by(order);
    let rows = class_rows(&analysis, &histogram, 0)
        .into_iter()
        .map(|r| HistogramRow {
            class: r.class,
            count: r.count,
            shallow_size: r.shallow_size,
            retained_size: Some(r.retained_size),
        })
        .collect();
    Ok((dump.format().as_str(), sort_name, rows))
}

/// One group in `histogram --by package|classloader`'s JSON output.
#[derive(Serialize)]
struct GroupRow {
    group: String,
    loader_id: Option<u64>,
    classes: u64,
    count: u64,
    shallow_size: u64,
    retained_size: u64,
}

#[derive(Serialize)]
struct GroupedJson {
    file: String,
    format: &'static str,
    by: &'static str,
    sort: &'static str,
    group_count: u64,
    total_count: u64,
    total_shallow_size: u64,
    groups: Vec<GroupRow>,
}

/// `histogram --by package|classloader`: Eclipse MAT's Top Consumers.
pub(crate) fn run_grouped(
    options: &GlobalOptions,
    file: &Path,
    by: GroupBy,
    sort: SortKey,
    top: usize,
    pattern: Option<&str>,
    out: &mut impl Write,
) -> Result<(), Outcome> {
    use heapgraph::analysis::consumers::{top_consumers, Grouping};
    let (grouping, by_name) = match by {
        GroupBy::Package => (Grouping::Package, "package"),
        GroupBy::Classloader => (Grouping::ClassLoader, "classloader"),
        GroupBy::Class => (Grouping::Class, "class"),
    };
    let dump = open_java_dump(options, file, &format!("histogram --by {by_name}"))?;
    let analysis = analyse(options, &dump);
    let mut rows = top_consumers(&analysis, grouping);
    if let Some(pattern) = pattern {
        rows.retain(|r| class_name_matches(pattern, &r.group));
    }
    let sort_name = match sort {
        SortKey::Count => {
            rows.sort_by_key(|r| std::cmp::Reverse(r.count));
            "count"
        }
        SortKey::Shallow => {
            rows.sort_by_key(|r| std::cmp::Reverse(r.shallow_size));
            "shallow"
        }
        SortKey::Retained => "retained",
    };
    let document = GroupedJson {
        file: file.display().to_string(),
        format: dump.format().as_str(),
        by: by_name,
        sort: sort_name,
        group_count: rows.len() as u64,
        total_count: rows.iter().map(|r| r.count).sum(),
        total_shallow_size: rows
            .iter()
            .fold(0, |t: u64, r| t.saturating_add(r.shallow_size)),
        groups: crate::common::take_top(rows, top)
            .into_iter()
            .map(|r| GroupRow {
                group: r.group,
                loader_id: r.loader_id,
                classes: r.classes,
                count: r.count,
                shallow_size: r.shallow_size,
                retained_size: r.retained_size,
            })
            .collect(),
    };
    if options.json {
        return write_json(out, &document);
    }
    let mut table = Table::new(&[
        ("classes", Align::Right),
        ("count", Align::Right),
        ("shallow", Align::Right),
        ("retained", Align::Right),
        (by_name, Align::Left),
    ]);
    for row in &document.groups {
        table.row(vec![
            thousands(row.classes),
            thousands(row.count),
            bytes(row.shallow_size),
            bytes(row.retained_size),
            row.group.clone(),
        ]);
    }
    write!(out, "{}", table.render())?;
    writeln!(
        out,
        "{} groups, {} objects, {} shallow",
        thousands(document.group_count),
        thousands(document.total_count),
        bytes(document.total_shallow_size)
    )?;
    Ok(())
}
