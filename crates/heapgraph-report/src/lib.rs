//! One self-contained HTML page of a heap dump's analysis.
//!
//! [`Report::build`] gathers what the page shows from a [`heapgraph::Dump`]
//! and its [`HeapAnalysis`]: the overview, the class histogram, the
//! dominator tree to a bounded depth, MAT-style leak suspects with their
//! paths, duplicate strings, and (when the caller drew one) a flame graph.
//! Every table is cut to a size a mail can carry and the page says what was
//! cut. [`Report::to_html`] renders it with one template (minijinja): data
//! as inline JSON, small inline CSS and JavaScript of our own, nothing
//! fetched when the page is opened.

use heapgraph::analysis::diff::SnapshotDiff;
use heapgraph::analysis::leaks::growth::GrowingPath;
use heapgraph::analysis::suspects::{leak_suspects, SuspectKind};
use heapgraph::analysis::{HeapAnalysis, HistogramOrder};
use heapgraph::core::{NodeIndex, NodeKind};
use heapgraph::workflows::Leaks;
use heapgraph::Dump;
use serde::Serialize;

mod java;
pub mod text;

pub use java::{AndroidLeakRow, ArrayRow, CollectionRow, ConsumerRow, JavaSection, ThreadRow};

/// What can go wrong rendering a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The template failed to render (a bug in the template, not in the
    /// dump).
    #[error("rendering the report: {0}")]
    Template(#[from] minijinja::Error),
}

/// How much of each table the page embeds.
#[derive(Clone, Debug)]
pub struct ReportOptions {
    /// Class histogram rows (largest retained size first).
    pub max_classes: usize,
    /// Levels of the dominator tree below the top-level objects.
    pub tree_depth: usize,
    /// Children kept per dominator-tree node (largest retained size first).
    pub tree_children: usize,
    /// Dominator-tree nodes in all, taken level by level (the top of the
    /// tree first).
    pub tree_nodes: usize,
    /// Duplicate-string groups (most wasted bytes first).
    pub max_strings: usize,
    /// Dumps with more string objects than this get no duplicate-string
    /// section (finding duplicates reads every value; `heapgraph strings`
    /// does it on its own).
    pub max_string_objects: u64,
    /// Suspects retain at least this share of the heap (0 to 1).
    pub suspect_threshold: f64,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            max_classes: 20_000,
            tree_depth: 12,
            tree_children: 25,
            tree_nodes: 4000,
            max_strings: 200,
            max_string_objects: 1_000_000,
            suspect_threshold: 0.1,
        }
    }
}

/// The overview section.
#[derive(Clone, Debug, Serialize)]
pub struct Overview {
    /// The file, as the caller named it.
    pub file: String,
    /// `v8`, `hprof`, ...
    pub format: &'static str,
    /// What wrote the dump.
    pub producer: String,
    /// Objects in the graph (with the synthetic root and root groups).
    pub node_count: u64,
    /// References.
    pub edge_count: u64,
    /// Distinct objects held as GC roots.
    pub root_count: u64,
    /// The sum of shallow sizes.
    pub total_size: u64,
    /// The root's retained size.
    pub reachable_size: u64,
    /// Objects the root does not reach.
    pub unreachable_count: u64,
    /// What the parser noticed, one sentence each.
    pub warnings: Vec<String>,
}

/// A class histogram row.
#[derive(Clone, Debug, Serialize)]
pub struct ClassRow {
    /// The class name.
    pub class: String,
    /// Instances.
    pub count: u64,
    /// Their shallow sizes.
    pub shallow_size: u64,
    /// What they retain, each object counted once.
    pub retained_size: u64,
}

/// A node of the embedded dominator tree (a flat list: each node names its
/// parent's position).
#[derive(Clone, Debug, Serialize)]
pub struct TreeNode {
    /// The position of the node's dominator in [`Report::tree`], or `None`
    /// for the top-level objects.
    pub parent: Option<u32>,
    /// The dump's id of the object.
    pub id: u64,
    /// Its class.
    pub class: String,
    /// Its name, when that says more than the class (strings, closures).
    pub name: String,
    /// Shallow size.
    pub shallow_size: u64,
    /// Retained size.
    pub retained_size: u64,
    /// How many objects it immediately dominates in the dump.
    pub child_count: u64,
}

