//! The compressed-reference vote, shared by the graph path and the histogram.
//!
//! Whether a dump with 8-byte ids used compressed oops is judged from the
//! address gaps after object arrays. One rule ([`vote`]), used by the graph
//! path ([`crate::parse`], which finds each array's neighbour in its id
//! index) and by the shallow histogram (which finds the neighbours of the
//! first arrays with a narrow extra pass), so both decide alike.

use crate::build::align_up;

/// Votes after which the vote stops.
pub(crate) const VOTES_NEEDED: u32 = 1000;

/// Whether an object array of `length` elements takes part in the vote:
/// arrays shorter than 2 do not (their gaps say too little).
#[inline]
pub(crate) fn may_vote(length: u32) -> bool {
    length >= 2
}

/// The gap after an object array of `length` elements without compressed
/// oops, `24 + 8n`: the wider of the two gaps that vote, so an object more
/// than this past the array's id can decide no vote of that array.
#[inline]
pub(crate) fn plain_gap(length: u32) -> u64 {
    24 + 8 * u64::from(length)
}

/// The gap after an object array of `length` elements with compressed
/// oops, `align8(16 + 4n)`.
#[inline]
fn compressed_gap(length: u32) -> u64 {
    align_up(16 + 4 * u64::from(length), 8)
}

/// The result of a vote: how many arrays voted each way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    /// Arrays whose gap is that of compressed oops.
    pub compressed: u32,
    /// Arrays whose gap is that of plain 8-byte references.
    pub plain: u32,
}

impl Tally {
    /// The decision: compressed unless more arrays voted plain; `None`
    /// when nothing voted (the callers then assume compressed references).
    pub(crate) fn decision(self) -> Option<bool> {
        match (self.compressed, self.plain) {
            (0, 0) => None,
            (c, p) => Some(c >= p),
        }
    }

    /// The number of votes cast.
    pub(crate) fn votes(self) -> u32 {
        self.compressed + self.plain
    }
}

/// Infers whether a 64-bit dump used compressed references, as MAT does:
/// the address gap after an object array whose neighbour follows directly
/// is `align8(16 + 4n)` with compressed oops and `24 + 8n` without. Gaps
/// that fit neither (free space, unlisted objects) do not vote.
///
/// `arrays` are the object arrays as `(id, length)` in file order (those
/// for which [`may_vote`] is false are passed over); `next_id_after(id)`
/// gives the next object address after `id`, `None` when it is unknown
/// (that array does not vote). Stops after [`VOTES_NEEDED`] votes.
pub(crate) fn vote(
    arrays: impl IntoIterator<Item = (u64, u32)>,
    mut next_id_after: impl FnMut(u64) -> Option<u64>,
) -> Tally {
    let mut tally = Tally::default();
    for (id, length) in arrays {
        if !may_vote(length) {
            continue;
        }
        let Some(next) = next_id_after(id) else {
            continue;
        };
        let gap = next - id;
        if gap == compressed_gap(length) {
            tally.compressed += 1;
        } else if gap == plain_gap(length) {
            tally.plain += 1;
        }
        if tally.votes() >= VOTES_NEEDED {
            break;
        }
    }
    tally
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_vote_and_the_majority_decides() {
        // Arrays of 2 elements: 24 bytes compressed, 40 plain.
        let arrays = [(100, 2), (200, 2), (300, 2), (400, 1), (500, 2)];
        let next = |id: u64| match id {
            100 => Some(124),
            200 => Some(240),
            300 => Some(324),
            400 => Some(424), // too short to vote
            _ => None,        // no neighbour known
        };
        let tally = vote(arrays, next);
        assert_eq!(
            tally,
            Tally {
                compressed: 2,
                plain: 1
            }
        );
        assert_eq!(tally.decision(), Some(true));
        assert_eq!(vote([(100, 2)], |_| Some(140)).decision(), Some(false));
        assert_eq!(vote([(100, 2)], |_| Some(999)).decision(), None);
    }

    #[test]
    fn the_vote_stops_after_enough_votes() {
        let arrays = (0..5000u64).map(|i| (i * 1000, 2));
        let mut asked = 0;
        let tally = vote(arrays, |id| {
            asked += 1;
            Some(id + 24)
        });
        assert_eq!(tally.votes(), VOTES_NEEDED);
        assert_eq!(asked, VOTES_NEEDED);
    }
}
