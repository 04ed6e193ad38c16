//! Grouping items by a small integer key in compressed sparse row form:
//! the counting sort that reverse edges, dominator-tree children and the
//! analysis's buckets all need, written once.

/// Groups `(key, item)` pairs by key, stably: returns `(start, items)` where
/// the items of key `k` are `items[start[k]..start[k + 1]]`, in the order
/// `pairs` yields them. `pairs` is called twice (once to count, once to
/// fill), so nothing is collected in between; it must yield the same pairs
/// both times. Keys must be below `groups`; pairs with larger keys are
/// skipped. At most `u32::MAX` items.
pub fn group_by_key<I>(groups: usize, pairs: impl Fn() -> I) -> (Vec<u32>, Vec<u32>)
where
    I: Iterator<Item = (u32, u32)>,
{
    let mut start = vec![0u32; groups + 1];
    for (key, _) in pairs() {
        if let Some(count) = start.get_mut(key as usize + 1) {
            *count += 1;
        }
    }
    for i in 0..groups {
        start[i + 1] += start[i];
    }
    // Fill with `start[k]` as group k's cursor (no second column): once
    // every item is placed it holds where group k ends, which is where
    // group k + 1 starts, so shifting by one restores the offsets.
    let mut items = vec![0u32; start[groups] as usize];
    for (key, item) in pairs() {
        if (key as usize) < groups {
            let slot = &mut start[key as usize];
            if let Some(place) = items.get_mut(*slot as usize) {
                *place = item;
            }
            *slot += 1;
        }
    }
    for k in (1..=groups).rev() {
        start[k] = start[k - 1];
    }
    start[0] = 0;
    (start, items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Against the obvious way: a stable sort of the pairs by key.
        #[test]
        fn equals_a_stable_sort(groups in 1usize..20, pairs in prop::collection::vec((0u32..25, any::<u32>()), 0..200)) {
            let (start, items) = group_by_key(groups, || pairs.iter().copied());
            let mut sorted: Vec<(u32, u32)> =
                pairs.iter().copied().filter(|&(k, _)| (k as usize) < groups).collect();
            sorted.sort_by_key(|&(k, _)| k);
            prop_assert_eq!(start.len(), groups + 1);
            prop_assert_eq!(&items, &sorted.iter().map(|&(_, v)| v).collect::<Vec<_>>());
            for k in 0..groups {
                let expected: Vec<u32> =
                    sorted.iter().filter(|&&(key, _)| key as usize == k).map(|&(_, v)| v).collect();
                prop_assert_eq!(&items[start[k] as usize..start[k + 1] as usize], &expected[..]);
            }
        }
    }
}
