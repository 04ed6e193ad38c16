//! Collections and the memory their unused capacity wastes (Eclipse MAT's
//! collection fill ratios), for Java heap dumps.
//!
//! Sizes and capacities are read from the fields each JDK keeps them in:
//!
//! | classes | size | capacity (slots) | slot bytes |
//! |---|---|---|---|
//! | `HashMap`, `LinkedHashMap`, `WeakHashMap` | `size` | `table.length` | a reference |
//! | `HashSet`, `LinkedHashSet` | their `map`'s | their `map`'s | a reference |
//! | `Hashtable`, `Properties` | `count` | `table.length` | a reference |
//! | `ConcurrentHashMap` | `baseCount` + every `counterCells[i].value` (JDK 5–7: every `segments[i].count`) | `table.length` (JDK 5–7: the segments' tables) | a reference |
//! | `ArrayList` | `size` | `elementData.length` | a reference |
//! | `Vector`, `Stack` | `elementCount` | `elementData.length` | a reference |
//! | `ArrayDeque` | `(tail - head) mod elements.length` | `elements.length` | a reference |
//! | `StringBuilder`, `StringBuffer` | `count` | `value.length >> coder` (JDK 9+; JDK 8: `char[]` length) | `1 << coder` (JDK 8: 2) |
//! | object arrays | non-null elements | length | a reference |
//!
//! A table not yet allocated (`null`) has capacity 0. The wasted bytes are
//! the unused slots (capacity − size, never below 0) times the slot size.
//! A set's inner map is not listed again (the set's row stands for it),
//! nor are the backing arrays of the collections above. Subclasses of these
//! classes other than those named are not read.

use std::collections::BTreeMap;

use heapgraph_analysis::HeapAnalysis;
use heapgraph_core::{EdgeKind, NodeIndex, NodeKind};
use heapgraph_hprof::{FieldValue, HprofDump};

use crate::Dump;

/// One collection object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Collection {
    /// The object.
    pub node: NodeIndex,
    /// Its class (`java.lang.Object[]` style names for arrays).
    pub class: String,
    /// What holds it: `Class.field` of its first strong referrer (`class
    /// X.FIELD` for a static field, `Class[*]` for an array element), or
    /// `(GC roots)`.
    pub holder: String,
    /// Elements.
    pub size: u64,
    /// Slots.
    pub capacity: u64,
    /// Bytes per slot.
    pub slot_bytes: u64,
}

impl Collection {
    /// Unused slots times their size.
    pub fn wasted_bytes(&self) -> u64 {
        self.capacity
            .saturating_sub(self.size)
            .saturating_mul(self.slot_bytes)
    }
}

/// Collections grouped by class and holder.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CollectionGroup {
    /// The collections' class.
    pub class: String,
    /// What holds them (see [`Collection::holder`]).
    pub holder: String,
    /// How many.
    pub count: u64,
    /// How many have no element.
    pub empty: u64,
    /// Their elements.
    pub size: u64,
    /// Their slots.
    pub capacity: u64,
    /// `size / capacity` over the group (1 when there is no capacity).
    pub fill_ratio: f64,
    /// Their unused slots' bytes.
    pub wasted_bytes: u64,
}

/// The backing-array field of each collection class read here, so that
/// those arrays are not listed again as object arrays.
const BACKING_FIELDS: [&str; 4] = ["table", "elementData", "elements", "value"];

/// Every collection of a Java heap dump (none for other formats).
pub fn collections(dump: &Dump, analysis: &HeapAnalysis<'_>) -> Vec<Collection> {
    let Some(hprof) = dump.hprof() else {
        return Vec::new();
    };
    let reader = Reader {
        hprof,
        file: dump.bytes(),
        reference_bytes: if hprof.compressed_references() {
            4
        } else {
            u64::from(hprof.id_size())
        },
    };
    let graph = dump.graph();
    let classes = analysis.classes();
    // The rule of each class, decided the first time the class is met
    // rather than by name for every object.
    let mut rules: Vec<Option<Option<Rule>>> = vec![None; classes.len()];
    let mut found = Vec::new();
    for node in graph.nodes() {
        if !analysis.dominator_tree().contains(node) {
            continue;
        }
        let Some(class_id) = classes.class_of(node) else {
            continue;
        };
        let class = classes.name(class_id);
        let measured = match graph.kind(node) {
            NodeKind::Object => {
                let rule = *rules[class_id.index()].get_or_insert_with(|| rule_for(class));
                rule.and_then(|rule| reader.collection(rule, node))
            }
            NodeKind::Array => reader.object_array(node),
            _ => None,
        };
        let Some((size, capacity, slot_bytes)) = measured else {
            continue;
        };
        let holder = holder(analysis, node);
        if skipped_holder(graph.kind(node), &holder) {
            continue;
        }
        found.push(Collection {
            node,
            class: class.to_string(),
            holder,
            size,
            capacity,
            slot_bytes,
        });
    }
    found
}

