//! The allocation-trace sections (`trace_function_infos`, `trace_tree`) and
//! the stacks built from them.

use hashbrown::HashMap;
use heapgraph_core::{Frame, StackId, StringId};

use super::{Reader, SnapshotHeader, TraceFunctionInfo, TraceNode, V8Warning};
use crate::error::{V8Error, V8ErrorKind};
use crate::json::MAX_DEPTH;
use crate::meta::SnapshotMeta;

impl Reader<'_> {
    pub(super) fn read_trace_function_infos(
        &mut self,
        pos: usize,
        meta: &SnapshotMeta,
        header: &SnapshotHeader,
    ) -> Result<Vec<TraceFunctionInfo>, V8Error> {
        const LIST: &str = "trace_function_info_fields";
        let fields = &meta.trace_function_info_fields;
        let mut cursor = self.cursor(pos, "trace_function_infos");
        if cursor.peek() == Some(b'[') && fields.is_empty() {
            // Tolerate an empty section without a layout.
            let count = cursor.uint_array(|_, _| Ok(()))?;
            if count == 0 {
                return Ok(Vec::new());
            }
        }
        let col = |name| SnapshotMeta::required_column(fields, LIST, name, pos);
        let (c_id, c_name, c_script_name, c_script_id, c_line, c_column) = (
            col("function_id")?,
            col("name")?,
            col("script_name")?,
            col("script_id")?,
            col("line")?,
            col("column")?,
        );
        let width = fields.len();
        let values = self.read_flat(pos, "trace_function_infos", width)?;
        let mut infos = Vec::with_capacity(values.len() / width.max(1));
        for record in values.chunks_exact(width) {
            let get = |c: usize| record.get(c).copied().unwrap_or((0, pos));
            let small = |c: usize| {
                let (v, at) = get(c);
                u32::try_from(v).map_err(|_| {
                    V8Error::new(
                        at,
                        V8ErrorKind::NumberTooLarge {
                            section: "trace_function_infos",
                            max: u64::from(u32::MAX),
                        },
                    )
                })
            };
            let (name, name_at) = get(c_name);
            let (script_name, script_at) = get(c_script_name);
            infos.push(TraceFunctionInfo {
                function_id: get(c_id).0,
                name: StringId::new(self.string_id(name, "trace_function_infos", name_at)?),
                script_name: StringId::new(self.string_id(
                    script_name,
                    "trace_function_infos",
                    script_at,
                )?),
                script_id: get(c_script_id).0,
                line: small(c_line)?,
                column: small(c_column)?,
            });
        }
        if let Some(declared) = header.trace_function_count {
            if declared != infos.len() as u64 {
                self.warnings.push(V8Warning::CountMismatch {
                    field: "trace_function_count",
                    header: declared,
                    actual: infos.len() as u64,
                });
            }
        }
        Ok(infos)
    }

    /// Reads the nested `trace_tree` iteratively into a pre-order table.
    pub(super) fn read_trace_tree(
        &mut self,
        pos: usize,
        meta: &SnapshotMeta,
        function_count: usize,
    ) -> Result<Vec<TraceNode>, V8Error> {
        const SECTION: &str = "trace_tree";
        let fields = &meta.trace_node_fields;
        let mut cursor = self.cursor(pos, SECTION);
        let mut nodes: Vec<TraceNode> = Vec::new();
        if fields.is_empty() {
            // Tolerate an empty tree without a layout.
            cursor.expect(b'[', "`[`")?;
            cursor.expect(b']', "`]` (no `trace_node_fields` in meta)")?;
            return Ok(nodes);
        }
        let col = |name| SnapshotMeta::required_column(fields, "trace_node_fields", name, pos);
        let c_id = col("id")?;
        let c_function = col("function_info_index")?;
        let c_count = SnapshotMeta::column(fields, "count");
        let c_size = SnapshotMeta::column(fields, "size");
        let c_children = col("children")?;
        let width = fields.len();

        /// One open list of records: whose children they are, which field
        /// comes next, and the record being filled.
        struct Open {
            parent: Option<u32>,
            field: usize,
            record: u32,
            first: bool,
        }
        cursor.expect(b'[', "`[`")?;
        let mut stack = vec![Open {
            parent: None,
            field: 0,
            record: 0,
            first: true,
        }];
        while let Some(top) = stack.last_mut() {
            if !cursor.next_item(b']', top.first)? {
                if top.field != 0 {
                    return Err(cursor.error(V8ErrorKind::RaggedArray {
                        section: SECTION,
                        len: top.field as u64,
                        width: width as u64,
                    }));
                }
                stack.pop();
                if let Some(parent) = stack.last_mut() {
                    parent.field += 1;
                    if parent.field == width {
                        parent.field = 0;
                    }
                }
                continue;
            }
            top.first = false;
            if top.field == 0 {
                top.record = u32::try_from(nodes.len()).map_err(|_| {
                    cursor.error(V8ErrorKind::NumberTooLarge {
                        section: SECTION,
                        max: u64::from(u32::MAX),
                    })
                })?;
                nodes.push(TraceNode {
                    id: 0,
                    parent: top.parent,
                    function_info_index: 0,
                    count: 0,
                    size: 0,
                    stack: None,
                });
            }
            let field = top.field;
            let record = top.record;
            if field == c_children {
                cursor.expect(b'[', "`[` (children)")?;
                if stack.len() as u32 >= MAX_DEPTH {
                    return Err(cursor.error(V8ErrorKind::TooDeep {
                        section: SECTION,
                        limit: MAX_DEPTH,
                    }));
                }
                stack.push(Open {
                    parent: Some(record),
                    field: 0,
                    record: 0,
                    first: true,
                });
                continue;
            }
            let at = cursor.pos();
            let value = cursor.uint()?;
            if let Some(node) = nodes.get_mut(record as usize) {
                if field == c_id {
                    node.id = value;
                } else if field == c_function {
                    if value >= function_count as u64 {
                        return Err(V8Error::new(
                            at,
                            V8ErrorKind::IndexOutOfRange {
                                section: SECTION,
                                what: "function_info_index",
                                index: value,
                                len: function_count as u64,
                            },
                        ));
                    }
                    node.function_info_index = value as u32;
                } else if Some(field) == c_count {
                    node.count = value;
                } else if Some(field) == c_size {
                    node.size = value;
                }
            }
            top.field += 1;
            if top.field == width {
                top.field = 0;
            }
        }
        Ok(nodes)
    }

    /// Interns frames and stacks for the trace tree; maps trace node ids to
    /// stacks.
    pub(super) fn build_stacks(
        &mut self,
        infos: &[TraceFunctionInfo],
        trace_nodes: &mut [TraceNode],
        section_pos: usize,
    ) -> Result<HashMap<u64, StackId>, V8Error> {
        let mut by_id = HashMap::with_capacity(trace_nodes.len());
        let root_name = self
            .root_string
            .map(|index| StringId::new(self.string_base + index as u32));
        for i in 0..trace_nodes.len() {
            let Some(node) = trace_nodes.get(i).copied() else {
                break;
            };
            let Some(info) = infos.get(node.function_info_index as usize) else {
                continue;
            };
            let parent_stack = node
                .parent
                .and_then(|p| trace_nodes.get(p as usize))
                .and_then(|p| p.stack);
            let stack = if node.parent.is_none() && Some(info.name) == root_name {
                None
            } else {
                let frame = self
                    .builder
                    .stacks()
                    .intern_frame(Frame {
                        function: info.name,
                        file: info.script_name,
                        line: info.line,
                        column: info.column,
                    })
                    .map_err(|e| V8Error::new(section_pos, V8ErrorKind::Graph(e.into())))?;
                Some(
                    self.builder
                        .stacks()
                        .push_frame(parent_stack, frame)
                        .map_err(|e| V8Error::new(section_pos, V8ErrorKind::Graph(e.into())))?,
                )
            };
            if let Some(slot) = trace_nodes.get_mut(i) {
                slot.stack = stack;
            }
            if let Some(stack) = stack {
                by_id.insert(node.id, stack);
            }
        }
        Ok(by_id)
    }
}
