//! What the subcommands share: opening dumps with the global options,
//! choosing the edge policy, describing nodes, writing JSON.

use std::io::{IsTerminal, Write};
use std::path::Path;

use heapgraph::analysis::{HeapAnalysis, RetentionPath};
use heapgraph::core::{NodeIndex, NodeKind};
use heapgraph::hprof::SizeModel;
use heapgraph::{Dump, Format, OpenOptions};
use serde::Serialize;

use crate::{Failure, GlobalOptions, Outcome, SizeModelArg, WeakReferents};

/// A spinner on stderr while `work` runs, naming what is being done. It is
/// drawn only when stderr is a terminal and `--quiet` is off, and cleared
/// when the work ends, so pipes and logs never see it.
pub(crate) fn with_progress<T>(
    options: &GlobalOptions,
    message: String,
    work: impl FnOnce() -> T,
) -> T {
    if options.quiet || !std::io::stderr().is_terminal() {
        return work();
    }
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_message(message);
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let result = work();
    spinner.finish_and_clear();
    result
}

/// Opens a dump with its object graph, turning errors into messages that
/// name the file. Warnings about the dump's contents (dangling references,
/// what the parser noticed) go to stderr unless `--quiet`.
pub(crate) fn open_dump(options: &GlobalOptions, file: &Path) -> Result<Dump, Failure> {
    let dump = open_allocations(options, file, false)?;
    // A tracemalloc snapshot's graph is built on first use: build it now,
    // so that a failure is an error here rather than an empty graph later.
    graph_of(&dump, file)?;
    Ok(dump)
}

/// Opens a dump for a view that only Java heap dumps have (`what`: the
/// command, as the error names it); other formats are refused plainly.
pub(crate) fn open_java_dump(
    options: &GlobalOptions,
    file: &Path,
    what: &str,
) -> Result<Dump, Failure> {
    let dump = open_dump(options, file)?;
    if dump.format() != heapgraph::Format::Hprof {
        return Err(Failure(format!(
            "{}: {what} needs a Java heap dump (HPROF); this is a {}",
            file.display(),
            dump.format().as_str()
        )));
    }
    Ok(dump)
}

/// Opens a dump for its allocations (`sites`, allocation flame graphs):
/// a tracemalloc snapshot's graph is not built.
/// `innermost_frame_only`: the statistics asked for look at each
/// traceback's innermost frame alone (see
/// [`OpenOptions::innermost_frame_only`]).
pub(crate) fn open_allocations(
    options: &GlobalOptions,
    file: &Path,
    innermost_frame_only: bool,
) -> Result<Dump, Failure> {
    let mut open = open_options(options);
    open.innermost_frame_only = innermost_frame_only;
    let spilling_before = heapgraph::spill::is_enabled();
    let dump = with_progress(options, format!("reading {}", file.display()), || {
        open_with_quietly(file, &open)
    })?;
    if !options.quiet
        && open.spill == heapgraph::Spill::Auto
        && !spilling_before
        && heapgraph::spill::is_enabled()
    {
        eprintln!(
            "heapgraph: note: {}: more than the memory available; its big columns go to scratch \
             files in {} (--spill, --scratch)",
            file.display(),
            open.scratch_dir_or_temp().display()
        );
    }
    warn_diagnostics(options, file, &dump);
    Ok(dump)
}

/// The dump's graph, or why it could not be built, naming the file.
pub(crate) fn graph_of<'d>(
    dump: &'d Dump,
    file: &Path,
) -> Result<&'d heapgraph::HeapGraph, Failure> {
    dump.try_graph()
        .map_err(|e| Failure(format!("{}: {e}", file.display())))
}

/// The facade's options under the global options.
pub(crate) fn open_options(options: &GlobalOptions) -> OpenOptions {
    let mut open = OpenOptions::default();
    open.hprof = open
        .hprof
        .with_size_model(match options.size_model {
            SizeModelArg::Mat => SizeModel::Mat,
            SizeModelArg::Raw => SizeModel::Raw,
        })
        .with_dump(options.dump);
    open.weak_referents = match options.weak_referents {
        WeakReferents::Count => heapgraph::WeakReferents::Count,
        WeakReferents::Ignore => heapgraph::WeakReferents::Ignore,
    };
    open.threads = options
        .threads
        .and_then(|n| std::num::NonZeroUsize::new(usize::from(n)));
    open.scratch_dir = options.scratch.clone();
    open.memory_check = !options.no_memory_check;
    open.spill = match options.spill {
        crate::SpillArg::Auto => heapgraph::Spill::Auto,
        crate::SpillArg::Always => heapgraph::Spill::Always,
        crate::SpillArg::Never => heapgraph::Spill::Never,
    };
    open
}