/// The bytes all `collections` waste (saturating: sizes come from the dump).
pub fn total_wasted_bytes(collections: &[Collection]) -> u64 {
    collections
        .iter()
        .fold(0u64, |total, c| total.saturating_add(c.wasted_bytes()))
}

/// Groups collections by class and holder, most wasted bytes first.
pub fn group(collections: &[Collection]) -> Vec<CollectionGroup> {
    let mut groups: BTreeMap<(&str, &str), CollectionGroup> = BTreeMap::new();
    for c in collections {
        let group = groups
            .entry((c.class.as_str(), c.holder.as_str()))
            .or_insert_with(|| CollectionGroup {
                class: c.class.clone(),
                holder: c.holder.clone(),
                ..CollectionGroup::default()
            });
        // Sizes come from the dump's fields (a corrupt `baseCount` can be
        // near 2^63): sums saturate.
        group.count += 1;
        group.empty += u64::from(c.size == 0);
        group.size = group.size.saturating_add(c.size);
        group.capacity = group.capacity.saturating_add(c.capacity);
        group.wasted_bytes = group.wasted_bytes.saturating_add(c.wasted_bytes());
    }
    let mut rows: Vec<CollectionGroup> = groups
        .into_values()
        .map(|mut g| {
            g.fill_ratio = if g.capacity == 0 {
                1.0
            } else {
                g.size as f64 / g.capacity as f64
            };
            g
        })
        .collect();
    rows.sort_by(|a, b| {
        b.wasted_bytes
            .cmp(&a.wasted_bytes)
            .then(b.count.cmp(&a.count))
            .then_with(|| (&a.class, &a.holder).cmp(&(&b.class, &b.holder)))
    });
    rows
}

/// A set's inner map and a collection's backing array are the collection's
/// own parts, not collections of their own.
fn skipped_holder(kind: NodeKind, holder: &str) -> bool {
    let Some((owner, field)) = holder.rsplit_once('.') else {
        return false;
    };
    let reads_owner = SIZE_RULES.iter().any(|(class, _)| *class == owner);
    match kind {
        NodeKind::Array => reads_owner && BACKING_FIELDS.contains(&field),
        _ => reads_owner && field == "map",
    }
}

/// The classes read, and how.
#[derive(Clone, Copy)]
enum Rule {
    /// `size` field, `table` array.
    Map(&'static str),
    /// Through the `map` field.
    Set,
    /// `baseCount` + counter cells, `table`.
    Concurrent,
    /// A size field and an array field.
    List(&'static str, &'static str),
    /// `head`, `tail`, `elements`.
    Deque,
    /// `count`, `value`, `coder`.
    Builder,
}

const SIZE_RULES: [(&str, Rule); 14] = [
    ("java.util.HashMap", Rule::Map("size")),
    ("java.util.LinkedHashMap", Rule::Map("size")),
    ("java.util.WeakHashMap", Rule::Map("size")),
    ("java.util.Hashtable", Rule::Map("count")),
    ("java.util.Properties", Rule::Map("count")),
    ("java.util.HashSet", Rule::Set),
    ("java.util.LinkedHashSet", Rule::Set),
    ("java.util.concurrent.ConcurrentHashMap", Rule::Concurrent),
    ("java.util.ArrayList", Rule::List("size", "elementData")),
    (
        "java.util.Vector",
        Rule::List("elementCount", "elementData"),
    ),
    ("java.util.Stack", Rule::List("elementCount", "elementData")),
    ("java.util.ArrayDeque", Rule::Deque),
    ("java.lang.StringBuilder", Rule::Builder),
    ("java.lang.StringBuffer", Rule::Builder),
];

/// How instances of `class` are read, if they are.
fn rule_for(class: &str) -> Option<Rule> {
    SIZE_RULES
        .iter()
        .find(|(name, _)| *name == class)
        .map(|&(_, rule)| rule)
}

struct Reader<'a> {
    hprof: &'a HprofDump,
    file: &'a [u8],
    reference_bytes: u64,
}

