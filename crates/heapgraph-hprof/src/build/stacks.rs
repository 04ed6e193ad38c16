//! Stack traces: STACK TRACE and STACK FRAME records into the core stack table.

use hashbrown::HashMap;

use heapgraph_core::{Frame, GraphBuilder, StackId};

use super::index::TopLevel;
use crate::names::normalize_class_name;
use crate::stream;
use crate::HprofError;

/// Interns every stack trace of `top` (frame function `pkg.Class.method`,
/// file = source file or class name, line when known); returns the stack
/// of each non-empty trace by its serial.
pub(super) fn trace_stacks(
    builder: &mut GraphBuilder,
    top: &TopLevel<'_>,
    id_size: u8,
) -> Result<HashMap<u32, StackId>, HprofError> {
    let graph_err = |e| HprofError::graph(0, e);
    let lookup_string = |id: u64| top.string(id);
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
    Ok(trace_stacks)
}
