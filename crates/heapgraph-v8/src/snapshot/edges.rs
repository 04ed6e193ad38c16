//! The `edges` section, scanned straight into the graph builder, and
//! Julia's roots.

use heapgraph_core::{EdgeKind, NodeIndex, RootKind};

use super::nodes::NodesInfo;
use super::{is_julia, Reader, SnapshotHeader, V8Warning};
use crate::error::{V8Error, V8ErrorKind};
use crate::json::MAX_FIELDS;
use crate::meta::SnapshotMeta;
use crate::records::{scan_records, Scan};

/// Exact division by the node field count without a `div` instruction in
/// the edge loop: `position` is a multiple of `d = 2^shift * m` (`m` odd)
/// iff its low `shift` bits are zero and `(position >> shift) * m⁻¹` (mod
/// 2^64) is at most `u64::MAX / m`; that product is then the quotient.
#[derive(Clone, Copy, Debug)]
pub(super) struct ExactDivisor {
    shift: u32,
    inverse: u64,
    limit: u64,
}

impl ExactDivisor {
    /// `None` for 0.
    pub(super) fn new(divisor: u64) -> Option<Self> {
        if divisor == 0 {
            return None;
        }
        let shift = divisor.trailing_zeros();
        let odd = divisor >> shift;
        // Newton's iteration: each step doubles the correct low bits
        // (an odd number is its own inverse modulo 8).
        let mut inverse = odd;
        for _ in 0..5 {
            inverse = inverse.wrapping_mul(2u64.wrapping_sub(odd.wrapping_mul(inverse)));
        }
        Some(ExactDivisor {
            shift,
            inverse,
            limit: u64::MAX / odd,
        })
    }

    /// `value / divisor` if the division is exact.
    #[inline]
    pub(super) fn divide(self, value: u64) -> Option<u64> {
        if value & ((1u64 << self.shift) - 1) != 0 {
            return None;
        }
        let quotient = (value >> self.shift).wrapping_mul(self.inverse);
        (quotient <= self.limit).then_some(quotient)
    }
}

fn map_edge_type(name: &str) -> Option<EdgeKind> {
    Some(match name {
        "context" => EdgeKind::Context,
        "element" => EdgeKind::Element,
        "property" => EdgeKind::Property,
        "internal" => EdgeKind::Internal,
        "hidden" => EdgeKind::Hidden,
        "shortcut" => EdgeKind::Shortcut,
        "weak" => EdgeKind::Weak,
        _ => return None,
    })
}

