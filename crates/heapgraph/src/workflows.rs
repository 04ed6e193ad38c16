//! Workflows over several dumps, written once for every front end (the
//! command line and the Python binding only render their results).
//!
//! * [`matching`]: whether objects of several snapshots can be matched by
//!   id (every dump's ids stable across snapshots of one process).
//! * [`diff`]: per class changes between two snapshots.
//! * [`leaks`]: memlab's three-snapshot method where ids are stable, and
//!   classes that grew and stayed grown where they are not.

use heapgraph_analysis::diff::{self as class_diff, Matching, SnapshotDiff};
use heapgraph_analysis::leaks::{
    find_leaks, persistent_growth, IgnoreList, LeakCluster, LeakFilter, LeakOptions,
    PersistentGrowth,
};
use heapgraph_analysis::trend::GroupTotals;
use heapgraph_analysis::HeapAnalysis;

use crate::{Dump, Error, Format};

/// How objects of these snapshots can be matched: [`Matching::ById`] when
/// every one's ids identify the same object across snapshots of one
/// process (V8 snapshots from Node, Chromium, Deno), else
/// [`Matching::ByClass`] (HPROF addresses move, Bun and Julia renumber,
/// tracemalloc has no ids).
pub fn matching(dumps: &[&Dump]) -> Matching {
    if dumps.iter().all(|d| d.ids_are_stable()) {
        Matching::ById
    } else {
        Matching::ByClass
    }
}

/// Refuses snapshots of different formats.
fn same_format(dumps: &[&Dump]) -> Result<Format, Error> {
    let formats: Vec<Format> = dumps.iter().map(|d| d.format()).collect();
    match formats.first() {
        Some(&first) if formats.iter().all(|&f| f == first) => Ok(first),
        _ => Err(Error::FormatMismatch {
            formats: formats.iter().map(|f| f.as_str()).collect(),
        }),
    }
}

/// Per class changes from `old` to `new` (each with its analysis), by id
/// where [`matching`] allows.
///
/// # Errors
///
/// [`Error::FormatMismatch`] when the two are of different formats.
pub fn diff(
    old: (&Dump, &HeapAnalysis<'_>),
    new: (&Dump, &HeapAnalysis<'_>),
) -> Result<SnapshotDiff, Error> {
    // A different format is all a diff refuses (its dumps' formats name it).
    class_diff::diff(old.1, new.1, matching(&[old.0, new.0])).map_err(|_| Error::FormatMismatch {
        formats: vec![old.0.format().as_str(), new.0.format().as_str()],
    })
}

/// How [`leaks`] decides what to report.
#[derive(Clone, Debug)]
pub struct LeakSettings {
    /// memlab's default leak filter, or every object.
    pub filter: LeakFilter,
    /// Patterns of leaks to leave out (see [`IgnoreList`]).
    pub ignore: Vec<String>,
    /// Also leave out the built-in known leaks and noise: the DevTools front
    /// end's objects in V8 snapshots, and Android's library leaks.
    pub builtin_ignores: bool,
}

impl Default for LeakSettings {
    fn default() -> Self {
        LeakSettings {
            filter: LeakFilter::Memlab,
            ignore: Vec::new(),
            builtin_ignores: true,
        }
    }
}

impl LeakSettings {
    /// The ignore list these settings describe.
    pub fn ignore_list(&self) -> IgnoreList {
        IgnoreList::new(&self.ignore, self.builtin_ignores)
    }
}

/// What three snapshots of one process say about leaks.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Leaks {
    /// The snapshots' format.
    pub format: Format,
    /// How objects were matched: by id (then [`clusters`](Self::clusters)
    /// holds the leaks) or by class (then
    /// [`growing_classes`](Self::growing_classes) does).
    pub matching: Matching,
    /// Objects allocated between baseline and target and still alive in
    /// final (0 when matching by class).
    pub candidate_count: u64,
    /// The candidates reported as leaks (the clusters' members).
    pub leak_count: u64,
    /// Leaks left out because the ignore list matched their trace.
    pub ignored_count: u64,
    /// The leaks clustered by retention path, largest retained size first.
    pub clusters: Vec<LeakCluster>,
    /// Classes whose count and bytes grew from baseline to target and did
    /// not shrink back by final, largest growth first.
    pub growing_classes: Vec<PersistentGrowth>,
}

/// memlab's method on `[baseline, target, final]`: objects allocated after
/// the baseline, alive in the target and still alive in the final snapshot,
/// kept by `settings` (memlab's default leak filter or every object, less
/// what its ignore list matches) and
/// clustered by retainer trace in the final one (`final_analysis` is its
/// analysis). Where ids are not stable, the classes that grew and stayed
/// grown are listed instead, from each snapshot's class totals, which
/// `class_totals` gives for snapshot 0 and 1 (it is called only then, so
/// an analysis nobody needs is never computed).
///
/// # Errors
///
/// [`Error::FormatMismatch`] when the three are not of one format.
pub fn leaks(
    dumps: [&Dump; 3],
    final_analysis: &HeapAnalysis<'_>,
    settings: &LeakSettings,
    mut class_totals: impl FnMut(usize) -> Vec<(String, GroupTotals)>,
) -> Result<Leaks, Error> {
    let format = same_format(&dumps)?;
    let matching = matching(&dumps);
    let mut leaks = Leaks {
        format,
        matching,
        candidate_count: 0,
        leak_count: 0,
        ignored_count: 0,
        clusters: Vec::new(),
        growing_classes: Vec::new(),
    };
    match matching {
        Matching::ById => {
            let report = find_leaks(
                dumps[0].graph(),
                dumps[1].graph(),
                final_analysis,
                &LeakOptions {
                    dom_state: dumps[2].detachedness(),
                    filter: settings.filter,
                    hide_devtools: settings.builtin_ignores,
                    ignore: settings.ignore_list(),
                },
            );
            leaks.candidate_count = report.candidate_count;
            leaks.leak_count = report.leak_count;
            leaks.ignored_count = report.ignored_count;
            leaks.clusters = report.clusters;
        }
        _ => {
            leaks.growing_classes = persistent_growth(
                &class_totals(0),
                &class_totals(1),
                &final_analysis.class_totals(),
            );
        }
    }
    Ok(leaks)
}