/// A leak suspect, as Eclipse MAT words it.
#[derive(Clone, Debug, Serialize)]
pub struct SuspectRow {
    /// "One instance of X retains …" / "N instances of X retain …".
    pub description: String,
    /// Bytes retained.
    pub retained_size: u64,
    /// Share of the heap, 0 to 1.
    pub share: f64,
    /// The shortest path from a GC root, one line per step.
    pub path: Vec<String>,
}

/// A duplicate-string group.
#[derive(Clone, Debug, Serialize)]
pub struct StringRow {
    /// The value, shortened for display.
    pub value: String,
    /// Copies.
    pub count: u64,
    /// Bytes freed if one copy were shared.
    pub wasted_bytes: u64,
}

/// A retention path (or traceback) that grew across dumps.
#[derive(Clone, Debug, Serialize)]
pub struct PathRow {
    /// The path as text.
    pub shape: String,
    /// The class at its end.
    pub class: String,
    /// Objects on it, per dump.
    pub counts: Vec<u64>,
    /// What they retain, per dump.
    pub retained_sizes: Vec<u64>,
}

impl PathRow {
    fn from_growth(path: &GrowingPath) -> PathRow {
        PathRow {
            shape: path.shape.clone(),
            class: path.class.clone(),
            counts: path.totals.iter().map(|t| t.count).collect(),
            retained_sizes: path.totals.iter().map(|t| t.retained_size).collect(),
        }
    }
}

/// A leak cluster of a three-snapshot page.
#[derive(Clone, Debug, Serialize)]
pub struct LeakRow {
    /// The class at the end of the trace.
    pub class: String,
    /// Leaked objects.
    pub count: u64,
    /// Candidates they hold.
    pub object_count: u64,
    /// Retained size (each object once).
    pub retained_size: u64,
    /// Whether the trace ends at a detached DOM node.
    pub detached_dom: bool,
    /// The trace.
    pub shape: String,
    /// One member's full path, one line per step.
    pub path: Vec<String>,
}

/// A class that grew and stayed grown (ids not stable).
#[derive(Clone, Debug, Serialize)]
pub struct GrowthRow {
    /// The class.
    pub class: String,
    /// Instances per snapshot.
    pub counts: Vec<u64>,
    /// Shallow bytes per snapshot.
    pub shallow_sizes: Vec<u64>,
}

/// The leak section of a `report BASELINE TARGET FINAL` page.
#[derive(Clone, Debug, Serialize)]
pub struct LeakSection {
    /// The three files.
    pub files: Vec<String>,
    /// `id` or `class`.
    pub matching: &'static str,
    /// Objects allocated after the baseline still alive in final.
    pub candidate_count: u64,
    /// Those reported as leaks.
    pub leak_count: u64,
    /// Clusters, largest first (cut to the page's limit).
    pub clusters: Vec<LeakRow>,
    /// Clusters in all.
    pub cluster_count: u64,
    /// Where ids are not stable: classes that grew and stayed grown.
    pub growing_classes: Vec<GrowthRow>,
    /// Where ids are not stable: retention paths that grew.
    pub growing_paths: Vec<PathRow>,
}

/// A class row of a `report OLD NEW` page.
#[derive(Clone, Debug, Serialize)]
pub struct DiffRow {
    /// The class.
    pub class: String,
    /// Instances, old and new.
    pub counts: [u64; 2],
    /// Change in shallow bytes.
    pub shallow_delta: i64,
    /// Change in retained bytes.
    pub retained_delta: i64,
    /// Objects only in the new dump (ids stable).
    pub new_objects: Option<u64>,
    /// Objects only in the old dump (ids stable).
    pub deleted_objects: Option<u64>,
}

/// The change section of a `report OLD NEW` page.
#[derive(Clone, Debug, Serialize)]
pub struct DiffSection {
    /// The two files.
    pub files: Vec<String>,
    /// `id` or `class`.
    pub matching: &'static str,
    /// Changed classes, largest change first (cut to the page's limit).
    pub classes: Vec<DiffRow>,
    /// Changed classes in all.
    pub class_count: u64,
    /// Retention paths with more objects in the new dump (ids not stable).
    pub grown_paths: Vec<PathRow>,
}

