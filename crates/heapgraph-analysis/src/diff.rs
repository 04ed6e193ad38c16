//! Differences between two snapshots, per class (the DevTools Comparison
//! view, with retained sizes added).
//!
//! Where object ids are stable between the two snapshots (V8 snapshots of one
//! isolate from Node, Chrome, Deno), objects are matched by id: an id only in
//! the new snapshot is a new object, an id only in the old one a deleted
//! object. Where they are not (HPROF addresses move with GC, Bun renumbers,
//! tracemalloc has no ids) only class totals are compared and
//! [`ClassDiff::new_objects`] / [`ClassDiff::deleted_objects`] are `None`;
//! [`SnapshotDiff::matching`] says which was done.

use std::collections::HashMap;

use heapgraph_core::{HeapGraph, NodeIndex};

use crate::HeapAnalysis;

/// How objects were matched between the snapshots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Matching {
    /// By object id: new and deleted objects are known.
    ById,
    /// By class totals only: the ids are not stable between the snapshots.
    ByClass,
}

impl Matching {
    /// `"id"` or `"class"`, for output.
    pub fn as_str(self) -> &'static str {
        match self {
            Matching::ById => "id",
            Matching::ByClass => "class",
        }
    }
}

/// New or deleted objects of one class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObjectDelta {
    /// How many objects.
    pub count: u64,
    /// Their total shallow size.
    pub shallow_size: u64,
}

/// One class's change between the snapshots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassDiff {
    /// The class name.
    pub class: String,
    /// Instances in the old snapshot.
    pub old_count: u64,
    /// Instances in the new snapshot.
    pub new_count: u64,
    /// Shallow size in the old snapshot.
    pub old_shallow_size: u64,
    /// Shallow size in the new snapshot.
    pub new_shallow_size: u64,
    /// Class retained size in the old snapshot.
    pub old_retained_size: u64,
    /// Class retained size in the new snapshot.
    pub new_retained_size: u64,
    /// Objects only in the new snapshot (matching by id only).
    pub new_objects: Option<ObjectDelta>,
    /// Objects only in the old snapshot (matching by id only).
    pub deleted_objects: Option<ObjectDelta>,
}

impl ClassDiff {
    /// New count minus old count.
    pub fn count_delta(&self) -> i64 {
        signed_delta(self.new_count, self.old_count)
    }

    /// New shallow size minus old shallow size.
    pub fn shallow_size_delta(&self) -> i64 {
        signed_delta(self.new_shallow_size, self.old_shallow_size)
    }

    /// New retained size minus old retained size.
    pub fn retained_size_delta(&self) -> i64 {
        signed_delta(self.new_retained_size, self.old_retained_size)
    }

    fn is_unchanged(&self) -> bool {
        self.old_count == self.new_count
            && self.old_shallow_size == self.new_shallow_size
            && self.old_retained_size == self.new_retained_size
            && self.new_objects.is_none_or(|d| d.count == 0)
            && self.deleted_objects.is_none_or(|d| d.count == 0)
    }
}

fn signed_delta(new: u64, old: u64) -> i64 {
    let delta = i128::from(new) - i128::from(old);
    delta.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// The classes that changed between two snapshots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotDiff {
    /// How objects were matched.
    pub matching: Matching,
    /// Changed classes, largest absolute shallow-size change first (then
    /// retained, then by name). Unchanged classes are left out.
    pub classes: Vec<ClassDiff>,
}

/// Why two snapshots cannot be compared.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DiffError {
    /// The snapshots are of different formats.
    #[error("cannot diff {old} with {new}: both snapshots must be of the same format")]
    FormatMismatch {
        /// The old snapshot's format.
        old: &'static str,
        /// The new snapshot's format.
        new: &'static str,
    },
}

/// Compares two analysed snapshots of the same format. `matching` says
/// whether object ids identify the same object in both ([`Matching::ById`],
/// see the module docs) or only class totals can be compared
/// ([`Matching::ByClass`]).
pub fn diff(
    old: &HeapAnalysis<'_>,
    new: &HeapAnalysis<'_>,
    matching: Matching,
) -> Result<SnapshotDiff, DiffError> {
    let (old_format, new_format) = (old.graph().format(), new.graph().format());
    if old_format != new_format {
        return Err(DiffError::FormatMismatch {
            old: old_format.as_str(),
            new: new_format.as_str(),
        });
    }
    let mut rows: Vec<ClassDiff> = Vec::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut row_for = |rows: &mut Vec<ClassDiff>, name: &str| -> usize {
        *by_name.entry(name.to_string()).or_insert_with(|| {
            rows.push(ClassDiff {
                class: name.to_string(),
                old_count: 0,
                new_count: 0,
                old_shallow_size: 0,
                new_shallow_size: 0,
                old_retained_size: 0,
                new_retained_size: 0,
                new_objects: (matching == Matching::ById).then(ObjectDelta::default),
                deleted_objects: (matching == Matching::ById).then(ObjectDelta::default),
            });
            rows.len() - 1
        })
    };
    for (analysis, is_new) in [(old, false), (new, true)] {
        let histogram = analysis.class_histogram();
        for stats in histogram.rows() {
            let i = row_for(&mut rows, analysis.classes().name(stats.class));
            let row = &mut rows[i];
            if is_new {
                row.new_count = stats.count;
                row.new_shallow_size = stats.shallow_size;
                row.new_retained_size = stats.retained_size;
            } else {
                row.old_count = stats.count;
                row.old_shallow_size = stats.shallow_size;
                row.old_retained_size = stats.retained_size;
            }
        }
    }
    if matching == Matching::ById {
        let old_ids = instance_ids(old);
        let new_ids = instance_ids(new);
        for (analysis, mine, theirs, is_new) in [
            (new, &new_ids, &old_ids, true),
            (old, &old_ids, &new_ids, false),
        ] {
            for &(id, node) in mine {
                let name = analysis.class_name(node);
                let matched = theirs
                    .binary_search_by_key(&id, |&(other, _)| other)
                    .is_ok_and(|j| {
                        let other = if is_new { old } else { new };
                        other.class_name(theirs[j].1) == name
                    });
                if matched {
                    continue;
                }
                let i = row_for(&mut rows, name);
                let delta = if is_new {
                    rows[i].new_objects.as_mut()
                } else {
                    rows[i].deleted_objects.as_mut()
                };
                if let Some(delta) = delta {
                    delta.count += 1;
                    delta.shallow_size = delta
                        .shallow_size
                        .saturating_add(analysis.shallow_size(node));
                }
            }
        }
    }
    rows.retain(|row| !row.is_unchanged());
    rows.sort_by(|a, b| {
        b.shallow_size_delta()
            .unsigned_abs()
            .cmp(&a.shallow_size_delta().unsigned_abs())
            .then(
                b.retained_size_delta()
                    .unsigned_abs()
                    .cmp(&a.retained_size_delta().unsigned_abs()),
            )
            .then_with(|| a.class.cmp(&b.class))
    });
    Ok(SnapshotDiff {
        matching,
        classes: rows,
    })
}

