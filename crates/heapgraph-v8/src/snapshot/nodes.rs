//! The `nodes` section, scanned straight into the graph builder.

use hashbrown::HashMap;
use heapgraph_core::{DomState, NodeKind, StackId, StringId, V8_NODE_TYPES};

use super::{is_julia, Reader, SnapshotHeader, V8Warning};
use crate::error::{V8Error, V8ErrorKind};
use crate::json::MAX_FIELDS;
use crate::meta::SnapshotMeta;
use crate::records::{scan_records, RecordAt, Scan};

impl Reader<'_> {
    pub(super) fn read_nodes(
        &mut self,
        pos: usize,
        end: Option<usize>,
        meta: &SnapshotMeta,
        header: &SnapshotHeader,
        stack_by_trace_id: &HashMap<u64, StackId>,
    ) -> Result<NodesInfo, V8Error> {
        const SECTION: &str = "nodes";
        const LIST: &str = "node_fields";
        let fields = &meta.node_fields;
        let col = |name| SnapshotMeta::required_column(fields, LIST, name, pos);
        let c_type = col("type")?;
        let c_name = col("name")?;
        let c_id = col("id")?;
        let c_size = col("self_size")?;
        let c_edges = col("edge_count")?;
        let c_trace = SnapshotMeta::column(fields, "trace_node_id");
        let c_detached = SnapshotMeta::column(fields, "detachedness");
        let nf = fields.len();
        if nf > MAX_FIELDS {
            return Err(V8Error::new(
                pos,
                V8ErrorKind::BadMeta {
                    what: "more than 64 node fields",
                },
            ));
        }
        // Julia's `array` nodes are Julia objects (`Array{Any, 1}`, ...), not
        // V8's internal arrays that DevTools folds into their owners.
        let julia = is_julia(meta);
        let mut kinds: Vec<NodeKind> = meta
            .node_types
            .iter()
            .map(|t| match t.as_str() {
                "array" if julia => NodeKind::Object,
                _ => NodeKind::from_v8_type(t),
            })
            .collect();
        // Type indices past the listed names, named from V8's own order
        // when the listed names follow it (see `UndeclaredNodeType`).
        let declared_types = kinds.len();
        let follows_v8_order = declared_types > 0
            && meta
                .node_types
                .iter()
                .zip(V8_NODE_TYPES)
                .all(|(listed, (v8, _))| listed == v8)
            && declared_types <= V8_NODE_TYPES.len();
        if follows_v8_order {
            kinds.extend(
                V8_NODE_TYPES[declared_types..]
                    .iter()
                    .map(|&(_, kind)| kind),
            );
        }
        let mut undeclared_uses = [0u64; V8_NODE_TYPES.len()];
        let bytes = self.bytes;

        // The root swap, when `root_index` names another node.
        let root_ordinal = match header.root_index {
            None | Some(0) => 0,
            Some(position) => {
                if position % nf as u64 != 0 {
                    return Err(V8Error::new(
                        pos,
                        V8ErrorKind::MisalignedNodePosition {
                            section: "snapshot.root_index",
                            position,
                            field_count: nf as u64,
                        },
                    ));
                }
                position / nf as u64
            }
        };
        let mut root_record = ([0u64; MAX_FIELDS], RecordAt::at(pos));
        if root_ordinal != 0 {
            let mut ordinal = 0u64;
            let mut found = false;
            // Nothing released: the nodes are read again just below.
            let keep = Scan {
                split: self.split,
                release: &|_| {},
            };
            scan_records(bytes, pos, end, SECTION, nf, keep, |record, start| {
                if ordinal == root_ordinal {
                    for (slot, &value) in root_record.0.iter_mut().zip(record) {
                        *slot = value;
                    }
                    root_record.1 = start;
                    found = true;
                }
                ordinal += 1;
                Ok(())
            })?;
            if !found {
                return Err(V8Error::new(
                    pos,
                    V8ErrorKind::IndexOutOfRange {
                        section: "snapshot.root_index",
                        what: "root node",
                        index: root_ordinal,
                        len: ordinal,
                    },
                ));
            }
        }

        let mut info = NodesInfo {
            field_count: nf as u64,
            edge_counts: Vec::new(),
            detachedness: c_detached.map(|_| Vec::new()),
            gc_roots: None,
            synthetic: Vec::new(),
            root_ordinal,
            node_count: 0,
        };
        // Bound the reservation by what the bytes can hold (>= 2 bytes per
        // number).
        let upper = bytes.len().saturating_sub(pos) / (2 * nf.max(1));
        let reserve = header.node_count.map_or(0, |n| (n as usize).min(upper));
        self.builder.reserve(reserve, 0);
        info.edge_counts.reserve(reserve);
        if let Some(d) = info.detachedness.as_mut() {
            d.reserve(reserve);
        }

        let mut saved_zero = ([0u64; MAX_FIELDS], RecordAt::at(pos));
        let mut ordinal = 0u64;
        let string_count = self.string_count;
        let string_base = self.string_base;
        let gc_roots_string = self.gc_roots_string;
        let builder = &mut self.builder;
        let split = Scan {
            split: self.split,
            release: self.release,
        };
        scan_records(bytes, pos, end, SECTION, nf, split, |record, start| {
            // The record to add at this position (swapped for the root).
            let (this, this_start): (&[u64], RecordAt) = if root_ordinal == 0 {
                (record, start)
            } else if ordinal == 0 {
                for (slot, &value) in saved_zero.0.iter_mut().zip(record) {
                    *slot = value;
                }
                saved_zero.1 = start;
                (&root_record.0, root_record.1)
            } else if ordinal == root_ordinal {
                (&saved_zero.0, saved_zero.1)
            } else {
                (record, start)
            };
            let get = |c: usize| this.get(c).copied().unwrap_or(0);
            let type_index = get(c_type);
            let Some(&kind) = kinds.get(type_index as usize) else {
                return Err(V8Error::new(
                    this_start.field(bytes, c_type),
                    V8ErrorKind::IndexOutOfRange {
                        section: SECTION,
                        what: "node type",
                        index: type_index,
                        len: declared_types as u64,
                    },
                ));
            };
            if type_index as usize >= declared_types {
                if let Some(uses) = undeclared_uses.get_mut(type_index as usize) {
                    *uses += 1;
                }
            }
            let name = get(c_name);
            if name >= string_count {
                return Err(V8Error::new(
                    this_start.field(bytes, c_name),
                    V8ErrorKind::IndexOutOfRange {
                        section: SECTION,
                        what: "string index",
                        index: name,
                        len: string_count,
                    },
                ));
            }
            let node = builder
                .add_node(
                    kind,
                    StringId::new(string_base + name as u32),
                    get(c_id),
                    get(c_size),
                )
                .map_err(|e| V8Error::new(this_start.start(bytes), V8ErrorKind::Graph(e)))?;
            if let Some(c) = c_trace {
                let trace_id = get(c);
                if trace_id != 0 {
                    if let Some(&stack) = stack_by_trace_id.get(&trace_id) {
                        builder.set_node_stack(node, stack);
                    }
                }
            }
            if let (Some(c), Some(d)) = (c_detached, info.detachedness.as_mut()) {
                d.push(DomState::from_v8(get(c)));
            }
            if kind == NodeKind::Synthetic {
                info.synthetic.push(node.as_u32());
                if info.gc_roots.is_none() && Some(name) == gc_roots_string {
                    info.gc_roots = Some(node.as_u32());
                }
            }
            // Edge counts stay in file order (unswapped).
            let edges = record.get(c_edges).copied().unwrap_or(0);
            let Ok(edges) = u32::try_from(edges) else {
                return Err(V8Error::new(
                    start.field(bytes, c_edges),
                    V8ErrorKind::NumberTooLarge {
                        section: SECTION,
                        max: u64::from(u32::MAX),
                    },
                ));
            };
            info.edge_counts.push(edges);
            ordinal += 1;
            Ok(())
        })?;
        info.node_count = ordinal;
        for (index, &count) in undeclared_uses.iter().enumerate() {
            if count > 0 {
                self.warnings.push(V8Warning::UndeclaredNodeType {
                    index: index as u64,
                    name: V8_NODE_TYPES[index].0,
                    count,
                });
            }
        }
        // Ascending already, except where the root swap moved one.
        info.synthetic.sort_unstable();
        if let Some(declared) = header.node_count {
            if declared != ordinal {
                self.warnings.push(V8Warning::CountMismatch {
                    field: "node_count",
                    header: declared,
                    actual: ordinal,
                });
            }
        }
        Ok(info)
    }
}

/// What [`Reader::read_nodes`] learned for reading edges.
pub(super) struct NodesInfo {
    pub(super) field_count: u64,
    /// Per node ordinal (file order): its edge count.
    pub(super) edge_counts: Vec<u32>,
    pub(super) detachedness: Option<Vec<DomState>>,
    /// The `(GC roots)` node (graph index).
    pub(super) gc_roots: Option<u32>,
    /// The `synthetic` nodes (graph indices), sorted.
    pub(super) synthetic: Vec<u32>,
    pub(super) root_ordinal: u64,
    pub(super) node_count: u64,
}
