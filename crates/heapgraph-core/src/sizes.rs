//! A column of byte sizes at 4 bytes per entry.
//!
//! Object sizes in heap dumps almost never reach 4 GiB, but nothing forbids
//! them, and retained sizes of roots often do. [`Sizes`] keeps every size
//! below `u32::MAX` in a `u32` and the rest, marked by `u32::MAX`, in a side
//! table sorted by index: half the memory of a `Vec<u64>` for the same
//! answers.

/// Marks an entry whose size lives in the side table.
const LARGE: u32 = u32::MAX;

/// Byte sizes indexed like nodes, 4 bytes each (see the module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sizes {
    small: Vec<u32>,
    /// `(index, size)` for sizes of `u32::MAX` and above, by index.
    large: Vec<(u32, u64)>,
}

impl Sizes {
    /// An empty column.
    pub fn new() -> Sizes {
        Sizes::default()
    }

    /// Room for `additional` more sizes without reallocating.
    pub fn reserve(&mut self, additional: usize) {
        self.small.reserve(additional);
    }

    /// Appends `size`.
    pub fn push(&mut self, size: u64) {
        match u32::try_from(size) {
            Ok(small) if small != LARGE => self.small.push(small),
            _ => {
                self.large.push((self.small.len() as u32, size));
                self.small.push(LARGE);
            }
        }
    }

    /// The size at `index`, or 0 past the end.
    #[inline]
    pub fn get(&self, index: usize) -> u64 {
        match self.small.get(index) {
            Some(&LARGE) => self.large_at(index),
            Some(&small) => u64::from(small),
            None => 0,
        }
    }

    fn large_at(&self, index: usize) -> u64 {
        self.large
            .binary_search_by_key(&(index as u32), |&(i, _)| i)
            .map_or(0, |k| self.large[k].1)
    }

    /// Replaces the size at `index` (nothing past the end).
    pub fn set(&mut self, index: usize, size: u64) {
        let Some(slot) = self.small.get_mut(index) else {
            return;
        };
        let key = index as u32;
        let found = self.large.binary_search_by_key(&key, |&(i, _)| i);
        match (u32::try_from(size), found) {
            (Ok(small), Ok(k)) if small != LARGE => {
                *slot = small;
                self.large.remove(k);
            }
            (Ok(small), Err(_)) if small != LARGE => *slot = small,
            (_, Ok(k)) => self.large[k].1 = size,
            (_, Err(k)) => {
                *slot = LARGE;
                self.large.insert(k, (key, size));
            }
        }
    }

    /// How many sizes the column holds.
    pub fn len(&self) -> usize {
        self.small.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.small.is_empty()
    }

    /// The sizes in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = u64> + '_ {
        let mut large = self.large.iter();
        self.small.iter().map(move |&small| {
            if small == LARGE {
                large.next().map_or(0, |&(_, size)| size)
            } else {
                u64::from(small)
            }
        })
    }

    /// The sum of all sizes, saturating at `u64::MAX`.
    pub fn sum(&self) -> u64 {
        self.iter().fold(0u64, u64::saturating_add)
    }

    /// The sizes as a `Vec<u64>`.
    pub fn to_vec(&self) -> Vec<u64> {
        self.iter().collect()
    }

    /// Frees spare capacity.
    pub fn shrink_to_fit(&mut self) {
        self.small.shrink_to_fit();
        self.large.shrink_to_fit();
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.small.capacity() * 4 + self.large.capacity() * std::mem::size_of::<(u32, u64)>()
    }
}

/// A column of sizes being summed in any order (retained sizes, per-class
/// totals), at 4 bytes per entry like [`Sizes`]: an entry that reaches
/// `u32::MAX` moves to a hash map, so writes cost O(1) however many entries
/// are large, and [`finish`](Self::finish) sorts them into the side table.
/// Half the memory of summing in a `Vec<u64>` and narrowing afterwards
/// (which needs both at once).
#[derive(Clone, Debug, Default)]
pub struct SizeSums {
    small: Vec<u32>,
    large: hashbrown::HashMap<u32, u64>,
}

impl SizeSums {
    /// `len` entries of 0.
    pub fn zeroed(len: usize) -> SizeSums {
        SizeSums {
            small: vec![0; len],
            large: hashbrown::HashMap::new(),
        }
    }

    /// Starts from the entries of `sizes`.
    pub fn from_sizes(sizes: &Sizes) -> SizeSums {
        SizeSums {
            small: sizes.small.clone(),
            large: sizes.large.iter().copied().collect(),
        }
    }

