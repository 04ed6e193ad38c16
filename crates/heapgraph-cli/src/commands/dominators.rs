//! `heapgraph dominators`: the dominator tree from the top-level objects.

use std::io::Write;
use std::path::Path;

use heapgraph::analysis::HeapAnalysis;
use heapgraph::core::NodeIndex;
use serde::Serialize;

use crate::common::{analyse, describe, node_json, open_dump, write_json, NodeJson};
use crate::format::bytes;
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
