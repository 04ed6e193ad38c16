//! `heapgraph flamegraph`: an SVG flame graph of allocation stacks, or an
//! icicle of the dominator tree by retained size.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use heapgraph::analysis::HeapAnalysis;
use heapgraph::core::{NodeIndex, NodeKind};

use crate::common::{analyse, open_allocations, write_json};
use crate::{Failure, FlameBy, GlobalOptions, Outcome};

/// Dominator-tree paths deeper than this are folded into their ancestor at
/// this depth, so a million-node chain stays one readable bar.
const MAX_DEPTH: usize = 64;

/// Folded stacks of the dominator tree: one line per distinct path of class
/// names from the top-level objects down, weighted by shallow size, so each
/// bar's width is the retained size of the objects on that path.
fn dominator_folded(analysis: &HeapAnalysis<'_>) -> Vec<String> {
    let graph = analysis.graph();
    let mut weights: HashMap<String, u64> = HashMap::new();
    // (node, path of the parent)
    let mut stack: Vec<(NodeIndex, String, usize)> = vec![(NodeIndex::ROOT, String::new(), 0)];
    while let Some((node, parent_path, depth)) = stack.pop() {
        let synthetic = matches!(graph.kind(node), NodeKind::Synthetic | NodeKind::RootGroup);
        let (path, depth) = if synthetic || depth >= MAX_DEPTH {
            (parent_path, depth)
        } else {
            let class = analysis.class_name(node);
            let label = if class.is_empty() {
                graph.name_str(node).into_owned()
            } else {
                class.to_string()
            };
            // `;` separates frames in the folded format.
            let label = label.replace(';', ",");
            let path = if parent_path.is_empty() {
                label
            } else {
                format!("{parent_path};{label}")
            };
            (path, depth + 1)
        };
        let shallow = analysis.shallow_size(node);
        if shallow > 0 && !path.is_empty() {
            let weight = weights.entry(path.clone()).or_insert(0);
            *weight = weight.saturating_add(shallow);
        }
        for child in analysis.dominated().of(node) {
            stack.push((child, path.clone(), depth));
        }
    }
    let mut lines: Vec<String> = weights
        .into_iter()
        .map(|(path, weight)| format!("{path} {weight}"))
        .collect();
    lines.sort();
    lines
}

/// The folded lines with weights that inferno can add up (it sums them in
/// a `usize` without overflow checks): when their total would not fit in
/// half of `usize`, every weight is divided by the same factor (non-zero
/// weights stay at least 1). Returns the lines and the factor (1 when
/// nothing changed).
fn fit_for_inferno(lines: Vec<String>) -> (Vec<String>, u128) {
    let weight = |line: &str| -> u128 {
        line.rsplit_once(' ')
            .and_then(|(_, w)| w.parse::<u128>().ok())
            .unwrap_or(0)
    };
    let total: u128 = lines.iter().map(|l| weight(l)).sum();
    let room = (usize::MAX / 2) as u128;
    if total <= room {
        return (lines, 1);
    }
    let divisor = total.div_ceil(room);
    let lines = lines
        .into_iter()
        .map(|line| {
            let scaled = weight(&line).div_ceil(divisor);
            match line.rsplit_once(' ') {
                Some((path, _)) => format!("{path} {scaled}"),
                None => line,
            }
        })
        .collect();
    (lines, divisor)
}

/// Draws folded `lines` as an SVG flame graph (an icicle for the dominator
/// tree) into `svg`.
pub(crate) fn draw(
    lines: Vec<String>,
    title: &str,
    by: FlameBy,
    svg: &mut impl Write,
) -> std::io::Result<()> {
    let (lines, divisor) = fit_for_inferno(lines);
    let mut flame_options = inferno::flamegraph::Options::default();
    flame_options.title = title.to_string();
    flame_options.count_name = if divisor == 1 {
        "bytes".to_string()
    } else {
        // Sizes past what inferno can add up (crafted or corrupt dumps).
        format!("bytes / {divisor}")
    };
    flame_options.direction = match by {
        FlameBy::Retained => inferno::flamegraph::Direction::Inverted,
        FlameBy::Allocations => inferno::flamegraph::Direction::Straight,
    };
    inferno::flamegraph::from_lines(&mut flame_options, lines.iter().map(String::as_str), svg)
        .map_err(std::io::Error::other)
}

#[derive(serde::Serialize)]
struct FlamegraphJson {
    file: String,
    output: String,
    by: &'static str,
    stacks: u64,
    total_size: u64,
}

pub(crate) fn run(
    options: &GlobalOptions,
    file: &Path,
    output: &Path,
    by: Option<FlameBy>,
    out: &mut impl Write,
) -> Result<(), Outcome> {
    let dump = open_allocations(options, file, false)?;
    let allocations = dump.allocations();
    let by = by.unwrap_or(if allocations.is_empty() {
        FlameBy::Retained
    } else {
        FlameBy::Allocations
    });
    let (lines, title, by_name) = match by {
        FlameBy::Allocations => {
            if allocations.is_empty() {
                return Err(Failure(format!(
                    "{}: no allocation stacks in this dump; use --by retained",
                    file.display()
                ))
                .into());
            }
            (
                allocations.call_tree().folded(),
                "Allocations by call stack (bytes)",
                "allocations",
            )
        }
        FlameBy::Retained => (
            {
                crate::common::graph_of(&dump, file)?;
                dominator_folded(&analyse(options, &dump))
            },
            "Dominator tree by retained size (bytes)",
            "retained",
        ),
    };
    let total: u64 = lines
        .iter()
        .filter_map(|l| l.rsplit_once(' ').and_then(|(_, w)| w.parse::<u64>().ok()))
        .fold(0, |t: u64, w| t.saturating_add(w));
    let stacks = lines.len() as u64;
    let svg = File::create(output)
        .map_err(|e| Failure(format!("cannot create {}: {e}", output.display())))?;
    let mut svg = BufWriter::new(svg);
    draw(lines, title, by, &mut svg)
        .and_then(|()| svg.flush())
        .map_err(|e| Failure(format!("cannot write {}: {e}", output.display())))?;
    let document = FlamegraphJson {
        file: file.display().to_string(),
        output: output.display().to_string(),
        by: by_name,
        stacks,
        total_size: total,
    };
    if options.json {
        return write_json(out, &document);
    }
    if !options.quiet {
        eprintln!(
            "heapgraph: wrote {} ({} stacks, {} bytes)",
            document.output, document.stacks, document.total_size
        );
    }
    Ok(())
}
