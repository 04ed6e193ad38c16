//! [`Snapshot`]: one opened dump, whose analyses Python reads as tables and dicts.

use std::path::PathBuf;
use std::sync::Arc;

use heapgraph::analysis::suspects::{leak_suspects, top_level_objects, SuspectKind};
use heapgraph::analysis::{class_name_matches, HistogramOrder};
use heapgraph::core::{EdgeIndex, NodeIndex};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::common::{
    clamp, detached, frames, histogram_order, key_type, path_ids, table_of, take_top,
    trace_filters, FilterSpec,
};
use crate::errors::{ErrorClass, Failure};
use crate::loaded::{Loaded, Options};
use crate::table::{self, ArrowStream, NodeColumns, Table};

/// A heap dump opened by `heapgraph.open` (see the Python package).
#[pyclass(frozen, module = "heapgraph._native")]
pub(crate) struct Snapshot {
    pub(crate) inner: Arc<Loaded>,
}

/// Opens and parses a dump (see `heapgraph.open`).
#[pyfunction]
#[pyo3(signature = (path, size_model = "mat", weak_referents = "count", memory_map = true, dump = 1, memory_check = true))]
pub(crate) fn open(
    py: Python<'_>,
    path: PathBuf,
    size_model: &str,
    weak_referents: &str,
    memory_map: bool,
    dump: u32,
    memory_check: bool,
) -> PyResult<Snapshot> {
    let options = Options::parse(size_model, weak_referents, memory_map, dump, memory_check)?;
    let loaded = detached(py, || options.open(&path))?;
    Ok(Snapshot {
        inner: Arc::new(loaded),
    })
}

#[pymethods]
impl Snapshot {
    /// The file the snapshot was read from.
    #[getter]
    fn path(&self) -> String {
        self.inner.file()
    }