/// Everything the page shows.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The overview.
    pub overview: Overview,
    /// Histogram rows, largest retained size first.
    pub classes: Vec<ClassRow>,
    /// How many classes the dump has (rows past `classes` were cut).
    pub class_count: u64,
    /// The top of the dominator tree, level by level: the top-level objects
    /// and what they dominate, largest retained size first at each node.
    pub tree: Vec<TreeNode>,
    /// Leak suspects.
    pub suspects: Vec<SuspectRow>,
    /// Duplicate strings (`None`: the format has no string values).
    pub strings: Option<Vec<StringRow>>,
    /// Bytes wasted by all duplicate groups, listed or not.
    pub strings_wasted_bytes: u64,
    /// An SVG flame graph drawn by the caller (embedded as an image, not
    /// in the page's JSON).
    #[serde(skip)]
    pub flame_graph_svg: Option<String>,
    /// What the flame graph shows.
    pub flame_graph_title: String,
    /// Sentences saying what was cut to keep the page small.
    pub cuts: Vec<String>,
    /// On a three-snapshot page: the leaks.
    pub leaks: Option<LeakSection>,
    /// On a two-snapshot page: what changed.
    pub diff: Option<DiffSection>,
    /// For a Java heap dump: threads, top consumers, collections,
    /// duplicate arrays and Android lifecycle leaks.
    pub java: Option<java::JavaSection>,
}

impl Report {
    /// Gathers the page's content.
    pub fn build(
        dump: &Dump,
        analysis: &HeapAnalysis<'_>,
        file: &str,
        options: &ReportOptions,
    ) -> Report {
        let overview = overview(dump, analysis, file);
        let mut cuts = Vec::new();

        let mut histogram = analysis.class_histogram();
        histogram.sort_by(HistogramOrder::RetainedSize);
        let class_count = histogram.rows().len() as u64;
        let classes = class_rows(analysis, &histogram, options.max_classes);
        if class_count > classes.len() as u64 {
            cuts.push(format!(
                "The class histogram lists the {} classes that retain the most, of {}.",
                classes.len(),
                class_count
            ));
        }

        let (tree, tree_cut) = dominator_tree(analysis, options);
        if tree_cut {
            cuts.push(format!(
                "The dominator tree holds {} nodes: at most {} children of each node, {} levels deep.",
                tree.len(),
                options.tree_children,
                options.tree_depth + 1
            ));
        }

        let total = analysis.retained_size(NodeIndex::ROOT).max(1);
        let allocation_only = matches!(
            dump.format(),
            heapgraph::Format::Tracemalloc | heapgraph::Format::V8HeapProfile
        );
        let suspects = if allocation_only {
            Vec::new()
        } else {
            leak_suspects(analysis, options.suspect_threshold)
                .into_iter()
                .map(|s| suspect_row(analysis, s, total))
                .collect()
        };

        let string_objects = string_object_count(dump, analysis, &histogram);
        let duplicates = if string_objects > options.max_string_objects {
            cuts.push(format!(
                "Duplicate strings are not searched in a dump of {string_objects} strings; \
                 `heapgraph strings` lists them."
            ));
            None
        } else {
            dump.duplicate_strings(analysis)
        };
        let (strings, strings_wasted_bytes) = match duplicates {
            Some(groups) => {
                let wasted = groups
                    .iter()
                    .map(|g| g.wasted_bytes)
                    .fold(0u64, u64::saturating_add);
                if groups.len() > options.max_strings {
                    cuts.push(format!(
                        "Duplicate strings: the {} groups wasting the most bytes, of {}.",
                        options.max_strings,
                        groups.len()
                    ));
                }
                let rows = groups
                    .into_iter()
                    .take(options.max_strings)
                    .map(|g| StringRow {
                        value: text::shorten(&String::from_utf8_lossy(&g.value), 120),
                        count: g.count,
                        wasted_bytes: g.wasted_bytes,
                    })
                    .collect();
                (Some(rows), wasted)
            }
            None => (None, 0),
        };

        let java = java::java_section(dump, analysis, &mut cuts);

        Report {
            overview,
            classes,
            class_count,
            tree,
            suspects,
            strings,
            strings_wasted_bytes,
            flame_graph_svg: None,
            flame_graph_title: String::new(),
            cuts,
            leaks: None,
            diff: None,
            java,
        }
    }

