//! [`shallow_class_histogram`]: instances and shallow size per class in
//! one pass over the heap-dump records, without building the graph.
//!
//! # How
//!
//! 1. A framing pass walks the top-level records only (a few thousand
//!    record headers, skipped by length), keeping the class names and the
//!    list of heap-dump segments.
//! 2. The segments are grouped into units of a few megabytes, decoded in
//!    parallel (rayon). Each unit keeps per-class counters only: instances
//!    and their field bytes per class id, object arrays per class id and
//!    primitive arrays per element type, each with the sizes for both
//!    reference widths. A unit assumes it starts on a sub-record boundary;
//!    a unit that follows a sub-record cut at a segment end (Android
//!    writers) is decoded again, in order, from the cut.
//! 3. The classes are resolved with the graph path's own code (same names,
//!    same instance sizes), compressed references are detected the same way
//!    (see below), and the counters become rows.
//!
//! Memory: per class and per unit, never per object; everything sized by
//! the file is bounded by the bytes it spans.
//!
//! Compressed-reference detection needs, for the first object arrays of
//! the dump, the next object address after each. When the first few units
//! hold enough object arrays, they are read ahead and the parallel pass
//! finds the neighbours as it goes. Otherwise units remember their first
//! object arrays and the range of object ids they hold, and a second pass
//! re-reads the units whose id range meets those arrays' neighbourhoods:
//! few in address-ordered dumps, about half of the units of the 1.9 GB
//! JDK 17 benchmark dump, whose first object arrays lie 35 % into the file
//! and are spread over the heap.

use hashbrown::HashMap;
use heapgraph_core::{Format, GraphBuilder};
use rayon::prelude::*;

use crate::build::{align_up, resolve_classes, TopLevel};
use crate::stream::{self, Body, ClassDump, HeapSegment, HeapVisitor, SubRecord};
use crate::{
    BasicType, HprofError, HprofErrorKind, HprofLocation, HprofOptions, HprofVersion, RecordStats,
    SizeModel,
};

/// One row of a [`ShallowHistogram`]: the objects of one class name.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShallowHistogramRow {
    /// The class name as the graph path names nodes: MAT's display name
    /// (`java.lang.String`, `int[]`, `java.lang.Object[]`), `(unknown
    /// class)` for objects whose class was never dumped, `(class 0x…)` for
    /// a class without a name record. Classes of the same name (several
    /// class loaders) share one row, as in the graph's class table.
    pub class_name: String,
    /// Whether this row counts the class objects themselves (CLASS DUMP
    /// records). Its name is `java.lang.Class`, as MAT shows them, and it
    /// also counts the instances of `java.lang.Class` that some dumps hold
    /// (HotSpot's primitive-type mirrors), as the graph's class table does:
    /// one class, one row.
    pub class_objects: bool,
    /// The number of objects.
    pub count: u64,
    /// The sum of their shallow sizes under the chosen [`SizeModel`].
    pub shallow_size: u64,
}

/// Instances and shallow size per class of an HPROF dump, computed
/// without building the graph (see [`shallow_class_histogram`]).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ShallowHistogram {
    /// The rows, largest shallow size first (ties: more objects first, then
    /// by name).
    pub rows: Vec<ShallowHistogramRow>,
    /// The format version from the header.
    pub version: HprofVersion,
    /// The identifier size (4 or 8).
    pub id_size: u8,
    /// The size model the sizes follow.
    pub size_model: SizeModel,
    /// Whether [`SizeModel::Mat`] sizes assumed compressed references
    /// (given in the options or detected as the graph path detects it).
    pub compressed_references: bool,
    /// The number of heap objects (classes, instances, arrays): the graph
    /// path's node count minus the root and the root-group nodes.
    pub object_count: u64,
    /// Record counts. `duplicate_ids` and `instances_with_extra_bytes` are
    /// not computed here (they need the id index and the edge pass) and
    /// stay 0; everything else is as [`crate::parse`] reports it.
    pub stats: RecordStats,
}

impl ShallowHistogram {
    /// The sum of all rows' counts.
    pub fn total_count(&self) -> u64 {
        self.rows.iter().map(|r| r.count).sum()
    }

    /// The sum of all rows' shallow sizes.
    pub fn total_shallow_size(&self) -> u64 {
        self.rows
            .iter()
            .fold(0u64, |sum, r| sum.saturating_add(r.shallow_size))
    }
}

