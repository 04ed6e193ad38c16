//! Functions over several snapshots: `diff`, `leaks` and `trend`.

use std::path::PathBuf;
use std::sync::Arc;

use heapgraph::analysis::trend::trends;
use heapgraph::Format;
use pyo3::prelude::*;

use crate::common::{path_ids, table_of, take_top};
use crate::errors::{ErrorClass, Failure};
use crate::loaded::{Loaded, Options};
use crate::snapshot::Snapshot;
use crate::table::{ArrowStream, NodeColumns, Table};

/// Per class changes between two snapshots (see `heapgraph.diff`).
#[pyfunction]
#[pyo3(signature = (old, new, top = 0))]
pub(crate) fn diff(
    py: Python<'_>,
    old: PyRef<'_, Snapshot>,
    new: PyRef<'_, Snapshot>,
    top: usize,
) -> PyResult<ArrowStream> {
    let (old, new) = (Arc::clone(&old.inner), Arc::clone(&new.inner));
    table_of(py, || {
        let result =
            heapgraph::workflows::diff((&old.dump, old.analysis()), (&new.dump, new.analysis()))
                .map_err(|e| Failure::new(ErrorClass::Analysis, e.to_string()))?;
        let rows = take_top(result.classes, top);
        let mut t = Table::new();
        t.text("class", rows.iter().map(|d| d.class.as_str()));
        t.u64("old_count", rows.iter().map(|d| d.old_count).collect());
        t.u64("new_count", rows.iter().map(|d| d.new_count).collect());
        t.i64(
            "count_delta",
            rows.iter().map(|d| d.count_delta()).collect(),
        );
        t.u64(
            "old_shallow_size",
            rows.iter().map(|d| d.old_shallow_size).collect(),
        );
        t.u64(
            "new_shallow_size",
            rows.iter().map(|d| d.new_shallow_size).collect(),
        );
        t.i64(
            "shallow_size_delta",
            rows.iter().map(|d| d.shallow_size_delta()).collect(),
        );
        t.u64(
            "old_retained_size",
            rows.iter().map(|d| d.old_retained_size).collect(),
        );
        t.u64(
            "new_retained_size",
            rows.iter().map(|d| d.new_retained_size).collect(),
        );
        t.i64(
            "retained_size_delta",
            rows.iter().map(|d| d.retained_size_delta()).collect(),
        );
        t.opt_u64(
            "new_objects",
            rows.iter()
                .map(|d| d.new_objects.map(|o| o.count))
                .collect(),
        );
        t.opt_u64(
            "new_objects_size",
            rows.iter()
                .map(|d| d.new_objects.map(|o| o.shallow_size))
                .collect(),
        );
        t.opt_u64(
            "deleted_objects",
            rows.iter()
                .map(|d| d.deleted_objects.map(|o| o.count))
                .collect(),
        );
        t.opt_u64(
            "deleted_objects_size",
            rows.iter()
                .map(|d| d.deleted_objects.map(|o| o.shallow_size))
                .collect(),
        );
        t.meta("matching", result.matching.as_str());
        Ok(t)
    })
}

