//! `statistics()` and `compare_to()`: grouping by key, and the `str()` of
//! their results.

use std::fmt;

use hashbrown::HashMap;
use heapgraph_core::{FrameId, StackId, StringId};

use super::traceback::Key;
use super::{Allocations, KeyType, SiteFrame, SitesError, Traceback};

/// `tracemalloc.Statistic`: one group of `statistics()`.
#[derive(Clone, Copy)]
pub struct Statistic<'g> {
    /// The group key.
    pub traceback: Traceback<'g>,
    /// Total bytes.
    pub size: u64,
    /// Number of allocations.
    pub count: u64,
}

/// `tracemalloc.StatisticDiff`: one group of `compare_to()`.
#[derive(Clone, Copy)]
pub struct StatisticDiff<'g> {
    /// The group key (from the new snapshot, or the old one if it vanished).
    pub traceback: Traceback<'g>,
    /// Bytes in the new snapshot.
    pub size: u64,
    /// New minus old bytes.
    pub size_diff: i128,
    /// Allocations in the new snapshot.
    pub count: u64,
    /// New minus old allocations.
    pub count_diff: i128,
}

impl<'g> Allocations<'g> {
    /// `Snapshot.statistics(key_type, cumulative)`, sorted like Python.
    ///
    /// # Errors
    ///
    /// [`SitesError::CumulativeTraceback`] for `(Traceback, true)`.
    pub fn statistics(
        &self,
        key_type: KeyType,
        cumulative: bool,
    ) -> Result<Vec<Statistic<'g>>, SitesError> {
        let groups = self.group_by(key_type, cumulative)?;
        let mut stats: Vec<Statistic<'g>> = groups
            .into_iter()
            .map(|(key, (size, count))| Statistic {
                traceback: self.traceback(key),
                size,
                count,
            })
            .collect();
        stats.sort_by(|a, b| {
            b.size
                .cmp(&a.size)
                .then(b.count.cmp(&a.count))
                .then_with(|| b.traceback.cmp(&a.traceback))
        });
        Ok(stats)
    }

    /// `Snapshot.compare_to(old, key_type, cumulative)`, sorted like Python.
    ///
    /// # Errors
    ///
    /// [`SitesError::CumulativeTraceback`] for `(Traceback, true)`.
    pub fn compare_to(
        &self,
        old: &Allocations<'g>,
        key_type: KeyType,
        cumulative: bool,
    ) -> Result<Vec<StatisticDiff<'g>>, SitesError> {
        let new_groups = self.group_by(key_type, cumulative)?;
        let old_groups = old.group_by(key_type, cumulative)?;
        // Match keys by content: the graphs have separate string tables.
        let mut old_by_content: HashMap<Vec<SiteFrame<'g>>, (Key, u64, u64)> =
            HashMap::with_capacity(old_groups.len());
        for (key, (size, count)) in old_groups {
            let tb = old.traceback(key);
            old_by_content.insert(tb.frames(), (key, size, count));
        }
        let mut diffs = Vec::with_capacity(new_groups.len() + old_by_content.len());
        for (key, (size, count)) in new_groups {
            let traceback = self.traceback(key);
            let (old_size, old_count) = match old_by_content.remove(&traceback.frames()) {
                Some((_, s, c)) => (s, c),
                None => (0, 0),
            };
            diffs.push(StatisticDiff {
                traceback,
                size,
                size_diff: i128::from(size) - i128::from(old_size),
                count,
                count_diff: i128::from(count) - i128::from(old_count),
            });
        }
        for (_, (key, size, count)) in old_by_content {
            diffs.push(StatisticDiff {
                traceback: old.traceback(key),
                size: 0,
                size_diff: -i128::from(size),
                count: 0,
                count_diff: -i128::from(count),
            });
        }
        diffs.sort_by(|a, b| {
            b.size_diff
                .abs()
                .cmp(&a.size_diff.abs())
                .then(b.size.cmp(&a.size))
                .then(b.count_diff.abs().cmp(&a.count_diff.abs()))
                .then(b.count.cmp(&a.count))
                .then_with(|| b.traceback.cmp(&a.traceback))
        });
        Ok(diffs)
    }

    fn traceback(&self, key: Key) -> Traceback<'g> {
        Traceback {
            strings: self.strings,
            stacks: self.stacks,
            key,
        }
    }

    /// Per-stack sizes and counts (dense by stack id), plus the stackless ones.
    pub(super) fn per_stack(&self) -> (Vec<(u64, u64)>, (u64, u64)) {
        let mut per_stack = vec![(0u64, 0u64); self.stacks.stack_count()];
        let mut empty = (0u64, 0u64);
        self.visit(|stack, size, _| {
            let slot = match stack {
                Some(s) => per_stack.get_mut(s.index()).unwrap_or(&mut empty),
                None => &mut empty,
            };
            slot.0 = slot.0.saturating_add(size);
            slot.1 += 1;
        });
        (per_stack, empty)
    }

    /// Python's `_group_by`: key → (size, count).
    fn group_by(
        &self,
        key_type: KeyType,
        cumulative: bool,
    ) -> Result<HashMap<Key, (u64, u64)>, SitesError> {
        if cumulative && key_type == KeyType::Traceback {
            return Err(SitesError::CumulativeTraceback);
        }
        let stacks = self.stacks;
        if !cumulative && key_type != KeyType::Traceback {
            return Ok(self.group_by_innermost(key_type));
        }
        let (per_stack, empty) = self.per_stack();
        let mut groups: HashMap<Key, (u64, u64)> = HashMap::new();
        let mut add = |key: Key, (size, count): (u64, u64)| {
            let slot = groups.entry(key).or_insert((0, 0));
            slot.0 = slot.0.saturating_add(size);
            slot.1 = slot.1.saturating_add(count);
        };
        if empty.1 > 0 && !cumulative {
            add(Key::Empty, empty);
        }
        match key_type {
            KeyType::Traceback => {
                let plain = self.plain_frames();
                let mut canonical: HashMap<Vec<(StringId, u32)>, StackId> = HashMap::new();
                for (i, &sc) in per_stack.iter().enumerate() {
                    if sc.1 == 0 {
                        continue;
                    }
                    let id = StackId::new(i as u32);
                    let key = if plain {
                        id
                    } else {
                        let content: Vec<(StringId, u32)> = stacks
                            .frames_innermost_first(id)
                            .map(|f| {
                                let fr = stacks.frame(f);
                                (fr.file, fr.line)
                            })
                            .collect();
                        *canonical.entry(content).or_insert(id)
                    };
                    add(Key::Stack(key), sc);
                }
            }
            KeyType::Lineno | KeyType::Filename => {
                // Cumulative (the other case returned above): every frame
                // of each stack, per frame id first (dense), then to keys.
                let mut per_frame = vec![(0u64, 0u64); stacks.frame_count()];
                for (i, &sc) in per_stack.iter().enumerate() {
                    if sc.1 == 0 {
                        continue;
                    }
                    for f in stacks.frames_innermost_first(StackId::new(i as u32)) {
                        if let Some(slot) = per_frame.get_mut(f.index()) {
                            slot.0 = slot.0.saturating_add(sc.0);
                            slot.1 = slot.1.saturating_add(sc.1);
                        }
                    }
                }
                self.fold_frames(&per_frame, key_type, &mut add);
            }
        }
        Ok(groups)
    }

    /// `_group_by` for `'lineno'` and `'filename'` without `cumulative`:
    /// straight from each allocation's innermost frame into a dense
    /// per-frame table, with the same sums as going through
    /// [`per_stack`](Self::per_stack) (saturating sums of non-negative
    /// numbers do not depend on the grouping) but no table per stack, which
    /// is 16 bytes for each of millions of distinct stacks in dumps of deep
    /// recursion.
    fn group_by_innermost(&self, key_type: KeyType) -> HashMap<Key, (u64, u64)> {
        let stacks = self.stacks;
        let stack_count = stacks.stack_count();
        let mut per_frame = vec![(0u64, 0u64); stacks.frame_count()];
        let mut empty = (0u64, 0u64);
        let mut dropped = (0u64, 0u64);
        self.visit(|stack, size, _| {
            let slot = match stack {
                Some(s) if s.index() < stack_count => per_frame
                    .get_mut(stacks.innermost_frame(s).index())
                    .unwrap_or(&mut dropped),
                _ => &mut empty,
            };
            slot.0 = slot.0.saturating_add(size);
            slot.1 = slot.1.saturating_add(1);
        });
        let mut groups: HashMap<Key, (u64, u64)> = HashMap::new();
        let mut add = |key: Key, (size, count): (u64, u64)| {
            let slot = groups.entry(key).or_insert((0, 0));
            slot.0 = slot.0.saturating_add(size);
            slot.1 = slot.1.saturating_add(count);
        };
        if empty.1 > 0 {
            add(Key::Empty, empty);
        }
        self.fold_frames(&per_frame, key_type, &mut add);
        groups
    }

    /// Adds each frame's `(size, count)` under its `'lineno'` or
    /// `'filename'` key (frames of one file and line share a key).
    fn fold_frames(
        &self,
        per_frame: &[(u64, u64)],
        key_type: KeyType,
        add: &mut impl FnMut(Key, (u64, u64)),
    ) {
        for (i, &fc) in per_frame.iter().enumerate() {
            if fc.1 == 0 {
                continue;
            }
            let frame = self.stacks.frame(FrameId::new(i as u32));
            let line = if key_type == KeyType::Lineno {
                frame.line
            } else {
                0
            };
            add(
                Key::Frame {
                    file: frame.file,
                    line,
                },
                fc,
            );
        }
    }

    /// Whether frames are identified by file and line alone (no function
    /// names or columns), so stack ids are already canonical keys.
    fn plain_frames(&self) -> bool {
        let stacks = self.stacks;
        (0..stacks.frame_count()).all(|i| {
            let f = stacks.frame(FrameId::new(i as u32));
            f.function == StringId::EMPTY && f.column == 0
        })
    }
}