    /// Only the overview and the `max_classes` classes that retain the most
    /// (for a notebook's view of a snapshot: no tree, suspects or strings
    /// are computed).
    pub fn overview_only(
        dump: &Dump,
        analysis: &HeapAnalysis<'_>,
        file: &str,
        max_classes: usize,
    ) -> Report {
        let mut histogram = analysis.class_histogram();
        histogram.sort_by(HistogramOrder::RetainedSize);
        Report {
            overview: overview(dump, analysis, file),
            classes: class_rows(analysis, &histogram, max_classes),
            class_count: histogram.rows().len() as u64,
            tree: Vec::new(),
            suspects: Vec::new(),
            strings: None,
            strings_wasted_bytes: 0,
            flame_graph_svg: None,
            flame_graph_title: String::new(),
            cuts: Vec::new(),
            leaks: None,
            diff: None,
            java: None,
        }
    }

    /// Adds the leaks of three snapshots (`files` in order; `final_` is the
    /// analysis of the last, which the rest of the page describes) and the
    /// growing retention paths where ids are not stable; at most `top`
    /// clusters.
    pub fn with_leaks(
        mut self,
        files: [&str; 3],
        leaks: &Leaks,
        final_: &HeapAnalysis<'_>,
        growing_paths: &[GrowingPath],
        top: usize,
    ) -> Report {
        let graph = final_.graph();
        let clusters = leaks
            .clusters
            .iter()
            .take(top)
            .map(|c| LeakRow {
                class: c.class.clone(),
                count: c.count,
                object_count: c.object_count,
                retained_size: c.retained_size,
                detached_dom: c.detached_dom,
                shape: c.shape.clone(),
                path: c
                    .path
                    .steps
                    .iter()
                    .map(|s| {
                        format!(
                            ".{} → {} @{}",
                            graph.edge_label_str(s.edge),
                            final_.class_name(s.target),
                            graph.object_id(s.target)
                        )
                    })
                    .collect(),
            })
            .collect::<Vec<_>>();
        if leaks.clusters.len() > clusters.len() {
            self.cuts.push(format!(
                "Leaks: the {} largest clusters of {}.",
                clusters.len(),
                leaks.clusters.len()
            ));
        }
        self.leaks = Some(LeakSection {
            files: files.iter().map(ToString::to_string).collect(),
            matching: leaks.matching.as_str(),
            candidate_count: leaks.candidate_count,
            leak_count: leaks.leak_count,
            clusters,
            cluster_count: leaks.clusters.len() as u64,
            growing_classes: leaks
                .growing_classes
                .iter()
                .take(top)
                .map(|g| GrowthRow {
                    class: g.key.clone(),
                    counts: g.totals.iter().map(|t| t.count).collect(),
                    shallow_sizes: g.totals.iter().map(|t| t.bytes).collect(),
                })
                .collect(),
            growing_paths: growing_paths
                .iter()
                .take(top)
                .map(PathRow::from_growth)
                .collect(),
        });
        self
    }

    /// Adds what changed between two snapshots (`files` old, new; the rest
    /// of the page describes the new one): at most `top` classes and paths.
    pub fn with_diff(
        mut self,
        files: [&str; 2],
        diff: &SnapshotDiff,
        grown_paths: &[GrowingPath],
        top: usize,
    ) -> Report {
        let classes: Vec<DiffRow> = diff
            .classes
            .iter()
            .take(top)
            .map(|d| DiffRow {
                class: d.class.clone(),
                counts: [d.old_count, d.new_count],
                shallow_delta: d.shallow_size_delta(),
                retained_delta: d.retained_size_delta(),
                new_objects: d.new_objects.map(|o| o.count),
                deleted_objects: d.deleted_objects.map(|o| o.count),
            })
            .collect();
        if diff.classes.len() > classes.len() {
            self.cuts.push(format!(
                "Changes: the {} classes that changed most, of {}.",
                classes.len(),
                diff.classes.len()
            ));
        }
        self.diff = Some(DiffSection {
            files: files.iter().map(ToString::to_string).collect(),
            matching: diff.matching.as_str(),
            class_count: diff.classes.len() as u64,
            classes,
            grown_paths: grown_paths
                .iter()
                .take(top)
                .map(PathRow::from_growth)
                .collect(),
        });
        self
    }

    /// Adds a flame graph (an SVG document, e.g. from `inferno`) under
    /// `title`.
    pub fn with_flame_graph(mut self, title: &str, svg: String) -> Report {
        self.flame_graph_title = title.to_string();
        self.flame_graph_svg = Some(svg);
        self
    }

