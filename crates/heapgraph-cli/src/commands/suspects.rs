//! `heapgraph suspects`: Eclipse MAT's leak suspects.

use std::io::Write;
use std::path::Path;

use heapgraph::analysis::suspects::{leak_suspects, Suspect, SuspectKind};
use heapgraph::analysis::HeapAnalysis;
use serde::Serialize;

use crate::common::{
    analyse, describe, node_json, open_dump, path_json, path_lines, write_json, NodeJson,
    PathStepJson,
};
use crate::format::{bytes, thousands};
use crate::{Failure, GlobalOptions, Outcome};

/// One suspect in JSON output.
#[derive(Serialize)]
pub(crate) struct SuspectJson {
    /// `object` or `class`.
    pub(crate) kind: &'static str,
    pub(crate) class: String,
    pub(crate) retained_size: u64,
    /// Share of the heap, 0 to 1.
    pub(crate) share: f64,
    /// The object (for `object`) or the largest instance (for `class`).
    pub(crate) object: NodeJson,
    /// Instances of the class (for `class`).
    pub(crate) instance_count: Option<u64>,
    /// Where the retained memory concentrates (for `object`).
    pub(crate) accumulation_point: Option<NodeJson>,
    /// Shortest path from a GC root (for `object`).
    pub(crate) path: Option<Vec<PathStepJson>>,
}

pub(crate) fn suspect_json(analysis: &HeapAnalysis<'_>, suspect: &Suspect) -> SuspectJson {
    match &suspect.kind {
        SuspectKind::Object {
            node,
            path,
            accumulation_point,
        } => SuspectJson {
            kind: "object",
            class: suspect.class.clone(),
            retained_size: suspect.retained_size,
            share: suspect.share,
            object: node_json(analysis, *node),
            instance_count: None,
            accumulation_point: Some(node_json(analysis, *accumulation_point)),
            path: path.as_ref().map(|p| path_json(analysis, p)),
        },
        SuspectKind::Class {
            instance_count,
            largest_instance,
        } => SuspectJson {
            kind: "class",
            class: suspect.class.clone(),
            retained_size: suspect.retained_size,
            share: suspect.share,
            object: node_json(analysis, *largest_instance),
            instance_count: Some(*instance_count),
            accumulation_point: None,
            path: None,
        },
        _ => SuspectJson {
            kind: "other",
            class: suspect.class.clone(),
            retained_size: suspect.retained_size,
            share: suspect.share,
            object: node_json(analysis, heapgraph::core::NodeIndex::ROOT),
            instance_count: None,
            accumulation_point: None,
            path: None,
        },
    }
}

#[derive(Serialize)]
struct SuspectsJson {
    file: String,
    format: &'static str,
    total_size: u64,
    threshold: f64,
    suspects: Vec<SuspectJson>,
}

pub(crate) fn run(
    options: &GlobalOptions,
    file: &Path,
    threshold_percent: f64,
    out: &mut impl Write,
) -> Result<(), Outcome> {
    if !(threshold_percent > 0.0 && threshold_percent <= 100.0) {
        return Err(Failure(format!(
            "--threshold must be a percentage in (0, 100], not {threshold_percent}"
        ))
        .into());
    }
    let dump = open_dump(options, file)?;
    let analysis = analyse(options, &dump);
    let suspects = leak_suspects(&analysis, threshold_percent / 100.0);
    let document = SuspectsJson {
        file: file.display().to_string(),
        format: dump.format().as_str(),
        total_size: analysis.retained_size(heapgraph::core::NodeIndex::ROOT),
        threshold: threshold_percent / 100.0,
        suspects: suspects
            .iter()
            .map(|s| suspect_json(&analysis, s))
            .collect(),
    };
    if options.json {
        return write_json(out, &document);
    }
    if suspects.is_empty() {
        writeln!(
            out,
            "no object or class retains {threshold_percent}% of the heap ({})",
            bytes(document.total_size)
        )?;
    }
    for (i, suspect) in suspects.iter().enumerate() {
        match &suspect.kind {
            SuspectKind::Object {
                node,
                path,
                accumulation_point,
            } => {
                writeln!(
                    out,
                    "Problem suspect {}: one {} retains {} ({:.1}% of the heap)",
                    i + 1,
                    describe(&analysis, *node),
                    bytes(suspect.retained_size),
                    suspect.share * 100.0
                )?;
                if accumulation_point != node {
                    writeln!(
                        out,
                        "  memory accumulates in {} ({})",
                        describe(&analysis, *accumulation_point),
                        bytes(analysis.retained_size(*accumulation_point))
                    )?;
                }
                if let Some(path) = path {
                    writeln!(out, "  shortest path from a GC root:")?;
                    for line in path_lines(&analysis, path) {
                        writeln!(out, "    {line}")?;
                    }
                }
            }
            SuspectKind::Class {
                instance_count,
                largest_instance,
            } => writeln!(
                out,
                "Problem suspect {}: {} instances of {} retain {} ({:.1}% of the heap); the largest is {}",
                i + 1,
                thousands(*instance_count),
                suspect.class,
                bytes(suspect.retained_size),
                suspect.share * 100.0,
                describe(&analysis, *largest_instance)
            )?,
            _ => {}
        }
        writeln!(out)?;
    }
    Ok(())
}
