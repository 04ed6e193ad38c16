//! The two passes: index (pass 1) and graph edges (pass 2).
//!
//! Pass 1 reads every record once, keeping per object only its id, class
//! id, array length and kind (24 bytes), the record offset (8 bytes), the
//! CLASS DUMPs, the GC roots and the small top-level tables (strings, class
//! names, frames, traces). Between the passes the classes are resolved
//! (names, flattened field layouts, sizes) and the ids sorted into a
//! compact `(id, node)` array. Pass 2 re-reads the heap-dump stream
//! sequentially and emits every edge in source order.

use hashbrown::HashMap;

use heapgraph_core::{
    EdgeKind, Format, Frame, GraphBuilder, NodeIndex, NodeKind, RootKind, StackId, StringId,
};

use crate::dump::{for_each_field, ClassLayout, HprofDump, OwnField};
use crate::ids::IdIndex;
use crate::names::normalize_class_name;
use crate::stream::{self, Body, ClassDump, HeapVisitor, RecordVisitor, SubRecord};
use crate::{
    BasicType, HprofError, HprofErrorKind, HprofOptions, HprofVersion, RecordStats, SizeModel,
};

/// Room for the root-group nodes (one per [`RootKind`]).
const ROOT_KINDS: usize = 32;
const KIND_CLASS: u8 = 0;
const KIND_INSTANCE: u8 = 1;
const KIND_OBJECT_ARRAY: u8 = 2;
/// Primitive arrays: `KIND_PRIMITIVE_BASE + type code`.
const KIND_PRIMITIVE_BASE: u8 = 16;

/// One heap object as pass 1 saw it.
#[derive(Clone, Copy)]
struct Pending {
    id: u64,
    /// The class id (instances, arrays) or the class index (classes).
    class: u64,
    length: u32,
    kind: u8,
}

pub(crate) struct FrameRecord {
    method_name: u64,
    source_file: u64,
    class_serial: u32,
    line: i32,
}

/// Top-level records other than heap dumps.
#[derive(Default)]
pub(crate) struct TopLevel<'a> {
    pub(crate) strings: HashMap<u64, &'a [u8]>,
    pub(crate) class_names: HashMap<u64, u64>,
    pub(crate) class_serials: HashMap<u32, u64>,
    pub(crate) frames: HashMap<u64, FrameRecord>,
    /// (serial, frame ids, innermost first).
    pub(crate) traces: Vec<(u32, &'a [u8])>,
    pub(crate) thread_serials: HashMap<u32, u64>,
}

impl<'a> RecordVisitor<'a> for TopLevel<'a> {
    fn record(&mut self, tag: u8, body: Body<'a>) -> Result<(), HprofError> {
        let id = usize::from(body.id_size);
        let r = (|| -> Result<(), stream::Short> {
            match tag {
                0x01 => {
                    let string_id = body.id(0)?;
                    let text = body.data.get(id..).unwrap_or(&[]);
                    self.strings.insert(string_id, text);
                }
                0x02 => {
                    let serial = body.u4(0)?;
                    let class_id = body.id(4)?;
                    let name_id = body.id(8 + id)?;
                    self.class_names.insert(class_id, name_id);
                    self.class_serials.insert(serial, class_id);
                }
                0x04 => {
                    let frame_id = body.id(0)?;
                    let method_name = body.id(id)?;
                    let source_file = body.id(3 * id)?;
                    let class_serial = body.u4(4 * id)?;
                    let line = body.u4(4 * id + 4)? as i32;
                    self.frames.insert(
                        frame_id,
                        FrameRecord {
                            method_name,
                            source_file,
                            class_serial,
                            line,
                        },
                    );
                }
                0x05 => {
                    let serial = body.u4(0)?;
                    let n = stream::len_usize(body.u4(8)?);
                    let frames = body.bytes(12, n.saturating_mul(id))?;
                    self.traces.push((serial, frames));
                }
                0x0A => {
                    let serial = body.u4(0)?;
                    let thread_id = body.id(4)?;
                    self.thread_serials.insert(serial, thread_id);
                }
                // Handled on purpose by being counted only: UNLOAD CLASS,
                // ALLOC SITES, HEAP SUMMARY, END THREAD, CPU SAMPLES,
                // CONTROL SETTINGS, HEAP DUMP END and unknown tags.
                _ => {}
            }
            Ok(())
        })();
        r.map_err(|short| body.short(short))
    }
}

/// Pass 1 over the heap-dump stream.
#[derive(Default)]
pub(crate) struct HeapIndex {
    pending: Vec<Pending>,
    /// Per node: the record offset, or `u64::MAX` when the record is split
    /// across segments (`parse` starts it with the root's `u64::MAX`, so
    /// it becomes the dump's node-indexed table without a copy).
    offsets: crate::offsets::OffsetTable,
    classes: Vec<ClassDump>,
    /// (tag, id, first u4, second u4).
    roots: Vec<(u8, u64, u32, u32)>,
    /// (first ordinal, heap id) runs from HEAP DUMP INFO.
    heap_runs: Vec<(u32, u32)>,
    heap_names: Vec<(u32, u64)>,
    current_heap: Option<u32>,
    /// The most heap objects [`Limits::max_nodes`](heapgraph_core::Limits)
    /// leaves room for (the root takes one node); `None`: no limit.
    object_limit: Option<(u64, u64)>,
}