/// Object arrays with `length >= 2` each unit remembers for the
/// compressed-reference vote (the vote needs 1000 that decide).
const CANDIDATE_CAP: usize = 2048;
/// Units read ahead of the parallel pass for the vote's first arrays.
const EARLY_UNITS: usize = 4;
/// Votes after which the graph path's detection stops.
const VOTES_NEEDED: u32 = 1000;

/// Counts and both reference-width sizes of a set of arrays.
#[derive(Clone, Copy, Debug, Default)]
struct ArraySums {
    count: u64,
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

    fn size(&self, model: SizeModel, compressed: bool) -> u64 {
        match model {
            SizeModel::Raw => self.raw,
            _ if compressed => self.mat_compressed,
            _ => self.mat_plain,
        }
    }
}

/// Instances of one class id.
#[derive(Clone, Copy, Debug)]
struct InstanceSums {
    count: u64,
    /// Field bytes as written (each capped at `u32::MAX`, as the graph path
    /// caps them).
    field_bytes: u64,
    min_field_bytes: u64,
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
                if length >= 2 {
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
struct Unit {
    first: usize,
    end: usize,
}

/// Splits the segments into units of about `target` bytes.
fn units_of(segments: &[HeapSegment], target: usize) -> Vec<Unit> {
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

type Carry = Option<(u64, Vec<u8>)>;

/// Decodes the segments of `unit` in order, starting with `carry` (the
/// start of a sub-record cut at the previous segment's end). Returns the
/// sub-record cut at the unit's end, if any.
fn scan_unit(
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
fn unit_target(total: usize) -> usize {
    let threads = rayon::current_num_threads().max(1);
    (total / (threads * 8)).clamp(1 << 20, 8 << 20)
}

/// Counts the objects of every class of an HPROF dump and sums their
/// shallow sizes, in one pass over the heap-dump records and without
/// building the graph.
///
/// The rows are exactly what the graph path gives when every node of
/// [`parse`](crate::parse)'s graph is grouped by its class name (class
/// objects under `java.lang.Class`): the same names, counts and
/// [`SizeModel`] sizes, with compressed references detected as the graph
/// path detects them. Objects are counted whether or not they are reachable
/// from a GC root (as `jcmd GC.class_histogram -all` and hprof-slurp count
/// them); a dominator-based histogram under MAT's rules leaves unreachable
/// objects out.
///
/// Work is split over heap-dump segments on the current rayon pool (run it
/// inside `ThreadPool::install` to choose the thread count); memory is per
/// class, not per object. [`HprofOptions::limits`] do not apply (no graph
/// is built). [`HprofOptions::on_consumed`] gets each byte range the framing
/// pass (record headers only) has walked, then each group of heap-dump
/// segments the main pass has decoded, from whichever thread decoded it;
/// a few ranges may be read again afterwards by the compressed-reference
/// vote.
///
/// ```
/// let mut file = b"JAVA PROFILE 1.0.2\0".to_vec();
/// file.extend_from_slice(&8u32.to_be_bytes());
/// file.extend_from_slice(&0u64.to_be_bytes());
/// let histogram = heapgraph_hprof::shallow_class_histogram(&file, &Default::default())?;
/// assert!(histogram.rows.is_empty());
/// # Ok::<(), heapgraph_hprof::HprofError>(())
/// ```
///
/// # Errors
///
/// As [`parse`](crate::parse): the same [`HprofError`] (kind and offset)
/// for the same malformed input, except errors only the graph build can
/// raise (limits).
pub fn shallow_class_histogram(
    bytes: &[u8],
    options: &HprofOptions,
) -> Result<ShallowHistogram, HprofError> {
    let done_with = |range| options.on_consumed.consumed(range);
    histogram_with_unit_target(bytes, options, None, CANDIDATE_CAP, &done_with)
}

/// [`shallow_class_histogram`] with a chosen unit size (tests use tiny
/// units to exercise the parallel merge on small files).
pub(crate) fn histogram_with_unit_target(
    bytes: &[u8],
    options: &HprofOptions,
    unit_bytes: Option<usize>,
    candidate_cap: usize,
    done_with: &(dyn Fn(std::ops::Range<usize>) + Sync),
) -> Result<ShallowHistogram, HprofError> {
    let header = stream::parse_header(bytes)?;
    let id_size = header.id_size;
    let pointer = u64::from(id_size);
    let mut stats = RecordStats::default();
    let mut top = TopLevel::default();
    let framing = stream::frame(
        bytes,
        &header,
        &mut top,
        &mut stats,
        options.lenient,
        options.dump,
        done_with,
    );
    let segments = &framing.segments;
    let total: usize = segments.iter().map(|s| s.end.saturating_sub(s.start)).sum();
    let units = units_of(segments, unit_bytes.unwrap_or_else(|| unit_target(total)));

    // --- the first object arrays, for the compressed-reference vote ---------
    // Read from the first units before the parallel pass, so that pass can
    // find their neighbours as it goes instead of a second pass doing it.
    let needs_vote = options.compressed_references.is_none() && id_size == 8;
    let early = if needs_vote {
        early_candidates(bytes, id_size, segments, &units, candidate_cap, done_with)
    } else {
        None
    };
    let early_windows = early.as_ref().map(|(c, _)| Windows::new(c));

    // --- the parallel pass ---------------------------------------------------
    let speculative: Vec<Result<(UnitScan, RecordStats, Carry), HprofError>> = units
        .par_iter()
        .map(|&unit| {
            let mut scan = UnitScan::new(id_size, candidate_cap, early_windows.as_ref());
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
    let mut early_best: Vec<u64> = early_windows
        .as_ref()
        .map_or_else(Vec::new, |w| vec![u64::MAX; w.starts.len()]);
    for (&unit, result) in units.iter().zip(speculative) {
        let starts_clean = carry.is_none();
        let result = if starts_clean {
            result
        } else {
            // The unit starts inside a sub-record cut at the previous
            // unit's end: decode it again from the cut.
            let mut scan = UnitScan::new(id_size, candidate_cap, early_windows.as_ref());
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
    // A sub-record cut at the end of the last segment: as `walk` decides.
    if let Some((offset, pending)) = carry {
        let cut = stream::cut_sub_record(offset, &pending);
        if framing.record_after_last_segment {
            return Err(cut);
        }
        if let Some(error) = framing.error {
            return Err(error);
        }
        if !options.lenient {
            return Err(cut);
        }
        stats.truncation.get_or_insert(cut);
    } else if let Some(error) = framing.error {
        return Err(error);
    }

    // --- classes, compressed references ----------------------------------------
    let mut class_by_id: HashMap<u64, u32> = HashMap::with_capacity(classes.len());
    for (i, class) in classes.iter().enumerate() {
        class_by_id.entry(class.id).or_insert(i as u32);
    }
    // The vote over the first arrays, from the neighbours the pass found.
    let early_vote = match (&early, &early_windows) {
        (Some((found, _)), Some(windows)) => Some(tally(found, windows, early_best)),
        _ => None,
    };
    let early_decision = match (&early, early_vote) {
        (Some((_, all_of_them)), Some((result, votes)))
            if votes >= VOTES_NEEDED || *all_of_them =>
        {
            Some(result.unwrap_or(true))
        }
        _ => None,
    };
    let compressed = match options.compressed_references {
        Some(choice) => choice,
        None if id_size == 8 && early_decision.is_some() => early_decision.unwrap_or(true),
        None if id_size == 8 => {
            let context = PassContext {
                bytes,
                id_size,
                segments,
                units: &units,
                carries_in: &carries_in,
                done_with,
            };
            detect_compressed_references(
                &context,
                &unit_ids,
                candidates,
                candidates_complete,
                candidate_cap,
            )?
            .unwrap_or(true)
        }
        None => true,
    };
    let mut builder = GraphBuilder::new(Format::Hprof);
    let class_nodes = vec![0u32; classes.len()];
    let resolved = resolve_classes(
        &mut builder,
        &top,
        &classes,
        &class_nodes,
        &class_offsets,
        &class_by_id,
        header.version,
        id_size,
        compressed,
    )?;

    // An instance shorter than its class chain is an error, as in pass 2 of
    // the graph path; find the first one in file order.
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
        for (&unit, carry_in) in units.iter().zip(&carries_in) {
            let mut scratch = RecordStats::default();
            scan_unit(
                bytes,
                id_size,
                segments,
                unit,
                carry_in.clone(),
                &mut check,
                &mut scratch,
            )?;
        }
    }

    // --- rows --------------------------------------------------------------------
    let model = options.size_model;
    let mut rows = RowTable::default();
    let name_of = |c: u32| -> String {
        resolved
            .names
            .get(c as usize)
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .unwrap_or_default()
    };
    let class_objects_size: u64 = match model {
        SizeModel::Raw => 0,
        _ => resolved
            .infos
            .iter()
            .fold(0u64, |sum, info| sum.saturating_add(info.static_size)),
    };
    if !classes.is_empty() {
        rows.add(
            "java.lang.Class".to_string(),
            true,
            classes.len() as u64,
            class_objects_size,
        );
    }
    let mut missing_classes = 0u64;
    for (class_id, sums) in &instances {
        match class_by_id
            .get(class_id)
            .and_then(|&c| Some((c, resolved.infos.get(c as usize)?)))
        {
            Some((c, info)) => {
                let each = match model {
                    SizeModel::Raw => info.raw_size,
                    _ => info.mat_size,
                };
                rows.add(
                    name_of(c),
                    false,
                    sums.count,
                    each.saturating_mul(sums.count),
                );
            }
            None => {
                missing_classes += sums.count;
                let size = (2 * pointer)
                    .saturating_mul(sums.count)
                    .saturating_add(sums.field_bytes);
                rows.add("(unknown class)".to_string(), false, sums.count, size);
            }
        }
    }
    for (class_id, sums) in &object_arrays {
        let name = match class_by_id.get(class_id) {
            Some(&c) => name_of(c),
            None => {
                missing_classes += sums.count;
                "(unknown class)".to_string()
            }
        };
        rows.add(name, false, sums.count, sums.size(model, compressed));
    }
    for (code, sums) in primitive_arrays.iter().enumerate() {
        if sums.count == 0 {
            continue;
        }
        let Some(ty) = u8::try_from(code).ok().and_then(BasicType::from_code) else {
            continue;
        };
        rows.add(
            format!("{}[]", ty.java_name()),
            false,
            sums.count,
            sums.size(model, compressed),
        );
    }
    stats.missing_classes = missing_classes;
    let mut rows = rows.rows;
    rows.sort_by(|a, b| {
        b.shallow_size
            .cmp(&a.shallow_size)
            .then(b.count.cmp(&a.count))
            .then_with(|| a.class_name.cmp(&b.class_name))
            .then(a.class_objects.cmp(&b.class_objects))
    });
    Ok(ShallowHistogram {
        rows,
        version: header.version,
        id_size,
        size_model: model,
        compressed_references: compressed,
        object_count,
        stats,
    })
}

/// Rows by name (the class objects share `java.lang.Class`'s row).
#[derive(Default)]
struct RowTable {
    index: HashMap<String, usize>,
    rows: Vec<ShallowHistogramRow>,
}

impl RowTable {
    fn add(&mut self, name: String, class_objects: bool, count: u64, shallow_size: u64) {
        match self.index.get(&name) {
            Some(&i) => {
                if let Some(row) = self.rows.get_mut(i) {
                    row.count = row.count.saturating_add(count);
                    row.shallow_size = row.shallow_size.saturating_add(shallow_size);
                    row.class_objects |= class_objects;
                }
            }
            None => {
                self.index.insert(name.clone(), self.rows.len());
                self.rows.push(ShallowHistogramRow {
                    class_name: name,
                    class_objects,
                    count,
                    shallow_size,
                });
            }
        }
    }
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
struct PassContext<'a> {
    bytes: &'a [u8],
    id_size: u8,
    segments: &'a [HeapSegment],
    units: &'a [Unit],
    /// Per unit: the sub-record cut before it (from the first pass).
    carries_in: &'a [Carry],
    done_with: &'a (dyn Fn(std::ops::Range<usize>) + Sync),
}

impl PassContext<'_> {
    /// Runs `make()`'s visitor over the chosen units in parallel and
    /// returns the visitors in unit order.
    fn run<V: HeapVisitor + Send>(
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
}

/// The object arrays that vote, as windows `(start, end]` in which their
/// neighbour must lie to vote, sorted by start, with a bucket directory
/// over the starts.
struct Windows {
    /// Sorted, distinct starts (array ids).
    starts: Vec<u64>,
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
            .map(|&(id, n)| (id, id.saturating_add(24 + 8 * u64::from(n))))
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
struct Successors<'a> {
    windows: &'a Windows,
    best: Vec<u64>,
}

impl Successors<'_> {
    #[inline]
    fn object(&mut self, id: u64) {
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
            if length >= 2 {
                self.total += 1;
                if self.found.len() < self.cap {
                    self.found.push((id, length));
                }
            }
        }
        Ok(())
    }
}

/// The graph path's compressed-reference vote (`build::detect_compressed_references`):
/// object arrays with `length >= 2` in file order, each voting by the gap
/// to the next object address, until 1000 votes.
fn detect_compressed_references(
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
    let (mut compressed, mut plain) = (0u32, 0u32);
    for &(id, length) in candidates {
        let Ok(k) = starts.binary_search(&id) else {
            continue;
        };
        let next = successor.get(k).copied().unwrap_or(u64::MAX);
        if next == u64::MAX {
            continue;
        }
        let gap = next - id;
        let n = u64::from(length);
        if gap == align_up(16 + 4 * n, 8) {
            compressed += 1;
        } else if gap == 24 + 8 * n {
            plain += 1;
        }
        if compressed + plain >= VOTES_NEEDED {
            break;
        }
    }
    let result = match (compressed, plain) {
        (0, 0) => None,
        (c, p) => Some(c >= p),
    };
    (result, compressed + plain)
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn read(path: &str) -> Vec<u8> {
        use std::io::Read;
        let path = format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(&path).unwrap();
        if bytes.starts_with(&[0x1f, 0x8b]) {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&bytes[..])
                .read_to_end(&mut out)
                .unwrap();
            out
        } else {
            bytes
        }
    }

    /// Tiny units (one segment each) give the same histogram as one unit,
    /// including the Android dump whose sub-records continue across
    /// segments (units decoded again from the cut) and the dumps whose
    /// compressed-reference vote needs the narrow second pass.
    #[test]
    fn unit_size_does_not_change_the_result() {
        for path in [
            "testdata/hprof/android-art-1.0.3-split.hprof",
            "testdata/hprof/android-art-1.0.3.hprof",
            "testdata/hprof/hotspot-jdk17-shapes.hprof.gz",
            "testdata/hprof/hotspot-jdk17-uncompressed.hprof.gz",
            "../shared/corpus/hprof/netbeans-jdk8-64bit.hprof",
        ] {
            if path.starts_with("../shared/")
                && !std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared"))
                    .is_dir()
            {
                use std::io::Write;
                // Straight to stderr: libtest does not capture it.
                let _ = writeln!(
                    std::io::stderr(),
                    "skipped: {path} (../shared/corpus is not beside this clone)"
                );
                continue;
            }
            let bytes = read(path);
            for model in [SizeModel::Mat, SizeModel::Raw] {
                let options = HprofOptions::default().with_size_model(model);
                let whole = histogram_with_unit_target(
                    &bytes,
                    &options,
                    Some(usize::MAX),
                    CANDIDATE_CAP,
                    &|_| {},
                )
                .unwrap();
                let tiny =
                    histogram_with_unit_target(&bytes, &options, Some(1), CANDIDATE_CAP, &|_| {})
                        .unwrap();
                assert_eq!(whole.rows, tiny.rows, "{path}");
                assert_eq!(whole.stats, tiny.stats, "{path}");
                assert_eq!(whole.compressed_references, tiny.compressed_references);
                assert_eq!(whole.object_count, tiny.object_count);
            }
        }
    }

    /// A sub-record cut at the end of the heap: an error naming where it
    /// starts, or (lenient) a truncation, with tiny units too.
    #[test]
    fn cut_inside_the_last_sub_record() {
        let bytes = read("testdata/hprof/android-art-1.0.3-split.hprof");
        for cut in [bytes.len() - 3, bytes.len() / 2] {
            let prefix = &bytes[..cut];
            let expected = crate::parse(prefix, &HprofOptions::default()).unwrap_err();
            for unit in [Some(1), None] {
                let error = histogram_with_unit_target(
                    prefix,
                    &HprofOptions::default(),
                    unit,
                    CANDIDATE_CAP,
                    &|_| {},
                )
                .unwrap_err();
                assert_eq!(error, expected);
            }
        }
    }

    /// The vote decides as the graph path's on both JDK 17 dumps (one with
    /// compressed oops, one without), also when it has to widen.
    #[test]
    fn vote_is_the_graph_paths() {
        for path in [
            "testdata/hprof/hotspot-jdk17-shapes.hprof.gz",
            "testdata/hprof/hotspot-jdk17-uncompressed.hprof.gz",
        ] {
            let bytes = read(path);
            let dump = crate::parse(&bytes, &HprofOptions::default()).unwrap();
            let fast = shallow_class_histogram(&bytes, &HprofOptions::default()).unwrap();
            assert_eq!(fast.compressed_references, dump.compressed_references());
            // Few arrays kept per unit, tiny units: the vote widens its
            // prefix and collects more arrays, and still decides the same.
            for cap in [1, 3, 50] {
                for unit in [Some(1), None] {
                    let small = histogram_with_unit_target(
                        &bytes,
                        &HprofOptions::default(),
                        unit,
                        cap,
                        &|_| {},
                    )
                    .unwrap();
                    assert_eq!(small.compressed_references, dump.compressed_references());
                    assert_eq!(small.rows, fast.rows);
                }
            }
        }
    }
}
