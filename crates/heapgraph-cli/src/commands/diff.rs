//! `heapgraph diff`: per class changes between two snapshots.

use std::io::Write;
use std::path::Path;

use heapgraph::analysis::diff::{ClassDiff, Matching};
use heapgraph::analysis::leaks::growth::growing_paths;
use heapgraph::analysis::leaks::IgnoreList;
use serde::Serialize;

use crate::common::{analyse, open_dump, take_top, write_json, PathGrowthJson};
use crate::format::{bytes, Align, Table};
use crate::{Failure, GlobalOptions, Outcome};

#[derive(Serialize)]
struct ClassDiffJson {
    class: String,
    old_count: u64,
    new_count: u64,
    count_delta: i64,
    old_shallow_size: u64,
    new_shallow_size: u64,
    shallow_size_delta: i64,
    old_retained_size: u64,
    new_retained_size: u64,
    retained_size_delta: i64,
    /// Objects only in the new snapshot (null when matching by class).
    new_objects: Option<u64>,
    new_objects_size: Option<u64>,
    /// Objects only in the old snapshot (null when matching by class).
    deleted_objects: Option<u64>,
    deleted_objects_size: Option<u64>,
}

impl From<&ClassDiff> for ClassDiffJson {
    fn from(d: &ClassDiff) -> Self {
        ClassDiffJson {
            class: d.class.clone(),
            old_count: d.old_count,
            new_count: d.new_count,
            count_delta: d.count_delta(),
            old_shallow_size: d.old_shallow_size,
            new_shallow_size: d.new_shallow_size,
            shallow_size_delta: d.shallow_size_delta(),
            old_retained_size: d.old_retained_size,
            new_retained_size: d.new_retained_size,
            retained_size_delta: d.retained_size_delta(),
            new_objects: d.new_objects.map(|o| o.count),
            new_objects_size: d.new_objects.map(|o| o.shallow_size),
            deleted_objects: d.deleted_objects.map(|o| o.count),
            deleted_objects_size: d.deleted_objects.map(|o| o.shallow_size),
        }
    }
}

#[derive(Serialize)]
struct DiffJson {
    old: String,
    new: String,
    format: &'static str,
    /// `id` (objects matched by id) or `class` (class totals only).
    matching: &'static str,
    classes: Vec<ClassDiffJson>,
    /// When matching by class: the retention paths with more objects in the
    /// new snapshot (new paths included), largest retained growth first.
    grown_paths: Vec<PathGrowthJson>,
}

/// `+12` / `-3` / `0`.
pub(crate) fn signed(value: i64) -> String {
    if value > 0 {
        format!("+{value}")
    } else {
        value.to_string()
    }
}

pub(crate) use heapgraph_report::text::signed_bytes;

pub(crate) fn run(
    options: &GlobalOptions,
    old_file: &Path,
    new_file: &Path,
    top: usize,
    out: &mut impl Write,
) -> Result<(), Outcome> {
    let old = open_dump(options, old_file)?;
    let new = open_dump(options, new_file)?;
    let (old_analysis, new_analysis) = (analyse(options, &old), analyse(options, &new));
    let result = heapgraph::workflows::diff((&old, &old_analysis), (&new, &new_analysis))
        .map_err(|e| Failure(e.to_string()))?;
    let stable = result.matching == Matching::ById;
    let grown_paths = if stable {
        Vec::new()
    } else {
        growing_paths(&[&old_analysis, &new_analysis], &IgnoreList::default())
    };
    let document = DiffJson {
        old: old_file.display().to_string(),
        new: new_file.display().to_string(),
        format: new.format().as_str(),
        matching: result.matching.as_str(),
        classes: take_top(
            result.classes.iter().map(ClassDiffJson::from).collect(),
            top,
        ),
        grown_paths: take_top(grown_paths, top)
            .into_iter()
            .map(|p| PathGrowthJson::new(&new_analysis, p))
            .collect(),
    };
    if options.json {
        return write_json(out, &document);
    }
    if !stable && !options.quiet {
        eprintln!(
            "heapgraph: note: object ids are not stable between these snapshots; comparing class totals only"
        );
    }
    let mut table = Table::new(&[
        ("# new", Align::Right),
        ("# deleted", Align::Right),
        ("Δ count", Align::Right),
        ("Δ shallow", Align::Right),
        ("Δ retained", Align::Right),
        ("class", Align::Left),
    ]);
    let or_dash = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
    for row in &document.classes {
        table.row(vec![
            or_dash(row.new_objects),
            or_dash(row.deleted_objects),
            signed(row.count_delta),
            signed_bytes(row.shallow_size_delta),
            signed_bytes(row.retained_size_delta),
            row.class.clone(),
        ]);
    }
    write!(out, "{}", table.render())?;
    writeln!(
        out,
        "objects matched by {}",
        if stable { "id" } else { "class" }
    )?;
    if !stable {
        writeln!(
            out,
            "\nretention paths with more objects in the new snapshot:"
        )?;
        if document.grown_paths.is_empty() {
            writeln!(out, "  none")?;
        }
        for p in &document.grown_paths {
            writeln!(
                out,
                "  {} → {} ({}), retaining {} → {}\n    {}",
                p.counts[0],
                p.counts[1],
                signed(p.counts[1] as i64 - p.counts[0] as i64),
                bytes(p.retained_sizes[0]),
                bytes(p.retained_sizes[1]),
                p.shape
            )?;
        }
    }
    Ok(())
}
