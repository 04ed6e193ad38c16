//! The report's Java section, for HPROF dumps: threads, top consumers by
//! package and by class loader, collections' wasted capacity, duplicate
//! primitive arrays and Android lifecycle leaks, each bounded.

use heapgraph::analysis::consumers::{top_consumers, Grouping};
use heapgraph::analysis::HeapAnalysis;
use heapgraph::Dump;
use serde::Serialize;

use crate::text;

/// How many rows each of the section's tables keeps.
const ROWS: usize = 25;
/// How many frames each thread shows.
const FRAMES: usize = 24;
/// Above this many primitive arrays, duplicates are not searched.
const MAX_ARRAYS: usize = 1_000_000;

/// One thread.
#[derive(Clone, Debug, Serialize)]
pub struct ThreadRow {
    /// Its name.
    pub name: String,
    /// `Thread.getState()`, or empty.
    pub state: String,
    /// Its retained size.
    pub retained_size: u64,
    /// `function(file:line)`, innermost first, with what each frame holds.
    pub frames: Vec<String>,
}

/// One group of top consumers.
#[derive(Clone, Debug, Serialize)]
pub struct ConsumerRow {
    /// The package or loader.
    pub group: String,
    /// Classes in it.
    pub classes: u64,
    /// Instances.
    pub count: u64,
    /// Retained, each object once.
    pub retained_size: u64,
}

/// One group of collections.
#[derive(Clone, Debug, Serialize)]
pub struct CollectionRow {
    /// Their class.
    pub class: String,
    /// What holds them.
    pub holder: String,
    /// How many.
    pub count: u64,
    /// Fill ratio in percent.
    pub fill_percent: u64,
    /// Bytes of unused capacity.
    pub wasted_bytes: u64,
}

/// One group of equal primitive arrays.
#[derive(Clone, Debug, Serialize)]
pub struct ArrayRow {
    /// `byte[1000]`.
    pub array: String,
    /// Copies.
    pub count: u64,
    /// Bytes all but one copy take.
    pub wasted_bytes: u64,
}

/// One Android object whose lifecycle ended.
#[derive(Clone, Debug, Serialize)]
pub struct AndroidLeakRow {
    /// Its class.
    pub class: String,
    /// Why it is leaking.
    pub reason: String,
    /// Retained size.
    pub retained_size: u64,
    /// Through a known library leak.
    pub library_leak: bool,
    /// The path, `Class.field` by reference.
    pub path: Vec<String>,
}

/// The Java section.
#[derive(Clone, Debug, Serialize)]
pub struct JavaSection {
    /// Threads, largest retained first.
    pub threads: Vec<ThreadRow>,
    /// Top consumers by package.
    pub packages: Vec<ConsumerRow>,
    /// Top consumers by class loader.
    pub loaders: Vec<ConsumerRow>,
    /// Collections, most wasted first.
    pub collections: Vec<CollectionRow>,
    /// Bytes wasted by all collections.
    pub collections_wasted_bytes: u64,
    /// Duplicate primitive arrays (`None`: not searched, too many arrays).
    pub arrays: Option<Vec<ArrayRow>>,
    /// Android lifecycle leaks.
    pub android_leaks: Vec<AndroidLeakRow>,
}

/// The Java section of an HPROF dump (`None` for other formats), and
/// sentences for what was cut.
pub(crate) fn java_section(
    dump: &Dump,
    analysis: &HeapAnalysis<'_>,
    cuts: &mut Vec<String>,
) -> Option<JavaSection> {
    // Java heap dumps only.
    dump.hprof()?;
    let graph = dump.graph();
    let mut threads: Vec<ThreadRow> = heapgraph::threads::java_threads(dump, analysis)
        .into_iter()
        .map(|t| ThreadRow {
            name: t.name.unwrap_or_else(|| "?".to_string()),
            state: t.state.unwrap_or_default().to_string(),
            retained_size: t.retained_size,
            frames: t
                .frames
                .iter()
                .take(FRAMES)
                .map(|f| {
                    let location = if f.line > 0 {
                        format!("{}:{}", f.file, f.line)
                    } else {
                        f.file.clone()
                    };
                    let held = if f.locals.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " — holds {} objects, {}",
                            f.locals.len(),
                            text::bytes(f.locals_retained_size)
                        )
                    };
                    format!("{}({location}){held}", f.function)
                })
                .collect(),
        })
        .collect();
    if threads.len() > ROWS {
        cuts.push(format!(
            "Threads: the {ROWS} that retain the most, of {}.",
            threads.len()
        ));
        threads.truncate(ROWS);
    }
    let consumers = |grouping| -> Vec<ConsumerRow> {
        top_consumers(analysis, grouping)
            .into_iter()
            .take(ROWS)
            .map(|g| ConsumerRow {
                group: g.group,
                classes: g.classes,
                count: g.count,
                retained_size: g.retained_size,
            })
            .collect()
    };
    let found = heapgraph::collections::collections(dump, analysis);
    let collections_wasted_bytes = heapgraph::collections::total_wasted_bytes(&found);
    let collections = heapgraph::collections::group(&found)
        .into_iter()
        .take(ROWS)
        .map(|g| CollectionRow {
            class: g.class,
            holder: g.holder,
            count: g.count,
            fill_percent: (g.fill_ratio * 100.0).round() as u64,
            wasted_bytes: g.wasted_bytes,
        })
        .collect();
    let primitive_arrays = graph
        .kinds()
        .iter()
        .filter(|k| **k == heapgraph::core::NodeKind::PrimitiveArray)
        .count();
    let arrays = if primitive_arrays > MAX_ARRAYS {
        cuts.push(format!(
            "Duplicate primitive arrays are not searched in a dump of {primitive_arrays} arrays; \
             `heapgraph strings --arrays` lists them."
        ));
        None
    } else {
        dump.duplicate_arrays(analysis).map(|groups| {
            groups
                .into_iter()
                .take(ROWS)
                .map(|d| ArrayRow {
                    array: format!("{}[{}]", d.element_type, d.length),
                    count: d.copies.count,
                    wasted_bytes: d.copies.wasted_bytes,
                })
                .collect()
        })
    };
    let android_leaks = heapgraph::android::lifecycle_leaks(dump, analysis)
        .into_iter()
        .take(ROWS)
        .map(|l| AndroidLeakRow {
            class: l.class,
            reason: l.reason.to_string(),
            retained_size: l.retained_size,
            library_leak: l.library_leak,
            path: l
                .path
                .iter()
                .map(|r| {
                    let mark = if r.library_leak {
                        " (library leak)"
                    } else {
                        ""
                    };
                    format!("{}.{}{mark}", r.source_class, r.reference)
                })
                .collect(),
        })
        .collect();
    Some(JavaSection {
        threads,
        packages: consumers(Grouping::Package),
        loaders: consumers(Grouping::ClassLoader),
        collections,
        collections_wasted_bytes,
        arrays,
        android_leaks,
    })
}
