//! Units of heap-dump segments: per-unit counters, the parallel pass, its merge in file order.

use hashbrown::HashMap;
use rayon::prelude::*;

use super::vote::{Successors, Windows};
use crate::build::{align_up, Resolved};
use crate::compressed;
use crate::stream::{self, Body, ClassDump, HeapSegment, HeapVisitor, SubRecord};
use crate::{HprofError, HprofErrorKind, HprofLocation, RecordStats, SizeModel};

/// Counts and both reference-width sizes of a set of arrays.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct ArraySums {
    pub(super) count: u64,
    raw: u64,
    mat_compressed: u64,
    mat_plain: u64,
}

impl ArraySums {
    fn add(&mut self, raw: u64, mat_compressed: u64, mat_plain: u64) {
        self.count += 1;
        self.raw = self.raw.saturating_add(raw);
        self.mat_compressed = self.mat_compressed.saturating_add(mat_compressed);
        self.mat_plain = self.mat_plain.saturating_add(mat_plain);
    }

    fn merge(&mut self, other: &ArraySums) {
        self.count += other.count;
        self.raw = self.raw.saturating_add(other.raw);
        self.mat_compressed = self.mat_compressed.saturating_add(other.mat_compressed);
        self.mat_plain = self.mat_plain.saturating_add(other.mat_plain);
    }

    pub(super) fn size(&self, model: SizeModel, compressed: bool) -> u64 {
        match model {
            SizeModel::Raw => self.raw,
            _ if compressed => self.mat_compressed,
            _ => self.mat_plain,
        }
    }
}

/// Instances of one class id.
#[derive(Clone, Copy, Debug)]
pub(super) struct InstanceSums {
    pub(super) count: u64,
    /// Field bytes as written (each capped at `u32::MAX`, as the graph path
    /// caps them).
    pub(super) field_bytes: u64,
    pub(super) min_field_bytes: u64,
}

impl Default for InstanceSums {
    fn default() -> Self {
        InstanceSums {
            count: 0,
            field_bytes: 0,
            min_field_bytes: u64::MAX,
        }
    }
}

/// What one unit of segments holds.
struct UnitScan<'w> {
    id_size: u8,
    /// The vote's windows known before the pass (the first object arrays),
    /// with the smallest id seen per window slot (see [`Successors`]).
    successors: Option<Successors<'w>>,
    /// CLASS DUMPs with their record offset (`u64::MAX` when split).
    classes: Vec<(ClassDump, u64)>,
    instances: HashMap<u64, InstanceSums>,
    object_arrays: HashMap<u64, ArraySums>,
    primitive_arrays: [ArraySums; 12],
    objects: u64,
    min_id: u64,
    max_id: u64,
    /// The first object arrays with `length >= 2`: (id, length).
    candidates: Vec<(u64, u32)>,
    candidate_total: u64,
    candidate_cap: usize,
}

impl<'w> UnitScan<'w> {
    fn new(id_size: u8, candidate_cap: usize, windows: Option<&'w Windows>) -> Self {
        UnitScan {
            id_size,
            successors: windows.map(|windows| Successors {
                windows,
                best: vec![u64::MAX; windows.starts.len()],
            }),
            classes: Vec::new(),
            instances: HashMap::new(),
            object_arrays: HashMap::new(),
            primitive_arrays: [ArraySums::default(); 12],
            objects: 0,
            min_id: u64::MAX,
            max_id: 0,
            candidates: Vec::new(),
            candidate_total: 0,
            candidate_cap,
        }
    }

    #[inline]
    fn object(&mut self, id: u64) {
        self.objects += 1;
        self.min_id = self.min_id.min(id);
        self.max_id = self.max_id.max(id);
        if let Some(successors) = &mut self.successors {
            successors.object(id);
        }
    }
}

