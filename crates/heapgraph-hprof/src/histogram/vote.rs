//! The histogram's side of the compressed-reference vote: the neighbours of the first arrays.
//!
//! The vote itself is [`crate::compressed::vote`], as on the graph path;
//! what differs is how the neighbours are found without an id index (see
//! the [module documentation](super)).

use super::units::{scan_unit, Carry, PassContext, Unit};
use crate::compressed::{self, VOTES_NEEDED};
use crate::stream::{HeapSegment, HeapVisitor, SubRecord};
use crate::{HprofError, RecordStats};

/// Object arrays with `length >= 2` each unit remembers for the
/// compressed-reference vote (the vote needs [`VOTES_NEEDED`] that decide).
pub(super) const CANDIDATE_CAP: usize = 2048;
/// Units read ahead of the parallel pass for the vote's first arrays.
const EARLY_UNITS: usize = 4;

/// The first object arrays that may vote, read before the parallel pass,
/// with the windows in which their neighbours lie.
pub(super) struct Early {
    /// (id, length) in file order.
    found: Vec<(u64, u32)>,
    /// Whether they are all the dump has.
    all_of_them: bool,
    pub(super) windows: Windows,
}

impl Early {
    /// Reads the first arrays from the first units (see
    /// [`early_candidates`]).
    pub(super) fn read(
        bytes: &[u8],
        id_size: u8,
        segments: &[HeapSegment],
        units: &[Unit],
        cap: usize,
        done_with: &(dyn Fn(std::ops::Range<usize>) + Sync),
    ) -> Option<Early> {
        let (found, all_of_them) =
            early_candidates(bytes, id_size, segments, units, cap, done_with)?;
        let windows = Windows::new(&found);
        Some(Early {
            found,
            all_of_them,
            windows,
        })
    }

    /// The vote over these arrays, given per window slot the smallest id
    /// the pass saw in it (`best`): the decision (compressed when nothing
    /// voted) when it has enough votes or these arrays are all the dump
    /// has, else `None` (a wider vote is needed).
    pub(super) fn decision(&self, best: Vec<u64>) -> Option<bool> {
        let (result, votes) = tally(&self.found, &self.windows, best);
        if votes >= VOTES_NEEDED || self.all_of_them {
            Some(result.unwrap_or(true))
        } else {
            None
        }
    }
}

/// The object arrays that vote, as windows `(start, end]` in which their
/// neighbour must lie to vote, sorted by start, with a bucket directory
/// over the starts.
pub(super) struct Windows {
    /// Sorted, distinct starts (array ids).
    pub(super) starts: Vec<u64>,
    /// Per start: the largest window end among this start and all smaller
    /// ones (an id beyond it can decide no vote of these).
    reach: Vec<u64>,
    low: u64,
    high: u64,
    shift: u32,
    /// `directory[b]` = the first start whose bucket is `>= b`.
    directory: Vec<u32>,
}

impl Windows {
    fn new(candidates: &[(u64, u32)]) -> Windows {
        let mut windows: Vec<(u64, u64)> = candidates
            .iter()
            .map(|&(id, n)| (id, id.saturating_add(compressed::plain_gap(n))))
            .collect();
        windows.sort_unstable();
        let mut starts: Vec<u64> = Vec::with_capacity(windows.len());
        let mut reach: Vec<u64> = Vec::with_capacity(windows.len());
        for (start, end) in windows {
            let before = reach.last().copied().unwrap_or(0);
            if starts.last() == Some(&start) {
                if let Some(r) = reach.last_mut() {
                    *r = (*r).max(end);
                }
            } else {
                starts.push(start);
                reach.push(before.max(end));
            }
        }
        let low = starts.first().copied().unwrap_or(0);
        let last = starts.last().copied().unwrap_or(0);
        let high = reach.last().copied().unwrap_or(0);
        let buckets = starts.len().max(1) as u64;
        let mut shift = 0u32;
        while shift < 63 && ((last - low) >> shift) >= buckets {
            shift += 1;
        }
        let n_buckets = ((last - low) >> shift) as usize + 1;
        let mut directory = vec![0u32; n_buckets + 1];
        for &start in &starts {
            if let Some(d) = directory.get_mut((((start - low) >> shift) as usize) + 1) {
                *d += 1;
            }
        }
        for b in 0..n_buckets {
            let previous = directory.get(b).copied().unwrap_or(0);
            if let Some(next) = directory.get_mut(b + 1) {
                *next += previous;
            }
        }
        Windows {
            starts,
            reach,
            low,
            high,
            shift,
            directory,
        }
    }

