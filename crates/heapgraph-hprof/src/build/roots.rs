//! GC roots: threads and their locals, root groups and root edges.
//!
//! The roots are grouped per kind under root-group nodes appended after the
//! objects, as `GraphBuilder::add_gc_root` would, but with the edges from
//! the synthetic root to the groups pushed before pass 2 ([`plan_roots`])
//! and the groups' nodes and edges added after it ([`RootPlan::finish`]):
//! every edge then arrives in source order and the builder never falls
//! back to its out-of-order path (4 more bytes per edge and a second copy
//! of the edge columns at `finish`).

use hashbrown::HashMap;

use heapgraph_core::{EdgeKind, GraphBuilder, NodeIndex, NodeKind, RootKind, StackId, StringId};

use super::classes::ClassInfo;
use super::index::{HeapIndex, TopLevel};
use crate::HprofError;

/// Threads as the roots and top-level records describe them.
pub(super) struct Threads {
    /// Thread serial → thread object id (START THREAD records, then ROOT
    /// THREAD OBJECTs).
    pub(super) by_serial: HashMap<u32, u64>,
    /// The thread objects' stacks, as
    /// [`HprofDump::thread_stacks`](crate::HprofDump::thread_stacks) gives them.
    pub(super) stacks: Vec<(NodeIndex, StackId)>,
    /// JAVA FRAME and JNI LOCAL roots of a known thread, as (thread node,
    /// target id, root tag, frame number), sorted by thread node: edges
    /// from the thread, as MAT makes them, and the dump's thread locals.
    pub(super) locals: Vec<(u32, u64, u8, u32)>,
}

/// Finds the threads and their locals among the `roots` of the index.
pub(super) fn threads(
    top: &TopLevel<'_>,
    roots: &[(u8, u64, u32, u32)],
    resolve: &impl Fn(u64) -> Option<u32>,
    trace_stacks: &HashMap<u32, StackId>,
) -> Threads {
    let mut thread_by_serial: HashMap<u32, u64> = top.thread_serials.clone();
    let mut thread_stacks: Vec<(NodeIndex, StackId)> = Vec::new();
    for &(tag, id, serial, trace) in roots {
        if tag == 0x08 {
            thread_by_serial.insert(serial, id);
            if let (Some(node), Some(&stack)) = (resolve(id), trace_stacks.get(&trace)) {
                thread_stacks.push((NodeIndex::new(node), stack));
            }
        }
    }
    let mut locals: Vec<(u32, u64, u8, u32)> = Vec::new();
    for &(tag, id, serial, frame) in roots {
        if tag == 0x02 || tag == 0x03 {
            if let Some(thread) = thread_by_serial.get(&serial).and_then(|&t| resolve(t)) {
                locals.push((thread, id, tag, frame));
            }
        }
    }
    locals.sort_by_key(|l| l.0);
    Threads {
        by_serial: thread_by_serial,
        stacks: thread_stacks,
        locals,
    }
}

/// The GC roots, planned before pass 2.
pub(super) struct RootPlan {
    /// (kind, target node), sorted by kind, each pair once.
    roots: Vec<(RootKind, u32)>,
    /// One group per kind present, in kind order, with its label.
    root_groups: Vec<(RootKind, StringId)>,
    /// The node the first group will get.
    first_group: u32,
}

/// Plans the GC roots of `index` (those that are not locals of a known
/// thread, plus the boot loader's classes as sticky-class roots when the
/// dump has none, as MAT does) and pushes the edges from the synthetic
/// root to their groups. Roots whose object is missing are counted as
/// unresolved references.
pub(super) fn plan_roots(
    builder: &mut GraphBuilder,
    index: &HeapIndex,
    infos: &[ClassInfo],
    thread_by_serial: &HashMap<u32, u64>,
    resolve: &impl Fn(u64) -> Option<u32>,
) -> Result<RootPlan, HprofError> {
    let graph_err = |e| HprofError::graph(0, e);
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
        for (class, info) in index.classes.iter().zip(infos) {
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
    Ok(RootPlan {
        roots,
        root_groups,
        first_group,
    })
}

impl RootPlan {
    /// After pass 2: adds the group nodes and their edges to the roots.
    pub(super) fn finish(&self, builder: &mut GraphBuilder) -> Result<(), HprofError> {
        let graph_err = |e| HprofError::graph(0, e);
        let RootPlan {
            roots,
            root_groups,
            first_group,
        } = self;
        let first_group = *first_group;
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
        for &(kind, target) in roots {
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
        Ok(())
    }
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
