//! `heapgraph dominators`: the dominator tree from the top-level objects.

use std::io::Write;
use std::path::Path;

use heapgraph::analysis::HeapAnalysis;
use heapgraph::core::NodeIndex;
use serde::Serialize;

use crate::common::{analyse, describe, node_json, open_dump, write_json, NodeJson};
use crate::format::{bytes, thousands, Align, Table};
use crate::{GlobalOptions, Outcome};

/// The objects directly below the root and its synthetic groups in the
/// dominator tree (MAT's top-level dominators), largest retained first.
pub(crate) fn top_level_objects(analysis: &HeapAnalysis<'_>, limit: usize) -> Vec<NodeIndex> {
    let mut found = heapgraph::analysis::suspects::top_level_objects(analysis);
    found.sort_by(|&a, &b| {
        analysis
            .retained_size(b)
            .cmp(&analysis.retained_size(a))
            .then(a.cmp(&b))
    });
    if limit > 0 {
        found.truncate(limit);
    }
    found
}

#[derive(Serialize)]
struct TreeNode {
    #[serde(flatten)]
    node: NodeJson,
    children: Vec<TreeNode>,
}

#[derive(Serialize)]
struct DominatorsJson {
    file: String,
    format: &'static str,
    total_size: u64,
    dominators: Vec<TreeNode>,
}

fn subtree(analysis: &HeapAnalysis<'_>, node: NodeIndex, top: usize, depth: usize) -> TreeNode {
    let children = if depth > 1 {
        analysis
            .top_dominators(node, top)
            .into_iter()
            .map(|child| subtree(analysis, child, top, depth - 1))
            .collect()
    } else {
        Vec::new()
    };
    TreeNode {
        node: node_json(analysis, node),
        children,
    }
}

pub(crate) fn run(
    options: &GlobalOptions,
    file: &Path,
    top: usize,
    depth: usize,
    out: &mut impl Write,
) -> Result<(), Outcome> {
    let dump = open_dump(options, file)?;
    let analysis = analyse(options, &dump);
    let depth = depth.clamp(1, 64);
    let tops = top_level_objects(&analysis, top);
    let total = analysis.retained_size(NodeIndex::ROOT);
    if options.json {
        let document = DominatorsJson {
            file: file.display().to_string(),
            format: dump.format().as_str(),
            total_size: total,
            dominators: tops
                .iter()
                .map(|&n| subtree(&analysis, n, top, depth))
                .collect(),
        };
        return write_json(out, &document);
    }
    let mut stack: Vec<(NodeIndex, usize)> = tops.iter().rev().map(|&n| (n, 0)).collect();
    while let Some((node, level)) = stack.pop() {
        let retained = analysis.retained_size(node);
        let share = if total > 0 {
            retained as f64 * 100.0 / total as f64
        } else {
            0.0
        };
        writeln!(
            out,
            "{:>10} {:>5.1}%  {}{}",
            bytes(retained),
            share,
            "  ".repeat(level),
            describe(&analysis, node)
        )?;
        if level + 1 < depth {
            for child in analysis.top_dominators(node, top).into_iter().rev() {
                stack.push((child, level + 1));
            }
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct DominatorClassJson {
    class: String,
    dominators: u64,
    dominators_retained_size: u64,
    dominated: u64,
    dominated_shallow_size: u64,
    dominated_retained_size: u64,
}

#[derive(Serialize)]
struct DominatorsByClassJson {
    file: String,
    format: &'static str,
    of_class: String,
    skip: Vec<String>,
    member_count: u64,
    rows: Vec<DominatorClassJson>,
}

/// `dominators --of-class`: the immediate dominators of the matching
/// classes' instances, grouped by class.
pub(crate) fn run_by_class(
    options: &GlobalOptions,
    file: &Path,
    of_class: &str,
    skip: &[String],
    top: usize,
    out: &mut impl Write,
) -> Result<(), Outcome> {
    use heapgraph::analysis::class_name_matches;
    let dump = open_dump(options, file)?;
    let analysis = analyse(options, &dump);
    let members = analysis.instances_matching(of_class);
    let mut rows = heapgraph::analysis::dominator_classes::immediate_dominators_by_class(
        &analysis,
        &members,
        |class| skip.iter().any(|glob| class_name_matches(glob, class)),
    );
    if top > 0 {
        rows.truncate(top);
    }
    if options.json {
        let document = DominatorsByClassJson {
            file: file.display().to_string(),
            format: dump.format().as_str(),
            of_class: of_class.to_string(),
            skip: skip.to_vec(),
            member_count: members.len() as u64,
            rows: rows
                .into_iter()
                .map(|row| DominatorClassJson {
                    class: row.class,
                    dominators: row.dominators,
                    dominators_retained_size: row.dominators_retained_size,
                    dominated: row.dominated,
                    dominated_shallow_size: row.dominated_shallow_size,
                    dominated_retained_size: row.dominated_retained_size,
                })
                .collect(),
        };
        return write_json(out, &document);
    }
    writeln!(
        out,
        "{} instances of {of_class}, by the class of their immediate dominator{}:",
        thousands(members.len() as u64),
        if skip.is_empty() {
            String::new()
        } else {
            format!(" (looking through {})", skip.join(", "))
        }
    )?;
    let mut table = Table::new(&[
        ("dominator class", Align::Left),
        ("dominators", Align::Right),
        ("their retained", Align::Right),
        ("dominated", Align::Right),
        ("shallow", Align::Right),
        ("retained", Align::Right),
    ]);
    for row in rows {
        table.row(vec![
            row.class,
            thousands(row.dominators),
            bytes(row.dominators_retained_size),
            thousands(row.dominated),
            bytes(row.dominated_shallow_size),
            bytes(row.dominated_retained_size),
        ]);
    }
    write!(out, "{}", table.render())?;
    Ok(())
}
