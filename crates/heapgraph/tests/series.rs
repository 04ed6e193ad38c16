//! Analysis II on snapshot series made by real runtimes with planted
//! behaviour: a Node process with a known leak (testdata/v8/series) and a
//! Java program that grows in steps (testdata/hprof/series).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // may panic: not library code

use std::path::{Path, PathBuf};

use heapgraph::analysis::diff::{diff, Matching};
use heapgraph::analysis::leaks::growth::growing_paths;
use heapgraph::analysis::leaks::{
    find_leaks, persistent_growth, IgnoreList, LeakFilter, LeakOptions,
};
use heapgraph::analysis::trend::{trends, GroupTotals};
use heapgraph::analysis::HeapAnalysis;
use heapgraph::Dump;

fn testdata(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(path)
}

fn open(path: &str) -> Dump {
    heapgraph::open(testdata(path)).unwrap()
}

fn v8_series() -> [Dump; 3] {
    ["baseline", "target", "final"]
        .map(|name| open(&format!("v8/series/node20-leak-{name}.heapsnapshot.gz")))
}

/// The planted leak (400 `LeakedItem`s, each with a `LeakPayload` and its
/// array, kept in `app.registry.listeners`) is the largest cluster with
/// every object (memlab's `--trace-all-objects`), with the right count and
/// path; the temporaries freed before the final snapshot and the objects
/// created after the target one are not leaks. memlab's default filter
/// reports nothing in a Node process (no DOM, no React), and neither do we.
#[test]
fn v8_three_snapshot_leak_is_found_with_its_path() {
    let [baseline, target, final_] = v8_series();
    assert!(final_.ids_are_stable());
    let analysis = HeapAnalysis::new(final_.graph());
    let find = |filter| {
        find_leaks(
            baseline.graph(),
            target.graph(),
            &analysis,
            &LeakOptions {
                filter,
                ..LeakOptions::default()
            },
        )
    };
    let default = find(LeakFilter::Memlab);
    assert_eq!(default.candidate_count, 2169);
    assert_eq!(default.leak_count, 0);
    assert!(default.clusters.is_empty());

    let report = find(LeakFilter::AllObjects);
    // memlab 2.0.5 reports 1719 leaks with a path on these files.
    assert_eq!(report.leak_count, 1719);
    let leak = &report.clusters[0];
    assert_eq!(leak.class, "LeakedItem");
    assert_eq!(leak.count, 400);
    assert!(
        leak.shape.ends_with(
            "-[app]-> Object -[registry]-> Object -[listeners]-> Array -[[]]-> LeakedItem"
        ),
        "{}",
        leak.shape
    );
    let leaked_retained: u64 = {
        let class = analysis.classes().find("LeakedItem").next().unwrap();
        analysis
            .instances_of(class)
            .iter()
            .map(|&n| analysis.retained_size(n))
            .sum()
    };
    assert_eq!(leak.retained_size, leaked_retained);
    // What each item holds is a cluster of its own, under the item's trace.
    for (class, count) in [("LeakPayload", 400), ("Array", 400)] {
        let held = report
            .clusters
            .iter()
            .find(|c| c.class == class && c.shape.starts_with(&leak.shape))
            .unwrap_or_else(|| panic!("no {class} cluster under the items"));
        assert_eq!(held.count, count);
    }
    for cluster in &report.clusters {
        for innocent in ["TempItem", "LateItem", "SteadyItem"] {
            assert!(
                !cluster.shape.contains(innocent) && cluster.class != innocent,
                "{innocent} reported: {}",
                cluster.shape
            );
        }
    }
    // The planted leak dwarfs the incidental objects Node itself created.
    assert!(report
        .clusters
        .iter()
        .filter(|c| !c.shape.contains("-[listeners]->"))
        .all(|c| c.retained_size * 10 < leak.retained_size));
}