impl HeapVisitor for HeapIndex {
    fn sub_record(
        &mut self,
        record: SubRecord<'_>,
        offset: u64,
        contiguous: bool,
    ) -> Result<(), HprofError> {
        let pending = match record {
            SubRecord::Root {
                tag,
                id,
                first,
                second,
            } => {
                self.roots.push((tag, id, first, second));
                return Ok(());
            }
            SubRecord::HeapInfo { heap_id, name_id } => {
                if !self.heap_names.iter().any(|&(h, _)| h == heap_id) {
                    self.heap_names.push((heap_id, name_id));
                }
                if self.current_heap != Some(heap_id) {
                    self.current_heap = Some(heap_id);
                    self.heap_runs.push((self.pending.len() as u32, heap_id));
                }
                return Ok(());
            }
            SubRecord::Class(class) => {
                let pending = Pending {
                    id: class.id,
                    class: self.classes.len() as u64,
                    length: 0,
                    kind: KIND_CLASS,
                };
                self.classes.push(class);
                pending
            }
            SubRecord::Instance {
                id,
                class_id,
                fields,
                ..
            } => Pending {
                id,
                class: class_id,
                length: u32::try_from(fields.len()).unwrap_or(u32::MAX),
                kind: KIND_INSTANCE,
            },
            SubRecord::ObjectArray {
                id,
                class_id,
                length,
                ..
            } => Pending {
                id,
                class: class_id,
                length,
                kind: KIND_OBJECT_ARRAY,
            },
            // The contents are found again from the record offset.
            SubRecord::PrimitiveArray { id, ty, length, .. } => Pending {
                id,
                class: 0,
                length,
                kind: KIND_PRIMITIVE_BASE + ty.code(),
            },
        };
        if let Some((objects, max_nodes)) = self.object_limit {
            if self.pending.len() as u64 >= objects {
                return Err(HprofError::graph(
                    offset,
                    heapgraph_core::BuildError::LimitExceeded {
                        what: "nodes",
                        limit: max_nodes,
                    },
                ));
            }
        }
        if self.pending.len() >= (u32::MAX - 64) as usize {
            return Err(HprofError::graph(
                offset,
                heapgraph_core::BuildError::TooManyNodes,
            ));
        }
        self.pending.push(pending);
        self.offsets
            .push(if contiguous { offset } else { u64::MAX });
        Ok(())
    }
}

/// Per class, resolved between the passes.
pub(crate) struct ClassInfo {
    pub(crate) layout: ClassLayout,
    pub(crate) name: StringId,
    /// The kind of edge `Reference.referent` becomes in instances.
    pub(crate) weak_kind: Option<EdgeKind>,
    /// Field bytes as written in instance records.
    pub(crate) file_bytes: u64,
    pub(crate) mat_size: u64,
    pub(crate) raw_size: u64,
    pub(crate) static_size: u64,
}

struct Labels {
    class: StringId,
    super_class: StringId,
    class_loader: StringId,
    java_local: StringId,
    jni_local: StringId,
}

/// The index pass alone; see [`crate::scan`].
pub(crate) fn scan(bytes: &[u8]) -> Result<(RecordStats, u64), HprofError> {
    let header = stream::parse_header(bytes)?;
    let mut stats = RecordStats::default();
    let mut top = TopLevel::default();
    let mut index = HeapIndex::default();
    stream::walk(
        bytes,
        &header,
        Some(&mut top),
        &mut index,
        &mut stats,
        false,
        1,
        &|_| {},
    )?;
    Ok((stats, index.pending.len() as u64))
}