fn open_with_quietly(file: &Path, open: &OpenOptions) -> Result<Dump, Failure> {
    heapgraph::open_with(file, open).map_err(|e| match e {
        // The I/O error already names the path.
        heapgraph::Error::Io { .. } => Failure(e.to_string()),
        other => Failure(format!("{}: {other}", file.display())),
    })
}

/// Analyses a dump under the global options.
pub(crate) fn analyse<'d>(options: &GlobalOptions, dump: &'d Dump) -> HeapAnalysis<'d> {
    with_progress(
        options,
        format!(
            "computing dominators of {} objects",
            dump.graph().node_count()
        ),
        || dump.analyse(),
    )
}

/// Prints the build diagnostics and the parser's warnings of a dump on
/// stderr, unless quiet.
fn warn_diagnostics(options: &GlobalOptions, file: &Path, dump: &Dump) {
    if options.quiet {
        return;
    }
    for warning in dump.warnings() {
        eprintln!("heapgraph: warning: {}: {warning}", file.display());
    }
    let d = dump.diagnostics();
    if d.dangling_edges > 0 {
        eprintln!(
            "heapgraph: warning: {}: {} references to objects that are not in the dump were dropped",
            file.display(),
            d.dangling_edges
        );
    }
    if d.unresolved_references > 0 {
        eprintln!(
            "heapgraph: warning: {}: {} references point to objects that are not in the dump",
            file.display(),
            d.unresolved_references
        );
    }
}

/// An object as the JSON output describes it.
#[derive(Serialize, Clone, Debug)]
pub(crate) struct NodeJson {
    /// The node index in heapgraph's graph.
    pub(crate) index: u32,
    /// The object id as the dump writes it.
    pub(crate) id: u64,
    pub(crate) kind: &'static str,
    pub(crate) class: String,
    pub(crate) name: String,
    pub(crate) shallow_size: u64,
    pub(crate) retained_size: u64,
}

/// Describes a node for JSON output.
pub(crate) fn node_json(analysis: &HeapAnalysis<'_>, node: NodeIndex) -> NodeJson {
    let graph = analysis.graph();
    NodeJson {
        index: node.as_u32(),
        id: graph.object_id(node),
        kind: graph.kind(node).as_str(),
        class: analysis.class_name(node).to_string(),
        name: display_name(graph, node),
        shallow_size: analysis.shallow_size(node),
        retained_size: analysis.retained_size(node),
    }
}

/// A node's name for display: strings shortened, others as named.
pub(crate) fn display_name(graph: &heapgraph::HeapGraph, node: NodeIndex) -> String {
    let name = graph.name_str(node);
    let limit = match graph.kind(node) {
        NodeKind::String | NodeKind::ConsString | NodeKind::SlicedString => 60,
        _ => 200,
    };
    shorten(&name, limit)
}

/// Cuts `text` to `limit` characters with an ellipsis.
pub(crate) use heapgraph_report::text::shorten;

/// An object id as people read it: hex for HPROF addresses, `@id` for V8.
pub(crate) fn display_id(format: Format, id: u64) -> String {
    match format {
        Format::Hprof => format!("0x{id:x}"),
        Format::V8HeapSnapshot => format!("@{id}"),
        _ => format!("#{id}"),
    }
}

/// A node in one line: `Class @id` (plus its name when it is not the class).
pub(crate) fn describe(analysis: &HeapAnalysis<'_>, node: NodeIndex) -> String {
    let graph = analysis.graph();
    let class = analysis.class_name(node);
    let name = display_name(graph, node);
    if matches!(graph.kind(node), NodeKind::Synthetic | NodeKind::RootGroup)
        && graph.object_id(node) == 0
    {
        return name;
    }
    let id = display_id(graph.format(), graph.object_id(node));
    if class.is_empty() || class == name {
        format!("{name} {id}")
    } else if name.is_empty() {
        format!("{class} {id}")
    } else {
        format!("{class} {id} \"{name}\"")
    }
}

