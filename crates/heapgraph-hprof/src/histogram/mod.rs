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
//!
//! [`units`] holds the passes over the units and their merge, [`vote`] the
//! search for the first arrays' neighbours (the vote itself is
//! [`crate::compressed::vote`]), [`rows`] the rows.

mod rows;
#[cfg(test)]
mod tests;
mod units;
mod vote;

use hashbrown::HashMap;
use heapgraph_core::{Format, GraphBuilder};

use crate::build::{resolve_classes, TopLevel};
use crate::stream;
use crate::{HprofError, HprofOptions, HprofVersion, RecordStats, SizeModel};

use units::{scan_all, unit_target, units_of, PassContext};
use vote::{detect_compressed_references, Early, CANDIDATE_CAP};

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
        Early::read(bytes, id_size, segments, &units, candidate_cap, done_with)
    } else {
        None
    };

    // --- the parallel pass, merged in file order -----------------------------
    let mut merged = scan_all(
        bytes,
        id_size,
        segments,
        &units,
        candidate_cap,
        early.as_ref().map(|e| &e.windows),
        &mut stats,
        done_with,
    )?;
    // A sub-record cut at the end of the last segment: as `walk` decides.
    if let Some((offset, pending)) = merged.carry.take() {
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
    let classes = &merged.classes;
    let mut class_by_id: HashMap<u64, u32> = HashMap::with_capacity(classes.len());
    for (i, class) in classes.iter().enumerate() {
        class_by_id.entry(class.id).or_insert(i as u32);
    }
    // The vote over the first arrays, from the neighbours the pass found.
    let early_decision = early
        .as_ref()
        .and_then(|e| e.decision(std::mem::take(&mut merged.early_best)));
    let context = PassContext {
        bytes,
        id_size,
        segments,
        units: &units,
        carries_in: &merged.carries_in,
        done_with,
    };
    let compressed = match options.compressed_references {
        Some(choice) => choice,
        None if id_size == 8 && early_decision.is_some() => early_decision.unwrap_or(true),
        None if id_size == 8 => detect_compressed_references(
            &context,
            &merged.unit_ids,
            std::mem::take(&mut merged.candidates),
            merged.candidates_complete,
            candidate_cap,
        )?
        .unwrap_or(true),
        None => true,
    };
    let mut builder = GraphBuilder::new(Format::Hprof);
    let class_nodes = vec![0u32; classes.len()];
    let resolved = resolve_classes(
        &mut builder,
        &top,
        classes,
        &class_nodes,
        &merged.class_offsets,
        &class_by_id,
        header.version,
        id_size,
        compressed,
    )?;

    // An instance shorter than its class chain is an error, as in pass 2 of
    // the graph path; find the first one in file order.
    context.check_chains(&merged.instances, &class_by_id, &resolved)?;

    // --- rows --------------------------------------------------------------------
    let model = options.size_model;
    let (rows, missing_classes) =
        rows::rows(&merged, &resolved, &class_by_id, model, compressed, pointer);
    stats.missing_classes = missing_classes;
    Ok(ShallowHistogram {
        rows,
        version: header.version,
        id_size,
        size_model: model,
        compressed_references: compressed,
        object_count: merged.object_count,
        stats,
    })
}
