//! Class resolution between the passes: names, flattened field layouts and instance sizes.

use hashbrown::HashMap;

use heapgraph_core::{EdgeKind, GraphBuilder, StringId};

use super::index::{HeapIndex, TopLevel, KIND_CLASS};
use crate::dump::{ClassLayout, OwnField};
use crate::names::normalize_class_name;
use crate::stream::ClassDump;
use crate::{BasicType, HprofError, HprofErrorKind, HprofVersion};

/// Where the classes are: by id, by node and by record offset.
pub(super) struct ClassTable {
    /// Class id → class index (the first CLASS DUMP of an id wins).
    pub(super) class_by_id: HashMap<u64, u32>,
    /// Per class index: its node.
    pub(super) class_nodes: Vec<u32>,
    /// Per class index: its record offset (`u64::MAX` when split).
    pub(super) class_offsets: Vec<u64>,
}

impl ClassTable {
    /// The table of the classes `index` holds.
    pub(super) fn new(index: &HeapIndex) -> ClassTable {
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
        ClassTable {
            class_by_id,
            class_nodes,
            class_offsets,
        }
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