/// Parses a whole dump; see [`crate::parse`].
pub(crate) fn parse(
    bytes: &[u8],
    options: &HprofOptions,
    done_with: &dyn Fn(std::ops::Range<usize>),
) -> Result<HprofDump, HprofError> {
    let header = stream::parse_header(bytes)?;
    let id_size = header.id_size;
    let mut stats = RecordStats::default();
    let mut top = TopLevel::default();
    let limits = options.limits;
    let mut index = HeapIndex {
        object_limit: (limits.max_nodes < u64::from(u32::MAX - 1))
            .then(|| (limits.max_nodes.saturating_sub(1), limits.max_nodes)),
        offsets: {
            let mut root = crate::offsets::OffsetTable::default();
            root.push(u64::MAX);
            root
        },
        ..HeapIndex::default()
    };
    stream::walk(
        bytes,
        &header,
        Some(&mut top),
        &mut index,
        &mut stats,
        options.lenient,
        options.dump,
        done_with,
    )?;

    // The index grew by doubling: give the slack back before the graph's
    // columns are allocated (large blocks shrink in place).
    index.pending.shrink_to_fit();
    index.offsets.shrink_to_fit();

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
    let n_classes = index.classes.len();
    let mut class_by_id: HashMap<u64, u32> = HashMap::with_capacity(n_classes);
    let mut class_nodes = vec![0u32; n_classes];
    for (ordinal, p) in index.pending.iter().enumerate() {
        if p.kind == KIND_CLASS {
            if let Some(slot) = class_nodes.get_mut(p.class as usize) {
                *slot = ordinal as u32 + 1;
            }
        }
    }
    for (i, class) in index.classes.iter().enumerate() {
        class_by_id.entry(class.id).or_insert(i as u32);
    }
    let class_offsets: Vec<u64> = class_nodes
        .iter()
        .map(|&node| index.offsets.get(node as usize).unwrap_or(u64::MAX))
        .collect();
    // --- id → node ----------------------------------------------------------
    let pending = &index.pending;
    let (ids, duplicates) = IdIndex::build(pending.len(), |i| {
        (pending.get(i).map_or(0, |p| p.id), i as u32 + 1)
    });
    stats.duplicate_ids = duplicates;
    let resolve = |id: u64| -> Option<u32> { ids.get(id) };

    let compressed = match options.compressed_references {
        Some(choice) => choice,
        None if id_size == 8 => detect_compressed_references(&index.pending, &ids).unwrap_or(true),
        None => true,
    };
    let pointer = u64::from(id_size);
    let reference = if compressed { 4 } else { pointer };
    let model = options.size_model;

    let resolved = resolve_classes(
        &mut builder,
        &top,
        &index.classes,
        &class_nodes,
        &class_offsets,
        &class_by_id,
        header.version,
        id_size,
        compressed,
    )?;
    let Resolved {
        infos,
        own_fields,
        layouts,
        ..
    } = resolved;
    let lookup_string = |id: u64| top.strings.get(&id).copied().unwrap_or(&[]);
    // Classes of primitive arrays, found by name (`[I` → `int[]`).
    let mut primitive_class: [Option<u32>; 12] = [None; 12];
    for code in 4u8..=11 {
        let Some(ty) = BasicType::from_code(code) else {
            continue;
        };
        let name = format!("{}[]", ty.java_name());
        let id = builder.intern(name.as_bytes()).map_err(graph_err)?;
        if let Some(slot) = primitive_class.get_mut(usize::from(code)) {
            *slot = infos.iter().position(|c| c.name == id).map(|i| i as u32);
        }
    }
    let mut primitive_names = [StringId::EMPTY; 12];
    for code in 4u8..=11 {
        if let (Some(ty), Some(slot)) = (
            BasicType::from_code(code),
            primitive_names.get_mut(usize::from(code)),
        ) {
            *slot = builder
                .intern(format!("{}[]", ty.java_name()).as_bytes())
                .map_err(graph_err)?;
        }
    }

    // --- nodes --------------------------------------------------------------
    let root_name = builder.intern(b"(root)").map_err(graph_err)?;
    let unknown_class_name = builder.intern(b"(unknown class)").map_err(graph_err)?;
    // Exact room for the nodes (root groups included) and an upper bound
    // on the edges (each reference is an id in the file, so the bound is
    // bounded by the file): untouched capacity costs address space, not
    // memory, and `finish` gives it back, where doubling growth would copy.
    let edge_bound = index
        .pending
        .iter()
        .map(|p| match p.kind {
            KIND_CLASS => index
                .classes
                .get(p.class as usize)
                .map_or(2, |c| 2 + c.statics.len() as u64),
            KIND_INSTANCE => 1 + u64::from(p.length) / u64::from(id_size),
            KIND_OBJECT_ARRAY => 1 + u64::from(p.length),
            _ => 1,
        })
        .sum::<u64>()
        .saturating_add(index.roots.len() as u64 + 64);
    builder.reserve(
        index.pending.len() + 1 + ROOT_KINDS,
        usize::try_from(edge_bound).unwrap_or(usize::MAX),
    );
    builder
        .add_node(NodeKind::Synthetic, root_name, 0, 0)
        .map_err(graph_err)?;
    for p in &index.pending {
        let (kind, name, size) = match p.kind {
            KIND_CLASS => {
                let info = infos.get(p.class as usize);
                let size = match model {
                    SizeModel::Raw => 0,
                    _ => info.map_or(0, |c| c.static_size),
                };
                (
                    NodeKind::Class,
                    info.map_or(unknown_class_name, |c| c.name),
                    size,
                )
            }
            KIND_INSTANCE => match class_by_id
                .get(&p.class)
                .and_then(|&c| infos.get(c as usize))
            {
                Some(c) => {
                    let size = match model {
                        SizeModel::Raw => c.raw_size,
                        _ => c.mat_size,
                    };
                    (NodeKind::Object, c.name, size)
                }
                None => {
                    stats.missing_classes += 1;
                    (
                        NodeKind::Object,
                        unknown_class_name,
                        2 * pointer + u64::from(p.length),
                    )
                }
            },
            KIND_OBJECT_ARRAY => {
                let name = match class_by_id
                    .get(&p.class)
                    .and_then(|&c| infos.get(c as usize))
                {
                    Some(c) => c.name,
                    None => {
                        stats.missing_classes += 1;
                        unknown_class_name
                    }
                };
                let n = u64::from(p.length);
                let size = match model {
                    SizeModel::Raw => 2 * pointer + 8 + pointer * n,
                    _ => align_up(pointer + reference + 4 + reference * n, 8),
                };
                (NodeKind::Array, name, size)
            }
            _ => {
                let code = p.kind.wrapping_sub(KIND_PRIMITIVE_BASE);
                let element =
                    BasicType::from_code(code).map_or(1, |t| u64::from(t.file_size(id_size)));
                let n = u64::from(p.length);
                let size = match model {
                    SizeModel::Raw => 2 * pointer + 8 + element * n,
                    _ => align_up(
                        align_up(pointer + reference + 4, reference) + element * n,
                        8,
                    ),
                };
                let name = primitive_names
                    .get(usize::from(code))
                    .copied()
                    .unwrap_or(StringId::EMPTY);
                (NodeKind::PrimitiveArray, name, size)
            }
        };
        builder
            .add_node(kind, name, p.id, size)
            .map_err(graph_err)?;
    }

    // --- stacks ---------------------------------------------------------------
    let mut trace_stacks: HashMap<u32, StackId> = HashMap::with_capacity(top.traces.len());
    for &(serial, frame_bytes) in &top.traces {
        let mut frames = Vec::with_capacity(frame_bytes.len() / usize::from(id_size));
        for chunk in frame_bytes.chunks_exact(usize::from(id_size)) {
            let frame_id = stream::id_at(chunk, id_size);
            let frame = match top.frames.get(&frame_id) {
                Some(f) => {
                    let class_name = top
                        .class_serials
                        .get(&f.class_serial)
                        .and_then(|id| top.class_names.get(id))
                        .map(|&name_id| normalize_class_name(lookup_string(name_id)))
                        .unwrap_or_default();
                    let mut function = class_name.clone();
                    if !function.is_empty() {
                        function.push(b'.');
                    }
                    function.extend_from_slice(lookup_string(f.method_name));
                    let source = lookup_string(f.source_file);
                    let file = if source.is_empty() {
                        class_name.as_slice()
                    } else {
                        source
                    };
                    Frame {
                        function: builder.intern(&function).map_err(graph_err)?,
                        file: builder.intern(file).map_err(graph_err)?,
                        line: u32::try_from(f.line).unwrap_or(0),
                        column: 0,
                    }
                }
                None => Frame {
                    function: builder
                        .intern(format!("(frame 0x{frame_id:x})").as_bytes())
                        .map_err(graph_err)?,
                    ..Frame::default()
                },
            };
            frames.push(
                builder
                    .stacks()
                    .intern_frame(frame)
                    .map_err(|e| graph_err(e.into()))?,
            );
        }
        if let Some(stack) = builder
            .stacks()
            .intern_innermost_first(frames)
            .map_err(|e| graph_err(e.into()))?
        {
            trace_stacks.insert(serial, stack);
        }
    }

    // --- threads and their locals ------------------------------------------
    let mut thread_by_serial: HashMap<u32, u64> = top.thread_serials.clone();
    let mut thread_stacks: Vec<(NodeIndex, StackId)> = Vec::new();
    for &(tag, id, serial, trace) in &index.roots {
        if tag == 0x08 {
            thread_by_serial.insert(serial, id);
            if let (Some(node), Some(&stack)) = (resolve(id), trace_stacks.get(&trace)) {
                thread_stacks.push((NodeIndex::new(node), stack));
            }
        }
    }
    let mut locals: Vec<(u32, u64, u8)> = Vec::new();
    for &(tag, id, serial, _) in &index.roots {
        if tag == 0x02 || tag == 0x03 {
            if let Some(thread) = thread_by_serial.get(&serial).and_then(|&t| resolve(t)) {
                locals.push((thread, id, tag));
            }
        }
    }
    locals.sort_by_key(|l| l.0);

    let labels = Labels {
        class: builder.intern(b"<class>").map_err(graph_err)?,
        super_class: builder.intern(b"<super>").map_err(graph_err)?,
        class_loader: builder.intern(b"<classloader>").map_err(graph_err)?,
        java_local: builder.intern(b"<Java Local>").map_err(graph_err)?,
        jni_local: builder.intern(b"<JNI Local>").map_err(graph_err)?,
    };
    let mut static_names: Vec<Vec<StringId>> = Vec::with_capacity(n_classes);
    for (c, class) in index.classes.iter().enumerate() {
        let mut names = Vec::with_capacity(class.statics.len());
        let offset = class_offsets.get(c).copied().unwrap_or(0);
        for s in &class.statics {
            names.push(
                builder
                    .intern(lookup_string(s.name_id))
                    .map_err(|e| HprofError::graph(offset, e))?,
            );
        }
        static_names.push(names);
    }

    // --- GC roots ---------------------------------------------------------------
    // Grouped per kind under root-group nodes appended after the objects,
    // as `GraphBuilder::add_gc_root` would, but with the root's edges pushed
    // now, before pass 2: every edge then arrives in source order and the
    // builder never falls back to its out-of-order path (4 more bytes per
    // edge and a second copy of the edge columns at `finish`).
    let has_sticky = index.roots.iter().any(|r| r.0 == 0x05);
    let mut roots: Vec<(RootKind, u32)> = Vec::new();
    for &(tag, id, serial, _) in &index.roots {
        if (tag == 0x02 || tag == 0x03)
            && thread_by_serial
                .get(&serial)
                .and_then(|&t| resolve(t))
                .is_some()
        {
            continue; // an edge from its thread
        }
        let kind = root_kind(tag);
        match resolve(id) {
            Some(node) => roots.push((kind, node)),
            None => builder.count_unresolved_reference(),
        }
    }
    if !has_sticky {
        // As MAT does: classes of the boot loader are roots.
        for (class, info) in index.classes.iter().zip(&infos) {
            if class.loader_id == 0 && info.layout.node != 0 {
                roots.push((RootKind::StickyClass, info.layout.node));
            }
        }
    }
    // Registration order within a kind; a target held once per kind.
    roots.sort_by_key(|&(kind, _)| kind);
    let mut seen = hashbrown::HashSet::with_capacity(roots.len());
    roots.retain(|&pair| seen.insert(pair));
    drop(seen);
    let first_group = u32::try_from(builder.node_count())
        .map_err(|_| graph_err(heapgraph_core::BuildError::TooManyNodes))?;
    let mut root_groups: Vec<(RootKind, StringId)> = Vec::new();
    for &(kind, _) in &roots {
        if root_groups.last().map(|g| g.0) != Some(kind) {
            let label = builder
                .intern(heapgraph_core::root_group_name(kind).as_bytes())
                .map_err(graph_err)?;
            root_groups.push((kind, label));
        }
    }
    for (i, &(_, label)) in root_groups.iter().enumerate() {
        builder
            .push_edge(0, first_group + i as u32, EdgeKind::Root, label.as_u32())
            .map_err(graph_err)?;
    }

    // The index's objects are all nodes now.
    drop(std::mem::take(&mut index.pending));

    // --- pass 2: edges ------------------------------------------------------
    let mut emitter = EdgeEmitter {
        builder: &mut builder,
        id_size,
        ordinal: 0,
        resolve: &resolve,
        class_by_id: &class_by_id,
        infos: &infos,
        own_fields: &own_fields,
        layouts: &layouts,
        static_names: &static_names,
        primitive_class: &primitive_class,
        locals: &locals,
        local_cursor: 0,
        trace_stacks: &trace_stacks,
        labels: &labels,
        extra_bytes: 0,
    };
    let mut pass2_stats = RecordStats::default();
    stream::walk(
        bytes,
        &header,
        None,
        &mut emitter,
        &mut pass2_stats,
        options.lenient,
        options.dump,
        done_with,
    )?;
    stats.instances_with_extra_bytes = emitter.extra_bytes;

    // --- GC roots: the group nodes and their edges -------------------------------
    for (i, &(kind, label)) in root_groups.iter().enumerate() {
        let group = builder
            .add_node(NodeKind::RootGroup, label, 0, 0)
            .map_err(graph_err)?;
        if group.as_u32() != first_group + i as u32 {
            return Err(graph_err(heapgraph_core::BuildError::TooManyNodes));
        }
        builder.mark_root_group(group, kind);
    }
    let mut current: Option<(RootKind, u32, u32)> = None;
    for &(kind, target) in &roots {
        let (group, ordinal) = match current {
            Some((k, group, ordinal)) if k == kind => (group, ordinal),
            _ => {
                let position = root_groups.iter().position(|g| g.0 == kind).unwrap_or(0);
                (first_group + position as u32, 0)
            }
        };
        builder
            .push_edge(group, target, EdgeKind::Element, ordinal)
            .map_err(graph_err)?;
        current = Some((kind, group, ordinal + 1));
    }

    // --- side tables ------------------------------------------------------------
    let mut heap_names: Vec<String> = Vec::new();
    let mut heap_runs: Vec<(u32, u16)> = Vec::with_capacity(index.heap_runs.len());
    for &(first, heap_id) in &index.heap_runs {
        let name = match index.heap_names.iter().find(|h| h.0 == heap_id) {
            Some(&(_, name_id)) => String::from_utf8_lossy(lookup_string(name_id)).into_owned(),
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
        thread_stacks,
    })
}

