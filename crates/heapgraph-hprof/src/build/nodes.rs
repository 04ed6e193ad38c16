//! The nodes: the root, then one per heap object with its name and self size.

use hashbrown::HashMap;

use heapgraph_core::{GraphBuilder, NodeKind, StringId};

use super::classes::{align_up, ClassInfo};
use super::index::{HeapIndex, KIND_CLASS, KIND_INSTANCE, KIND_OBJECT_ARRAY, KIND_PRIMITIVE_BASE};
use crate::{BasicType, HprofError, RecordStats, SizeModel};

/// Room for the root-group nodes (one per [`RootKind`](heapgraph_core::RootKind)).
const ROOT_KINDS: usize = 32;

/// What self sizes follow: the size model and the reference widths.
#[derive(Clone, Copy)]
pub(super) struct Sizes {
    pub(super) model: SizeModel,
    pub(super) id_size: u8,
    /// The id size as a number of bytes.
    pub(super) pointer: u64,
    /// The bytes of a reference field: 4 with compressed references, else
    /// `pointer`.
    pub(super) reference: u64,
}

impl Sizes {
    pub(super) fn new(model: SizeModel, id_size: u8, compressed: bool) -> Sizes {
        let pointer = u64::from(id_size);
        let reference = if compressed { 4 } else { pointer };
        Sizes {
            model,
            id_size,
            pointer,
            reference,
        }
    }
}

/// Per primitive type code: the class of its arrays, found by name (`[I`
/// → `int[]`), if dumped; and the name of its arrays.
pub(super) type PrimitiveClasses = ([Option<u32>; 12], [StringId; 12]);

/// The classes and names of the primitive arrays (see [`PrimitiveClasses`]).
pub(super) fn primitive_classes(
    builder: &mut GraphBuilder,
    infos: &[ClassInfo],
) -> Result<PrimitiveClasses, HprofError> {
    let graph_err = |e| HprofError::graph(0, e);
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
    Ok((primitive_class, primitive_names))
}

/// Adds the root node and a node per object of `index`, in file order,
/// after reserving room for every node and an upper bound on the edges.
/// Objects whose class was never dumped are counted in
/// `stats.missing_classes`.
pub(super) fn add_nodes(
    builder: &mut GraphBuilder,
    index: &HeapIndex,
    class_by_id: &HashMap<u64, u32>,
    infos: &[ClassInfo],
    primitive_names: &[StringId; 12],
    sizes: Sizes,
    stats: &mut RecordStats,
) -> Result<(), HprofError> {
    let graph_err = |e| HprofError::graph(0, e);
    let Sizes {
        model,
        id_size,
        pointer,
        reference,
    } = sizes;
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
    Ok(())
}