impl Reader<'_> {
    /// `(size, capacity, slot bytes)` of an instance read by `rule`.
    fn collection(&self, rule: Rule, node: NodeIndex) -> Option<(u64, u64, u64)> {
        let fields = self.hprof.instance_fields(self.file, node)?;
        let strings = self.hprof.graph().strings();
        let field = |name: &str| {
            fields
                .iter()
                .find(|(n, _)| strings.bytes(*n) == name.as_bytes())
                .map(|f| f.1)
        };
        let int = |name: &str| match field(name) {
            Some(FieldValue::Int(v)) => Some(u64::try_from(v).unwrap_or(0)),
            Some(FieldValue::Long(v)) => Some(u64::try_from(v).unwrap_or(0)),
            _ => None,
        };
        let reference = |name: &str| match field(name) {
            Some(FieldValue::Object(id)) if id != 0 => self.hprof.graph().node_by_object_id(id),
            _ => None,
        };
        let slots = |name: &str| -> u64 {
            reference(name)
                .and_then(|array| self.array_length(array))
                .unwrap_or(0)
        };
        let r = self.reference_bytes;
        match rule {
            Rule::Map(size) => Some((int(size)?, slots("table"), r)),
            Rule::Set => {
                let map = reference("map")?;
                self.collection(Rule::Map("size"), map)
            }
            Rule::Concurrent => {
                // JDK 5-7: segments, each with its own `count`.
                if let Some(segments) =
                    reference("segments").filter(|_| field("baseCount").is_none())
                {
                    let mut size = 0u64;
                    let mut capacity = 0u64;
                    for segment in self.hprof.graph().edges(segments) {
                        if segment.kind != EdgeKind::Element {
                            continue;
                        }
                        let Some(fields) = self.hprof.instance_fields(self.file, segment.target)
                        else {
                            continue;
                        };
                        for (name, value) in &fields {
                            match (strings.bytes(*name), value) {
                                (b"count", FieldValue::Int(v)) => {
                                    size = size.saturating_add(u64::try_from(*v).unwrap_or(0));
                                }
                                (b"table", FieldValue::Object(id)) if *id != 0 => {
                                    capacity = capacity.saturating_add(
                                        self.hprof
                                            .graph()
                                            .node_by_object_id(*id)
                                            .and_then(|t| self.array_length(t))
                                            .unwrap_or(0),
                                    );
                                }
                                _ => {}
                            }
                        }
                    }
                    return Some((size, capacity, r));
                }
                let mut size = int("baseCount")?;
                if let Some(cells) = reference("counterCells") {
                    for cell in self.hprof.graph().edges(cells) {
                        if cell.kind != EdgeKind::Element {
                            continue;
                        }
                        let value =
                            self.hprof
                                .instance_fields(self.file, cell.target)
                                .and_then(|f| {
                                    f.iter()
                                        .find(|(n, _)| strings.bytes(*n) == b"value")
                                        .map(|f| f.1)
                                });
                        if let Some(FieldValue::Long(v)) = value {
                            size = size.saturating_add(u64::try_from(v).unwrap_or(0));
                        }
                    }
                }
                Some((size, slots("table"), r))
            }
            Rule::List(size, array) => Some((int(size)?, slots(array), r)),
            Rule::Deque => {
                let capacity = slots("elements");
                let (head, tail) = (int("head")?, int("tail")?);
                let size = if capacity == 0 {
                    0
                } else {
                    (tail + capacity - head % capacity) % capacity
                };
                Some((size, capacity, r))
            }
            Rule::Builder => {
                let count = int("count")?;
                let length = slots("value");
                match field("coder") {
                    // JDK 9+: byte[] value, 0 Latin-1, 1 UTF-16.
                    Some(FieldValue::Byte(coder)) => {
                        let shift = u32::from(coder == 1);
                        Some((count, length >> shift, 1 << shift))
                    }
                    // JDK 8: char[] value.
                    _ => Some((count, length, 2)),
                }
            }
        }
    }

    /// `(non-null elements, length, reference bytes)` of an object array.
    fn object_array(&self, node: NodeIndex) -> Option<(u64, u64, u64)> {
        let length = u64::from(self.hprof.object_array_length(self.file, node)?);
        let graph = self.hprof.graph();
        let elements = graph
            .edges(node)
            .filter(|e| e.kind == EdgeKind::Element)
            .count() as u64;
        Some((elements, length, self.reference_bytes))
    }

    /// Slots of an array node of either kind.
    fn array_length(&self, node: NodeIndex) -> Option<u64> {
        if let Some(length) = self.hprof.object_array_length(self.file, node) {
            return Some(u64::from(length));
        }
        let (ty, bytes) = self.hprof.primitive_array(self.file, node)?;
        let width = u64::from(ty.file_size(self.hprof.id_size())).max(1);
        Some(bytes.len() as u64 / width)
    }
}

/// `Class.field` of the first strong referrer that retention paths follow.
fn holder(analysis: &HeapAnalysis<'_>, node: NodeIndex) -> String {
    let graph = analysis.graph();
    let retainer = analysis.retainers(node).into_iter().find(|r| {
        r.is_path_edge
            && !matches!(
                graph.kind(r.source),
                NodeKind::Synthetic | NodeKind::RootGroup
            )
    });
    match retainer {
        Some(r) => {
            let owner = analysis.display_class(r.source);
            match graph.edge_kind(r.edge) {
                EdgeKind::Element => format!("{owner}[*]"),
                _ => format!("{owner}.{}", graph.edge_label_str(r.edge)),
            }
        }
        None => heapgraph_analysis::dominator_classes::GC_ROOTS.to_string(),
    }
}