/// Infers whether a 64-bit dump used compressed references, as MAT does:
/// the address gap after an object array whose neighbour follows directly
/// is `align8(16 + 4n)` with compressed oops and `24 + 8n` without. Gaps
/// that fit neither (free space, unlisted objects) do not vote. `None`
/// when nothing voted.
fn detect_compressed_references(pending: &[Pending], ids: &IdIndex) -> Option<bool> {
    let (mut compressed, mut plain) = (0u32, 0u32);
    for p in pending
        .iter()
        .filter(|p| p.kind == KIND_OBJECT_ARRAY && p.length >= 2)
    {
        let Some(next) = ids.next_id_after(p.id) else {
            continue;
        };
        let gap = next - p.id;
        let n = u64::from(p.length);
        if gap == align_up(16 + 4 * n, 8) {
            compressed += 1;
        } else if gap == 24 + 8 * n {
            plain += 1;
        }
        if compressed + plain >= 1000 {
            break;
        }
    }
    match (compressed, plain) {
        (0, 0) => None,
        (c, p) => Some(c >= p),
    }
}

/// Bytes of HotSpot's injected instance fields (`javaClasses.hpp`,
/// `*_INJECTED_FIELDS`), which live in the object but are never dumped.
/// JDK 9+ set (used when `java.lang.Module` exists); none otherwise.
fn injected_bytes(class_name: &[u8], jdk9_plus: bool, pointer: u64, reference: u64) -> u64 {
    if !jdk9_plus {
        return 0;
    }
    match class_name {
        b"java.lang.ClassLoader" => pointer,       // loader_data
        b"java.lang.Module" => pointer,            // module_entry
        b"java.lang.invoke.MemberName" => pointer, // vmindex
        b"java.lang.invoke.ResolvedMethodName" => pointer + reference, // vmtarget, vmholder
        b"java.lang.invoke.MethodHandleNatives$CallSiteContext" => pointer + 8, // vmdependencies, last_cleanup
        b"java.lang.StackFrameInfo" => 2,                                       // version
        b"java.lang.InternalError" => 1, // during_unsafe_access
        b"java.lang.String" => 1,        // flags
        _ => 0,
    }
}

