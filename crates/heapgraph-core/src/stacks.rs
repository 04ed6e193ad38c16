//! Allocation call stacks, shared by every format that records them.
//!
//! Frames (function, file, line, column) are interned once. Stacks are nodes of
//! a parent-pointer trie whose root side is the **outermost** caller: a
//! [`StackId`] names the innermost (most recent) frame of its stack, and its
//! parent is the same stack without that frame. Stacks with a common prefix of
//! callers share their trie nodes, which is what real dumps need (tracemalloc
//! tracebacks and V8 allocation traces repeat heavily).
//!
//! ```text
//! main.py:10 ── lib.py:5 ── util.py:7      stack 2 = [main:10, lib:5, util:7]
//!                        └─ util.py:9      stack 3 = [main:10, lib:5, util:9]
//! ```
//!
//! tracemalloc tracebacks (most recent first), V8 `trace_tree` paths and
//! `.heapprofile` call trees (root first) and HPROF stack traces (innermost
//! first) all map onto it; the order of any stack can be walked either way.

use std::hash::BuildHasher;

use hashbrown::{HashMap, HashTable};

use crate::{FrameId, StackId, StringId};

/// One source location of a call stack.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Frame {
    /// The function or method name ([`StringId::EMPTY`] when unknown, as in
    /// tracemalloc, which records only file and line).
    pub function: StringId,
    /// The script, file or class the code lives in.
    pub file: StringId,
    /// The line as the producer numbers it (see the parser's docs; 0 usually
    /// means unknown).
    pub line: u32,
    /// The column as the producer numbers it (0 when the format has none).
    pub column: u32,
}

const NO_PARENT: u32 = u32::MAX;

/// An immutable table of frames and stacks.
#[derive(Clone, Debug, Default)]
pub struct StackTable {
    frames: Vec<Frame>,
    /// Per stack: its parent stack, or `NO_PARENT` for a one-frame stack.
    stack_parent: Vec<u32>,
    /// Per stack: its innermost frame.
    stack_frame: Vec<FrameId>,
    /// Per stack: its number of frames (1 for a one-frame stack).
    stack_depth: Vec<u32>,
}

impl StackTable {
    /// The number of distinct frames.
    pub fn frame_count(&self) -> usize {
        self.frames.len()
    }

    /// The number of distinct stacks (trie nodes).
    pub fn stack_count(&self) -> usize {
        self.stack_parent.len()
    }

    /// Whether the table holds no stacks.
    pub fn is_empty(&self) -> bool {
        self.stack_parent.is_empty()
    }

    /// A frame by id. Out-of-range ids yield the default (unknown) frame.
    pub fn frame(&self, id: FrameId) -> Frame {
        self.frames.get(id.index()).copied().unwrap_or_default()
    }

    /// The stack without its innermost frame, or `None` for a one-frame stack.
    pub fn parent(&self, id: StackId) -> Option<StackId> {
        match self.stack_parent.get(id.index()) {
            Some(&p) if p != NO_PARENT => Some(StackId(p)),
            _ => None,
        }
    }

    /// The innermost (most recent) frame of a stack.
    pub fn innermost_frame(&self, id: StackId) -> FrameId {
        self.stack_frame
            .get(id.index())
            .copied()
            .unwrap_or_default()
    }

    /// The number of frames in a stack.
    pub fn depth(&self, id: StackId) -> u32 {
        self.stack_depth.get(id.index()).copied().unwrap_or(0)
    }

    /// The frames of a stack, innermost (most recent) first.
    pub fn frames_innermost_first(&self, id: StackId) -> impl Iterator<Item = FrameId> + '_ {
        let mut next = if id.index() < self.stack_count() {
            Some(id)
        } else {
            None
        };
        std::iter::from_fn(move || {
            let current = next?;
            next = self.parent(current);
            Some(self.innermost_frame(current))
        })
    }

    /// The frames of a stack, outermost (oldest caller) first.
    pub fn frames_outermost_first(&self, id: StackId) -> Vec<FrameId> {
        let mut frames: Vec<FrameId> = self.frames_innermost_first(id).collect();
        frames.reverse();
        frames
    }

    /// The outermost frame of a stack (what Python prints for a traceback).
    pub fn outermost_frame(&self, id: StackId) -> FrameId {
        self.frames_innermost_first(id).last().unwrap_or_default()
    }
}