    /// The whole page.
    ///
    /// # Errors
    ///
    /// [`ReportError::Template`] if the template cannot render (a bug).
    pub fn to_html(&self) -> Result<String, ReportError> {
        let mut env = minijinja::Environment::new();
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        env.add_filter("bytes", |b: u64| text::bytes(b));
        env.add_filter("thousands", |n: u64| text::thousands(n));
        env.add_filter("signed_bytes", |n: i64| text::signed_bytes(n));
        env.add_template("report.html", include_str!("../templates/report.html"))?;
        env.add_template("overview.html", include_str!("../templates/overview.html"))?;
        let svg = self.flame_graph_svg.as_deref().map(base64);
        let html = env
            .get_template("report.html")?
            .render(minijinja::context! {
                report => self,
                flame_svg_base64 => svg,
                style => include_str!("../templates/report.css"),
                script => include_str!("../templates/report.js"),
            })?;
        Ok(html)
    }

    /// The overview and the top of the class histogram as an HTML fragment
    /// (for notebooks: the same template as the page's overview).
    ///
    /// # Errors
    ///
    /// [`ReportError::Template`] if the template cannot render (a bug).
    pub fn overview_html(&self, max_classes: usize) -> Result<String, ReportError> {
        let mut env = minijinja::Environment::new();
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        env.add_filter("bytes", |b: u64| text::bytes(b));
        env.add_filter("thousands", |n: u64| text::thousands(n));
        env.add_filter("signed_bytes", |n: i64| text::signed_bytes(n));
        env.add_template("overview.html", include_str!("../templates/overview.html"))?;
        let classes: Vec<&ClassRow> = self.classes.iter().take(max_classes).collect();
        Ok(env
            .get_template("overview.html")?
            .render(minijinja::context! {
                report => self,
                classes => classes,
                standalone => true,
            })?)
    }
}

fn overview(dump: &Dump, analysis: &HeapAnalysis<'_>, file: &str) -> Overview {
    let graph = dump.graph();
    Overview {
        file: file.to_string(),
        format: dump.format().as_str(),
        producer: dump.producer().to_string(),
        node_count: graph.node_count() as u64,
        edge_count: graph.edge_count() as u64,
        root_count: dump.root_count(),
        total_size: analysis.shallow_sizes().sum(),
        reachable_size: analysis.retained_size(NodeIndex::ROOT),
        unreachable_count: analysis.unreachable().count() as u64,
        warnings: dump.warnings().iter().map(ToString::to_string).collect(),
    }
}

fn class_rows(
    analysis: &HeapAnalysis<'_>,
    histogram: &heapgraph::analysis::ClassHistogram,
    max_classes: usize,
) -> Vec<ClassRow> {
    histogram
        .rows()
        .iter()
        .take(max_classes)
        .map(|r| ClassRow {
            class: analysis.classes().name(r.class).to_string(),
            count: r.count,
            shallow_size: r.shallow_size,
            retained_size: r.retained_size,
        })
        .collect()
}

/// How many string objects the dump holds: V8 string nodes, Java
/// `java.lang.String` instances.
fn string_object_count(
    dump: &Dump,
    analysis: &HeapAnalysis<'_>,
    histogram: &heapgraph::analysis::ClassHistogram,
) -> u64 {
    match dump.format() {
        heapgraph::Format::Hprof => histogram
            .rows()
            .iter()
            .find(|r| analysis.classes().name(r.class) == "java.lang.String")
            .map_or(0, |r| r.count),
        _ => dump
            .graph()
            .kinds()
            .iter()
            .filter(|k| {
                matches!(
                    k,
                    NodeKind::String | NodeKind::ConsString | NodeKind::SlicedString
                )
            })
            .count() as u64,
    }
}

/// The dominator tree's top-level objects: the root's children, with the
/// synthetic root groups looked through, largest retained size first, at
/// most `limit` of them.
fn top_level(analysis: &HeapAnalysis<'_>, limit: usize) -> Vec<NodeIndex> {
    let graph = analysis.graph();
    let mut out = Vec::new();
    let mut stack = vec![NodeIndex::ROOT];
    while let Some(node) = stack.pop() {
        for child in analysis.dominated().of(node) {
            if matches!(graph.kind(child), NodeKind::Synthetic | NodeKind::RootGroup) {
                stack.push(child);
            } else {
                out.push(child);
            }
        }
    }
    let order = |a: &NodeIndex, b: &NodeIndex| {
        analysis
            .retained_size(*b)
            .cmp(&analysis.retained_size(*a))
            .then(a.cmp(b))
    };
    if limit > 0 && limit < out.len() {
        out.select_nth_unstable_by(limit - 1, order);
        out.truncate(limit);
    }
    out.sort_by(order);
    out
}