/// Python's `tracemalloc._format_size(size, sign)`.
pub fn format_size(size: f64, sign: bool) -> String {
    let mut size = size;
    for unit in ["B", "KiB", "MiB", "GiB", "TiB"] {
        if size.abs() < 100.0 && unit != "B" {
            return if sign {
                format!("{size:+.1} {unit}")
            } else {
                format!("{size:.1} {unit}")
            };
        }
        if size.abs() < 10.0 * 1024.0 || unit == "TiB" {
            return if sign {
                format!("{size:+.0} {unit}")
            } else {
                format!("{size:.0} {unit}")
            };
        }
        size /= 1024.0;
    }
    String::new()
}

impl Statistic<'_> {
    /// `str(stat)` as raw bytes (filenames undecoded).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.traceback.write_oldest(&mut out);
        out.extend_from_slice(
            format!(
                ": size={}, count={}",
                format_size(self.size as f64, false),
                self.count
            )
            .as_bytes(),
        );
        if self.count != 0 {
            let average = self.size as f64 / self.count as f64;
            out.extend_from_slice(format!(", average={}", format_size(average, false)).as_bytes());
        }
        out
    }
}

impl fmt::Display for Statistic<'_> {
    /// `str(stat)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}

impl fmt::Debug for Statistic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl StatisticDiff<'_> {
    /// `str(stat)` as raw bytes (filenames undecoded).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.traceback.write_oldest(&mut out);
        out.extend_from_slice(
            format!(
                ": size={} ({}), count={} ({:+})",
                format_size(self.size as f64, false),
                format_size(self.size_diff as f64, true),
                self.count,
                self.count_diff
            )
            .as_bytes(),
        );
        if self.count != 0 {
            let average = self.size as f64 / self.count as f64;
            out.extend_from_slice(format!(", average={}", format_size(average, false)).as_bytes());
        }
        out
    }
}

impl fmt::Display for StatisticDiff<'_> {
    /// `str(stat)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}

impl fmt::Debug for StatisticDiff<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
