//! [`ObjectIds`]: the object-id column in 4 bytes per node where the ids
//! allow it, 8 where they do not.
//!
//! Dumps number their objects densely or by address: V8 ids are odd numbers
//! below a few times the node count, HotSpot and ART ids are addresses
//! aligned to 8 bytes within a heap of a few gigabytes, tracemalloc's are
//! trace indices. Each such id is `base + (k << shift)` for a `k` that fits
//! in 32 bits, so the column keeps `k`. The few ids that do not fit (the
//! synthetic nodes' 0, a stray unaligned or far-away address) sit in a
//! sorted side list; when more than one in 64 would, the column stays wide.

/// Marks a node whose id is in the side list.
const ELSEWHERE: u32 = u32::MAX;

/// The object-id column; see the [module docs](self).
#[derive(Clone, Debug)]
pub(crate) enum ObjectIds {
    /// `base + (offset << shift)` per node, or [`ELSEWHERE`].
    Narrow {
        base: u64,
        shift: u32,
        offsets: Vec<u32>,
        /// `(node, id)` for the nodes marked [`ELSEWHERE`], by node.
        others: Vec<(u32, u64)>,
    },
    /// One `u64` per node.
    Wide(Vec<u64>),
}

impl ObjectIds {
    /// The column for `ids`, narrow when at most one id in 64 does not fit.
    pub(crate) fn new(ids: Vec<u64>) -> ObjectIds {
        let Some((base, shift)) = narrow_layout(&ids) else {
            return ObjectIds::Wide(ids);
        };
        let fits = |id: u64| -> Option<u32> {
            let delta = id.checked_sub(base)?;
            if delta & ((1u64 << shift) - 1) != 0 {
                return None;
            }
            u32::try_from(delta >> shift)
                .ok()
                .filter(|&k| k != ELSEWHERE)
        };
        let mut offsets = Vec::with_capacity(ids.len());
        let mut others = Vec::new();
        for (node, &id) in ids.iter().enumerate() {
            match fits(id) {
                Some(k) => offsets.push(k),
                None => {
                    offsets.push(ELSEWHERE);
                    others.push((node as u32, id));
                }
            }
        }
        if others.len() > ids.len() / 64 + 16 {
            return ObjectIds::Wide(ids);
        }
        others.shrink_to_fit();
        ObjectIds::Narrow {
            base,
            shift,
            offsets,
            others,
        }
    }

    /// The id of node `index` (0 past the end).
    #[inline]
    pub(crate) fn get(&self, index: usize) -> u64 {
        match self {
            ObjectIds::Wide(ids) => ids.get(index).copied().unwrap_or(0),
            ObjectIds::Narrow {
                base,
                shift,
                offsets,
                others,
            } => match offsets.get(index) {
                Some(&ELSEWHERE) => others
                    .binary_search_by_key(&(index as u32), |&(node, _)| node)
                    .ok()
                    .and_then(|i| others.get(i))
                    .map_or(0, |&(_, id)| id),
                Some(&k) => base.wrapping_add(u64::from(k) << shift),
                None => 0,
            },
        }
    }

    /// The number of nodes.
    pub(crate) fn len(&self) -> usize {
        match self {
            ObjectIds::Wide(ids) => ids.len(),
            ObjectIds::Narrow { offsets, .. } => offsets.len(),
        }
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            ObjectIds::Wide(ids) => ids.capacity() * 8,
            ObjectIds::Narrow {
                offsets, others, ..
            } => offsets.capacity() * 4 + others.capacity() * 16,
        }
    }
}

/// `(base, shift)` such that most ids are `base + (k << shift)` with `k`
/// below `u32::MAX`: `base` the smallest non-zero id, `shift` the alignment
/// the non-zero ids share (at most 3, HotSpot's 8 bytes). `None` when the
/// non-zero ids span too much for 32 bits.
fn narrow_layout(ids: &[u64]) -> Option<(u64, u32)> {
    let mut min = u64::MAX;
    let mut max = 0u64;
    for &id in ids.iter().filter(|&&id| id != 0) {
        min = min.min(id);
        max = max.max(id);
    }
    if min == u64::MAX {
        // Every id is 0 (or there are none): one offset each.
        return Some((0, 0));
    }
    let mut differences = 0u64;
    for &id in ids.iter().filter(|&&id| id != 0) {
        differences |= id - min;
    }
    let shift = differences.trailing_zeros().min(3);
    ((max - min) >> shift < u64::from(ELSEWHERE)).then_some((min, shift))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn roundtrip(ids: &[u64]) -> ObjectIds {
        let column = ObjectIds::new(ids.to_vec());
        assert_eq!(column.len(), ids.len());
        for (i, &id) in ids.iter().enumerate() {
            assert_eq!(column.get(i), id, "node {i}");
        }
        assert_eq!(column.get(ids.len()), 0);
        column
    }

    #[test]
    fn real_shapes_are_narrow() {
        // V8: the root's id 1, then odd ids.
        let v8: Vec<u64> = (0..1000).map(|i| 2 * i + 1).collect();
        assert!(matches!(roundtrip(&v8), ObjectIds::Narrow { shift: 1, .. }));
        // HotSpot: synthetic 0s, then 8-aligned addresses in a 30 GB heap.
        let mut hotspot = vec![0, 0, 0];
        hotspot.extend((0..1000u64).map(|i| 0x7_0000_0000 + i * 0x78_0000));
        assert!(matches!(
            roundtrip(&hotspot),
            ObjectIds::Narrow { shift: 3, ref others, .. } if others.len() == 3
        ));
        // tracemalloc: trace indices, the root's 0 among them.
        let traces: Vec<u64> = (0..1000).collect();
        assert!(matches!(roundtrip(&traces), ObjectIds::Narrow { .. }));
    }

    #[test]
    fn ids_spread_too_far_stay_wide() {
        let far: Vec<u64> = (0..1000u64).map(|i| i << 40).collect();
        assert!(matches!(roundtrip(&far), ObjectIds::Wide(_)));
        assert!(matches!(roundtrip(&[]), ObjectIds::Narrow { .. }));
        assert!(matches!(roundtrip(&[0, 0]), ObjectIds::Narrow { .. }));
        assert!(matches!(roundtrip(&[u64::MAX, 1]), ObjectIds::Wide(_)));
    }

    proptest! {
        /// Whatever the ids, every one reads back as it was.
        #[test]
        fn every_id_reads_back(
            base in any::<u64>(),
            steps in prop::collection::vec((0u64..1 << 36, 0u8..4), 0..300),
            strays in prop::collection::vec(any::<u64>(), 0..4),
        ) {
            let mut ids: Vec<u64> = steps
                .iter()
                .map(|&(k, a)| base.wrapping_add(k << a))
                .collect();
            ids.extend(strays);
            roundtrip(&ids);
        }
    }
}