/// Builds a [`StackTable`], interning frames and stacks.
#[derive(Debug, Default)]
pub struct StackTableBuilder {
    table: StackTable,
    frame_index: HashMap<Frame, FrameId>,
    /// Stack ids hashed by `(parent, frame)`, which are read back from the
    /// table: 4 bytes per stack (plus a control byte) instead of 12, which
    /// matters for dumps with millions of distinct stacks.
    stack_index: HashTable<u32>,
    hasher: hashbrown::DefaultHashBuilder,
}

/// Error returned when a stack table would exceed `u32::MAX - 1` entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("too many distinct frames or stacks (more than 4294967294)")]
pub struct TooManyStacks;

impl StackTableBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Interns a frame.
    pub fn intern_frame(&mut self, frame: Frame) -> Result<FrameId, TooManyStacks> {
        if let Some(&id) = self.frame_index.get(&frame) {
            return Ok(id);
        }
        let id = next_id(self.table.frames.len())?;
        self.table.frames.push(frame);
        self.frame_index.insert(frame, FrameId(id));
        Ok(FrameId(id))
    }

    /// Interns the stack `parent + [frame]` (`frame` called from `parent`).
    pub fn push_frame(
        &mut self,
        parent: Option<StackId>,
        frame: FrameId,
    ) -> Result<StackId, TooManyStacks> {
        let parent_raw = match parent {
            Some(p) if p.index() < self.table.stack_count() => p.0,
            _ => NO_PARENT,
        };
        let hash = self.hasher.hash_one((parent_raw, frame));
        let table = &self.table;
        let same = |&id: &u32| {
            table.stack_parent.get(id as usize) == Some(&parent_raw)
                && table.stack_frame.get(id as usize) == Some(&frame)
        };
        if let Some(&id) = self.stack_index.find(hash, same) {
            return Ok(StackId(id));
        }
        let id = next_id(self.table.stack_parent.len())?;
        let depth = if parent_raw == NO_PARENT {
            1
        } else {
            self.table.stack_depth[parent_raw as usize].saturating_add(1)
        };
        self.table.stack_parent.push(parent_raw);
        self.table.stack_frame.push(frame);
        self.table.stack_depth.push(depth);
        let (table, hasher) = (&self.table, &self.hasher);
        self.stack_index.insert_unique(hash, id, |&other| {
            let i = other as usize;
            hasher.hash_one((
                table.stack_parent.get(i).copied().unwrap_or(NO_PARENT),
                table.stack_frame.get(i).copied().unwrap_or_default(),
            ))
        });
        Ok(StackId(id))
    }

    /// Interns a whole stack given outermost frame first. `None` if empty.
    pub fn intern_outermost_first(
        &mut self,
        frames: impl IntoIterator<Item = FrameId>,
    ) -> Result<Option<StackId>, TooManyStacks> {
        let mut stack = None;
        for frame in frames {
            stack = Some(self.push_frame(stack, frame)?);
        }
        Ok(stack)
    }

    /// Interns a whole stack given innermost (most recent) frame first, as
    /// tracemalloc and HPROF list them. `None` if empty.
    pub fn intern_innermost_first<I>(&mut self, frames: I) -> Result<Option<StackId>, TooManyStacks>
    where
        I: IntoIterator<Item = FrameId>,
        I::IntoIter: DoubleEndedIterator,
    {
        self.intern_outermost_first(frames.into_iter().rev())
    }

    /// The table built so far.
    pub fn table(&self) -> &StackTable {
        &self.table
    }

    /// Drops the lookup indexes and returns the frozen table.
    pub fn finish(mut self) -> StackTable {
        self.table.frames.shrink_to_fit();
        self.table.stack_parent.shrink_to_fit();
        self.table.stack_frame.shrink_to_fit();
        self.table.stack_depth.shrink_to_fit();
        self.table
    }
}