pub(crate) fn align_up(value: u64, alignment: u64) -> u64 {
    if alignment <= 1 {
        return value;
    }
    value.div_ceil(alignment).saturating_mul(alignment)
}

/// The core root kind of an HPROF root sub-record tag.
pub(crate) fn root_kind(tag: u8) -> RootKind {
    match tag {
        0x01 => RootKind::JniGlobal,
        0x02 => RootKind::JniLocal,
        0x03 => RootKind::JavaFrame,
        0x04 => RootKind::NativeStack,
        0x05 => RootKind::StickyClass,
        0x06 => RootKind::ThreadBlock,
        0x07 => RootKind::MonitorUsed,
        0x08 => RootKind::ThreadObject,
        0x89 => RootKind::InternedString,
        0x8A => RootKind::Finalizing,
        0x8B => RootKind::Debugger,
        0x8C => RootKind::ReferenceCleanup,
        0x8D => RootKind::VmInternal,
        0x8E => RootKind::JniMonitor,
        // 0xFF ROOT UNKNOWN and ART's 0x90 UNREACHABLE (which hprof-conv
        // turns into ROOT UNKNOWN for MAT).
        _ => RootKind::Unknown,
    }
}

/// Pass 2: emits the edges of every heap object, in node order.
struct EdgeEmitter<'b, R: Fn(u64) -> Option<u32>> {
    builder: &'b mut GraphBuilder,
    id_size: u8,
    ordinal: u32,
    resolve: &'b R,
    class_by_id: &'b HashMap<u64, u32>,
    infos: &'b [ClassInfo],
    own_fields: &'b [OwnField],
    layouts: &'b [ClassLayout],
    static_names: &'b [Vec<StringId>],
    primitive_class: &'b [Option<u32>; 12],
    locals: &'b [(u32, u64, u8)],
    local_cursor: usize,
    trace_stacks: &'b HashMap<u32, StackId>,
    labels: &'b Labels,
    extra_bytes: u64,
}