/// The DevTools Comparison view: new and deleted objects by id.
#[test]
fn v8_diff_counts_new_and_deleted_objects_by_id() {
    let [baseline, target, final_] = v8_series();
    let analyses = [&baseline, &target, &final_].map(|d| HeapAnalysis::new(d.graph()));
    let action = diff(&analyses[0], &analyses[1], Matching::ById).unwrap();
    assert_eq!(action.matching, Matching::ById);
    let row = |d: &heapgraph::analysis::diff::SnapshotDiff, class: &str| {
        d.classes.iter().find(|c| c.class == class).cloned()
    };
    let leaked = row(&action, "LeakedItem").unwrap();
    assert_eq!(leaked.new_objects.unwrap().count, 400);
    assert_eq!(leaked.count_delta(), 400);
    assert_eq!(
        row(&action, "TempItem").unwrap().new_objects.unwrap().count,
        300
    );
    assert!(row(&action, "SteadyItem").is_none());

    let undo = diff(&analyses[1], &analyses[2], Matching::ById).unwrap();
    let temp = row(&undo, "TempItem").unwrap();
    assert_eq!(temp.deleted_objects.unwrap().count, 300);
    assert_eq!(temp.count_delta(), -300);
    assert_eq!(
        row(&undo, "LateItem").unwrap().new_objects.unwrap().count,
        250
    );
    assert!(row(&undo, "LeakedItem").is_none());
}

fn hprof_series() -> [Dump; 3] {
    [1, 2, 3].map(|step| {
        open(&format!(
            "hprof/series/hotspot-jdk17-growing-{step}.hprof.gz"
        ))
    })
}

/// Three dumps of a Java program that adds 300 `Session`s (each with a
/// 64-byte array) per step while its cache and config stay the same size:
/// the growing classes rank first, the steady ones are not flagged.
#[test]
fn hprof_trend_ranks_growing_classes_first() {
    let dumps = hprof_series();
    let series: Vec<Vec<(String, GroupTotals)>> = dumps
        .iter()
        .map(|d| HeapAnalysis::new(d.graph()).class_totals())
        .collect();
    let result = trends(&series);
    let growing: Vec<&str> = result
        .iter()
        .filter(|t| t.is_growing())
        .map(|t| t.key.as_str())
        .collect();
    // byte[] (the sessions' state) grows fastest, then the sessions.
    assert_eq!(&growing[..2], ["byte[]", "Growing$Session"], "{growing:?}");
    let session = result.iter().find(|t| t.key == "Growing$Session").unwrap();
    assert_eq!(
        session.series.iter().map(|g| g.count).collect::<Vec<_>>(),
        [300, 600, 900]
    );
    // MAT model: 12-byte header + long id + reference = 24 bytes.
    assert!((session.bytes_per_snapshot - 7200.0).abs() < 1e-6);
    assert!((session.r_squared - 1.0).abs() < 1e-9);
    for steady in ["Growing$CacheEntry", "Growing$Config"] {
        let t = result.iter().find(|t| t.key == steady).unwrap();
        assert!(!t.is_growing(), "{steady}");
        assert_eq!(t.bytes_per_snapshot, 0.0, "{steady}");
    }

    // HPROF ids are addresses: leak detection falls back to classes that
    // grew and stayed grown.
    assert!(!dumps[0].ids_are_stable());
    let analyses: Vec<_> = dumps.iter().map(|d| HeapAnalysis::new(d.graph())).collect();
    let growth = persistent_growth(
        &analyses[0].class_totals(),
        &analyses[1].class_totals(),
        &analyses[2].class_totals(),
    );
    let keys: Vec<&str> = growth.iter().map(|g| g.key.as_str()).collect();
    assert!(keys.contains(&"Growing$Session"), "{keys:?}");
    assert!(!keys.contains(&"Growing$CacheEntry"), "{keys:?}");
    assert!(!keys.contains(&"Growing$Config"), "{keys:?}");
}