impl Reader<'_> {
    pub(super) fn read_edges(
        &mut self,
        pos: usize,
        end: Option<usize>,
        meta: &SnapshotMeta,
        header: &SnapshotHeader,
        nodes: &NodesInfo,
    ) -> Result<(), V8Error> {
        const SECTION: &str = "edges";
        let fields = &meta.edge_fields;
        let col = |name| SnapshotMeta::required_column(fields, "edge_fields", name, pos);
        let c_type = col("type")?;
        let c_label = col("name_or_index")?;
        let c_target = col("to_node")?;
        let ef = fields.len();
        if ef > MAX_FIELDS {
            return Err(V8Error::new(
                pos,
                V8ErrorKind::BadMeta {
                    what: "more than 64 edge fields",
                },
            ));
        }
        let mut kinds = Vec::with_capacity(meta.edge_types.len());
        for name in &meta.edge_types {
            kinds.push(map_edge_type(name).unwrap_or_else(|| {
                self.warnings
                    .push(V8Warning::UnknownEdgeType { name: name.clone() });
                EdgeKind::Internal
            }));
        }
        let declared: u64 = nodes.edge_counts.iter().map(|&c| u64::from(c)).sum();
        let bytes = self.bytes;
        let upper = (bytes.len().saturating_sub(pos) / (2 * ef.max(1))) as u64;
        self.builder
            .reserve(0, declared.min(upper).min(u64::from(u32::MAX)) as usize);

        let nf = nodes.field_count;
        let Some(divisor) = ExactDivisor::new(nf) else {
            return Err(V8Error::new(
                pos,
                V8ErrorKind::BadMeta {
                    what: "no node fields",
                },
            ));
        };
        let node_count = nodes.node_count;
        let root = nodes.root_ordinal;
        let swap = |ordinal: u64| -> u64 {
            if root == 0 {
                ordinal
            } else if ordinal == 0 {
                root
            } else if ordinal == root {
                0
            } else {
                ordinal
            }
        };
        let string_count = self.string_count;
        let string_base = self.string_base;
        let gc_roots = nodes.gc_roots.map(u64::from);
        let synthetic = &nodes.synthetic;
        // Julia: which nodes are referenced (one bit each), and what the
        // root references; see `add_julia_roots`.
        let julia = is_julia(meta);
        let mut referenced: Vec<u64> = if julia {
            vec![0; (node_count as usize).div_ceil(64)]
        } else {
            Vec::new()
        };
        let mut root_targets: Vec<u32> = Vec::new();
        let mut source = 0u64;
        let mut remaining: u32 = nodes.edge_counts.first().copied().unwrap_or(0);
        let mut found = 0u64;
        let builder = &mut self.builder;
        let edge_counts = &nodes.edge_counts;
        let how_to_scan = Scan {
            split: self.split,
            release: self.release,
        };
        let (_, end_pos) = scan_records(
            bytes,
            pos,
            end,
            SECTION,
            ef,
            how_to_scan,
            |record, start| {
                found += 1;
                while remaining == 0 {
                    source += 1;
                    match edge_counts.get(source as usize) {
                        Some(&c) => remaining = c,
                        None => {
                            return Err(V8Error::new(
                                start.start(bytes),
                                V8ErrorKind::EdgeCountMismatch { declared, found },
                            ))
                        }
                    }
                }
                remaining -= 1;
                let get = |c: usize| record.get(c).copied().unwrap_or(0);
                let type_index = get(c_type);
                let Some(&kind) = kinds.get(type_index as usize) else {
                    return Err(V8Error::new(
                        start.field(bytes, c_type),
                        V8ErrorKind::IndexOutOfRange {
                            section: SECTION,
                            what: "edge type",
                            index: type_index,
                            len: kinds.len() as u64,
                        },
                    ));
                };
                let label = get(c_label);
                let label = if kind.has_index() {
                    match u32::try_from(label) {
                        Ok(label) => label,
                        Err(_) => {
                            return Err(V8Error::new(
                                start.field(bytes, c_label),
                                V8ErrorKind::NumberTooLarge {
                                    section: SECTION,
                                    max: u64::from(u32::MAX),
                                },
                            ))
                        }
                    }
                } else if label < string_count {
                    string_base + label as u32
                } else {
                    return Err(V8Error::new(
                        start.field(bytes, c_label),
                        V8ErrorKind::IndexOutOfRange {
                            section: SECTION,
                            what: "string index",
                            index: label,
                            len: string_count,
                        },
                    ));
                };
                let to_node = get(c_target);
                let Some(target) = divisor.divide(to_node) else {
                    return Err(V8Error::new(
                        start.field(bytes, c_target),
                        V8ErrorKind::MisalignedNodePosition {
                            section: SECTION,
                            position: to_node,
                            field_count: nf,
                        },
                    ));
                };
                if target >= node_count {
                    return Err(V8Error::new(
                        start.field(bytes, c_target),
                        V8ErrorKind::IndexOutOfRange {
                            section: SECTION,
                            what: "to_node ordinal",
                            index: target,
                            len: node_count,
                        },
                    ));
                }
                // Both fit in u32: node_count is bounded by the builder.
                let src = swap(source) as u32;
                let tgt = swap(target) as u32;
                builder
                    .push_edge(src, tgt, kind, label)
                    .map_err(|e| V8Error::new(start.start(bytes), V8ErrorKind::Graph(e)))?;
                if Some(u64::from(src)) == gc_roots {
                    // V8 hangs synthetic groups (`(Strong roots)`, ...) off
                    // `(GC roots)`; Bun hangs the roots themselves, and then
                    // `(GC roots)` is the group.
                    let group = if synthetic.binary_search(&tgt).is_ok() {
                        tgt
                    } else {
                        src
                    };
                    builder.mark_root_group(NodeIndex::new(group), RootKind::Engine);
                }
                if julia {
                    if let Some(word) = referenced.get_mut(tgt as usize / 64) {
                        *word |= 1 << (tgt % 64);
                    }
                    if src == 0 {
                        root_targets.push(tgt);
                    }
                }
                Ok(())
            },
        )?;
        if julia {
            self.add_julia_roots(&referenced, &root_targets, synthetic, node_count);
        }
        if found != declared {
            return Err(V8Error::new(
                end_pos,
                V8ErrorKind::EdgeCountMismatch { declared, found },
            ));
        }
        if let Some(header_count) = header.edge_count {
            if header_count != found {
                self.warnings.push(V8Warning::CountMismatch {
                    field: "edge_count",
                    header: header_count,
                    actual: found,
                });
            }
        }
        Ok(())
    }

    /// Julia's root structure as core root groups. Current Julia hangs
    /// `GC roots` and `GC finalizer list roots` (synthetic nodes) off the
    /// root, which become root groups; its 2021 writer hangs the roots off
    /// the root directly, and those become roots. Objects nothing
    /// references are roots too ([`V8Warning::JuliaUnrecordedRoots`]).
    fn add_julia_roots(
        &mut self,
        referenced: &[u64],
        root_targets: &[u32],
        synthetic: &[u32],
        node_count: u64,
    ) {
        for &target in root_targets {
            if synthetic.binary_search(&target).is_ok() {
                self.builder
                    .mark_root_group(NodeIndex::new(target), RootKind::Engine);
            } else {
                self.builder
                    .add_gc_root(NodeIndex::new(target), RootKind::Engine);
            }
        }
        let mut unrecorded = 0u64;
        for node in 1..node_count as u32 {
            let is_referenced = referenced
                .get(node as usize / 64)
                .is_some_and(|word| word & (1 << (node % 64)) != 0);
            if !is_referenced {
                self.builder
                    .add_gc_root(NodeIndex::new(node), RootKind::Unknown);
                unrecorded += 1;
            }
        }
        if unrecorded > 0 {
            self.warnings
                .push(V8Warning::JuliaUnrecordedRoots { count: unrecorded });
        }
    }
}
