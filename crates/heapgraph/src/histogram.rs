//! [`shallow_histogram`]: instances and shallow size per class, without
//! dominators (and, for HPROF, without building the graph at all).

use std::path::Path;

use heapgraph_analysis::{listed_in_histogram, ClassTable, EdgePolicy};

use crate::source::Source;
use crate::{Error, Format, OpenOptions};

/// One class of a [`ShallowHistogram`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShallowClassRow {
    /// The class name, as the dominator-based histogram names it
    /// (`java.lang.Class` for HPROF class objects).
    pub class_name: String,
    /// The number of objects.
    pub count: u64,
    /// The sum of their shallow sizes as the analysis shows them (DevTools'
    /// re-attributed sizes for V8 snapshots, self sizes otherwise).
    pub shallow_size: u64,
}

/// Instances and shallow size per class of one dump.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ShallowHistogram {
    /// The dump's format.
    pub format: Format,
    /// The rows, largest shallow size first (ties: more objects first, then
    /// by name).
    pub rows: Vec<ShallowClassRow>,
}

/// Counts the objects of every class of the dump at `path` and sums their
/// shallow sizes, without computing dominators.
///
/// * **HPROF**: [`heapgraph_hprof::shallow_class_histogram`] — one parallel
///   pass over the heap-dump records, no graph, memory per class. Every
///   object in the dump is counted, reachable or not (the dominator-based
///   histogram under MAT's rules leaves unreachable objects out).
/// * **Other formats**: the dump is parsed into its graph as [`crate::open_with`]
///   does and every node with a class is summed (for V8, objects whose shown
///   size is 0 are left out, as DevTools and the dominator-based histogram
///   leave them out; tracemalloc graphs have no unreachable nodes).
///
/// # Errors
///
/// As [`crate::open_with`].
pub fn shallow_histogram(
    path: impl AsRef<Path>,
    options: &OpenOptions,
) -> Result<ShallowHistogram, Error> {
    let source = std::sync::Arc::new(Source::open(path.as_ref(), options)?);
    #[cfg(feature = "hprof")]
    if crate::sniff(source.bytes()) == Some(crate::InputKind::Hprof) {
        let hprof = options
            .hprof
            .clone()
            .with_on_consumed(Source::on_consumed(&source));
        let histogram = options
            .with_threads(|| heapgraph_hprof::shallow_class_histogram(source.bytes(), &hprof))??;
        let rows = histogram
            .rows
            .into_iter()
            .map(|r| ShallowClassRow {
                class_name: r.class_name,
                count: r.count,
                shallow_size: r.shallow_size,
            })
            .collect();
        return Ok(ShallowHistogram {
            format: Format::Hprof,
            rows,
        });
    }
    let dump = crate::parse_source(source, options)?;
    let graph = dump.graph();
    let policy = EdgePolicy::for_format(graph.format());
    let classes = ClassTable::for_graph_with_dom_state(graph, dump.detachedness());
    let shallow = heapgraph_analysis::shallow::shown_sizes(graph, policy.semantics);
    let listed = |n: heapgraph_core::NodeIndex| {
        listed_in_histogram(policy.semantics, shallow.get(n.index()))
    };
    let sums = classes.sum_by_class(&shallow, graph.nodes().filter(|&n| listed(n)));
    let mut rows: Vec<ShallowClassRow> = sums
        .into_iter()
        .filter(|&(_, count, _)| count > 0)
        .map(|(class, count, shallow_size)| ShallowClassRow {
            class_name: classes.name(class).to_string(),
            count,
            shallow_size,
        })
        .collect();
    rows.sort_by(|a, b| {
        b.shallow_size
            .cmp(&a.shallow_size)
            .then(b.count.cmp(&a.count))
            .then_with(|| a.class_name.cmp(&b.class_name))
    });
    Ok(ShallowHistogram {
        format: graph.format(),
        rows,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn testdata(path: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata")
            .join(path)
    }

    /// Outside HPROF, the rows are the dominator-based histogram's count
    /// and shallow size per class, with no dominators computed.
    #[test]
    fn equals_the_dominator_histogram_outside_hprof() {
        for file in [
            "v8/node20-planted.heapsnapshot.gz",
            "v8/node20-sampling.heapprofile",
            "tracemalloc/mixed_1.p5.pickle",
        ] {
            let shallow = shallow_histogram(testdata(file), &OpenOptions::default()).unwrap();
            let dump = crate::open(testdata(file)).unwrap();
            assert_eq!(shallow.format, dump.format());
            let analysis = dump.analyse();
            let mut expected: Vec<(String, u64, u64)> = analysis
                .class_histogram()
                .rows()
                .iter()
                .map(|r| {
                    (
                        analysis.classes().name(r.class).to_string(),
                        r.count,
                        r.shallow_size,
                    )
                })
                .collect();
            let mut ours: Vec<(String, u64, u64)> = shallow
                .rows
                .iter()
                .map(|r| (r.class_name.clone(), r.count, r.shallow_size))
                .collect();
            expected.sort();
            ours.sort();
            assert!(!ours.is_empty(), "{file}");
            assert_eq!(ours, expected, "{file}");
        }
    }

    /// HPROF: every object, the unreachable ones too (233 in this dump).
    #[test]
    fn hprof_counts_every_object() {
        let file = testdata("hprof/hotspot-jdk17-shapes.hprof.gz");
        let shallow = shallow_histogram(&file, &OpenOptions::default()).unwrap();
        assert_eq!(shallow.format, Format::Hprof);
        let total: u64 = shallow.rows.iter().map(|r| r.count).sum();
        assert_eq!(total, 15240);
        let dump = crate::open(&file).unwrap();
        let analysis = dump.analyse();
        let reachable: u64 = analysis
            .class_histogram()
            .rows()
            .iter()
            .map(|r| r.count)
            .sum();
        assert_eq!(total - reachable, analysis.unreachable().nodes.len() as u64);
        assert_eq!(total - reachable, 233);
    }
}
