//! [`OffsetTable`]: per node, the file offset of its record, in about 4
//! bytes per node instead of 8.
//!
//! Records are visited in file order, so a node's offset never falls below
//! the previous node's. Each block of [`BLOCK`] nodes keeps one `u64` base
//! (its first offset) and every node a `u32` distance from it; the rare
//! distance that does not fit (a block spanning over 4 GiB of arrays) goes
//! to a small overflow list.

/// Nodes per block.
const BLOCK: usize = 64;
/// A node without a record offset (the root, split records).
const NONE: u32 = u32::MAX;
/// A distance kept in `overflow`.
const FAR: u32 = u32::MAX - 1;

/// Record offsets by node; see the [module docs](self).
#[derive(Clone, Debug, Default)]
pub(crate) struct OffsetTable {
    bases: Vec<u64>,
    deltas: Vec<u32>,
    /// `(node, offset)` for distances of `FAR` or more, in node order.
    overflow: Vec<(u32, u64)>,
}

impl OffsetTable {
    /// Appends the next node's offset (`u64::MAX`: none).
    pub fn push(&mut self, offset: u64) {
        let node = self.deltas.len();
        if node.is_multiple_of(BLOCK) {
            self.bases.push(u64::MAX);
        }
        if offset == u64::MAX {
            self.deltas.push(NONE);
            return;
        }
        let Some(base) = self.bases.last_mut() else {
            return;
        };
        if *base == u64::MAX {
            *base = offset;
        }
        match offset
            .checked_sub(*base)
            .and_then(|d| u32::try_from(d).ok())
        {
            Some(delta) if delta < FAR => self.deltas.push(delta),
            _ => {
                self.overflow.push((node as u32, offset));
                self.deltas.push(FAR);
            }
        }
    }

    /// The offset of `node`'s record, if it has one.
    pub fn get(&self, node: usize) -> Option<u64> {
        match *self.deltas.get(node)? {
            NONE => None,
            FAR => {
                let i = self
                    .overflow
                    .binary_search_by_key(&(node as u32), |&(n, _)| n)
                    .ok()?;
                self.overflow.get(i).map(|&(_, offset)| offset)
            }
            delta => Some(self.bases.get(node / BLOCK)? + u64::from(delta)),
        }
    }

    /// The number of nodes.
    pub fn len(&self) -> usize {
        self.deltas.len()
    }

    /// Gives back the slack of the growth.
    pub fn shrink_to_fit(&mut self) {
        self.bases.shrink_to_fit();
        self.deltas.shrink_to_fit();
        self.overflow.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::OffsetTable;
    use proptest::prelude::*;

    proptest! {
        /// Agrees with a plain vector for non-decreasing offsets with gaps
        /// small and huge, and missing entries.
        #[test]
        fn agrees_with_a_vector(steps in prop::collection::vec(
            prop_oneof![0u64..100, 0u64..(1 << 20), (1u64 << 31)..(1 << 34), Just(u64::MAX)],
            0..400,
        )) {
            let mut table = OffsetTable::default();
            let mut plain = Vec::new();
            let mut at = 0u64;
            for step in steps {
                let offset = if step == u64::MAX {
                    u64::MAX
                } else {
                    at += step;
                    at
                };
                table.push(offset);
                plain.push(offset);
            }
            prop_assert_eq!(table.len(), plain.len());
            for (node, &offset) in plain.iter().enumerate() {
                prop_assert_eq!(table.get(node), (offset != u64::MAX).then_some(offset));
            }
            prop_assert_eq!(table.get(plain.len()), None);
        }
    }
}
