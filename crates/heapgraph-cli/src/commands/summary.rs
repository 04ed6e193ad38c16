//! `heapgraph summary`: what a dump is and what is in it, on one page.

use std::io::Write;
use std::path::Path;

use heapgraph::analysis::suspects::{leak_suspects, DEFAULT_THRESHOLD};
use heapgraph::analysis::HistogramOrder;
use heapgraph::core::NodeIndex;
use serde::Serialize;

use super::dominators::top_level_objects;
use super::histogram::{class_rows, ClassRow};
use super::suspects::{suspect_json, SuspectJson};
use crate::common::{analyse, describe, node_json, open_dump, write_json, NodeJson};
use crate::format::{bytes, thousands, Align, Table};
use crate::{GlobalOptions, Outcome};

/// The `--json` document of `summary`.
#[derive(Serialize)]
struct Summary {
    file: String,
    format: &'static str,
    producer: String,
    node_count: u64,
    edge_count: u64,
    root_count: u64,
    unreachable_count: u64,
    total_size: u64,
    reachable_size: u64,
    dangling_edges: u64,
    unresolved_references: u64,
    warnings: Vec<String>,
    top_classes_by_retained_size: Vec<ClassRow>,
    top_classes_by_count: Vec<ClassRow>,
    top_dominators: Vec<NodeJson>,
    suspects: Vec<SuspectJson>,
}

pub(crate) fn run(
    options: &GlobalOptions,
    file: &Path,
    top: usize,
    out: &mut impl Write,
) -> Result<(), Outcome> {
    let dump = open_dump(options, file)?;
    let graph = dump.graph();
    let analysis = analyse(options, &dump);
    let roots = dump.root_count();
    let mut histogram = analysis.class_histogram();
    let by_retained = class_rows(&analysis, &histogram, top);
    histogram.sort_by(HistogramOrder::Count);
    let by_count = class_rows(&analysis, &histogram, top);
    let dominators = top_level_objects(&analysis, top);
    // Allocation-only formats have no object graph to retain anything: each
    // block is held by the root, so suspects would just be the biggest
    // blocks (see `heapgraph sites` instead).
    let allocation_only = matches!(
        dump.format(),
        heapgraph::Format::Tracemalloc | heapgraph::Format::V8HeapProfile
    );
    let suspects = if allocation_only {
        Vec::new()
    } else {
        leak_suspects(&analysis, DEFAULT_THRESHOLD)
    };
    let summary = Summary {
        file: file.display().to_string(),
        format: dump.format().as_str(),
        producer: dump.producer().to_string(),
        node_count: graph.node_count() as u64,
        edge_count: graph.edge_count() as u64,
        root_count: roots,
        unreachable_count: analysis.unreachable().count() as u64,
        total_size: analysis.shallow_sizes().sum(),
        reachable_size: analysis.retained_size(NodeIndex::ROOT),
        dangling_edges: graph.diagnostics().dangling_edges,
        unresolved_references: graph.diagnostics().unresolved_references,
        warnings: dump.warnings(),
        top_classes_by_retained_size: by_retained,
        top_classes_by_count: by_count,
        top_dominators: dominators
            .iter()
            .map(|&n| node_json(&analysis, n))
            .collect(),
        suspects: suspects
            .iter()
            .map(|s| suspect_json(&analysis, s))
            .collect(),
    };
    if options.json {
        return write_json(out, &summary);
    }
    writeln!(out, "{}", summary.file)?;
    writeln!(
        out,
        "  format          {} ({})",
        summary.format, summary.producer
    )?;
    writeln!(out, "  nodes           {}", thousands(summary.node_count))?;
    writeln!(out, "  edges           {}", thousands(summary.edge_count))?;
    writeln!(out, "  GC roots        {}", thousands(summary.root_count))?;
    writeln!(
        out,
        "  unreachable     {} objects",
        thousands(summary.unreachable_count)
    )?;
    writeln!(
        out,
        "  total size      {} ({} bytes)",
        bytes(summary.total_size),
        thousands(summary.total_size)
    )?;
    writeln!(
        out,
        "  reachable size  {} ({} bytes)",
        bytes(summary.reachable_size),
        thousands(summary.reachable_size)
    )?;
    for warning in &summary.warnings {
        writeln!(out, "  warning         {warning}")?;
    }
    for (title, rows) in [
        (
            "Top classes by retained size",
            &summary.top_classes_by_retained_size,
        ),
        ("Top classes by count", &summary.top_classes_by_count),
    ] {
        writeln!(out, "\n{title}")?;
        let mut table = Table::new(&[
            ("count", Align::Right),
            ("shallow", Align::Right),
            ("retained", Align::Right),
            ("class", Align::Left),
        ]);
        for row in rows {
            table.row(vec![
                thousands(row.count),
                bytes(row.shallow_size),
                bytes(row.retained_size),
                row.class.clone(),
            ]);
        }
        write!(out, "{}", table.render())?;
    }
    writeln!(out, "\nTop dominators")?;
    let mut table = Table::new(&[("retained", Align::Right), ("object", Align::Left)]);
    for &node in &dominators {
        table.row(vec![
            bytes(analysis.retained_size(node)),
            describe(&analysis, node),
        ]);
    }
    write!(out, "{}", table.render())?;
    writeln!(out, "\nLeak suspects (≥ 10% of the heap)")?;
    if allocation_only {
        writeln!(
            out,
            "  not applicable: allocations have no retention graph (see `heapgraph sites`)"
        )?;
    } else if suspects.is_empty() {
        writeln!(out, "  none")?;
    }
    for s in &summary.suspects {
        writeln!(
            out,
            "  {} {} retains {} ({:.1}%)",
            s.kind,
            s.class,
            bytes(s.retained_size),
            s.share * 100.0
        )?;
    }
    Ok(())
}
