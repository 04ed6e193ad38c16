//! `heapgraph retainers`: what references an object, and its shortest paths
//! from GC roots.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::common::{
    analyse, describe, node_json, open_dump, parse_id, path_json, path_lines, write_json, NodeJson,
    PathStepJson,
};
use crate::format::bytes;
use crate::{Failure, GlobalOptions, Outcome};

#[derive(Serialize)]
struct RetainerJson {
    edge_kind: &'static str,
    edge_name: String,
    /// Whether paths to GC roots may follow this reference (false for weak
    /// references).
    strong: bool,
    source: NodeJson,
}

#[derive(Serialize)]
struct RetainersJson {
    file: String,
    format: &'static str,
    object: NodeJson,
    dominator: Option<NodeJson>,
    retainers: Vec<RetainerJson>,
    paths: Vec<Vec<PathStepJson>>,
}

pub(crate) fn run(
    options: &GlobalOptions,
    file: &Path,
    id: &str,
    paths: usize,
    out: &mut impl Write,
) -> Result<(), Outcome> {
    let object_id = parse_id(id)?;
    let dump = open_dump(options, file)?;
    let graph = dump.graph();
    let node = graph.node_by_object_id(object_id).ok_or_else(|| {
        Failure(format!(
            "{}: no object with id {id} in this dump",
            file.display()
        ))
    })?;
    let analysis = analyse(options, &dump);
    let retainers = analysis.retainers(node);
    let found = analysis.retention_paths(node, paths.min(100));
    if options.json {
        let document = RetainersJson {
            file: file.display().to_string(),
            format: dump.format().as_str(),
            object: node_json(&analysis, node),
            dominator: analysis
                .immediate_dominator(node)
                .map(|d| node_json(&analysis, d)),
            retainers: retainers
                .iter()
                .map(|r| RetainerJson {
                    edge_kind: r.kind.as_str(),
                    edge_name: graph.edge_label_str(r.edge).into_owned(),
                    strong: r.is_path_edge,
                    source: node_json(&analysis, r.source),
                })
                .collect(),
            paths: found.iter().map(|p| path_json(&analysis, p)).collect(),
        };
        return write_json(out, &document);
    }
    writeln!(
        out,
        "{}  shallow {}  retained {}",
        describe(&analysis, node),
        bytes(analysis.shallow_size(node)),
        bytes(analysis.retained_size(node))
    )?;
    if let Some(dominator) = analysis.immediate_dominator(node) {
        writeln!(
            out,
            "immediate dominator: {}",
            describe(&analysis, dominator)
        )?;
    }
    writeln!(out, "\nRetainers ({})", retainers.len())?;
    for r in &retainers {
        writeln!(
            out,
            "  .{} ({}{}) from {}",
            graph.edge_label_str(r.edge),
            r.kind,
            if r.is_path_edge { "" } else { ", not followed" },
            describe(&analysis, r.source)
        )?;
    }
    writeln!(out, "\nShortest paths from GC roots ({})", found.len())?;
    if found.is_empty() {
        writeln!(out, "  none: the object is not strongly reachable")?;
    }
    for (i, path) in found.iter().enumerate() {
        writeln!(out, "  path {} ({} references)", i + 1, path.len())?;
        for line in path_lines(&analysis, path) {
            writeln!(out, "    {line}")?;
        }
    }
    Ok(())
}