impl HeapVisitor for UnitScan<'_> {
    fn sub_record(
        &mut self,
        record: SubRecord<'_>,
        offset: u64,
        contiguous: bool,
    ) -> Result<(), HprofError> {
        let pointer = u64::from(self.id_size);
        match record {
            SubRecord::Root { .. } | SubRecord::HeapInfo { .. } => {}
            SubRecord::Class(class) => {
                self.object(class.id);
                let at = if contiguous { offset } else { u64::MAX };
                self.classes.push((class, at));
            }
            SubRecord::Instance {
                id,
                class_id,
                fields,
                ..
            } => {
                self.object(id);
                let bytes = u64::from(u32::try_from(fields.len()).unwrap_or(u32::MAX));
                let sums = self.instances.entry(class_id).or_default();
                sums.count += 1;
                sums.field_bytes = sums.field_bytes.saturating_add(bytes);
                sums.min_field_bytes = sums.min_field_bytes.min(bytes);
            }
            SubRecord::ObjectArray {
                id,
                class_id,
                length,
                ..
            } => {
                self.object(id);
                let n = u64::from(length);
                let raw = 2 * pointer + 8 + pointer * n;
                let compressed = align_up(pointer + 8 + 4 * n, 8);
                let plain = align_up(2 * pointer + 4 + pointer * n, 8);
                self.object_arrays
                    .entry(class_id)
                    .or_default()
                    .add(raw, compressed, plain);
                if compressed::may_vote(length) {
                    self.candidate_total += 1;
                    if self.candidates.len() < self.candidate_cap {
                        self.candidates.push((id, length));
                    }
                }
            }
            SubRecord::PrimitiveArray { id, ty, length, .. } => {
                self.object(id);
                let n = u64::from(length);
                let element = u64::from(ty.file_size(self.id_size));
                let raw = 2 * pointer + 8 + element * n;
                let compressed = align_up(align_up(pointer + 8, 4) + element * n, 8);
                let plain = align_up(align_up(2 * pointer + 4, pointer) + element * n, 8);
                if let Some(sums) = self.primitive_arrays.get_mut(usize::from(ty.code())) {
                    sums.add(raw, compressed, plain);
                }
            }
        }
        Ok(())
    }
}

/// Consecutive heap segments decoded as one piece of work.
#[derive(Clone, Copy, Debug)]
pub(super) struct Unit {
    pub(super) first: usize,
    pub(super) end: usize,
}

/// Splits the segments into units of about `target` bytes.
pub(super) fn units_of(segments: &[HeapSegment], target: usize) -> Vec<Unit> {
    let mut units = Vec::new();
    let mut first = 0usize;
    let mut bytes = 0usize;
    for (i, segment) in segments.iter().enumerate() {
        bytes = bytes.saturating_add(segment.end.saturating_sub(segment.start));
        if bytes >= target {
            units.push(Unit { first, end: i + 1 });
            first = i + 1;
            bytes = 0;
        }
    }
    if first < segments.len() {
        units.push(Unit {
            first,
            end: segments.len(),
        });
    }
    units
}

pub(super) type Carry = Option<(u64, Vec<u8>)>;

/// Decodes the segments of `unit` in order, starting with `carry` (the
/// start of a sub-record cut at the previous segment's end). Returns the
/// sub-record cut at the unit's end, if any.
pub(super) fn scan_unit(
    bytes: &[u8],
    id_size: u8,
    segments: &[HeapSegment],
    unit: Unit,
    carry: Carry,
    visitor: &mut dyn HeapVisitor,
    stats: &mut RecordStats,
) -> Result<Carry, HprofError> {
    let mut carry = carry;
    for segment in segments.get(unit.first..unit.end).unwrap_or(&[]) {
        if !segment.after_heap {
            if let Some((offset, pending)) = carry.take() {
                return Err(stream::cut_sub_record(offset, &pending));
            }
        }
        let body = Body {
            data: bytes.get(segment.start..segment.end).unwrap_or(&[]),
            base: segment.start as u64,
            id_size,
            location: HprofLocation::Record(segment.tag),
        };
        carry = stream::heap_body(body, carry, visitor, stats)?;
    }
    Ok(carry)
}

/// How large the units are for a heap of `total` bytes: a few per thread,
/// at least 1 MiB, at most 8 MiB (small units keep the compressed-reference
/// pass, which re-reads the units holding the first object arrays, short).
pub(super) fn unit_target(total: usize) -> usize {
    let threads = rayon::current_num_threads().max(1);
    (total / (threads * 8)).clamp(1 << 20, 8 << 20)
}

