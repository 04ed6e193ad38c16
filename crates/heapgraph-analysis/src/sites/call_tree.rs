//! [`CallTree`]: deduplicated inclusive sizes per call path.

use heapgraph_core::{StackId, StackTable, StringTable};

use super::Allocations;

impl<'g> Allocations<'g> {
    /// The deduplicated call tree: per call path, the bytes and blocks
    /// allocated there (`self`) and at or below it (`total`), each allocation
    /// counted once however often a frame recurs.
    pub fn call_tree(&self) -> CallTree<'g> {
        let stacks = self.stacks;
        let (per_stack, empty) = self.per_stack();
        let mut total = per_stack.clone();
        // A parent is always interned before its children: walk ids downwards.
        for i in (0..total.len()).rev() {
            if let Some(parent) = stacks.parent(StackId::new(i as u32)) {
                let (s, c) = total[i];
                if let Some(slot) = total.get_mut(parent.index()) {
                    slot.0 = slot.0.saturating_add(s);
                    slot.1 = slot.1.saturating_add(c);
                }
            }
        }
        CallTree {
            strings: self.strings,
            stacks: self.stacks,
            self_sizes: per_stack,
            totals: total,
            stackless: empty,
        }
    }
}

/// Deduplicated inclusive sizes over the stack trie (see
/// [`Allocations::call_tree`]). Stack ids index the allocations' stack
/// table.
#[derive(Clone, Debug)]
pub struct CallTree<'g> {
    strings: &'g StringTable,
    stacks: &'g StackTable,
    self_sizes: Vec<(u64, u64)>,
    totals: Vec<(u64, u64)>,
    stackless: (u64, u64),
}

impl<'g> CallTree<'g> {
    /// `(bytes, blocks)` allocated with exactly this stack.
    pub fn self_size(&self, stack: StackId) -> (u64, u64) {
        self.self_sizes
            .get(stack.index())
            .copied()
            .unwrap_or((0, 0))
    }

    /// `(bytes, blocks)` allocated with this stack or any deeper one.
    pub fn total_size(&self, stack: StackId) -> (u64, u64) {
        self.totals.get(stack.index()).copied().unwrap_or((0, 0))
    }

    /// `(bytes, blocks)` of allocations without a stack.
    pub fn stackless(&self) -> (u64, u64) {
        self.stackless
    }

    /// Stacks with a non-zero total, ascending by id (parents first).
    pub fn stacks(&self) -> impl Iterator<Item = StackId> + '_ {
        self.totals
            .iter()
            .enumerate()
            .filter(|(_, t)| t.1 > 0)
            .map(|(i, _)| StackId::new(i as u32))
    }

    /// Folded stacks (`file:line;file:line;... bytes`, outermost first),
    /// the input format of flame-graph tools, one line per stack with
    /// self bytes.
    pub fn folded(&self) -> Vec<String> {
        let (stacks, strings) = (self.stacks, self.strings);
        let mut out = Vec::new();
        for (i, &(size, count)) in self.self_sizes.iter().enumerate() {
            if count == 0 {
                continue;
            }
            let frames = stacks.frames_outermost_first(StackId::new(i as u32));
            let path: Vec<String> = frames
                .iter()
                .map(|&f| {
                    let fr = stacks.frame(f);
                    format!("{}:{}", strings.get(fr.file), fr.line)
                })
                .collect();
            out.push(format!("{} {}", path.join(";"), size));
        }
        out
    }
}