    /// The format: `hprof`, `v8`, `v8_heapprofile`, `tracemalloc`.
    #[getter]
    fn format(&self) -> &'static str {
        self.inner.dump.format().as_str()
    }

    /// The producer the file names.
    #[getter]
    fn producer(&self) -> String {
        self.inner.dump.producer().to_string()
    }

    /// Nodes in the graph (objects plus synthetic root nodes).
    #[getter]
    fn node_count(&self) -> usize {
        self.inner.dump.graph().node_count()
    }

    /// Edges (references) in the graph.
    #[getter]
    fn edge_count(&self) -> usize {
        self.inner.dump.graph().edge_count()
    }

    /// Whether object ids identify the same object across snapshots.
    #[getter]
    fn ids_are_stable(&self) -> bool {
        self.inner.dump.ids_are_stable()
    }

    /// The sum of all shallow sizes (the CLI summary's `total_size`).
    #[getter]
    fn total_size(&self, py: Python<'_>) -> PyResult<u64> {
        let inner = &self.inner;
        detached(py, || Ok(inner.analysis().shallow_sizes().iter().sum()))
    }

    /// The overview and the `max_classes` classes that retain the most, as
    /// an HTML fragment: the `heapgraph report` page's own template.
    fn overview_html(&self, py: Python<'_>, max_classes: usize) -> PyResult<String> {
        let inner = &self.inner;
        detached(py, || {
            let report = heapgraph_report::Report::overview_only(
                &inner.dump,
                inner.analysis(),
                &inner.file(),
                max_classes,
            );
            report
                .overview_html(max_classes)
                .map_err(|e| Failure::new(ErrorClass::Analysis, e.to_string()))
        })
    }

    /// The scalar fields of the CLI's `summary --json`, as a dict.
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let inner = &self.inner;
        let (roots, unreachable, total, reachable) = detached(py, || {
            let analysis = inner.analysis();
            Ok((
                inner.dump.root_count(),
                analysis.unreachable().count() as u64,
                analysis.shallow_sizes().iter().sum::<u64>(),
                analysis.retained_size(NodeIndex::ROOT),
            ))
        })?;
        let graph = inner.dump.graph();
        let d = PyDict::new(py);
        d.set_item("file", inner.file())?;
        d.set_item("format", inner.dump.format().as_str())?;
        d.set_item("producer", inner.dump.producer())?;
        d.set_item("node_count", graph.node_count())?;
        d.set_item("edge_count", graph.edge_count())?;
        d.set_item("root_count", roots)?;
        d.set_item("unreachable_count", unreachable)?;
        d.set_item("total_size", total)?;
        d.set_item("reachable_size", reachable)?;
        d.set_item("dangling_edges", graph.diagnostics().dangling_edges)?;
        d.set_item(
            "unresolved_references",
            graph.diagnostics().unresolved_references,
        )?;
        d.set_item("ids_are_stable", inner.dump.ids_are_stable())?;
        d.set_item("warnings", inner.dump.warnings())?;
        Ok(d)
    }

    /// Count, shallow and retained size per class.
    #[pyo3(signature = (sort = "retained", top = 0, pattern = None))]
    fn histogram(
        &self,
        py: Python<'_>,
        sort: &str,
        top: usize,
        pattern: Option<String>,
    ) -> PyResult<ArrowStream> {
        let inner = &self.inner;
        table_of(py, || {
            let order = histogram_order(sort)?;
            let analysis = inner.analysis();
            let mut histogram = analysis.class_histogram();
            histogram.sort_by(order);
            let mut rows: Vec<(String, u64, u64, u64)> = histogram
                .rows()
                .iter()
                .map(|r| {
                    (
                        analysis.classes().name(r.class).to_string(),
                        r.count,
                        r.shallow_size,
                        r.retained_size,
                    )
                })
                .collect();
            if let Some(p) = &pattern {
                rows.retain(|r| class_name_matches(p, &r.0));
            }
            let rows = take_top(rows, top);
            let mut t = Table::new();
            t.text("class", rows.iter().map(|r| r.0.as_str()));
            t.u64("count", rows.iter().map(|r| r.1).collect());
            t.u64("shallow_size", rows.iter().map(|r| r.2).collect());
            t.u64("retained_size", rows.iter().map(|r| r.3).collect());
            t.meta("sort", sort);
            Ok(t)
        })
    }

    /// Instances grouped by package or class loader (the CLI's `histogram
    /// --by package|classloader`, Eclipse MAT's Top Consumers; HPROF).
    #[pyo3(signature = (by = "package", sort = "retained", top = 0, pattern = None))]
    fn top_consumers(
        &self,
        py: Python<'_>,
        by: &str,
        sort: &str,
        top: usize,
        pattern: Option<String>,
    ) -> PyResult<ArrowStream> {
        use heapgraph::analysis::consumers::{top_consumers, Grouping};
        let inner = &self.inner;
        table_of(py, || {
            let grouping = match by {
                "package" => Grouping::Package,
                "classloader" => Grouping::ClassLoader,
                other => {
                    return Err(Failure::new(
                        ErrorClass::Analysis,
                        format!("by must be 'package' or 'classloader', not {other:?}"),
                    ))
                }
            };
            java_only(&inner.dump, &format!("top_consumers(by={by:?})"))?;
            let mut rows = top_consumers(inner.analysis(), grouping);
            if let Some(p) = &pattern {
                rows.retain(|r| class_name_matches(p, &r.group));
            }
            match histogram_order(sort)? {
                HistogramOrder::Count => rows.sort_by_key(|r| std::cmp::Reverse(r.count)),
                HistogramOrder::ShallowSize => {
                    rows.sort_by_key(|r| std::cmp::Reverse(r.shallow_size))
                }
                _ => {}
            }
            let rows = take_top(rows, top);
            let mut t = Table::new();
            t.text("group", rows.iter().map(|r| r.group.as_str()));
            t.opt_u64("loader_id", rows.iter().map(|r| r.loader_id).collect());
            t.u64("classes", rows.iter().map(|r| r.classes).collect());
            t.u64("count", rows.iter().map(|r| r.count).collect());
            t.u64(
                "shallow_size",
                rows.iter().map(|r| r.shallow_size).collect(),
            );
            t.u64(
                "retained_size",
                rows.iter().map(|r| r.retained_size).collect(),
            );
            t.meta("by", by);
            t.meta("sort", sort);
            Ok(t)
        })
    }

    /// SQL over the dump's tables (the CLI's `query`): the rows as one
    /// Arrow stream. The analysis is shared with the other methods.
    fn query(&self, py: Python<'_>, sql: &str) -> PyResult<ArrowStream> {
        let inner = &self.inner;
        let result = detached(py, || {
            let failure =
                |e: heapgraph_sql::Error| Failure::new(ErrorClass::Analysis, format!("query: {e}"));
            let engine = heapgraph_sql::Engine::new().map_err(failure)?;
            match inner.analysis.get() {
                Some(analysed) => engine.register_analysed(Arc::clone(analysed)),
                None => engine.register_dump(Arc::clone(&inner.dump)),
            }
            .map_err(failure)?;
            let result = engine.query(sql).map_err(failure)?;
            if let Some(analysed) = engine.analysed() {
                let _ = inner.analysis.set(analysed);
            }
            Ok(result)
        })?;
        Ok(ArrowStream::from_batches(result.schema, result.batches))
    }

    /// Duplicate primitive arrays of an HPROF dump (the CLI's `strings
    /// --arrays`).
    #[pyo3(signature = (top = 0))]
    fn duplicate_arrays(&self, py: Python<'_>, top: usize) -> PyResult<ArrowStream> {
        let inner = &self.inner;
        table_of(py, || {
            let dump = &*inner.dump;
            let graph = dump.graph();
            java_only(dump, "duplicate_arrays()")?;
            let groups = dump.duplicate_arrays(inner.analysis()).unwrap_or_default();
            let wasted: u64 = groups.iter().map(|d| d.copies.wasted_bytes).sum();
            let count = groups.len();
            let rows = take_top(groups, top);
            let mut t = Table::new();
            t.text("type", rows.iter().map(|d| format!("{}[]", d.element_type)));
            t.u64("length", rows.iter().map(|d| d.length).collect());
            duplicate_columns(&mut t, graph, rows.iter().map(|d| &d.copies));
            t.meta("duplicate_arrays", count);
            t.meta("wasted_size", wasted);
            Ok(t)
        })
    }

    /// Android objects whose lifecycle has ended (the CLI's
    /// `android-leaks`), one row per leak with its path as lists.
    fn android_leaks(&self, py: Python<'_>) -> PyResult<ArrowStream> {
        let inner = &self.inner;
        table_of(py, || {
            java_only(&inner.dump, "android_leaks()")?;
            let analysis = inner.analysis();
            let graph = analysis.graph();
            let leaks = heapgraph::android::lifecycle_leaks(&inner.dump, analysis);
            let mut t = Table::new();
            t.u64(
                "id",
                leaks.iter().map(|l| graph.object_id(l.node)).collect(),
            );
            t.text("class", leaks.iter().map(|l| l.class.as_str()));
            t.text("kind", leaks.iter().map(|l| l.kind));
            t.text("reason", leaks.iter().map(|l| l.reason));
            t.u64(
                "retained_size",
                leaks.iter().map(|l| l.retained_size).collect(),
            );
            t.bool(
                "library_leak",
                leaks.iter().map(|l| l.library_leak).collect(),
            );
            t.text("gc_root", leaks.iter().map(|l| l.gc_root.as_str()));
            t.u64_lists(
                "path_ids",
                leaks
                    .iter()
                    .map(|l| Some(l.path.iter().map(|r| graph.object_id(r.source)).collect()))
                    .collect(),
            );
            t.text(
                "path",
                leaks.iter().map(|l| {
                    l.path
                        .iter()
                        .map(|r| {
                            let mark = if r.library_leak {
                                " (library leak)"
                            } else {
                                ""
                            };
                            format!("{}.{}{mark}", r.source_class, r.reference)
                        })
                        .collect::<Vec<_>>()
                        .join(" -> ")
                }),
            );
            Ok(t)
        })
    }

    /// Java collections by class and holding field (the CLI's
    /// `collections`).
    #[pyo3(signature = (top = 0))]
    fn collections(&self, py: Python<'_>, top: usize) -> PyResult<ArrowStream> {
        let inner = &self.inner;
        table_of(py, || {
            java_only(&inner.dump, "collections()")?;
            let found = heapgraph::collections::collections(&inner.dump, inner.analysis());
            let wasted: u64 = heapgraph::collections::total_wasted_bytes(&found);
            let groups = take_top(heapgraph::collections::group(&found), top);
            let mut t = Table::new();
            t.text("class", groups.iter().map(|g| g.class.as_str()));
            t.text("holder", groups.iter().map(|g| g.holder.as_str()));
            t.u64("count", groups.iter().map(|g| g.count).collect());
            t.u64("empty", groups.iter().map(|g| g.empty).collect());
            t.u64("size", groups.iter().map(|g| g.size).collect());
            t.u64("capacity", groups.iter().map(|g| g.capacity).collect());
            t.f64("fill_ratio", groups.iter().map(|g| g.fill_ratio).collect());
            t.u64(
                "wasted_bytes",
                groups.iter().map(|g| g.wasted_bytes).collect(),
            );
            t.meta("collection_count", found.len());
            t.meta("wasted_bytes", wasted);
            Ok(t)
        })
    }

    /// The threads of an HPROF dump, one row per stack frame (the CLI's
    /// `threads`).
    fn threads(&self, py: Python<'_>) -> PyResult<ArrowStream> {
        let inner = &self.inner;
        table_of(py, || {
            java_only(&inner.dump, "threads()")?;
            let analysis = inner.analysis();
            let graph = analysis.graph();
            let mut t = Table::new();
            let (mut ids, mut names, mut states, mut retained) = (vec![], vec![], vec![], vec![]);
            let (mut depths, mut functions, mut files, mut lines) =
                (vec![], vec![], vec![], vec![]);
            let (mut locals, mut locals_retained) = (vec![], vec![]);
            for thread in heapgraph::threads::java_threads(&inner.dump, analysis) {
                let mut row = |frame: Option<&heapgraph::threads::FrameView>| {
                    ids.push(graph.object_id(thread.node));
                    names.push(thread.name.clone());
                    states.push(thread.state.map(str::to_string));
                    retained.push(thread.retained_size);
                    depths.push(frame.map(|f| f.depth));
                    functions.push(frame.map(|f| f.function.clone()));
                    files.push(frame.map(|f| f.file.clone()));
                    lines.push(frame.map(|f| f.line));
                    locals.push(
                        frame.map(|f| f.locals.iter().map(|l| graph.object_id(l.node)).collect()),
                    );
                    locals_retained.push(frame.map(|f| f.locals_retained_size));
                };
                if thread.frames.is_empty() {
                    row(None);
                }
                for frame in &thread.frames {
                    row(Some(frame));
                }
            }
            t.u64("thread_id", ids);
            t.opt_text("thread_name", names);
            t.opt_text("state", states);
            t.u64("retained_size", retained);
            t.opt_u32("depth", depths);
            t.opt_text("function", functions);
            t.opt_text("file", files);
            t.opt_u32("line", lines);
            t.u64_lists("local_ids", locals);
            t.opt_u64("locals_retained_size", locals_retained);
            Ok(t)
        })
    }

    /// Every node: the columns of `heapgraph export --what nodes`.
    fn nodes(&self, py: Python<'_>) -> PyResult<ArrowStream> {
        let inner = &self.inner;
        table_of(py, || {
            let analysis = inner.analysis();
            let graph = analysis.graph();
            let n = graph.node_count();
            let nodes = || (0..n).map(|i| NodeIndex::new(i as u32));
            let mut t = Table::new();
            t.u32("index", nodes().map(NodeIndex::as_u32).collect());
            t.u64("id", nodes().map(|v| graph.object_id(v)).collect());
            t.text("kind", nodes().map(|v| graph.kind(v).as_str()));
            t.text("name", nodes().map(|v| graph.name_str(v)));
            t.u64("self_size", graph.self_sizes().to_vec());
            t.u64("shallow_size", analysis.shallow_sizes().to_vec());
            t.u64("retained_size", analysis.retained_sizes().to_vec());
            t.opt_u64(
                "dominator_id",
                nodes()
                    .map(|v| {
                        analysis
                            .immediate_dominator(v)
                            .filter(|&d| d != v)
                            .map(|d| graph.object_id(d))
                    })
                    .collect(),
            );
            t.opt_u32("distance", nodes().map(|v| analysis.distance(v)).collect());
            Ok(t)
        })
    }

    /// Every edge: the columns of `heapgraph export --what edges`.
    fn edges(&self, py: Python<'_>) -> PyResult<ArrowStream> {
        let inner = &self.inner;
        table_of(py, || {
            let graph = inner.dump.graph();
            let edges = || (0..graph.edge_count()).map(|i| EdgeIndex::new(i as u32));
            let mut t = Table::new();
            t.u32(
                "source_index",
                edges().map(|e| graph.edge_source(e).as_u32()).collect(),
            );
            t.u64(
                "source_id",
                edges()
                    .map(|e| graph.object_id(graph.edge_source(e)))
                    .collect(),
            );
            t.u32(
                "target_index",
                edges().map(|e| graph.edge_target(e).as_u32()).collect(),
            );
            t.u64(
                "target_id",
                edges()
                    .map(|e| graph.object_id(graph.edge_target(e)))
                    .collect(),
            );
            t.text("kind", edges().map(|e| graph.edge_kind(e).as_str()));
            t.text("name", edges().map(|e| graph.edge_label_str(e)));
            Ok(t)
        })
    }

    /// The dominator tree from the top-level objects, largest retained
    /// first, flattened in pre-order.
    #[pyo3(signature = (top = 10, depth = 1))]
    fn dominators(&self, py: Python<'_>, top: usize, depth: usize) -> PyResult<ArrowStream> {
        let inner = &self.inner;
        table_of(py, || {
            let analysis = inner.analysis();
            let graph = analysis.graph();
            let depth = depth.clamp(1, 64);
            let mut tops = top_level_objects(analysis);
            tops.sort_by(|&a, &b| {
                analysis
                    .retained_size(b)
                    .cmp(&analysis.retained_size(a))
                    .then(a.cmp(&b))
            });
            let tops = take_top(tops, top);
            let mut levels = Vec::new();
            let mut parents = Vec::new();
            let mut columns = NodeColumns::default();
            let mut stack: Vec<(NodeIndex, u32, Option<u64>)> =
                tops.iter().rev().map(|&n| (n, 0, None)).collect();
            while let Some((node, level, parent)) = stack.pop() {
                levels.push(level);
                parents.push(parent);
                columns.push(analysis, Some(node));
                if (level as usize) + 1 < depth {
                    for child in analysis.top_dominators(node, top).into_iter().rev() {
                        stack.push((child, level + 1, Some(graph.object_id(node))));
                    }
                }
            }
            let mut t = Table::new();
            t.u32("depth", levels);
            t.opt_u64("parent_id", parents);
            columns.add_to(&mut t, "");
            t.meta("total_size", analysis.retained_size(NodeIndex::ROOT));
            Ok(t)
        })
    }

    /// The immediate dominators of the instances of the classes matching
    /// `of_class`, grouped by class (the CLI's `dominators --of-class`).
    #[pyo3(signature = (of_class, skip = Vec::new(), top = 0))]
    fn dominators_by_class(
        &self,
        py: Python<'_>,
        of_class: String,
        skip: Vec<String>,
        top: usize,
    ) -> PyResult<ArrowStream> {
        let inner = &self.inner;
        table_of(py, || {
            use heapgraph::analysis::class_name_matches;
            let analysis = inner.analysis();
            let members = analysis.instances_matching(&of_class);
            let rows = heapgraph::analysis::dominator_classes::immediate_dominators_by_class(
                analysis,
                &members,
                |class| skip.iter().any(|glob| class_name_matches(glob, class)),
            );
            let rows = take_top(rows, top);
            let mut t = Table::new();
            t.text("class", rows.iter().map(|r| r.class.as_str()));
            t.u64("dominators", rows.iter().map(|r| r.dominators).collect());
            t.u64(
                "dominators_retained_size",
                rows.iter().map(|r| r.dominators_retained_size).collect(),
            );
            t.u64("dominated", rows.iter().map(|r| r.dominated).collect());
            t.u64(
                "dominated_shallow_size",
                rows.iter().map(|r| r.dominated_shallow_size).collect(),
            );
            t.u64(
                "dominated_retained_size",
                rows.iter().map(|r| r.dominated_retained_size).collect(),
            );
            t.meta("member_count", members.len());
            Ok(t)
        })
    }

    /// One object as the CLI's `retainers --json` describes it, with its
    /// immediate dominator; raises `ObjectNotFoundError` for unknown ids.
    fn object<'py>(&self, py: Python<'py>, id: u64) -> PyResult<Bound<'py, PyDict>> {
        let inner = &self.inner;
        let (node, dominator) = detached(py, || {
            let node = self.find(id)?;
            let analysis = inner.analysis();
            Ok((node, analysis.immediate_dominator(node)))
        })?;
        let analysis = inner.analysis();
        let graph = analysis.graph();
        let d = PyDict::new(py);
        d.set_item("index", node.as_u32())?;
        d.set_item("id", graph.object_id(node))?;
        d.set_item("kind", graph.kind(node).as_str())?;
        d.set_item("class", analysis.class_name(node))?;
        d.set_item("name", table::display_name(graph, node))?;
        d.set_item("self_size", graph.self_size(node))?;
        d.set_item("shallow_size", analysis.shallow_size(node))?;
        d.set_item("retained_size", analysis.retained_size(node))?;
        d.set_item("distance", analysis.distance(node))?;
        d.set_item("dominator_id", dominator.map(|d| graph.object_id(d)))?;
        Ok(d)
    }

    /// What references an object, and its `paths` shortest paths from GC
    /// roots, as one table (see the Python docs).
    #[pyo3(signature = (id, paths = 3))]
    fn retainers(&self, py: Python<'_>, id: u64, paths: usize) -> PyResult<ArrowStream> {
        let inner = &self.inner;
        table_of(py, || {
            let node = self.find(id)?;
            let analysis = inner.analysis();
            let graph = analysis.graph();
            let mut path_col = Vec::new();
            let mut step_col = Vec::new();
            let mut edge_kind = Vec::new();
            let mut edge_name = Vec::new();
            let mut strong = Vec::new();
            let mut columns = NodeColumns::default();
            for r in analysis.retainers(node) {
                path_col.push(None);
                step_col.push(None);
                edge_kind.push(r.kind.as_str());
                edge_name.push(graph.edge_label_str(r.edge).into_owned());
                strong.push(r.is_path_edge);
                columns.push(analysis, Some(r.source));
            }
            let found = analysis.retention_paths(node, paths.min(100));
            for (k, path) in found.iter().enumerate() {
                for (i, step) in path.steps.iter().enumerate() {
                    path_col.push(Some(k as u32));
                    step_col.push(Some(i as u32));
                    edge_kind.push(graph.edge_kind(step.edge).as_str());
                    edge_name.push(graph.edge_label_str(step.edge).into_owned());
                    strong.push(true);
                    columns.push(analysis, Some(step.target));
                }
            }
            let mut t = Table::new();
            t.opt_u32("path", path_col);
            t.opt_u32("step", step_col);
            t.text("edge_kind", edge_kind);
            t.text("edge_name", edge_name);
            t.bool("strong", strong);
            columns.add_to(&mut t, "");
            // A GC root's own path has no steps, hence no rows: the count
            // tells it from an object no strong path reaches.
            t.meta("path_count", found.len());
            Ok(t)
        })
    }

    /// Objects and classes retaining at least `threshold` of the heap.
    #[pyo3(signature = (threshold = 0.10))]
    fn suspects(&self, py: Python<'_>, threshold: f64) -> PyResult<ArrowStream> {
        let inner = &self.inner;
        table_of(py, || {
            if !(threshold > 0.0 && threshold <= 1.0) {
                return Err(Failure::new(
                    ErrorClass::Analysis,
                    format!("threshold must be a share in (0, 1], not {threshold}"),
                ));
            }
            let analysis = inner.analysis();
            let graph = analysis.graph();
            let suspects = leak_suspects(analysis, threshold);
            let mut kind = Vec::new();
            let mut objects = NodeColumns::default();
            let mut instance_count = Vec::new();
            let mut accumulation = NodeColumns::default();
            let mut paths = Vec::new();
            let mut path_text = Vec::new();
            for s in &suspects {
                match &s.kind {
                    SuspectKind::Object {
                        node,
                        path,
                        accumulation_point,
                    } => {
                        kind.push("object");
                        objects.push(analysis, Some(*node));
                        instance_count.push(None);
                        accumulation.push(analysis, Some(*accumulation_point));
                        paths.push(path.as_ref().map(|p| path_ids(analysis, p)));
                        path_text.push(path.as_ref().map(|p| p.display(graph)));
                    }
                    SuspectKind::Class {
                        instance_count: count,
                        largest_instance,
                    } => {
                        kind.push("class");
                        objects.push(analysis, Some(*largest_instance));
                        instance_count.push(Some(*count));
                        accumulation.push(analysis, None);
                        paths.push(None);
                        path_text.push(None);
                    }
                    _ => {
                        kind.push("other");
                        objects.push(analysis, Some(NodeIndex::ROOT));
                        instance_count.push(None);
                        accumulation.push(analysis, None);
                        paths.push(None);
                        path_text.push(None);
                    }
                }
            }
            let mut t = Table::new();
            t.text("kind", kind);
            t.text("class", suspects.iter().map(|s| s.class.as_str()));
            t.u64(
                "retained_size",
                suspects.iter().map(|s| s.retained_size).collect(),
            );
            t.f64("share", suspects.iter().map(|s| s.share).collect());
            objects.add_to(&mut t, "object_");
            t.opt_u64("instance_count", instance_count);
            accumulation.add_to(&mut t, "accumulation_point_");
            t.u64_lists("path_ids", paths);
            t.opt_text("path", path_text);
            t.meta("total_size", analysis.retained_size(NodeIndex::ROOT));
            t.meta("threshold", threshold);
            Ok(t)
        })
    }

    /// Duplicate strings: equal values held by several objects.
    #[pyo3(signature = (top = 0))]
    fn duplicate_strings(&self, py: Python<'_>, top: usize) -> PyResult<ArrowStream> {
        let inner = &self.inner;
        table_of(py, || {
            let dump = &*inner.dump;
            let graph = dump.graph();
            let duplicates = dump.duplicate_strings(inner.analysis()).ok_or_else(|| {
                Failure::new(
                    ErrorClass::Analysis,
                    format!(
                        "{}: {} dumps hold no string objects",
                        inner.file(),
                        dump.format()
                    ),
                )
            })?;
            let wasted: u64 = duplicates.iter().map(|d| d.wasted_bytes).sum();
            let count = duplicates.len();
            let rows = take_top(duplicates, top);
            let mut t = Table::new();
            t.text(
                "value",
                rows.iter().map(|d| String::from_utf8_lossy(&d.value)),
            );
            duplicate_columns(&mut t, graph, rows.iter());
            t.meta("duplicate_values", count);
            t.meta("wasted_size", wasted);
            Ok(t)
        })
    }

    /// Allocation-site statistics with tracemalloc's semantics.
    #[pyo3(signature = (by = "lineno", cumulative = false, compare_to = None, filters = Vec::new(), top = 0))]
    fn sites(
        &self,
        py: Python<'_>,
        by: &str,
        cumulative: bool,
        compare_to: Option<PyRef<'_, Snapshot>>,
        filters: Vec<FilterSpec>,
        top: usize,
    ) -> PyResult<ArrowStream> {
        let inner = &self.inner;
        let old = compare_to.map(|s| Arc::clone(&s.inner));
        table_of(py, || {
            let key = key_type(by)?;
            let filters = trace_filters(filters)?;
            let dump = &*inner.dump;
            if let Some(old) = &old {
                if old.dump.format() != dump.format() {
                    return Err(Failure::new(
                        ErrorClass::Analysis,
                        format!(
                            "cannot compare {} with {}: both dumps must be of the same format",
                            old.dump.format(),
                            dump.format()
                        ),
                    ));
                }
            }
            let analysis_error = |e: heapgraph::analysis::sites::SitesError| {
                Failure::new(ErrorClass::Analysis, e.to_string())
            };
            let allocations = dump.allocations().filter_traces(&filters);
            let mut tracebacks = Vec::new();
            let mut sizes = Vec::new();
            let mut counts = Vec::new();
            let mut size_diffs = Vec::new();
            let mut count_diffs = Vec::new();
            match &old {
                Some(old) => {
                    let old_allocations = old.dump.allocations().filter_traces(&filters);
                    let diffs = allocations
                        .compare_to(&old_allocations, key, cumulative)
                        .map_err(analysis_error)?;
                    for d in take_top(diffs, top) {
                        tracebacks.push(frames(&d.traceback));
                        sizes.push(d.size);
                        counts.push(d.count);
                        size_diffs.push(clamp(d.size_diff));
                        count_diffs.push(clamp(d.count_diff));
                    }
                }
                None => {
                    let stats = allocations
                        .statistics(key, cumulative)
                        .map_err(analysis_error)?;
                    for s in take_top(stats, top) {
                        tracebacks.push(frames(&s.traceback));
                        sizes.push(s.size);
                        counts.push(s.count);
                    }
                }
            }
            let mut t = Table::new();
            t.opt_text(
                "filename",
                tracebacks
                    .iter()
                    .map(|f| f.last().map(|(name, _)| name.clone()))
                    .collect(),
            );
            t.opt_u32(
                "lineno",
                tracebacks
                    .iter()
                    .map(|f| f.last().map(|&(_, line)| line))
                    .collect(),
            );
            t.frame_lists("traceback", tracebacks);
            t.u64("size", sizes);
            t.u64("count", counts);
            if old.is_some() {
                t.i64("size_diff", size_diffs);
                t.i64("count_diff", count_diffs);
            }
            t.meta("key_type", key.as_str());
            t.meta("cumulative", cumulative);
            t.meta("allocation_count", allocations.len());
            t.meta("total_size", allocations.total_size());
            Ok(t)
        })
    }
}

