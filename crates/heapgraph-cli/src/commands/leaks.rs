//! `heapgraph leaks`: memlab's baseline / target / final leak detection.

use std::io::Write;
use std::path::PathBuf;

use heapgraph::analysis::diff::Matching;
use std::cell::OnceCell;

use heapgraph::analysis::leaks::growth::{growing_paths, GrowingPath};
use heapgraph::analysis::leaks::LeakFilter;
use heapgraph::analysis::HeapAnalysis;
use heapgraph::workflows::{LeakSettings, Leaks};
use heapgraph::Dump;
use serde::Serialize;

use crate::common::{
    analyse, node_json, open_dump, path_json, path_lines, take_top, write_json, NodeJson,
    PathGrowthJson, PathStepJson,
};
use crate::format::{bytes, thousands};
use crate::{Failure, GlobalOptions, Outcome};

#[derive(Serialize)]
struct ClusterJson {
    class: String,
    count: u64,
    object_count: u64,
    retained_size: u64,
    detached_dom: bool,
    shape: String,
    example: NodeJson,
    path: Vec<PathStepJson>,
    /// Object ids of every leaked object in the cluster.
    member_ids: Vec<u64>,
}

#[derive(Serialize)]
struct GrowthJson {
    class: String,
    counts: [u64; 3],
    shallow_sizes: [u64; 3],
}

#[derive(Serialize)]
struct LeaksJson {
    baseline: String,
    target: String,
    #[serde(rename = "final")]
    final_: String,
    format: &'static str,
    /// `id`: objects matched by id (clusters); `class`: ids are not stable,
    /// so classes that grew and stayed grown are listed instead.
    matching: &'static str,
    candidate_count: u64,
    /// `memlab` (its default leak filter) or `all_objects`.
    filter: &'static str,
    leak_count: u64,
    /// Leaks left out by `--ignore` and the built-in list.
    ignored_count: u64,
    clusters: Vec<ClusterJson>,
    growing_classes: Vec<GrowthJson>,
    /// Retention paths whose object count grew from dump to dump (when
    /// ids are not stable).
    growing_paths: Vec<PathGrowthJson>,
}

