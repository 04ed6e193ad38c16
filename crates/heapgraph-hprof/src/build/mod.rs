//! The two passes: index (pass 1) and graph edges (pass 2).
//!
//! Pass 1 reads every record once, keeping per object only its id, class
//! id, array length and kind (24 bytes), the record offset (8 bytes), the
//! CLASS DUMPs, the GC roots and the small top-level tables (strings, class
//! names, frames, traces). Between the passes the classes are resolved
//! (names, flattened field layouts, sizes) and the ids sorted into a
//! compact `(id, node)` array. Pass 2 re-reads the heap-dump stream
//! sequentially and emits every edge in source order.
//!
//! [`parse`] runs the phases in this order (each interns its strings in
//! the order the graph's string table records them):
//!
//! 1. [`index`]: pass 1;
//! 2. [`classes`]: the class table, then (after the id index and the
//!    compressed-reference decision) names, layouts and sizes;
//! 3. [`nodes`]: the root and one node per object;
//! 4. [`stacks`]: the stack traces;
//! 5. [`roots`]: threads and their locals; [`edges`]: labels and static
//!    names; [`roots`]: the GC-root plan and the root's edges;
//! 6. [`edges`]: pass 2;
//! 7. [`roots`]: the root groups and their edges; then the side tables.

mod classes;
mod edges;
mod index;
mod nodes;
mod roots;
mod stacks;

use heapgraph_core::{Format, GraphBuilder, NodeIndex};

use crate::compressed;
use crate::dump::HprofDump;
use crate::ids::IdIndex;
use crate::stream;
use crate::{HprofError, HprofOptions, HprofVersion};

pub(crate) use classes::{align_up, resolve_classes, Resolved};
pub(crate) use index::{scan, TopLevel};

use classes::ClassTable;
use edges::{EdgeEmitter, Labels};
use index::{HeapIndex, Pending, KIND_OBJECT_ARRAY};
use nodes::Sizes;

/// Parses a whole dump; see [`crate::parse`].
pub(crate) fn parse(
    bytes: &[u8],
    options: &HprofOptions,
    done_with: &dyn Fn(std::ops::Range<usize>),
) -> Result<HprofDump, HprofError> {
    let header = stream::parse_header(bytes)?;
    let id_size = header.id_size;
    let limits = options.limits;
    let (mut stats, top, mut index) = index::index_pass(bytes, &header, options, done_with)?;

    let mut builder = GraphBuilder::new(Format::Hprof).with_limits(limits);
    let kind = match header.version {
        HprofVersion::V1_0_3 => "Android",
        _ => "HotSpot",
    };
    builder.set_producer(format!(
        "{kind} ({}, {id_size}-byte ids)",
        header.version.as_str()
    ));
    let graph_err = |e| HprofError::graph(0, e);

    // --- classes: names, layouts, sizes ---------------------------------
    let table = ClassTable::new(&index);
    // --- id → node ----------------------------------------------------------
    let pending = &index.pending;
    let (ids, duplicates) = IdIndex::build(pending.len(), |i| {
        (pending.get(i).map_or(0, |p| p.id), i as u32 + 1)
    });
    stats.duplicate_ids = duplicates;
    let resolve = |id: u64| -> Option<u32> { ids.get(id) };

    let compressed = compressed_references(options, id_size, &index.pending, &ids);
    let model = options.size_model;
    let sizes = Sizes::new(model, id_size, compressed);

    let Resolved {
        infos,
        own_fields,
        layouts,
        ..
    } = resolve_classes(
        &mut builder,
        &top,
        &index.classes,
        &table.class_nodes,
        &table.class_offsets,
        &table.class_by_id,
        header.version,
        id_size,
        compressed,
    )?;
    let (primitive_class, primitive_names) = nodes::primitive_classes(&mut builder, &infos)?;

    // --- nodes --------------------------------------------------------------
    nodes::add_nodes(
        &mut builder,
        &index,
        &table.class_by_id,
        &infos,
        &primitive_names,
        sizes,
        &mut stats,
    )?;

    // --- stacks ---------------------------------------------------------------
    let trace_stacks = stacks::trace_stacks(&mut builder, &top, id_size)?;

    // --- threads and their locals ------------------------------------------
    let threads = roots::threads(&top, &index.roots, &resolve, &trace_stacks);
    let labels = Labels::intern(&mut builder)?;
    let static_names =
        edges::static_names(&mut builder, &top, &index.classes, &table.class_offsets)?;

    // --- GC roots ---------------------------------------------------------------
    let root_plan = roots::plan_roots(&mut builder, &index, &infos, &threads.by_serial, &resolve)?;

    // The index's objects are all nodes now.
    drop(std::mem::take(&mut index.pending));

    // --- pass 2: edges ------------------------------------------------------
    let emitter = EdgeEmitter {
        builder: &mut builder,
        id_size,
        ordinal: 0,
        resolve: &resolve,
        class_by_id: &table.class_by_id,
        infos: &infos,
        own_fields: &own_fields,
        layouts: &layouts,
        static_names: &static_names,
        primitive_class: &primitive_class,
        locals: &threads.locals,
        local_cursor: 0,
        trace_stacks: &trace_stacks,
        labels: &labels,
        extra_bytes: 0,
    };
    stats.instances_with_extra_bytes = emitter.walk(bytes, &header, options, done_with)?;

    // --- GC roots: the group nodes and their edges -------------------------------
    root_plan.finish(&mut builder)?;

    // --- side tables ------------------------------------------------------------
    let (heap_names, heap_runs) = heap_tables(&top, &index);
    let object_offsets = index.offsets;

    let graph = builder.finish().map_err(graph_err)?;
    Ok(HprofDump {
        graph,
        version: header.version,
        id_size,
        timestamp_ms: header.timestamp_ms,
        size_model: model,
        compressed_references: compressed,
        stats,
        object_offsets,
        classes: layouts,
        own_fields,
        heap_runs,
        heap_names,
        thread_locals: thread_locals(&threads.locals, &resolve),
        thread_stacks: threads.stacks,
    })
}