    /// The index of the largest start below `id`, if `id` can be the
    /// neighbour that decides a vote.
    #[inline]
    fn slot(&self, id: u64) -> Option<usize> {
        if id <= self.low || id > self.high {
            return None;
        }
        let bucket = usize::try_from((id - self.low) >> self.shift).ok()?;
        let mut k = match self.directory.get(bucket) {
            Some(&first) => first as usize,
            None => self.starts.len(),
        };
        while self.starts.get(k).is_some_and(|&s| s < id) {
            k += 1;
        }
        let j = k.checked_sub(1)?;
        (id <= *self.reach.get(j)?).then_some(j)
    }
}

/// Per window start: the smallest object id seen in `(start, next start]`
/// that can decide a vote; a suffix minimum then gives each start's
/// successor (the next object address) wherever it matters.
pub(super) struct Successors<'a> {
    pub(super) windows: &'a Windows,
    pub(super) best: Vec<u64>,
}

impl Successors<'_> {
    #[inline]
    pub(super) fn object(&mut self, id: u64) {
        if let Some(slot) = self.windows.slot(id).and_then(|j| self.best.get_mut(j)) {
            *slot = (*slot).min(id);
        }
    }
}

impl HeapVisitor for Successors<'_> {
    fn sub_record(
        &mut self,
        record: SubRecord<'_>,
        _offset: u64,
        _contiguous: bool,
    ) -> Result<(), HprofError> {
        match record {
            SubRecord::Root { .. } | SubRecord::HeapInfo { .. } => {}
            SubRecord::Class(class) => self.object(class.id),
            SubRecord::Instance { id, .. }
            | SubRecord::ObjectArray { id, .. }
            | SubRecord::PrimitiveArray { id, .. } => self.object(id),
        }
        Ok(())
    }
}

/// Collects the first object arrays with `length >= 2` of a unit.
struct Candidates {
    cap: usize,
    found: Vec<(u64, u32)>,
    total: u64,
}

impl HeapVisitor for Candidates {
    fn sub_record(
        &mut self,
        record: SubRecord<'_>,
        _offset: u64,
        _contiguous: bool,
    ) -> Result<(), HprofError> {
        if let SubRecord::ObjectArray { id, length, .. } = record {
            if compressed::may_vote(length) {
                self.total += 1;
                if self.found.len() < self.cap {
                    self.found.push((id, length));
                }
            }
        }
        Ok(())
    }
}

/// The graph path's compressed-reference vote ([`compressed::vote`]):
/// object arrays with `length >= 2` in file order, each voting by the gap
/// to the next object address, until [`VOTES_NEEDED`] votes.
pub(super) fn detect_compressed_references(
    context: &PassContext<'_>,
    unit_ids: &[(u64, u64)],
    mut candidates: Vec<(u64, u32)>,
    mut complete: bool,
    first_cap: usize,
) -> Result<Option<bool>, HprofError> {
    let mut cap = first_cap.max(1);
    let mut used = cap;
    loop {
        // The vote reads the first arrays in file order only; try a prefix
        // of them first (its neighbourhood is small), then more.
        let prefix = candidates.get(..used.min(candidates.len())).unwrap_or(&[]);
        let (result, votes) = vote(context, unit_ids, prefix)?;
        if votes >= VOTES_NEEDED || (prefix.len() == candidates.len() && complete) {
            return Ok(result);
        }
        if prefix.len() < candidates.len() {
            used = used.saturating_mul(4);
            continue;
        }
        // Too few votes among the arrays the first pass kept: collect more
        // (rare: dumps whose first arrays mostly do not vote).
        cap = cap.saturating_mul(8);
        let all: Vec<usize> = (0..context.units.len()).collect();
        let found = context.run(&all, || Candidates {
            cap,
            found: Vec::new(),
            total: 0,
        })?;
        candidates.clear();
        complete = true;
        for unit in found {
            candidates.extend_from_slice(&unit.found);
            if unit.total > unit.found.len() as u64 {
                complete = false;
                break;
            }
        }
    }
}