/// What the pass over all units found, merged in file order.
pub(super) struct Merged {
    /// The sub-record cut at the end of the last unit, if any.
    pub(super) carry: Carry,
    /// Per unit: the sub-record cut before it.
    pub(super) carries_in: Vec<Carry>,
    /// CLASS DUMPs in file order, with their record offsets (`u64::MAX`
    /// when split).
    pub(super) classes: Vec<ClassDump>,
    pub(super) class_offsets: Vec<u64>,
    pub(super) instances: HashMap<u64, InstanceSums>,
    pub(super) object_arrays: HashMap<u64, ArraySums>,
    pub(super) primitive_arrays: [ArraySums; 12],
    pub(super) object_count: u64,
    /// Per unit: the smallest and largest object id.
    pub(super) unit_ids: Vec<(u64, u64)>,
    /// The first object arrays that may vote, (id, length) in file order,
    /// and whether they are all the dump has.
    pub(super) candidates: Vec<(u64, u32)>,
    pub(super) candidates_complete: bool,
    /// Per window slot of the early vote: the smallest id seen in it.
    pub(super) early_best: Vec<u64>,
}

/// Decodes every unit in parallel (each assuming it starts on a
/// sub-record boundary), then merges them in file order, decoding again
/// from the cut each unit that follows a sub-record cut at the previous
/// unit's end. Sub-record counts go to `stats`; `early_windows` are the
/// early vote's windows, whose neighbours the pass finds as it goes.
#[allow(clippy::too_many_arguments)]
pub(super) fn scan_all(
    bytes: &[u8],
    id_size: u8,
    segments: &[HeapSegment],
    units: &[Unit],
    candidate_cap: usize,
    early_windows: Option<&Windows>,
    stats: &mut RecordStats,
    done_with: &(dyn Fn(std::ops::Range<usize>) + Sync),
) -> Result<Merged, HprofError> {
    let speculative: Vec<Result<(UnitScan, RecordStats, Carry), HprofError>> = units
        .par_iter()
        .map(|&unit| {
            let mut scan = UnitScan::new(id_size, candidate_cap, early_windows);
            let mut unit_stats = RecordStats::default();
            let tail = scan_unit(
                bytes,
                id_size,
                segments,
                unit,
                None,
                &mut scan,
                &mut unit_stats,
            );
            if let (Some(first), Some(last)) = (
                segments.get(unit.first),
                unit.end.checked_sub(1).and_then(|i| segments.get(i)),
            ) {
                done_with(first.start..last.end);
            }
            Ok((scan, unit_stats, tail?))
        })
        .collect();

    // --- merge in file order -------------------------------------------------
    let mut carry: Carry = None;
    let mut carries_in: Vec<Carry> = Vec::with_capacity(units.len());
    let mut classes: Vec<ClassDump> = Vec::new();
    let mut class_offsets: Vec<u64> = Vec::new();
    let mut instances: HashMap<u64, InstanceSums> = HashMap::new();
    let mut object_arrays: HashMap<u64, ArraySums> = HashMap::new();
    let mut primitive_arrays = [ArraySums::default(); 12];
    let mut object_count = 0u64;
    let mut unit_ids: Vec<(u64, u64)> = Vec::with_capacity(units.len());
    let mut candidates: Vec<(u64, u32)> = Vec::new();
    let mut candidates_complete = true;
    let mut early_best: Vec<u64> =
        early_windows.map_or_else(Vec::new, |w| vec![u64::MAX; w.starts.len()]);
    for (&unit, result) in units.iter().zip(speculative) {
        let starts_clean = carry.is_none();
        let result = if starts_clean {
            result
        } else {
            // The unit starts inside a sub-record cut at the previous
            // unit's end: decode it again from the cut.
            let mut scan = UnitScan::new(id_size, candidate_cap, early_windows);
            let mut unit_stats = RecordStats::default();
            scan_unit(
                bytes,
                id_size,
                segments,
                unit,
                carry.clone(),
                &mut scan,
                &mut unit_stats,
            )
            .map(|tail| (scan, unit_stats, tail))
        };
        let (scan, unit_stats, tail) = result?;
        carries_in.push(carry.take());
        carry = tail;
        for (tag, count) in unit_stats.sub_records {
            *stats.sub_records.entry(tag).or_insert(0) += count;
        }
        stats.split_sub_records += unit_stats.split_sub_records;
        for (class, offset) in scan.classes {
            classes.push(class);
            class_offsets.push(offset);
        }
        for (class_id, sums) in scan.instances {
            let merged = instances.entry(class_id).or_default();
            merged.count += sums.count;
            merged.field_bytes = merged.field_bytes.saturating_add(sums.field_bytes);
            merged.min_field_bytes = merged.min_field_bytes.min(sums.min_field_bytes);
        }
        for (class_id, sums) in scan.object_arrays {
            object_arrays.entry(class_id).or_default().merge(&sums);
        }
        for (merged, sums) in primitive_arrays.iter_mut().zip(&scan.primitive_arrays) {
            merged.merge(sums);
        }
        object_count += scan.objects;
        if let Some(successors) = &scan.successors {
            for (merged, &b) in early_best.iter_mut().zip(&successors.best) {
                *merged = (*merged).min(b);
            }
        }
        unit_ids.push((scan.min_id, scan.max_id));
        if candidates_complete {
            candidates.extend_from_slice(&scan.candidates);
            candidates_complete = scan.candidate_total == scan.candidates.len() as u64;
        }
    }
    Ok(Merged {
        carry,
        carries_in,
        classes,
        class_offsets,
        instances,
        object_arrays,
        primitive_arrays,
        object_count,
        unit_ids,
        candidates,
        candidates_complete,
        early_best,
    })
}