impl Snapshot {
    fn find(&self, id: u64) -> Result<NodeIndex, Failure> {
        self.inner
            .dump
            .graph()
            .node_by_object_id(id)
            .ok_or_else(|| {
                Failure::new(
                    ErrorClass::ObjectNotFound,
                    format!("{}: no object with id {id} in this dump", self.inner.file()),
                )
            })
    }
}

/// Refuses a view that only Java heap dumps have (`what`: the method, as
/// the error names it).
fn java_only(dump: &heapgraph::Dump, what: &str) -> Result<(), Failure> {
    if dump.format() == heapgraph::Format::Hprof {
        return Ok(());
    }
    Err(Failure::new(
        ErrorClass::Analysis,
        format!(
            "{what} needs a Java heap dump (HPROF); this is a {}",
            dump.format().as_str()
        ),
    ))
}

/// The columns duplicate strings and duplicate arrays share: `count,
/// total_size, wasted_size, example_ids`.
fn duplicate_columns<'a>(
    t: &mut Table,
    graph: &heapgraph::HeapGraph,
    rows: impl Iterator<Item = &'a heapgraph::analysis::strings::DuplicateString> + Clone,
) {
    t.u64("count", rows.clone().map(|d| d.count).collect());
    t.u64("total_size", rows.clone().map(|d| d.total_bytes).collect());
    t.u64(
        "wasted_size",
        rows.clone().map(|d| d.wasted_bytes).collect(),
    );
    t.u64_lists(
        "example_ids",
        rows.map(|d| Some(d.examples.iter().map(|&n| graph.object_id(n)).collect()))
            .collect(),
    );
}