    /// The entry at `index` (0 past the end).
    #[inline]
    pub fn get(&self, index: usize) -> u64 {
        match self.small.get(index) {
            Some(&LARGE) => self.large.get(&(index as u32)).copied().unwrap_or(0),
            Some(&small) => u64::from(small),
            None => 0,
        }
    }

    /// Sets the entry at `index` (ignored past the end).
    #[inline]
    pub fn set(&mut self, index: usize, size: u64) {
        let Some(slot) = self.small.get_mut(index) else {
            return;
        };
        match u32::try_from(size) {
            Ok(small) if small != LARGE => {
                if *slot == LARGE {
                    self.large.remove(&(index as u32));
                }
                *slot = small;
            }
            _ => {
                *slot = LARGE;
                self.large.insert(index as u32, size);
            }
        }
    }

    /// The 4-byte entries, `u32::MAX` where the value is in the side table:
    /// for a caller that wants to ask for them ahead of a random walk.
    pub fn narrow_entries(&self) -> &[u32] {
        &self.small
    }

    /// Adds `size` to the entry at `index`, saturating at `u64::MAX`.
    #[inline]
    pub fn add(&mut self, index: usize, size: u64) {
        self.set(index, self.get(index).saturating_add(size));
    }

    /// The finished column.
    pub fn finish(self) -> Sizes {
        let mut large: Vec<(u32, u64)> = self.large.into_iter().collect();
        large.sort_unstable_by_key(|&(i, _)| i);
        Sizes {
            small: self.small,
            large,
        }
    }
}

impl FromIterator<u64> for Sizes {
    fn from_iter<I: IntoIterator<Item = u64>>(iter: I) -> Sizes {
        let iter = iter.into_iter();
        let mut sizes = Sizes::new();
        sizes.reserve(iter.size_hint().0);
        for size in iter {
            sizes.push(size);
        }
        sizes
    }
}

impl From<Vec<u64>> for Sizes {
    fn from(sizes: Vec<u64>) -> Sizes {
        let mut column: Sizes = sizes.iter().copied().collect();
        column.shrink_to_fit();
        column
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn size() -> impl Strategy<Value = u64> {
        prop_oneof![
            0u64..100,
            Just(u64::from(u32::MAX) - 1),
            Just(u64::from(u32::MAX)),
            any::<u64>()
        ]
    }

    proptest! {
        /// Against a plain `Vec<u64>`: pushes, then random overwrites.
        #[test]
        fn behaves_like_a_vec(
            pushed in prop::collection::vec(size(), 0..40),
            writes in prop::collection::vec((0usize..45, size()), 0..40),
        ) {
            let mut column: Sizes = pushed.iter().copied().collect();
            let mut oracle = pushed.clone();
            for (i, v) in writes {
                column.set(i, v);
                if let Some(slot) = oracle.get_mut(i) {
                    *slot = v;
                }
            }
            prop_assert_eq!(column.len(), oracle.len());
            prop_assert_eq!(column.to_vec(), oracle.clone());
            for (i, &v) in oracle.iter().enumerate() {
                prop_assert_eq!(column.get(i), v);
            }
            prop_assert_eq!(column.get(oracle.len()), 0);
            prop_assert_eq!(column.sum(), oracle.iter().fold(0u64, |a, &b| a.saturating_add(b)));
        }

        /// Sums against a plain `Vec<u64>` with saturating adds.
        #[test]
        fn sums_like_a_vec(
            len in 0usize..30,
            ops in prop::collection::vec((0usize..35, size(), any::<bool>()), 0..60),
        ) {
            let start: Vec<u64> = (0..len as u64).map(|i| if i % 3 == 0 { u64::from(u32::MAX) + i } else { i }).collect();
            let mut sums = SizeSums::from_sizes(&start.iter().copied().collect());
            let mut oracle = start;
            for (i, v, add) in ops {
                if add {
                    sums.add(i, v);
                } else {
                    sums.set(i, v);
                }
                if let Some(slot) = oracle.get_mut(i) {
                    *slot = if add { slot.saturating_add(v) } else { v };
                }
            }
            for (i, &v) in oracle.iter().enumerate() {
                prop_assert_eq!(sums.get(i), v);
            }
            let column = sums.finish();
            prop_assert_eq!(column.to_vec(), oracle.clone());
            for (i, &v) in oracle.iter().enumerate() {
                prop_assert_eq!(column.get(i), v);
            }
        }
    }
}