/// Finds the first instance shorter than its class chain.
struct ChainCheck {
    file_bytes: HashMap<u64, u64>,
}

impl HeapVisitor for ChainCheck {
    fn sub_record(
        &mut self,
        record: SubRecord<'_>,
        offset: u64,
        _contiguous: bool,
    ) -> Result<(), HprofError> {
        if let SubRecord::Instance {
            class_id, fields, ..
        } = record
        {
            if let Some(&needed) = self.file_bytes.get(&class_id) {
                if (fields.len() as u64) < needed {
                    return Err(HprofError::new(
                        offset,
                        HprofErrorKind::ClassChainTooShort {
                            class_id,
                            needed,
                            available: fields.len() as u64,
                        },
                    ));
                }
            }
        }
        Ok(())
    }
}

/// What a later pass over some units needs.
pub(super) struct PassContext<'a> {
    pub(super) bytes: &'a [u8],
    pub(super) id_size: u8,
    pub(super) segments: &'a [HeapSegment],
    pub(super) units: &'a [Unit],
    /// Per unit: the sub-record cut before it (from the first pass).
    pub(super) carries_in: &'a [Carry],
    pub(super) done_with: &'a (dyn Fn(std::ops::Range<usize>) + Sync),
}

impl PassContext<'_> {
    /// Runs `make()`'s visitor over the chosen units in parallel and
    /// returns the visitors in unit order.
    pub(super) fn run<V: HeapVisitor + Send>(
        &self,
        chosen: &[usize],
        make: impl Fn() -> V + Sync,
    ) -> Result<Vec<V>, HprofError> {
        chosen
            .par_iter()
            .map(|&u| {
                let mut visitor = make();
                let mut scratch = RecordStats::default();
                if let (Some(&unit), Some(carry)) = (self.units.get(u), self.carries_in.get(u)) {
                    scan_unit(
                        self.bytes,
                        self.id_size,
                        self.segments,
                        unit,
                        carry.clone(),
                        &mut visitor,
                        &mut scratch,
                    )?;
                    if let (Some(first), Some(last)) = (
                        self.segments.get(unit.first),
                        unit.end.checked_sub(1).and_then(|i| self.segments.get(i)),
                    ) {
                        (self.done_with)(first.start..last.end);
                    }
                }
                Ok(visitor)
            })
            .collect()
    }

    /// An instance shorter than its class chain is an error, as in pass 2
    /// of the graph path: when the counters show one, finds the first one
    /// in file order (the units read again, in order).
    pub(super) fn check_chains(
        &self,
        instances: &HashMap<u64, InstanceSums>,
        class_by_id: &HashMap<u64, u32>,
        resolved: &Resolved,
    ) -> Result<(), HprofError> {
        let too_short = instances.iter().any(|(class_id, sums)| {
            class_by_id
                .get(class_id)
                .and_then(|&c| resolved.infos.get(c as usize))
                .is_some_and(|info| sums.min_field_bytes < info.file_bytes)
        });
        if too_short {
            let file_bytes: HashMap<u64, u64> = class_by_id
                .iter()
                .filter_map(|(&id, &c)| Some((id, resolved.infos.get(c as usize)?.file_bytes)))
                .collect();
            let mut check = ChainCheck { file_bytes };
            for (&unit, carry_in) in self.units.iter().zip(self.carries_in) {
                let mut scratch = RecordStats::default();
                scan_unit(
                    self.bytes,
                    self.id_size,
                    self.segments,
                    unit,
                    carry_in.clone(),
                    &mut check,
                    &mut scratch,
                )?;
            }
        }
        Ok(())
    }
}