fn next_id(len: usize) -> Result<u32, TooManyStacks> {
    match u32::try_from(len) {
        Ok(id) if id < NO_PARENT => Ok(id),
        _ => Err(TooManyStacks),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(file: u32, line: u32) -> Frame {
        Frame {
            function: StringId::EMPTY,
            file: StringId::new(file),
            line,
            column: 0,
        }
    }

    #[test]
    fn stacks_share_prefixes_and_walk_both_ways() {
        let mut builder = StackTableBuilder::new();
        let main = builder.intern_frame(frame(1, 10)).unwrap();
        let lib = builder.intern_frame(frame(2, 5)).unwrap();
        let util7 = builder.intern_frame(frame(3, 7)).unwrap();
        let util9 = builder.intern_frame(frame(3, 9)).unwrap();
        assert_eq!(builder.intern_frame(frame(1, 10)).unwrap(), main);

        let a = builder
            .intern_outermost_first([main, lib, util7])
            .unwrap()
            .unwrap();
        // Innermost first, like a tracemalloc traceback.
        let b = builder
            .intern_innermost_first([util9, lib, main])
            .unwrap()
            .unwrap();
        let a_again = builder
            .intern_innermost_first(vec![util7, lib, main])
            .unwrap()
            .unwrap();
        assert_eq!(a, a_again);
        assert_ne!(a, b);
        let table = builder.finish();
        // main, main>lib, main>lib>util7, main>lib>util9
        assert_eq!(table.stack_count(), 4);
        assert_eq!(table.parent(a), table.parent(b));
        assert_eq!(table.depth(a), 3);
        assert_eq!(table.frames_outermost_first(b), vec![main, lib, util9]);
        assert_eq!(
            table.frames_innermost_first(a).collect::<Vec<_>>(),
            vec![util7, lib, main]
        );
        assert_eq!(table.outermost_frame(a), main);
        assert_eq!(table.innermost_frame(b), util9);
        assert_eq!(table.frame(util9).line, 9);
        assert_eq!(
            table.frames_innermost_first(StackId::new(77)).count(),
            0,
            "foreign ids walk nothing"
        );
    }

    /// Many stacks with shared prefixes: each distinct path gets one id,
    /// found again on every later push, as a plain map of paths says.
    #[test]
    fn stack_ids_are_unique_per_path_at_scale() {
        let mut builder = StackTableBuilder::new();
        let frames: Vec<FrameId> = (0..50)
            .map(|i| builder.intern_frame(frame(i % 7, i)).unwrap())
            .collect();
        let mut paths: std::collections::HashMap<Vec<FrameId>, StackId> =
            std::collections::HashMap::new();
        let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
        for round in 0..2 {
            for _ in 0..20_000 {
                let mut path = Vec::new();
                let mut stack = None;
                for _ in 0..1 + seed % 12 {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let f = frames[(seed % 6 + (path.len() as u64 * 3)) as usize % frames.len()];
                    path.push(f);
                    let id = builder.push_frame(stack, f).unwrap();
                    let known = *paths.entry(path.clone()).or_insert(id);
                    assert_eq!(known, id, "round {round}");
                    stack = Some(id);
                }
            }
        }
        let table = builder.finish();
        assert_eq!(table.stack_count(), paths.len());
        assert!(paths.len() > 5_000, "{}", paths.len());
        for (path, id) in paths {
            assert_eq!(table.frames_outermost_first(id), path);
        }
    }

    #[test]
    fn empty_stack_is_none() {
        let mut builder = StackTableBuilder::new();
        assert_eq!(builder.intern_outermost_first([]).unwrap(), None);
    }
}