/// One step of a path in JSON: the edge taken and the node reached.
#[derive(Serialize, Clone, Debug)]
pub(crate) struct PathStepJson {
    pub(crate) edge_kind: &'static str,
    pub(crate) edge_name: String,
    pub(crate) node: NodeJson,
}

/// A retention path for JSON output: the root's steps in order.
pub(crate) fn path_json(analysis: &HeapAnalysis<'_>, path: &RetentionPath) -> Vec<PathStepJson> {
    let graph = analysis.graph();
    path.steps
        .iter()
        .map(|step| PathStepJson {
            edge_kind: graph.edge_kind(step.edge).as_str(),
            edge_name: graph.edge_label_str(step.edge).into_owned(),
            node: node_json(analysis, step.target),
        })
        .collect()
}

/// A retention path as indented text lines, root first.
pub(crate) fn path_lines(analysis: &HeapAnalysis<'_>, path: &RetentionPath) -> Vec<String> {
    let graph = analysis.graph();
    // Paths start at the root, except leak paths, which may start at
    // another GC root (a browser window).
    let first = match path.steps.first() {
        Some(step) if step.source.index() != 0 => describe(analysis, step.source),
        _ => "(root)".to_string(),
    };
    let mut lines = vec![first];
    for (depth, step) in path.steps.iter().enumerate() {
        lines.push(format!(
            "{}└─ .{} ({}) → {}",
            "   ".repeat(depth),
            graph.edge_label_str(step.edge),
            graph.edge_kind(step.edge),
            describe(analysis, step.target)
        ));
    }
    lines
}

/// Parses an object id: decimal, or hex with `0x`, or V8's `@123`.
pub(crate) fn parse_id(text: &str) -> Result<u64, Failure> {
    let t = text.trim().trim_start_matches('@');
    let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => t.parse(),
    };
    parsed.map_err(|_| {
        Failure(format!(
            "object id `{text}` is not a number (use decimal, 0x-hex or @id)"
        ))
    })
}

/// Writes `value` as pretty JSON followed by a newline.
pub(crate) fn write_json(out: &mut impl Write, value: &impl Serialize) -> Result<(), Outcome> {
    serde_json::to_writer_pretty(&mut *out, value)
        .map_err(|e| Outcome::from(std::io::Error::from(e)))?;
    writeln!(out)?;
    Ok(())
}

/// Applies `--top N` (0 = all).
pub(crate) fn take_top<T>(mut items: Vec<T>, top: usize) -> Vec<T> {
    if top > 0 {
        items.truncate(top);
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_in_every_notation() {
        assert_eq!(parse_id("42").unwrap(), 42);
        assert_eq!(parse_id("@42").unwrap(), 42);
        assert_eq!(parse_id("0x2a").unwrap(), 42);
        assert!(parse_id("forty-two").is_err());
    }
}

/// A retention path that grew between dumps, for `--json` (`leaks` and
/// `diff` where ids are not stable).
#[derive(Serialize)]
pub(crate) struct PathGrowthJson {
    pub(crate) shape: String,
    pub(crate) class: String,
    pub(crate) counts: Vec<u64>,
    pub(crate) shallow_sizes: Vec<u64>,
    pub(crate) retained_sizes: Vec<u64>,
    pub(crate) example: NodeJson,
}

impl PathGrowthJson {
    /// `path`, its example described in `last` (the last dump's analysis).
    pub(crate) fn new(
        last: &HeapAnalysis<'_>,
        path: heapgraph::analysis::leaks::growth::GrowingPath,
    ) -> Self {
        PathGrowthJson {
            counts: path.totals.iter().map(|t| t.count).collect(),
            shallow_sizes: path.totals.iter().map(|t| t.shallow_size).collect(),
            retained_sizes: path.totals.iter().map(|t| t.retained_size).collect(),
            example: node_json(last, path.example),
            shape: path.shape,
            class: path.class,
        }
    }
}
