//! Pass 2, the edge pass: every heap object's edges, in node order.

use hashbrown::HashMap;

use heapgraph_core::{EdgeKind, GraphBuilder, NodeIndex, StackId, StringId};

use super::classes::ClassInfo;
use super::index::TopLevel;
use crate::dump::{for_each_field, ClassLayout, OwnField};
use crate::stream::{self, ClassDump, HeapVisitor, SubRecord};
use crate::{BasicType, HprofError, HprofErrorKind, HprofOptions, RecordStats};

/// The labels of the edges that are not fields or elements.
pub(super) struct Labels {
    class: StringId,
    super_class: StringId,
    class_loader: StringId,
    java_local: StringId,
    jni_local: StringId,
}

impl Labels {
    /// Interns the labels.
    pub(super) fn intern(builder: &mut GraphBuilder) -> Result<Labels, HprofError> {
        let graph_err = |e| HprofError::graph(0, e);
        Ok(Labels {
            class: builder.intern(b"<class>").map_err(graph_err)?,
            super_class: builder.intern(b"<super>").map_err(graph_err)?,
            class_loader: builder.intern(b"<classloader>").map_err(graph_err)?,
            java_local: builder.intern(b"<Java Local>").map_err(graph_err)?,
            jni_local: builder.intern(b"<JNI Local>").map_err(graph_err)?,
        })
    }
}

/// Per class: the names of its statics (the labels of its static
/// reference edges). A name beyond the string limit fails at the class's
/// record offset (`class_offsets[c]`).
pub(super) fn static_names(
    builder: &mut GraphBuilder,
    top: &TopLevel<'_>,
    classes: &[ClassDump],
    class_offsets: &[u64],
) -> Result<Vec<Vec<StringId>>, HprofError> {
    let lookup_string = |id: u64| top.string(id);
    let mut static_names: Vec<Vec<StringId>> = Vec::with_capacity(classes.len());
    for (c, class) in classes.iter().enumerate() {
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
    Ok(static_names)
}

/// Pass 2: emits the edges of every heap object, in node order.
pub(super) struct EdgeEmitter<'b, R: Fn(u64) -> Option<u32>> {
    pub(super) builder: &'b mut GraphBuilder,
    pub(super) id_size: u8,
    pub(super) ordinal: u32,
    pub(super) resolve: &'b R,
    pub(super) class_by_id: &'b HashMap<u64, u32>,
    pub(super) infos: &'b [ClassInfo],
    pub(super) own_fields: &'b [OwnField],
    pub(super) layouts: &'b [ClassLayout],
    pub(super) static_names: &'b [Vec<StringId>],
    pub(super) primitive_class: &'b [Option<u32>; 12],
    pub(super) locals: &'b [(u32, u64, u8, u32)],
    pub(super) local_cursor: usize,
    pub(super) trace_stacks: &'b HashMap<u32, StackId>,
    pub(super) labels: &'b Labels,
    pub(super) extra_bytes: u64,
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
        while let Some(&(thread, target, tag, _)) = self.locals.get(self.local_cursor) {
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

impl<R: Fn(u64) -> Option<u32>> EdgeEmitter<'_, R> {
    /// Runs pass 2 over heap dump `options.dump` of `bytes`; returns the
    /// number of instances with bytes past their class chain's fields.
    pub(super) fn walk(
        mut self,
        bytes: &[u8],
        header: &stream::Header,
        options: &HprofOptions,
        done_with: &dyn Fn(std::ops::Range<usize>),
    ) -> Result<u64, HprofError> {
        let mut pass2_stats = RecordStats::default();
        stream::walk(
            bytes,
            header,
            None,
            &mut self,
            &mut pass2_stats,
            options.lenient,
            options.dump,
            done_with,
        )?;
        Ok(self.extra_bytes)
    }
}