/// Leaks from three snapshots (see `heapgraph.leaks`).
#[pyfunction]
#[pyo3(signature = (baseline, target, final_, top = 0, all_objects = false, ignore = Vec::new(), builtin_ignores = true, members = false))]
// The arguments are the Python function's keyword arguments, one for one.
#[allow(clippy::too_many_arguments)]
pub(crate) fn leaks(
    py: Python<'_>,
    baseline: PyRef<'_, Snapshot>,
    target: PyRef<'_, Snapshot>,
    final_: PyRef<'_, Snapshot>,
    top: usize,
    all_objects: bool,
    ignore: Vec<String>,
    builtin_ignores: bool,
    members: bool,
) -> PyResult<ArrowStream> {
    let settings = heapgraph::workflows::LeakSettings {
        filter: if all_objects {
            heapgraph::analysis::leaks::LeakFilter::AllObjects
        } else {
            heapgraph::analysis::leaks::LeakFilter::Memlab
        },
        ignore,
        builtin_ignores,
    };
    let loaded = [
        Arc::clone(&baseline.inner),
        Arc::clone(&target.inner),
        Arc::clone(&final_.inner),
    ];
    table_of(py, || {
        let [baseline, target, final_] = &loaded;
        let final_analysis = final_.analysis();
        let found = heapgraph::workflows::leaks(
            [&baseline.dump, &target.dump, &final_.dump],
            final_analysis,
            &settings,
            |i| [baseline, target][i.min(1)].analysis().class_totals(),
        )
        .map_err(|e| Failure::new(ErrorClass::Analysis, e.to_string()))?;
        let stable = found.matching == heapgraph::analysis::diff::Matching::ById;
        let mut t = Table::new();
        if stable && members {
            // One row per leaked object of the top clusters.
            let clusters = take_top(found.clusters, top);
            let mut rank = Vec::new();
            let mut nodes = NodeColumns::default();
            for (i, c) in clusters.iter().enumerate() {
                for &m in &c.members {
                    rank.push(i as u32 + 1);
                    nodes.push(final_analysis, Some(m));
                }
            }
            t.u32("cluster", rank);
            nodes.add_to(&mut t, "");
            t.meta("candidate_count", found.candidate_count);
            t.meta("leak_count", found.leak_count);
            t.meta("ignored_count", found.ignored_count);
        } else if stable {
            let clusters = take_top(found.clusters, top);
            let mut examples = NodeColumns::default();
            for c in &clusters {
                examples.push(final_analysis, Some(c.example));
            }
            t.text("class", clusters.iter().map(|c| c.class.as_str()));
            t.u64("count", clusters.iter().map(|c| c.count).collect());
            t.u64(
                "object_count",
                clusters.iter().map(|c| c.object_count).collect(),
            );
            t.u64(
                "retained_size",
                clusters.iter().map(|c| c.retained_size).collect(),
            );
            t.bool(
                "detached_dom",
                clusters.iter().map(|c| c.detached_dom).collect(),
            );
            t.text("shape", clusters.iter().map(|c| c.shape.as_str()));
            examples.add_to(&mut t, "example_");
            t.u64_lists(
                "path_ids",
                clusters
                    .iter()
                    .map(|c| Some(path_ids(final_analysis, &c.path)))
                    .collect(),
            );
            t.text(
                "path",
                clusters
                    .iter()
                    .map(|c| c.path.display(final_analysis.graph())),
            );
            t.u64_lists(
                "member_ids",
                clusters
                    .iter()
                    .map(|c| {
                        let graph = final_analysis.graph();
                        Some(c.members.iter().map(|&m| graph.object_id(m)).collect())
                    })
                    .collect(),
            );
            t.meta("candidate_count", found.candidate_count);
            t.meta("leak_count", found.leak_count);
            t.meta("ignored_count", found.ignored_count);
        } else {
            let growth = take_top(found.growing_classes, top);
            t.text("class", growth.iter().map(|g| g.key.as_str()));
            for (i, name) in ["baseline", "target", "final"].iter().enumerate() {
                t.u64(
                    &format!("{name}_count"),
                    growth.iter().map(|g| g.totals[i].count).collect(),
                );
            }
            for (i, name) in ["baseline", "target", "final"].iter().enumerate() {
                t.u64(
                    &format!("{name}_shallow_size"),
                    growth.iter().map(|g| g.totals[i].bytes).collect(),
                );
            }
            t.meta("candidate_count", 0);
        }
        t.meta("matching", if stable { "id" } else { "class" });
        t.meta("format", found.format.as_str());
        Ok(t)
    })
}

/// One item of `trend`: an opened snapshot or a path to open.
enum TrendItem {
    Open(Arc<Loaded>),
    Path(PathBuf),
}