impl<R: Fn(u64) -> Option<u32>> EdgeEmitter<'_, R> {
    #[inline]
    fn reference(
        &mut self,
        source: u32,
        target_id: u64,
        kind: EdgeKind,
        label: u32,
        offset: u64,
    ) -> Result<(), HprofError> {
        if target_id == 0 {
            return Ok(());
        }
        match (self.resolve)(target_id) {
            Some(target) => self
                .builder
                .push_edge(source, target, kind, label)
                .map_err(|e| HprofError::graph(offset, e)),
            None => {
                self.builder.count_unresolved_reference();
                Ok(())
            }
        }
    }

    fn class_edge(
        &mut self,
        source: u32,
        class_index: Option<u32>,
        offset: u64,
    ) -> Result<(), HprofError> {
        if let Some(info) = class_index.and_then(|c| self.infos.get(c as usize)) {
            if info.layout.node != 0 {
                let label = self.labels.class;
                self.builder
                    .push_edge(source, info.layout.node, EdgeKind::Internal, label.as_u32())
                    .map_err(|e| HprofError::graph(offset, e))?;
            }
        }
        Ok(())
    }
}

impl<R: Fn(u64) -> Option<u32>> HeapVisitor for EdgeEmitter<'_, R> {
    fn sub_record(
        &mut self,
        record: SubRecord<'_>,
        offset: u64,
        _contiguous: bool,
    ) -> Result<(), HprofError> {
        let node = self.ordinal + 1;
        let id_size = usize::from(self.id_size);
        let trace_serial = match record {
            SubRecord::Root { .. } | SubRecord::HeapInfo { .. } => return Ok(()),
            SubRecord::Class(class) => {
                let class_index = self.ordinal_class(node);
                self.reference(
                    node,
                    class.super_id,
                    EdgeKind::Internal,
                    self.labels.super_class.as_u32(),
                    offset,
                )?;
                self.reference(
                    node,
                    class.loader_id,
                    EdgeKind::Internal,
                    self.labels.class_loader.as_u32(),
                    offset,
                )?;
                for (i, s) in class.statics.iter().enumerate() {
                    if s.ty == BasicType::Object {
                        let name = class_index
                            .and_then(|c| self.static_names.get(c as usize))
                            .and_then(|names| names.get(i))
                            .copied()
                            .unwrap_or(StringId::EMPTY);
                        self.reference(node, s.value, EdgeKind::Property, name.as_u32(), offset)?;
                    }
                }
                class.trace_serial
            }
            SubRecord::Instance {
                class_id,
                fields,
                trace_serial,
                ..
            } => {
                let class_index = self.class_by_id.get(&class_id).copied();
                self.class_edge(node, class_index, offset)?;
                if let Some(info) = class_index.and_then(|c| self.infos.get(c as usize)) {
                    if (fields.len() as u64) < info.file_bytes {
                        return Err(HprofError::new(
                            offset,
                            HprofErrorKind::ClassChainTooShort {
                                class_id,
                                needed: info.file_bytes,
                                available: fields.len() as u64,
                            },
                        ));
                    }
                    if (fields.len() as u64) > info.file_bytes {
                        self.extra_bytes += 1;
                    }
                    let (layouts, own_fields) = (self.layouts, self.own_fields);
                    let referent_kind = info.weak_kind.unwrap_or(EdgeKind::Property);
                    let id_size8 = self.id_size;
                    let class = class_index.unwrap_or(u32::MAX);
                    for_each_field(layouts, own_fields, class, id_size8, |field, at| {
                        if field.ty != BasicType::Object {
                            return Ok(());
                        }
                        let value = fields
                            .get(at..at + id_size)
                            .map_or(0, |b| stream::id_at(b, id_size8));
                        let kind = if field.is_referent {
                            referent_kind
                        } else {
                            EdgeKind::Property
                        };
                        self.reference(node, value, kind, field.name.as_u32(), offset)
                    })?;
                }
                trace_serial
            }
            SubRecord::ObjectArray {
                class_id,
                elements,
                trace_serial,
                ..
            } => {
                let class_index = self.class_by_id.get(&class_id).copied();
                self.class_edge(node, class_index, offset)?;
                for (i, chunk) in elements.chunks_exact(id_size).enumerate() {
                    let value = stream::id_at(chunk, self.id_size);
                    self.reference(node, value, EdgeKind::Element, i as u32, offset)?;
                }
                trace_serial
            }
            SubRecord::PrimitiveArray {
                ty, trace_serial, ..
            } => {
                let class_index = self
                    .primitive_class
                    .get(usize::from(ty.code()))
                    .copied()
                    .flatten();
                self.class_edge(node, class_index, offset)?;
                trace_serial
            }
        };
        // Locals of this thread (JAVA FRAME / JNI LOCAL roots, as MAT does).
        while let Some(&(thread, target, tag)) = self.locals.get(self.local_cursor) {
            if thread > node {
                break;
            }
            self.local_cursor += 1;
            if thread == node {
                let label = if tag == 0x03 {
                    self.labels.java_local
                } else {
                    self.labels.jni_local
                };
                self.reference(node, target, EdgeKind::Internal, label.as_u32(), offset)?;
            }
        }
        if trace_serial != 0 {
            if let Some(&stack) = self.trace_stacks.get(&trace_serial) {
                self.builder.set_node_stack(NodeIndex::new(node), stack);
            }
        }
        self.ordinal += 1;
        Ok(())
    }
}