/// The leaks of `[baseline, target, final]` (`final_analysis` is the last
/// one's) and, where ids are not stable, the retention paths that grew.
/// Baseline and target are analysed only when ids are not stable, once.
pub(crate) fn find(
    options: &GlobalOptions,
    dumps: &[Dump; 3],
    final_analysis: &HeapAnalysis<'_>,
    settings: &LeakSettings,
) -> Result<(Leaks, Vec<GrowingPath>), Failure> {
    let earlier: [OnceCell<HeapAnalysis<'_>>; 2] = Default::default();
    let earlier_analysis = |i: usize| earlier[i].get_or_init(|| analyse(options, &dumps[i]));
    let found = heapgraph::workflows::leaks(
        [&dumps[0], &dumps[1], &dumps[2]],
        final_analysis,
        settings,
        |i| earlier_analysis(i.min(1)).class_totals(),
    )
    .map_err(|e| Failure(e.to_string()))?;
    let growing = if found.matching == Matching::ById {
        Vec::new()
    } else {
        growing_paths(
            &[earlier_analysis(0), earlier_analysis(1), final_analysis],
            &settings.ignore_list(),
        )
    };
    Ok((found, growing))
}

pub(crate) fn run(
    options: &GlobalOptions,
    files: [&PathBuf; 3],
    top: usize,
    settings: &LeakSettings,
    out: &mut impl Write,
) -> Result<(), Outcome> {
    let all_objects = settings.filter == LeakFilter::AllObjects;
    let dumps = [
        open_dump(options, files[0])?,
        open_dump(options, files[1])?,
        open_dump(options, files[2])?,
    ];
    let final_analysis = analyse(options, &dumps[2]);
    let (found, growing_paths) = find(options, &dumps, &final_analysis, settings)?;
    let stable = found.matching == Matching::ById;
    let clusters = take_top(found.clusters, top);
    let document = LeaksJson {
        baseline: files[0].display().to_string(),
        target: files[1].display().to_string(),
        final_: files[2].display().to_string(),
        format: found.format.as_str(),
        matching: found.matching.as_str(),
        candidate_count: found.candidate_count,
        filter: if all_objects { "all_objects" } else { "memlab" },
        leak_count: found.leak_count,
        ignored_count: found.ignored_count,
        clusters: clusters
            .iter()
            .map(|c| ClusterJson {
                class: c.class.clone(),
                count: c.count,
                object_count: c.object_count,
                retained_size: c.retained_size,
                detached_dom: c.detached_dom,
                shape: c.shape.clone(),
                example: node_json(&final_analysis, c.example),
                path: path_json(&final_analysis, &c.path),
                member_ids: c
                    .members
                    .iter()
                    .map(|&m| final_analysis.graph().object_id(m))
                    .collect(),
            })
            .collect(),
        growing_classes: take_top(found.growing_classes, top)
            .into_iter()
            .map(|g| GrowthJson {
                class: g.key,
                counts: g.totals.map(|t| t.count),
                shallow_sizes: g.totals.map(|t| t.bytes),
            })
            .collect(),
        growing_paths: take_top(growing_paths, top)
            .into_iter()
            .map(|p| PathGrowthJson::new(&final_analysis, p))
            .collect(),
    };
    if options.json {
        return write_json(out, &document);
    }
    if stable {
        writeln!(
            out,
            "{} objects allocated after the baseline are still alive in the final snapshot; {} {} leaks{}",
            thousands(document.candidate_count),
            thousands(document.leak_count),
            if all_objects { "of them are" } else { "are" },
            if all_objects {
                " (--all-objects)"
            } else {
                " by memlab's filter (detached DOM, unmounted React Fibers; --all-objects for every object)"
            }
        )?;
        if document.clusters.is_empty() {
            writeln!(out, "no leaks found")?;
        }
        for (i, (cluster, json)) in clusters.iter().zip(&document.clusters).enumerate() {
            writeln!(
                out,
                "\nLeak {}: {} × {}{} ({} objects held), retaining {}",
                i + 1,
                thousands(json.count),
                json.class,
                if json.detached_dom {
                    " [detached DOM]"
                } else {
                    ""
                },
                thousands(json.object_count),
                bytes(json.retained_size)
            )?;
            writeln!(out, "  shape: {}", json.shape)?;
            writeln!(out, "  example path:")?;
            for line in path_lines(&final_analysis, &cluster.path) {
                writeln!(out, "    {line}")?;
            }
        }
    } else {
        writeln!(
            out,
            "object ids are not stable between these snapshots; classes that grew from baseline to target and stayed grown in final:"
        )?;
        if document.growing_classes.is_empty() {
            writeln!(out, "  none")?;
        }
        for g in &document.growing_classes {
            writeln!(
                out,
                "  {}: count {} → {} → {}, shallow {} → {} → {}",
                g.class,
                g.counts[0],
                g.counts[1],
                g.counts[2],
                bytes(g.shallow_sizes[0]),
                bytes(g.shallow_sizes[1]),
                bytes(g.shallow_sizes[2])
            )?;
        }
        writeln!(
            out,
            "\nretention paths whose object count grew from each snapshot to the next:"
        )?;
        if document.growing_paths.is_empty() {
            writeln!(out, "  none")?;
        }
        for p in &document.growing_paths {
            let per_dump = (p.counts[2] as f64 - p.counts[0] as f64) / 2.0;
            writeln!(
                out,
                "  {} → {} → {} (+{} per snapshot), retaining {} → {} → {}\n    {}",
                thousands(p.counts[0]),
                thousands(p.counts[1]),
                thousands(p.counts[2]),
                per_dump,
                bytes(p.retained_sizes[0]),
                bytes(p.retained_sizes[1]),
                bytes(p.retained_sizes[2]),
                p.shape
            )?;
        }
    }
    Ok(())
}