#[test]
fn diffs_refuse_mismatched_formats() {
    let hprof = open("hprof/series/hotspot-jdk17-growing-1.hprof.gz");
    let v8 = open("v8/series/node20-leak-baseline.heapsnapshot.gz");
    let err = diff(
        &HeapAnalysis::new(hprof.graph()),
        &HeapAnalysis::new(v8.graph()),
        Matching::ByClass,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot diff hprof with v8: both snapshots must be of the same format"
    );
    // The facade's workflows say the same, and the three-snapshot one too.
    let (a, b) = (hprof.analyse(), v8.analyse());
    let err = heapgraph::workflows::diff((&hprof, &a), (&v8, &b)).unwrap_err();
    assert!(matches!(err, heapgraph::Error::FormatMismatch { .. }));
    assert_eq!(
        err.to_string(),
        "cannot diff hprof with v8: both snapshots must be of the same format"
    );
    let err = heapgraph::workflows::leaks([&hprof, &v8, &hprof], &a, &Default::default(), |_| {
        Vec::new()
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot compare hprof with v8 and hprof: all three snapshots must be of the same format"
    );
}

/// Three dumps of a Java server (testdata/hprof/paths) whose `Session`s
/// sit in two places: `ACTIVE`, a map emptied and refilled with 500 new
/// sessions every step (busy, steady), and `AUDIT_LOG`, a list that gains
/// 300 per step and is never trimmed (the leak). By class, `Session` grows
/// 800 → 1100 → 1400 and cannot say where; by retention path exactly one
/// path grows, the audit log's, and the churning map is not reported.
#[test]
fn hprof_series_names_the_growing_retention_path_not_the_churning_one() {
    let dumps = [1, 2, 3].map(|step| {
        open(&format!(
            "hprof/paths/hotspot-jdk17-sessions-{step}.hprof.gz"
        ))
    });
    assert!(!dumps[0].ids_are_stable());
    let analyses: Vec<HeapAnalysis<'_>> = dumps.iter().map(|d| d.analyse()).collect();
    let by_class: Vec<u64> = analyses
        .iter()
        .map(|a| {
            a.class_totals()
                .into_iter()
                .find(|(class, _)| class == "SessionServer$Session")
                .map_or(0, |(_, t)| t.count)
        })
        .collect();
    assert_eq!(by_class, [800, 1100, 1400]);

    let refs: Vec<&HeapAnalysis<'_>> = analyses.iter().collect();
    let growing = growing_paths(&refs, &IgnoreList::default());
    assert_eq!(growing.len(), 1, "{growing:#?}");
    let audit = &growing[0];
    assert!(
        audit.shape.ends_with(
            "-[AUDIT_LOG]-> java.util.ArrayList -[elementData]-> java.lang.Object[] \
             -[[]]-> SessionServer$Session"
        ),
        "{}",
        audit.shape
    );
    assert!(
        audit.shape.contains("class SessionServer"),
        "{}",
        audit.shape
    );
    assert_eq!(audit.class, "SessionServer$Session");
    let counts: Vec<u64> = audit.totals.iter().map(|t| t.count).collect();
    assert_eq!(counts, [300, 600, 900]);
    assert_eq!(audit.count_per_dump(), 300.0);
    // Each session retains itself and its 64-byte array: the retained size
    // grows in step.
    let retained: Vec<u64> = audit.totals.iter().map(|t| t.retained_size).collect();
    assert!(retained[0] > 0 && retained[1] == 2 * retained[0] && retained[2] == 3 * retained[0]);
    assert_eq!(
        analyses[2].class_name(audit.example),
        "SessionServer$Session"
    );
}

/// Three tracemalloc snapshots (testdata/tracemalloc/series-*.p5.pickle,
/// see series_gen.py) where every record comes from one helper line, called
/// from a list that grows 200 records per step and from a buffer replaced
/// with 300 each step. By line the helper grows 1000 → 1400 → 1800 blocks
/// (Python's `statistics('lineno')`); by traceback exactly one grows,
/// remember()'s, 400 → 800 → 1200 (Python's `statistics('traceback')`),
/// and refresh()'s 600 stays out.
#[test]
fn tracemalloc_series_names_the_growing_traceback() {
    let dumps = [1, 2, 3].map(|n| open(&format!("tracemalloc/series-{n}.p5.pickle")));
    let analyses: Vec<HeapAnalysis<'_>> = dumps.iter().map(|d| d.analyse()).collect();
    let refs: Vec<&HeapAnalysis<'_>> = analyses.iter().collect();
    let growing = growing_paths(&refs, &IgnoreList::default());
    assert_eq!(growing.len(), 1, "{growing:#?}");
    let path = &growing[0];
    assert_eq!(
        path.shape,
        "(root) → /srv/app/store.py:17 → /srv/app/store.py:10 → /srv/app/store.py:3"
    );
    assert_eq!(path.class, "/srv/app/store.py:3");
    let counts: Vec<u64> = path.totals.iter().map(|t| t.count).collect();
    assert_eq!(counts, [400, 800, 1200]);
    let by_line: Vec<u64> = analyses
        .iter()
        .map(|a| {
            a.class_totals()
                .into_iter()
                .find(|(key, _)| key == "/srv/app/store.py:3")
                .map_or(0, |(_, t)| t.count)
        })
        .collect();
    assert_eq!(by_line, [1000, 1400, 1800]);
}
