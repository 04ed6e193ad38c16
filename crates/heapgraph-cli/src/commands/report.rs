//! `heapgraph report`: one self-contained HTML page of a dump's analysis.

use std::io::Write;
use std::path::{Path, PathBuf};

use heapgraph::analysis::diff::Matching;
use heapgraph::analysis::leaks::growth::growing_paths;
use heapgraph::analysis::leaks::IgnoreList;
use heapgraph::workflows::LeakSettings;

use heapgraph_report::{Report, ReportOptions};
use serde::Serialize;

use crate::commands::flamegraph::draw;
use crate::common::{analyse, graph_of, open_allocations, write_json};
use crate::{Failure, FlameBy, GlobalOptions, Outcome};

#[derive(Serialize)]
struct ReportJson {
    file: String,
    output: String,
    bytes: u64,
    classes: u64,
    class_count: u64,
    suspects: u64,
    cuts: Vec<String>,
}

pub(crate) fn run(
    options: &GlobalOptions,
    files: &[PathBuf],
    output: &Path,
    out: &mut impl Write,
) -> Result<(), Outcome> {
    let Some(file) = files.last() else {
        return Err(Failure("report needs a dump".to_string()).into());
    };
    let name = |f: &Path| {
        f.file_name().map_or_else(
            || f.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    };
    let mut dumps = Vec::with_capacity(files.len());
    for f in files {
        let dump = open_allocations(options, f, false)?;
        graph_of(&dump, f)?;
        dumps.push(dump);
    }
    let Some(dump) = dumps.last() else {
        return Err(Failure("report needs a dump".to_string()).into());
    };
    let analysis = analyse(options, dump);
    let mut report = Report::build(dump, &analysis, &name(file), &ReportOptions::default());
    const TOP: usize = 200;
    match dumps.as_slice() {
        [old, new] => {
            let old_analysis = analyse(options, old);
            let diff = heapgraph::workflows::diff((old, &old_analysis), (new, &analysis))
                .map_err(|e| Failure(e.to_string()))?;
            let grown = if diff.matching == Matching::ById {
                Vec::new()
            } else {
                growing_paths(&[&old_analysis, &analysis], &IgnoreList::default())
            };
            report = report.with_diff([&name(&files[0]), &name(file)], &diff, &grown, TOP);
        }
        [_, _, _] => {
            let three: &[heapgraph::Dump; 3] = dumps
                .as_slice()
                .try_into()
                .map_err(|_| Failure("report needs three dumps".into()))?;
            let (leaks, growing) =
                crate::commands::leaks::find(options, three, &analysis, &LeakSettings::default())?;
            report = report.with_leaks(
                [&name(&files[0]), &name(&files[1]), &name(file)],
                &leaks,
                &analysis,
                &growing,
                TOP,
            );
        }
        _ => {}
    }
    // Allocation stacks where the dump has them; otherwise an icicle of the
    // dominator tree the page embeds (bounded, unlike the whole tree).
    let allocations = dump.allocations();
    let (lines, title, by) = if allocations.is_empty() {
        (
            tree_folded(&report),
            "Dominator tree by retained size (bytes), the part this page embeds",
            FlameBy::Retained,
        )
    } else {
        (
            allocations.call_tree().folded(),
            "Allocations by call stack (bytes)",
            FlameBy::Allocations,
        )
    };
    // Nothing to draw (an empty dump): no flame graph section.
    let report = if lines.is_empty() {
        report
    } else {
        let mut svg = Vec::new();
        draw(lines, title, by, &mut svg)
            .map_err(|e| Failure(format!("drawing the flame graph: {e}")))?;
        report.with_flame_graph(title, String::from_utf8_lossy(&svg).into_owned())
    };
    let html = report.to_html().map_err(|e| Failure(e.to_string()))?;
    std::fs::write(output, &html)
        .map_err(|e| Failure(format!("cannot write {}: {e}", output.display())))?;
    let document = ReportJson {
        file: file.display().to_string(),
        output: output.display().to_string(),
        bytes: html.len() as u64,
        classes: report.classes.len() as u64,
        class_count: report.class_count,
        suspects: report.suspects.len() as u64,
        cuts: report.cuts.clone(),
    };
    if options.json {
        return write_json(out, &document);
    }
    if !options.quiet {
        eprintln!(
            "heapgraph: wrote {} ({} KiB)",
            document.output,
            document.bytes / 1024
        );
    }
    Ok(())
}

/// Folded stacks of the report's dominator tree: each node's path of class
/// names weighted by what it retains beyond its embedded children, so that
/// every bar is as wide as the node's retained size.
fn tree_folded(report: &Report) -> Vec<String> {
    let tree = &report.tree;
    let mut embedded_children = vec![0u64; tree.len()];
    for node in tree {
        if let Some(p) = node.parent {
            if let Some(sum) = embedded_children.get_mut(p as usize) {
                *sum = sum.saturating_add(node.retained_size);
            }
        }
    }
    let mut paths: Vec<String> = Vec::with_capacity(tree.len());
    let mut lines = Vec::with_capacity(tree.len());
    for (i, node) in tree.iter().enumerate() {
        let label = if node.class.is_empty() {
            &node.name
        } else {
            &node.class
        };
        // `;` separates frames in the folded format.
        let label = label.replace(';', ",");
        let path = match node.parent.and_then(|p| paths.get(p as usize)) {
            Some(parent) => format!("{parent};{label}"),
            None => label,
        };
        let own = node.retained_size.saturating_sub(embedded_children[i]);
        if own > 0 {
            lines.push(format!("{path} {own}"));
        }
        paths.push(path);
    }
    lines
}
