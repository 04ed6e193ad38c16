//! Top consumers (Eclipse MAT's "Top Consumers"): the class histogram
//! folded into bigger groups — Java packages, or the class loaders that
//! defined the classes — with retained sizes that count every object once,
//! as the class histogram does: an instance that another instance of the
//! same group dominates is already inside that one's retained size.
//!
//! Packages come from class names (`org.example.Foo$Bar[]` is in
//! `org.example`; names without a dot, primitive arrays among them, are in
//! [`NO_PACKAGE`]). Class loaders come from the HPROF graph's edges: each
//! object's `<class>` edge leads to its class object, whose `<classloader>`
//! edge leads to the loader ([`BOOT_LOADER`] when there is none), so two
//! classes of one name from two loaders are told apart.

use hashbrown::HashMap;

use heapgraph_core::{EdgeKind, EdgeLabel, HeapGraph, NodeIndex, StringId};

use crate::HeapAnalysis;

/// The group of classes whose name has no package.
pub const NO_PACKAGE: &str = "(no package)";

/// The group of classes the JVM's bootstrap loader defined (no
/// `<classloader>` reference, or one to id 0), as MAT names it.
pub const BOOT_LOADER: &str = "<system class loader>";

/// How instances are grouped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Grouping {
    /// By class name (the class histogram).
    Class,
    /// By the package of the class name.
    Package,
    /// By the class loader that defined the instance's class (HPROF).
    ClassLoader,
}

/// One group's totals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupStats {
    /// The class, the package, or the loader as `class @ 0xid`.
    pub group: String,
    /// The class loader's object id ([`Grouping::ClassLoader`] only; `None`
    /// for the bootstrap loader and the other groupings).
    pub loader_id: Option<u64>,
    /// How many distinct class names its instances have.
    pub classes: u64,
    /// Instances.
    pub count: u64,
    /// Their shallow size.
    pub shallow_size: u64,
    /// Their retained size, each object counted once.
    pub retained_size: u64,
}

/// The instances of the analysis's histogram grouped by `grouping`, largest
/// retained size first (then most instances, then name).
pub fn top_consumers(analysis: &HeapAnalysis<'_>, grouping: Grouping) -> Vec<GroupStats> {
    let graph = analysis.graph();
    let classes = analysis.classes();
    let mut names: Vec<String> = Vec::new();
    let mut loader_ids: Vec<Option<u64>> = Vec::new();
    let mut by_name: HashMap<String, u32> = HashMap::new();
    let mut intern = |name: String, loader: Option<u64>| -> u32 {
        *by_name.entry(name.clone()).or_insert_with(|| {
            names.push(name);
            loader_ids.push(loader);
            (names.len() - 1) as u32
        })
    };
    let group_of: Vec<u32> = match grouping {
        Grouping::Class | Grouping::Package => {
            // One group per class, decided once per class.
            let of_class: Vec<u32> = (0..classes.len())
                .map(|i| {
                    let name = classes.name(crate::ClassId(i as u32));
                    let group = match grouping {
                        Grouping::Package => package_of(name).to_string(),
                        _ => name.to_string(),
                    };
                    intern(group, None)
                })
                .collect();
            graph
                .nodes()
                .map(|n| {
                    classes
                        .class_of(n)
                        .filter(|_| analysis.is_instance(n))
                        .map_or(u32::MAX, |c| of_class[c.index()])
                })
                .collect()
        }
        Grouping::ClassLoader => {
            let labels = Labels::find(graph);
            // Class object → group, decided once per class object.
            let mut of_class_node: HashMap<NodeIndex, u32> = HashMap::new();
            graph
                .nodes()
                .map(|n| {
                    if !analysis.is_instance(n) {
                        return u32::MAX;
                    }
                    let Some(class_node) = labels.and_then(|l| l.target(graph, n, l.class)) else {
                        return intern(BOOT_LOADER.to_string(), None);
                    };
                    *of_class_node.entry(class_node).or_insert_with(|| {
                        match labels.and_then(|l| l.target(graph, class_node, l.loader)) {
                            Some(loader) if graph.object_id(loader) != 0 => {
                                let id = graph.object_id(loader);
                                intern(
                                    format!("{} @ 0x{id:x}", analysis.class_name(loader)),
                                    Some(id),
                                )
                            }
                            _ => intern(BOOT_LOADER.to_string(), None),
                        }
                    })
                })
                .collect()
        }
    };
    let sums = analysis.sum_by_group(names.len(), |n| {
        let group = group_of[n.index()];
        (group != u32::MAX).then_some(group)
    });
    // Distinct class names per group.
    let mut class_sets: Vec<hashbrown::HashSet<u32>> = vec![Default::default(); names.len()];
    for n in graph.nodes() {
        let group = group_of[n.index()];
        if let (Some(set), Some(class)) = (class_sets.get_mut(group as usize), classes.class_of(n))
        {
            set.insert(class.index() as u32);
        }
    }
    let mut rows: Vec<GroupStats> = names
        .into_iter()
        .zip(loader_ids)
        .zip(sums)
        .zip(class_sets)
        .filter(|((_, sums), _)| sums.count > 0)
        .map(|(((group, loader_id), sums), set)| GroupStats {
            group,
            loader_id,
            classes: set.len() as u64,
            count: sums.count,
            shallow_size: sums.shallow_size,
            retained_size: sums.retained_size,
        })
        .collect();
    rows.sort_by(|a, b| {
        b.retained_size
            .cmp(&a.retained_size)
            .then(b.count.cmp(&a.count))
            .then_with(|| a.group.cmp(&b.group))
    });
    rows
}

/// The package of a Java class name: everything before the last `.` of the
/// name without its array brackets, or [`NO_PACKAGE`].
pub fn package_of(class: &str) -> &str {
    let element = class.trim_end_matches("[]");
    match element.rfind('.') {
        Some(dot) => &element[..dot],
        None => NO_PACKAGE,
    }
}

/// The interned labels of the HPROF graph's class and loader edges.
#[derive(Clone, Copy)]
struct Labels {
    class: StringId,
    loader: StringId,
}

impl Labels {
    /// `None` in graphs without them (not HPROF, or no classes).
    fn find(graph: &HeapGraph) -> Option<Labels> {
        Some(Labels {
            class: graph.strings().find(b"<class>")?,
            loader: graph.strings().find(b"<classloader>")?,
        })
    }

    /// The target of `node`'s internal edge labelled `label`.
    fn target(&self, graph: &HeapGraph, node: NodeIndex, label: StringId) -> Option<NodeIndex> {
        graph
            .edges(node)
            .find(|e| e.kind == EdgeKind::Internal && e.label == EdgeLabel::Name(label))
            .map(|e| e.target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_of_java_names() {
        assert_eq!(
            package_of("org.example.app.Plugins$Record"),
            "org.example.app"
        );
        assert_eq!(
            package_of("org.example.app.Plugins$Record[][]"),
            "org.example.app"
        );
        assert_eq!(package_of("java.lang.String"), "java.lang");
        assert_eq!(package_of("byte[]"), NO_PACKAGE);
        assert_eq!(package_of("HeapShapes$ChainNode"), NO_PACKAGE);
        assert_eq!(package_of(""), NO_PACKAGE);
    }
}
