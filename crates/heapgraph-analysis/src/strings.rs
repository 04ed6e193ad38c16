//! Duplicate strings: equal string values held by several objects.
//!
//! The caller supplies each string object with its content and the bytes one
//! copy costs (for V8 the string node's self size; for Java the `String`
//! instance plus its `value` array). Groups of two or more copies are
//! reported with the bytes that deduplication would save: everything but
//! one copy.

use std::collections::HashMap;

use heapgraph_core::{HeapGraph, NodeIndex, NodeKind};

/// One string value held by several objects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateString {
    /// The value (raw bytes: UTF-8, or WTF-8 / modified UTF-8 as the format
    /// stores it; decode lossily for display).
    pub value: Vec<u8>,
    /// How many objects hold this value (at least 2).
    pub count: u64,
    /// The bytes all copies take together.
    pub total_bytes: u64,
    /// The bytes that would be freed if one copy were shared:
    /// `total_bytes` minus the largest single copy.
    pub wasted_bytes: u64,
    /// Up to [`EXAMPLES`] of the objects, in the order they were given.
    pub examples: Vec<NodeIndex>,
}

/// How many example nodes each group keeps.
pub const EXAMPLES: usize = 5;

/// Groups string objects by value and returns the duplicated values, most
/// wasted bytes first (then more copies first, then by value).
pub fn duplicate_strings<'a>(
    strings: impl IntoIterator<Item = (NodeIndex, &'a [u8], u64)>,
) -> Vec<DuplicateString> {
    struct Group {
        count: u64,
        total: u64,
        largest: u64,
        examples: Vec<NodeIndex>,
    }
    let mut groups: HashMap<&'a [u8], Group> = HashMap::new();
    for (node, value, bytes) in strings {
        let group = groups.entry(value).or_insert(Group {
            count: 0,
            total: 0,
            largest: 0,
            examples: Vec::new(),
        });
        group.count += 1;
        group.total = group.total.saturating_add(bytes);
        group.largest = group.largest.max(bytes);
        if group.examples.len() < EXAMPLES {
            group.examples.push(node);
        }
    }
    let mut out: Vec<DuplicateString> = groups
        .into_iter()
        .filter(|(_, g)| g.count >= 2)
        .map(|(value, g)| DuplicateString {
            value: value.to_vec(),
            count: g.count,
            total_bytes: g.total,
            wasted_bytes: g.total.saturating_sub(g.largest),
            examples: g.examples,
        })
        .collect();
    out.sort_by(|a, b| {
        b.wasted_bytes
            .cmp(&a.wasted_bytes)
            .then(b.count.cmp(&a.count))
            .then_with(|| a.value.cmp(&b.value))
    });
    out
}

/// The flat strings of a V8 graph as `(node, value, self size)`.
///
/// Only [`NodeKind::String`] nodes own their characters; cons and sliced
/// strings point into other strings and are left out. V8 cuts string values
/// in snapshots at 1024 characters, so long strings that differ only after
/// that point are grouped together.
pub fn v8_strings(graph: &HeapGraph) -> impl Iterator<Item = (NodeIndex, &[u8], u64)> + '_ {
    graph
        .nodes()
        .filter(move |&n| graph.kind(n) == NodeKind::String)
        .map(move |n| (n, graph.strings().bytes(graph.name(n)), graph.self_size(n)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use heapgraph_core::{Format, GraphBuilder};

    #[test]
    fn groups_by_value_and_counts_waste() {
        let n = NodeIndex::new;
        let strings: Vec<(NodeIndex, &[u8], u64)> = vec![
            (n(1), b"hello", 24),
            (n(2), b"world", 24),
            (n(3), b"hello", 24),
            (n(4), b"hello", 32),
            (n(5), b"x", 16),
            (n(6), b"x", 16),
        ];
        let dups = duplicate_strings(strings);
        assert_eq!(dups.len(), 2);
        assert_eq!(dups[0].value, b"hello");
        assert_eq!(dups[0].count, 3);
        assert_eq!(dups[0].total_bytes, 80);
        assert_eq!(dups[0].wasted_bytes, 48);
        assert_eq!(dups[0].examples, vec![n(1), n(3), n(4)]);
        assert_eq!(dups[1].value, b"x");
        assert_eq!(dups[1].wasted_bytes, 16);
    }

    #[test]
    fn v8_strings_are_flat_string_nodes() {
        let mut b = GraphBuilder::new(Format::V8HeapSnapshot);
        let root = b.intern(b"").unwrap();
        b.add_node(NodeKind::Synthetic, root, 1, 0).unwrap();
        let v = b.intern(b"abc").unwrap();
        b.add_node(NodeKind::String, v, 3, 20).unwrap();
        b.add_node(NodeKind::ConsString, v, 5, 32).unwrap();
        b.add_node(NodeKind::String, v, 7, 20).unwrap();
        let g = b.finish().unwrap();
        let dups = duplicate_strings(v8_strings(&g));
        assert_eq!(dups.len(), 1);
        assert_eq!(dups[0].count, 2);
        assert_eq!(dups[0].wasted_bytes, 20);
    }
}