impl<R: Fn(u64) -> Option<u32>> EdgeEmitter<'_, R> {
    /// The class index of the class node `node` (classes are few: a scan
    /// from the last hit would do, but a binary search over infos by node
    /// works since infos are in file order).
    fn ordinal_class(&self, node: u32) -> Option<u32> {
        self.infos
            .binary_search_by_key(&node, |c| c.layout.node)
            .ok()
            .map(|i| i as u32)
    }
}

/// What [`resolve_classes`] works out per class.
pub(crate) struct Resolved {
    pub infos: Vec<ClassInfo>,
    pub own_fields: Vec<OwnField>,
    pub layouts: Vec<ClassLayout>,
    /// Per class: the display name (`java.lang.String`, `int[]`).
    pub names: Vec<Vec<u8>>,
}

/// Names, field layouts and instance sizes of every class (shared by the
/// graph path and the shallow histogram, so both give the same sizes).
/// `class_offsets[i]` is the record offset of class `i` (for the cycle
/// error); `class_nodes[i]` its node (0 when there is none).
#[allow(clippy::too_many_arguments)]
pub(crate) fn resolve_classes(
    builder: &mut GraphBuilder,
    top: &TopLevel<'_>,
    classes: &[ClassDump],
    class_nodes: &[u32],
    class_offsets: &[u64],
    class_by_id: &HashMap<u64, u32>,
    version: HprofVersion,
    id_size: u8,
    compressed: bool,
) -> Result<Resolved, HprofError> {
    let graph_err = |e| HprofError::graph(0, e);
    let lookup_string = |id: u64| top.strings.get(&id).copied().unwrap_or(&[]);
    let n_classes = classes.len();
    let pointer = u64::from(id_size);
    let reference = if compressed { 4 } else { pointer };
    let mut field_names: HashMap<u64, StringId> = HashMap::new();
    let mut intern_name =
        |builder: &mut GraphBuilder, name_id: u64| -> Result<StringId, HprofError> {
            if let Some(&s) = field_names.get(&name_id) {
                return Ok(s);
            }
            let s = builder.intern(lookup_string(name_id)).map_err(graph_err)?;
            field_names.insert(name_id, s);
            Ok(s)
        };
    let mut class_names: Vec<StringId> = Vec::with_capacity(n_classes);
    let mut class_name_text: Vec<Vec<u8>> = Vec::with_capacity(n_classes);
    // Strings beyond `Limits::max_string_bytes` fail at the class's record.
    let at_class = |c: usize| {
        let offset = class_offsets.get(c).copied().unwrap_or(0);
        move |e| HprofError::graph(offset, e)
    };
    for (c, class) in classes.iter().enumerate() {
        let text = match top.class_names.get(&class.id) {
            Some(&name_id) => normalize_class_name(lookup_string(name_id)),
            None => format!("(class 0x{:x})", class.id).into_bytes(),
        };
        class_names.push(builder.intern(&text).map_err(at_class(c))?);
        class_name_text.push(text);
    }
    // Reference subclasses: the kind of edge their `referent` becomes.
    let reference_kind = |name: &[u8]| match name {
        b"java.lang.ref.WeakReference" => Some(EdgeKind::Weak),
        b"java.lang.ref.SoftReference" => Some(EdgeKind::Soft),
        b"java.lang.ref.PhantomReference" => Some(EdgeKind::Phantom),
        b"java.lang.ref.FinalReference" => Some(EdgeKind::Final),
        _ => None,
    };
    let referent_name = builder.intern(b"referent").map_err(graph_err)?;
    let per_level_rounding = version == HprofVersion::V1_0_1;
    // JVM-injected instance fields exist in HotSpot; the JDK 9+ set applies
    // when `java.lang.Module` was dumped.
    let hotspot_modules = version != HprofVersion::V1_0_3
        && class_name_text
            .iter()
            .any(|n| n.as_slice() == b"java.lang.Module");
    // Per class: the super class (if dumped), own fields, and memoised
    // chain sums computed top-down, so deep or cyclic chains cost O(classes).
    let super_index: Vec<Option<u32>> = classes
        .iter()
        .map(|k| {
            if k.super_id == 0 {
                None
            } else {
                class_by_id.get(&k.super_id).copied()
            }
        })
        .collect();
    let mut own_fields: Vec<OwnField> = Vec::new();
    let mut own_range: Vec<(u32, u32)> = Vec::with_capacity(n_classes);
    for (c, class) in classes.iter().enumerate() {
        let start = own_fields.len() as u32;
        let declared_by_reference = class_name_text
            .get(c)
            .is_some_and(|t| t.as_slice() == b"java.lang.ref.Reference");
        for &(name_id, ty) in &class.fields {
            let name = intern_name(builder, name_id).map_err(|e| HprofError {
                offset: class_offsets.get(c).copied().unwrap_or(e.offset),
                ..e
            })?;
            own_fields.push(OwnField {
                name,
                ty,
                is_referent: declared_by_reference && name == referent_name,
            });
        }
        own_range.push((start, own_fields.len() as u32));
    }
    const TODO: u8 = 0;
    const ON_PATH: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![TODO; n_classes];
    let mut file_bytes = vec![0u64; n_classes];
    let mut level = vec![0u64; n_classes];
    let mut weak_kind: Vec<Option<EdgeKind>> = vec![None; n_classes];
    let mut first_with_fields: Vec<Option<u32>> = vec![None; n_classes];
    let mut path: Vec<u32> = Vec::new();
    for i in 0..n_classes {
        path.clear();
        let mut current = Some(i as u32);
        while let Some(c) = current {
            match state.get(c as usize) {
                Some(&DONE) | None => break,
                Some(&ON_PATH) => {
                    let class = classes.get(c as usize);
                    let offset = class_offsets.get(c as usize).copied().unwrap_or(0);
                    return Err(HprofError::new(
                        offset,
                        HprofErrorKind::SuperclassCycle {
                            class_id: class.map_or(0, |k| k.id),
                        },
                    ));
                }
                Some(_) => {}
            }
            if let Some(s) = state.get_mut(c as usize) {
                *s = ON_PATH;
            }
            path.push(c);
            current = super_index.get(c as usize).copied().flatten();
        }
        for &c in path.iter().rev() {
            let c = c as usize;
            let parent = super_index.get(c).copied().flatten().map(|p| p as usize);
            let (own_file, own_ref_sized) = classes.get(c).map_or((0, 0), |k| {
                k.fields.iter().fold((0u64, 0u64), |(f, r), &(_, ty)| {
                    let width = u64::from(ty.file_size(id_size));
                    let sized = if ty == BasicType::Object {
                        reference
                    } else {
                        width
                    };
                    (f + width, r + sized)
                })
            });
            let injected = class_name_text.get(c).map_or(0, |name| {
                injected_bytes(name, hotspot_modules, pointer, reference)
            });
            // MAT: S(top) = ptr + ref + own; S(c) = alignUp(S(super) + own,
            // ref) for the classic layout (JDK ≤ 8 dumps are 1.0.1); since
            // JDK 15 HotSpot packs subclass fields into the superclass's
            // gaps, so 1.0.2/1.0.3 dumps sum the fields without per-level
            // rounding.
            let base = parent
                .and_then(|p| level.get(p).copied())
                .unwrap_or(pointer + reference);
            let mut this_level = base + own_ref_sized + injected;
            if per_level_rounding {
                this_level = align_up(this_level, reference);
            }
            let parent_bytes = parent.and_then(|p| file_bytes.get(p).copied()).unwrap_or(0);
            let own_kind = class_name_text.get(c).and_then(|t| reference_kind(t));
            let parent_kind = parent.and_then(|p| weak_kind.get(p).copied()).flatten();
            let has_own = own_range.get(c).is_some_and(|r| r.1 > r.0);
            let parent_first = parent
                .and_then(|p| first_with_fields.get(p).copied())
                .flatten();
            if let (Some(l), Some(f), Some(w), Some(ff), Some(st)) = (
                level.get_mut(c),
                file_bytes.get_mut(c),
                weak_kind.get_mut(c),
                first_with_fields.get_mut(c),
                state.get_mut(c),
            ) {
                *l = this_level;
                *f = parent_bytes + own_file;
                *w = own_kind.or(parent_kind);
                *ff = if has_own {
                    Some(c as u32)
                } else {
                    parent_first
                };
                *st = DONE;
            }
        }
    }
    let mut infos: Vec<ClassInfo> = Vec::with_capacity(n_classes);
    for (i, class) in classes.iter().enumerate() {
        let static_size: u64 = class
            .statics
            .iter()
            .map(|s| {
                if s.ty == BasicType::Object {
                    reference
                } else {
                    u64::from(s.ty.file_size(id_size))
                }
            })
            .sum();
        let (own_start, own_end) = own_range.get(i).copied().unwrap_or((0, 0));
        let bytes = file_bytes.get(i).copied().unwrap_or(0);
        let next_with_fields = super_index
            .get(i)
            .copied()
            .flatten()
            .and_then(|p| first_with_fields.get(p as usize).copied().flatten());
        infos.push(ClassInfo {
            layout: ClassLayout {
                node: class_nodes.get(i).copied().unwrap_or(0),
                own_start,
                own_end,
                first_with_fields: first_with_fields.get(i).copied().flatten(),
                next_with_fields,
            },
            name: class_names.get(i).copied().unwrap_or(StringId::EMPTY),
            file_bytes: bytes,
            mat_size: align_up(level.get(i).copied().unwrap_or(0), 8),
            raw_size: 2 * pointer + bytes,
            static_size,
            weak_kind: weak_kind.get(i).copied().flatten(),
        });
    }
    let layouts: Vec<ClassLayout> = infos.iter().map(|c| c.layout).collect();
    Ok(Resolved {
        infos,
        own_fields,
        layouts,
        names: class_name_text,
    })
}
