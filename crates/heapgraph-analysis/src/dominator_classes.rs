//! Immediate dominators grouped by class (Eclipse MAT's "Immediate
//! Dominators" query): for a set of objects, usually every instance of a
//! class, which classes of objects keep them alive on their own, and how
//! much is at stake.
//!
//! Each object of the set is charged to its immediate dominator, or, where
//! that object's class is to be skipped (MAT's `-skip`, e.g. `java.*`
//! collections), to the first dominator up the tree whose class is not.
//! Objects dominated by the synthetic root or a root group are charged to
//! `(GC roots)`. Skip patterns match the row's name, so a Java class
//! object (`class Foo`, the holder of `Foo`'s static fields) is skipped
//! only by a pattern for `class Foo`, where MAT, matching the object's
//! class `java.lang.Class`, looks through every class object under
//! `java.*`. Sizes count every object once: a member of the set that
//! another member dominates is already in that member's retained size, and
//! a dominator below another dominator of the same row is already in its.

use hashbrown::HashMap;

use heapgraph_core::{NodeIndex, NodeKind};

use crate::HeapAnalysis;

/// What the objects of a row are charged to when the synthetic root or a
/// root group dominates them.
pub const GC_ROOTS: &str = "(GC roots)";

/// One row: the dominators of one class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DominatorClassRow {
    /// The dominators' class (a Java class object as `class X`, the
    /// objects it holds in static fields being its), or [`GC_ROOTS`].
    pub class: String,
    /// How many distinct objects of this class dominate members.
    pub dominators: u64,
    /// Their retained size, each counted once (a dominator below another
    /// dominator of this row is inside its retained size).
    pub dominators_retained_size: u64,
    /// How many members of the set they dominate.
    pub dominated: u64,
    /// Those members' shallow size.
    pub dominated_shallow_size: u64,
    /// Those members' retained size, each counted once (a member below
    /// another member of the set, in any row, is inside its retained size).
    pub dominated_retained_size: u64,
}

/// Groups the immediate dominators of `members` by class, largest
/// `dominated_retained_size` first (then most members, then class name).
/// `skip(class)`: dominators of such classes are looked through to their
/// own dominator. Members outside the dominator tree (unreachable under
/// the analysis's rule) are left out.
pub fn immediate_dominators_by_class(
    analysis: &HeapAnalysis<'_>,
    members: &[NodeIndex],
    skip: impl Fn(&str) -> bool,
) -> Vec<DominatorClassRow> {
    let graph = analysis.graph();
    let label = |node: NodeIndex| -> Option<String> {
        match graph.kind(node) {
            NodeKind::Synthetic | NodeKind::RootGroup => None,
            _ => Some(analysis.display_class(node)),
        }
    };
    // Member → the dominator it is charged to (None: the GC roots).
    let mut charged: HashMap<NodeIndex, Option<NodeIndex>> = HashMap::new();
    let mut is_member: HashMap<NodeIndex, ()> = HashMap::new();
    for &member in members {
        if !analysis.dominator_tree().contains(member) || is_member.contains_key(&member) {
            continue;
        }
        is_member.insert(member, ());
        let mut dominator = analysis.immediate_dominator(member);
        while let Some(node) = dominator {
            match label(node) {
                Some(class) if skip(&class) => dominator = analysis.immediate_dominator(node),
                Some(_) => break,
                None => {
                    dominator = None;
                    break;
                }
            }
        }
        charged.insert(member, dominator);
    }
    // Row per class, and each distinct dominator once.
    let mut rows: HashMap<String, DominatorClassRow> = HashMap::new();
    let mut dominator_row: HashMap<NodeIndex, String> = HashMap::new();
    for (&member, &dominator) in &charged {
        let class = match dominator {
            Some(node) => label(node).unwrap_or_else(|| GC_ROOTS.to_string()),
            None => GC_ROOTS.to_string(),
        };
        let row = rows
            .entry(class.clone())
            .or_insert_with(|| DominatorClassRow {
                class: class.clone(),
                dominators: 0,
                dominators_retained_size: 0,
                dominated: 0,
                dominated_shallow_size: 0,
                dominated_retained_size: 0,
            });
        row.dominated += 1;
        row.dominated_shallow_size += analysis.shallow_size(member);
        if let Some(node) = dominator {
            if dominator_row.insert(node, class).is_none() {
                row.dominators += 1;
            }
        }
    }
    // Counted once: one walk of the dominator tree, keeping how many
    // members, and how many dominators of each row, are on the way down.
    let mut members_above = 0u32;
    let mut dominators_above: HashMap<&str, u32> = HashMap::new();
    let mut member_sums: HashMap<&str, u64> = HashMap::new();
    let mut dominator_sums: HashMap<&str, u64> = HashMap::new();
    let member_row = |member: NodeIndex| -> &str {
        match charged.get(&member).copied().flatten() {
            Some(node) => dominator_row.get(&node).map_or(GC_ROOTS, String::as_str),
            None => GC_ROOTS,
        }
    };
    analysis
        .dominated()
        .walk(NodeIndex::new(0), |node, entering| {
            if let Some(class) = dominator_row.get(&node) {
                let above = dominators_above.entry(class.as_str()).or_insert(0);
                if entering {
                    if *above == 0 {
                        *dominator_sums.entry(class.as_str()).or_insert(0) +=
                            analysis.retained_size(node);
                    }
                    *above += 1;
                } else {
                    *above -= 1;
                }
            }
            if is_member.contains_key(&node) {
                if entering {
                    if members_above == 0 {
                        *member_sums.entry(member_row(node)).or_insert(0) +=
                            analysis.retained_size(node);
                    }
                    members_above += 1;
                } else {
                    members_above -= 1;
                }
            }
        });
    let mut rows: Vec<DominatorClassRow> = rows
        .into_values()
        .map(|mut row| {
            row.dominated_retained_size = member_sums.get(row.class.as_str()).copied().unwrap_or(0);
            row.dominators_retained_size =
                dominator_sums.get(row.class.as_str()).copied().unwrap_or(0);
            row
        })
        .collect();
    rows.sort_by(|a, b| {
        b.dominated_retained_size
            .cmp(&a.dominated_retained_size)
            .then(b.dominated.cmp(&a.dominated))
            .then_with(|| a.class.cmp(&b.class))
    });
    rows
}
