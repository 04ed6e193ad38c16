//! The object graph of a snapshot, built from its trace table on first use
//! (see the crate docs for its shape): the string and stack tables are
//! copied with their ids unchanged, then each trace becomes a node.

use heapgraph_core::{
    BuildError, EdgeKind, Format, FrameId, GraphBuilder, HeapGraph, NodeKind, StackId, StringId,
};

use crate::TracemallocSnapshot;

/// Builds the graph. The reader bounded every count the graph holds (traces
/// below 2^29, strings, frames and stacks each below `u32::MAX`); what can
/// still fail is the string table taking the per-frame names.
pub(crate) fn build(snapshot: &TracemallocSnapshot) -> Result<HeapGraph, BuildError> {
    try_build(snapshot)
}

fn try_build(snapshot: &TracemallocSnapshot) -> Result<HeapGraph, BuildError> {
    let mut builder = GraphBuilder::new(Format::Tracemalloc).with_limits(snapshot.limits());
    builder.set_producer(snapshot.producer());
    // Copy the strings in id order: ids stay the same (0 is "" in both).
    for (_, bytes) in snapshot.strings().iter().skip(1) {
        builder.strings().push_unique(bytes)?;
    }
    // Frames, then stacks in id order (a parent always precedes its
    // children), so frame and stack ids stay the same too.
    let stacks = snapshot.stacks();
    for i in 0..stacks.frame_count() {
        builder
            .stacks()
            .intern_frame(stacks.frame(FrameId::new(i as u32)))?;
    }
    for i in 0..stacks.stack_count() {
        let id = StackId::new(i as u32);
        builder
            .stacks()
            .push_frame(stacks.parent(id), stacks.innermost_frame(id))?;
    }
    let traces = snapshot.trace_count();
    builder.reserve(traces + 1, traces);
    let root_name = builder.intern(b"(tracemalloc snapshot)")?;
    builder.add_node(NodeKind::Synthetic, root_name, 0, 0)?;
    // Node names: the most recent frame as `file:line`, once per frame.
    let mut frame_names: Vec<Option<StringId>> = vec![None; stacks.frame_count()];
    let mut label = Vec::new();
    for (index, trace) in snapshot.traces().enumerate() {
        let name = match trace.stack {
            None => StringId::EMPTY,
            Some(stack) => {
                let frame = stacks.innermost_frame(stack);
                match frame_names.get(frame.index()).copied().flatten() {
                    Some(name) => name,
                    None => {
                        let f = stacks.frame(frame);
                        label.clear();
                        label.extend_from_slice(snapshot.strings().bytes(f.file));
                        label.push(b':');
                        label.extend_from_slice(f.line.to_string().as_bytes());
                        let name = builder.intern(&label)?;
                        if let Some(slot) = frame_names.get_mut(frame.index()) {
                            *slot = Some(name);
                        }
                        name
                    }
                }
            }
        };
        let index = index as u32;
        let node = builder.add_node(
            NodeKind::AllocationBlock,
            name,
            u64::from(index),
            trace.size,
        )?;
        builder.push_edge(0, node.as_u32(), EdgeKind::Element, index)?;
        if let Some(stack) = trace.stack {
            builder.set_node_stack(node, stack);
        }
    }
    builder.finish()
}