/// The top of the dominator tree, breadth first within the options'
/// bounds, and whether anything was left out.
fn dominator_tree(analysis: &HeapAnalysis<'_>, options: &ReportOptions) -> (Vec<TreeNode>, bool) {
    let mut tree = Vec::new();
    let mut cut = false;
    // (node, parent position, depth)
    let mut queue: std::collections::VecDeque<(NodeIndex, Option<u32>, usize)> =
        top_level(analysis, options.tree_children + 1)
            .into_iter()
            .enumerate()
            .filter_map(|(i, n)| {
                cut |= i >= options.tree_children;
                (i < options.tree_children).then_some((n, None, 0))
            })
            .collect();
    while let Some((node, parent, depth)) = queue.pop_front() {
        if tree.len() >= options.tree_nodes {
            cut = true;
            break;
        }
        let position = tree.len() as u32;
        let child_count = analysis.dominated().of(node).len() as u64;
        tree.push(TreeNode {
            parent,
            id: analysis.graph().object_id(node),
            class: analysis.class_name(node).to_string(),
            name: display_name(analysis, node),
            shallow_size: analysis.shallow_size(node),
            retained_size: analysis.retained_size(node),
            child_count,
        });
        if depth < options.tree_depth {
            let children = analysis.top_dominators(node, options.tree_children);
            cut |= child_count > children.len() as u64;
            queue.extend(children.into_iter().map(|c| (c, Some(position), depth + 1)));
        } else {
            cut |= child_count > 0;
        }
    }
    (tree, cut)
}

/// The node's name when it says more than its class.
fn display_name(analysis: &HeapAnalysis<'_>, node: NodeIndex) -> String {
    let name = analysis.graph().name_str(node);
    if name == analysis.class_name(node) {
        String::new()
    } else {
        text::shorten(&name, 80)
    }
}

fn suspect_row(
    analysis: &HeapAnalysis<'_>,
    suspect: heapgraph::analysis::suspects::Suspect,
    total: u64,
) -> SuspectRow {
    let graph = analysis.graph();
    let percent = suspect.share * 100.0;
    let (description, path) = match &suspect.kind {
        SuspectKind::Object {
            node,
            path,
            accumulation_point,
        } => {
            let mut text = format!(
                "One instance of {} (id {}) retains {} ({percent:.1} % of {}).",
                suspect.class,
                graph.object_id(*node),
                text::bytes(suspect.retained_size),
                text::bytes(total)
            );
            if accumulation_point != node {
                text.push_str(&format!(
                    " The memory accumulates in one instance of {} (id {}), retaining {}.",
                    analysis.class_name(*accumulation_point),
                    graph.object_id(*accumulation_point),
                    text::bytes(analysis.retained_size(*accumulation_point))
                ));
            }
            let lines = path
                .as_ref()
                .map(|p| {
                    p.steps
                        .iter()
                        .map(|s| {
                            format!(
                                ".{} → {} (id {})",
                                graph.edge_label_str(s.edge),
                                analysis.class_name(s.target),
                                graph.object_id(s.target)
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            (text, lines)
        }
        SuspectKind::Class { instance_count, .. } => (
            format!(
                "{instance_count} instances of {} retain {} ({percent:.1} % of {}).",
                suspect.class,
                text::bytes(suspect.retained_size),
                text::bytes(total)
            ),
            Vec::new(),
        ),
        _ => (
            format!(
                "{} retains {} ({percent:.1} % of {}).",
                suspect.class,
                text::bytes(suspect.retained_size),
                text::bytes(total)
            ),
            Vec::new(),
        ),
    };
    SuspectRow {
        description,
        retained_size: suspect.retained_size,
        share: suspect.share,
        path,
    }
}

/// Standard base64 (RFC 4648, with padding), for the flame graph's `data:`
/// URL.
fn base64(text: &str) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(TABLE[(n >> shift & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input), expected);
        }
    }
}

/// The examples of this crate's README, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