/// The locals of known threads whose objects are in the dump, in thread
/// order, as [`HprofDump::thread_locals`] gives them.
fn thread_locals(
    locals: &[(u32, u64, u8, u32)],
    resolve: &impl Fn(u64) -> Option<u32>,
) -> Vec<crate::ThreadLocal> {
    locals
        .iter()
        .filter_map(|&(thread, id, tag, frame)| {
            Some(crate::ThreadLocal {
                thread: NodeIndex::new(thread),
                object: NodeIndex::new(resolve(id)?),
                frame: (frame != u32::MAX).then_some(frame),
                jni: tag == 0x02,
            })
        })
        .collect()
}

/// Whether sizes assume compressed references: the options' choice, else
/// for 8-byte ids the [compressed-reference vote](compressed::vote) over
/// the object arrays in file order (compressed when nothing voted); 4-byte
/// ids are always "compressed" (references are 4 bytes).
fn compressed_references(
    options: &HprofOptions,
    id_size: u8,
    pending: &[Pending],
    ids: &IdIndex,
) -> bool {
    match options.compressed_references {
        Some(choice) => choice,
        None if id_size == 8 => compressed::vote(
            pending
                .iter()
                .filter(|p| p.kind == KIND_OBJECT_ARRAY)
                .map(|p| (p.id, p.length)),
            |id| ids.next_id_after(id),
        )
        .decision()
        .unwrap_or(true),
        None => true,
    }
}

/// The heap names and the `(first node, heap name index)` runs of
/// [`HprofDump`]'s heap table, from the HEAP DUMP INFO sub-records (Android).
fn heap_tables(top: &TopLevel<'_>, index: &HeapIndex) -> (Vec<String>, Vec<(u32, u16)>) {
    let mut heap_names: Vec<String> = Vec::new();
    let mut heap_runs: Vec<(u32, u16)> = Vec::with_capacity(index.heap_runs.len());
    for &(first, heap_id) in &index.heap_runs {
        let name = match index.heap_names.iter().find(|h| h.0 == heap_id) {
            Some(&(_, name_id)) => String::from_utf8_lossy(top.string(name_id)).into_owned(),
            None => format!("heap {heap_id}"),
        };
        let slot = match heap_names.iter().position(|n| *n == name) {
            Some(i) => i,
            None => {
                heap_names.push(name);
                heap_names.len() - 1
            }
        };
        heap_runs.push((first + 1, u16::try_from(slot).unwrap_or(u16::MAX)));
    }
    (heap_names, heap_runs)
}