/// Votes over `candidates`; returns the decision and the number of votes.
fn vote(
    context: &PassContext<'_>,
    unit_ids: &[(u64, u64)],
    candidates: &[(u64, u32)],
) -> Result<(Option<bool>, u32), HprofError> {
    if candidates.is_empty() {
        return Ok((None, 0));
    }
    let windows = Windows::new(candidates);
    let starts = &windows.starts;
    let (low, high) = (windows.low, windows.high);
    let chosen: Vec<usize> = unit_ids
        .iter()
        .enumerate()
        .filter(|(_, &(min, max))| min <= max && max > low && min <= high)
        .map(|(u, _)| u)
        .collect();
    let found = context.run(&chosen, || Successors {
        windows: &windows,
        best: vec![u64::MAX; starts.len()],
    })?;
    let mut successor = vec![u64::MAX; starts.len()];
    for unit in &found {
        for (s, &b) in successor.iter_mut().zip(&unit.best) {
            *s = (*s).min(b);
        }
    }
    Ok(tally(candidates, &windows, successor))
}

/// Counts the votes of `candidates` (in file order) given, per window
/// slot, the smallest id seen in it; returns the decision and the votes.
fn tally(
    candidates: &[(u64, u32)],
    windows: &Windows,
    mut successor: Vec<u64>,
) -> (Option<bool>, u32) {
    let starts = &windows.starts;
    for i in (0..successor.len().saturating_sub(1)).rev() {
        let next = successor.get(i + 1).copied().unwrap_or(u64::MAX);
        if let Some(s) = successor.get_mut(i) {
            *s = (*s).min(next);
        }
    }
    // An array's successor is the smallest id in its window or a later
    // one; `u64::MAX`: none seen, so the array does not vote.
    let tally = compressed::vote(candidates.iter().copied(), |id| {
        let k = starts.binary_search(&id).ok()?;
        let next = successor.get(k).copied().unwrap_or(u64::MAX);
        (next != u64::MAX).then_some(next)
    });
    (tally.decision(), tally.votes())
}

/// The first `cap` object arrays with `length >= 2` in file order, read
/// from the first units (at most [`EARLY_UNITS`]), and whether they are
/// all the dump has. `None` when the units cannot be read from their start
/// (the main pass reports why) or hold none.
fn early_candidates(
    bytes: &[u8],
    id_size: u8,
    segments: &[HeapSegment],
    units: &[Unit],
    cap: usize,
    done_with: &(dyn Fn(std::ops::Range<usize>) + Sync),
) -> Option<(Vec<(u64, u32)>, bool)> {
    let mut visitor = Candidates {
        cap: cap.max(1),
        found: Vec::new(),
        total: 0,
    };
    let mut carry: Carry = None;
    let mut scanned = 0usize;
    for &unit in units.iter().take(EARLY_UNITS) {
        let mut scratch = RecordStats::default();
        carry = scan_unit(
            bytes,
            id_size,
            segments,
            unit,
            carry,
            &mut visitor,
            &mut scratch,
        )
        .ok()?;
        if let (Some(first), Some(last)) = (
            segments.get(unit.first),
            unit.end.checked_sub(1).and_then(|i| segments.get(i)),
        ) {
            done_with(first.start..last.end);
        }
        scanned += 1;
        if visitor.total > visitor.found.len() as u64 {
            break;
        }
    }
    if visitor.found.is_empty() {
        return None;
    }
    let all_of_them = scanned == units.len() && visitor.total == visitor.found.len() as u64;
    Some((visitor.found, all_of_them))
}