/// `(object id, node)` of every histogram instance, sorted by id.
fn instance_ids(analysis: &HeapAnalysis<'_>) -> Vec<(u64, NodeIndex)> {
    let graph: &HeapGraph = analysis.graph();
    let mut ids: Vec<(u64, NodeIndex)> = graph
        .nodes()
        .filter(|&n| analysis.is_instance(n))
        .map(|n| (graph.object_id(n), n))
        .collect();
    ids.sort_unstable();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;
    use heapgraph_core::{EdgeKind, Format, GraphBuilder, NodeKind, RootKind};

    /// A graph with objects of the given (class, id, size), all held by a
    /// JNI-global root.
    fn graph(format: Format, objects: &[(&str, u64, u64)]) -> HeapGraph {
        let mut b = GraphBuilder::new(format);
        let root = b.intern(b"(root)").unwrap();
        b.add_node(NodeKind::Synthetic, root, 0, 0).unwrap();
        for &(class, id, size) in objects {
            let name = b.intern(class.as_bytes()).unwrap();
            let node = b.add_node(NodeKind::Object, name, id, size).unwrap();
            b.add_gc_root(node, RootKind::JniGlobal);
        }
        let _ = EdgeKind::Property;
        b.finish().unwrap()
    }

    #[test]
    fn matching_by_id_finds_new_and_deleted_objects() {
        let old = graph(
            Format::Hprof,
            &[("A", 1, 10), ("A", 2, 10), ("B", 3, 5), ("C", 4, 7)],
        );
        let new = graph(
            Format::Hprof,
            &[
                ("A", 2, 10),
                ("A", 5, 10),
                ("A", 6, 10),
                ("B", 3, 5),
                ("C", 4, 7),
            ],
        );
        let (old_a, new_a) = (HeapAnalysis::new(&old), HeapAnalysis::new(&new));
        let result = diff(&old_a, &new_a, Matching::ById).unwrap();
        assert_eq!(result.matching, Matching::ById);
        // B and C are unchanged and left out; the root group is shared.
        let a = result.classes.iter().find(|c| c.class == "A").unwrap();
        assert_eq!((a.old_count, a.new_count), (2, 3));
        assert_eq!(a.count_delta(), 1);
        assert_eq!(a.shallow_size_delta(), 10);
        assert_eq!(a.retained_size_delta(), 10);
        assert_eq!(
            a.new_objects,
            Some(ObjectDelta {
                count: 2,
                shallow_size: 20
            })
        );
        assert_eq!(
            a.deleted_objects,
            Some(ObjectDelta {
                count: 1,
                shallow_size: 10
            })
        );
        assert!(result
            .classes
            .iter()
            .all(|c| c.class != "B" && c.class != "C"));
    }

    #[test]
    fn unstable_ids_compare_class_totals_only() {
        let old = graph(Format::Hprof, &[("A", 1, 10)]);
        let new = graph(Format::Hprof, &[("A", 9, 10), ("A", 8, 10)]);
        let result = diff(
            &HeapAnalysis::new(&old),
            &HeapAnalysis::new(&new),
            Matching::ByClass,
        )
        .unwrap();
        assert_eq!(result.matching, Matching::ByClass);
        let a = result.classes.iter().find(|c| c.class == "A").unwrap();
        assert_eq!(a.count_delta(), 1);
        assert_eq!(a.new_objects, None);
        assert_eq!(a.deleted_objects, None);
    }

    #[test]
    fn diff_of_a_snapshot_with_itself_is_empty() {
        let g = graph(Format::Hprof, &[("A", 1, 10), ("B", 2, 3)]);
        let a = HeapAnalysis::new(&g);
        assert!(diff(&a, &a, Matching::ById).unwrap().classes.is_empty());
        assert!(diff(&a, &a, Matching::ByClass).unwrap().classes.is_empty());
    }

    #[test]
    fn formats_must_match() {
        let old = graph(Format::Hprof, &[("A", 1, 10)]);
        let new = graph(Format::V8HeapSnapshot, &[("A", 1, 10)]);
        let err = diff(
            &HeapAnalysis::new(&old),
            &HeapAnalysis::new(&new),
            Matching::ById,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot diff hprof with v8: both snapshots must be of the same format"
        );
    }
}