/// Growth per class over a series of snapshots (see `heapgraph.trend`).
#[pyfunction]
#[pyo3(signature = (snapshots, top = 0, size_model = "mat", weak_referents = "count", memory_map = true, paths = false))]
pub(crate) fn trend(
    py: Python<'_>,
    snapshots: Vec<Bound<'_, PyAny>>,
    top: usize,
    size_model: &str,
    weak_referents: &str,
    memory_map: bool,
    paths: bool,
) -> PyResult<ArrowStream> {
    let options = Options::parse(size_model, weak_referents, memory_map, 1, true)?;
    let mut items = Vec::with_capacity(snapshots.len());
    for s in &snapshots {
        if let Ok(snapshot) = s.cast::<Snapshot>() {
            items.push(TrendItem::Open(Arc::clone(&snapshot.get().inner)));
        } else {
            items.push(TrendItem::Path(s.extract::<PathBuf>()?));
        }
    }
    table_of(py, || {
        if items.len() < 2 {
            return Err(Failure::new(
                ErrorClass::Analysis,
                "trend needs at least 2 snapshots",
            ));
        }
        let mut series = Vec::with_capacity(items.len());
        let mut path_series = heapgraph::analysis::leaks::growth::PathSeries::new();
        let mut growing = Vec::new();
        let mut format: Option<Format> = None;
        for (i, item) in items.iter().enumerate() {
            // Paths are opened one at a time: only class totals are kept.
            let loaded = match item {
                TrendItem::Open(l) => Arc::clone(l),
                TrendItem::Path(p) => Arc::new(options.open(p)?),
            };
            let this = loaded.dump.format();
            match format {
                None => format = Some(this),
                Some(f) if f != this => {
                    return Err(Failure::new(
                        ErrorClass::Analysis,
                        format!(
                            "cannot compare {f} with {this}: {} is of another format",
                            loaded.file()
                        ),
                    ))
                }
                Some(_) => {}
            }
            if paths {
                // The same retention signatures as `heapgraph trend`'s
                // growing paths, one dump at a time.
                path_series.add(loaded.analysis());
                if i + 1 == items.len() {
                    growing = take_top(
                        path_series.growing(
                            loaded.analysis(),
                            &heapgraph::analysis::leaks::IgnoreList::default(),
                        ),
                        top,
                    );
                }
            } else {
                series.push(loaded.analysis().class_totals());
            }
        }
        if paths {
            let mut t = Table::new();
            t.text("shape", growing.iter().map(|p| p.shape.as_str()));
            t.text("class", growing.iter().map(|p| p.class.as_str()));
            let column = |f: fn(&heapgraph::analysis::leaks::growth::PathTotals) -> u64| {
                growing
                    .iter()
                    .map(|p| Some(p.totals.iter().map(f).collect()))
                    .collect()
            };
            t.u64_lists("counts", column(|t| t.count));
            t.u64_lists("shallow_sizes", column(|t| t.shallow_size));
            t.u64_lists("retained_sizes", column(|t| t.retained_size));
            t.meta("format", format.map_or("", |f| f.as_str()));
            return Ok(t);
        }
        let rows = take_top(trends(&series), top);
        let mut t = Table::new();
        t.text("class", rows.iter().map(|r| r.key.as_str()));
        t.u64_lists(
            "counts",
            rows.iter()
                .map(|r| Some(r.series.iter().map(|g| g.count).collect()))
                .collect(),
        );
        t.u64_lists(
            "shallow_sizes",
            rows.iter()
                .map(|r| Some(r.series.iter().map(|g| g.bytes).collect()))
                .collect(),
        );
        t.f64(
            "bytes_per_snapshot",
            rows.iter().map(|r| r.bytes_per_snapshot).collect(),
        );
        t.f64(
            "count_per_snapshot",
            rows.iter().map(|r| r.count_per_snapshot).collect(),
        );
        t.f64("r_squared", rows.iter().map(|r| r.r_squared).collect());
        t.bool(
            "monotonic_growth",
            rows.iter().map(|r| r.monotonic_growth).collect(),
        );
        t.bool("growing", rows.iter().map(|r| r.is_growing()).collect());
        t.meta("format", format.map_or("", |f| f.as_str()));
        Ok(t)
    })
}
