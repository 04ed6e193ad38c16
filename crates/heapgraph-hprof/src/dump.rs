//! [`HprofDump`]: the graph plus the HPROF-only side tables (primitive array
//! contents by offset, field layouts, Android heap names, thread stacks).

use byteorder::{BigEndian, ByteOrder, LittleEndian};
use heapgraph_core::{EdgeKind, EdgeLabel, HeapGraph, NodeIndex, NodeKind, StackId, StringId};

use crate::stream::{self, Body};
use crate::{BasicType, HprofLocation, HprofVersion, PrimitiveType, RecordStats, SizeModel};

/// One instance field a class declares.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OwnField {
    pub name: StringId,
    pub ty: BasicType,
    /// `java.lang.ref.Reference.referent` (a weak-like edge in instances of
    /// Weak/Soft/Phantom/Final reference subclasses).
    pub is_referent: bool,
}

/// A class's node and where its instance fields are.
///
/// Instance records hold the class's own fields first, then its super
/// class's, and so on; walking `first_with_fields` then each class's
/// `next_with_fields` visits exactly the classes that declare fields, in
/// that order (chains are checked acyclic when built).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ClassLayout {
    pub node: u32,
    pub own_start: u32,
    pub own_end: u32,
    /// This class, or its nearest ancestor, that declares fields.
    pub first_with_fields: Option<u32>,
    /// The nearest strict ancestor that declares fields.
    pub next_with_fields: Option<u32>,
}

/// Calls `visit` for every instance field of `class` in record order (own
/// fields first, then up the super chain), with the field's byte offset
/// in the record. Steps are bounded by the number of fields visited plus
/// the number of classes (no class is visited twice: a guard stops cycles).
pub(crate) fn for_each_field<E>(
    layouts: &[ClassLayout],
    own_fields: &[OwnField],
    class: u32,
    id_size: u8,
    mut visit: impl FnMut(&OwnField, usize) -> Result<(), E>,
) -> Result<(), E> {
    let mut current = layouts
        .get(class as usize)
        .and_then(|l| l.first_with_fields);
    let mut at = 0usize;
    let mut steps = 0usize;
    while let Some(c) = current {
        steps += 1;
        if steps > layouts.len() {
            break;
        }
        let Some(layout) = layouts.get(c as usize) else {
            break;
        };
        for field in own_fields
            .get(layout.own_start as usize..layout.own_end as usize)
            .unwrap_or(&[])
        {
            visit(field, at)?;
            at += usize::from(field.ty.file_size(id_size));
        }
        current = layout.next_with_fields;
    }
    Ok(())
}

/// A field value read from an instance record.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum FieldValue {
    /// A reference: the target's object id (0 is null).
    Object(u64),
    /// `boolean`.
    Boolean(bool),
    /// `char` (a UTF-16 code unit).
    Char(u16),
    /// `float`.
    Float(f32),
    /// `double`.
    Double(f64),
    /// `byte`.
    Byte(i8),
    /// `short`.
    Short(i16),
    /// `int`.
    Int(i32),
    /// `long`.
    Long(i64),
}

/// A parsed HPROF dump: the object graph and HPROF-specific side tables.
///
/// Node layout: node 0 is the synthetic root; then one node per heap object
/// in file order (classes from CLASS DUMP as [`NodeKind::Class`], instances
/// as [`NodeKind::Object`], object arrays as [`NodeKind::Array`], primitive
/// arrays as [`NodeKind::PrimitiveArray`]); then the root-group nodes. A
/// class node and the instances of that class share a name
/// (`java.lang.String`); the kind tells them apart.
#[derive(Debug)]
pub struct HprofDump {
    pub(crate) graph: HeapGraph,
    pub(crate) version: HprofVersion,
    pub(crate) id_size: u8,
    pub(crate) timestamp_ms: u64,
    pub(crate) size_model: SizeModel,
    pub(crate) compressed_references: bool,
    pub(crate) stats: RecordStats,
    /// Per node: the offset of its sub-record, `u64::MAX` if none or split.
    pub(crate) object_offsets: crate::offsets::OffsetTable,
    pub(crate) classes: Vec<ClassLayout>,
    pub(crate) own_fields: Vec<OwnField>,
    /// (first node, index into `heap_names`), sorted by node.
    pub(crate) heap_runs: Vec<(u32, u16)>,
    pub(crate) heap_names: Vec<String>,
    pub(crate) thread_stacks: Vec<(NodeIndex, StackId)>,
    pub(crate) thread_locals: Vec<ThreadLocal>,
}

/// An object a thread's stack holds (a JAVA FRAME or JNI LOCAL root).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThreadLocal {
    /// The thread object.
    pub thread: NodeIndex,
    /// The object held.
    pub object: NodeIndex,
    /// The frame that holds it, counted from the innermost (0) of the
    /// thread's stack trace ([`HprofDump::thread_stack`]); `None` when the
    /// dump says -1 (no frame).
    pub frame: Option<u32>,
    /// A JNI local reference rather than a Java local variable.
    pub jni: bool,
}

/// What a `java.lang.Thread` instance says of itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JavaThread {
    /// Its `name`.
    pub name: Option<String>,
    /// Its state, from `threadStatus` (in `Thread` up to JDK 18, in
    /// `Thread.holder` from JDK 19), as `Thread.getState()` names it;
    /// `None` where the dump has no such field (Android).
    pub state: Option<&'static str>,
    /// Whether it is a daemon thread (`daemon`, or `holder.daemon`).
    pub daemon: Option<bool>,
}

/// `Thread.getState()` from a JVMTI thread status word, as
/// `jdk.internal.misc.VM.toThreadState` decodes it.
pub fn thread_state(status: i32) -> &'static str {
    const ALIVE: i32 = 0x0001;
    const TERMINATED: i32 = 0x0002;
    const RUNNABLE: i32 = 0x0004;
    const WAITING_INDEFINITELY: i32 = 0x0010;
    const WAITING_WITH_TIMEOUT: i32 = 0x0020;
    const BLOCKED_ON_MONITOR_ENTER: i32 = 0x0400;
    if status & RUNNABLE != 0 {
        "RUNNABLE"
    } else if status & BLOCKED_ON_MONITOR_ENTER != 0 {
        "BLOCKED"
    } else if status & WAITING_INDEFINITELY != 0 {
        "WAITING"
    } else if status & WAITING_WITH_TIMEOUT != 0 {
        "TIMED_WAITING"
    } else if status & TERMINATED != 0 {
        "TERMINATED"
    } else if status & ALIVE == 0 {
        "NEW"
    } else {
        "RUNNABLE"
    }
}

impl HprofDump {
    /// The object graph.
    pub fn graph(&self) -> &HeapGraph {
        &self.graph
    }

    /// The object graph, dropping the side tables.
    pub fn into_graph(self) -> HeapGraph {
        self.graph
    }

    /// The header's format version.
    pub fn version(&self) -> HprofVersion {
        self.version
    }

    /// The identifier size (4 or 8).
    pub fn id_size(&self) -> u8 {
        self.id_size
    }

    /// The header timestamp, milliseconds since the Unix epoch.
    pub fn timestamp_ms(&self) -> u64 {
        self.timestamp_ms
    }

    /// The size model the graph's self sizes follow.
    pub fn size_model(&self) -> SizeModel {
        self.size_model
    }

    /// Whether [`SizeModel::Mat`] sizes assume 4-byte (compressed)
    /// references: as chosen in the options, else detected for 8-byte ids
    /// from object-array address gaps (as MAT does; compressed when nothing
    /// can be told), always true for 4-byte ids.
    pub fn compressed_references(&self) -> bool {
        self.compressed_references
    }

    /// What was read: records and sub-records by tag, oddities counted.
    pub fn record_stats(&self) -> &RecordStats {
        &self.stats
    }

    /// The Android heap (`app`, `image`, `zygote`, ...) a node was dumped
    /// in; `None` for dumps without HEAP DUMP INFO records.
    pub fn heap_name(&self, node: NodeIndex) -> Option<&str> {
        let n = node.as_u32();
        let i = self.heap_runs.partition_point(|&(first, _)| first <= n);
        let (_, name) = *self.heap_runs.get(i.checked_sub(1)?)?;
        if n as usize >= self.object_offsets.len() {
            return None;
        }
        self.heap_names.get(usize::from(name)).map(String::as_str)
    }

    /// The stack of a thread object (from its ROOT THREAD OBJECT's trace).
    pub fn thread_stack(&self, node: NodeIndex) -> Option<StackId> {
        self.thread_stacks.iter().find(|t| t.0 == node).map(|t| t.1)
    }

    /// All thread objects with a known stack.
    pub fn thread_stacks(&self) -> &[(NodeIndex, StackId)] {
        &self.thread_stacks
    }

    /// The objects threads hold on their stacks, in thread node order.
    pub fn thread_locals(&self) -> &[ThreadLocal] {
        &self.thread_locals
    }

    /// A thread object's name, state and daemon flag, read lazily from
    /// `file`. `None` for a node that is not an instance.
    pub fn java_thread(&self, file: &[u8], node: NodeIndex) -> Option<JavaThread> {
        let fields = self.instance_fields(file, node)?;
        let strings = self.graph.strings();
        let field = |fields: &[(StringId, FieldValue)], name: &[u8]| {
            fields
                .iter()
                .find(|(n, _)| strings.bytes(*n) == name)
                .map(|f| f.1)
        };
        let object = |id: u64| self.graph.node_by_object_id(id).filter(|_| id != 0);
        let name = match field(&fields, b"name") {
            Some(FieldValue::Object(id)) => {
                object(id).and_then(|n| self.java_string_value(file, n))
            }
            _ => None,
        };
        // JDK 19+ keeps the status and the daemon flag in `holder`.
        let holder = match field(&fields, b"holder") {
            Some(FieldValue::Object(id)) => object(id).and_then(|n| self.instance_fields(file, n)),
            _ => None,
        };
        let status = field(&fields, b"threadStatus")
            .or_else(|| holder.as_deref().and_then(|h| field(h, b"threadStatus")));
        let daemon = field(&fields, b"daemon")
            .or_else(|| holder.as_deref().and_then(|h| field(h, b"daemon")));
        Some(JavaThread {
            name,
            state: match status {
                Some(FieldValue::Int(status)) => Some(thread_state(status)),
                _ => None,
            },
            daemon: match daemon {
                Some(FieldValue::Boolean(daemon)) => Some(daemon),
                _ => None,
            },
        })
    }

    /// Where `node`'s heap sub-record starts in `file`, with a reader over
    /// `file`, when the byte there is `tag` (so a different `file`, or a
    /// node of another kind, gives `None`).
    fn sub_record<'f>(
        &self,
        file: &'f [u8],
        node: NodeIndex,
        tag: u8,
    ) -> Option<(usize, Body<'f>)> {
        let offset = usize::try_from(self.object_offsets.get(node.index())?).ok()?;
        let body = Body {
            data: file,
            base: 0,
            id_size: self.id_size,
            location: HprofLocation::SubRecord(tag),
        };
        (body.u1(offset).ok()? == tag).then_some((offset, body))
    }

    /// The length of an object array node (OBJECT ARRAY DUMP), read from
    /// `file`: slots, null or not. `None` for other nodes or a different
    /// `file`.
    pub fn object_array_length(&self, file: &[u8], node: NodeIndex) -> Option<u32> {
        if self.graph.kind(node) != NodeKind::Array {
            return None;
        }
        // Tag 0x22, id, trace serial, length.
        let (offset, body) = self.sub_record(file, node, 0x22)?;
        body.u4(offset + 1 + usize::from(self.id_size) + 4).ok()
    }

    /// The element type and raw contents (big-endian, as in the file) of a
    /// primitive array node, read from `file` (the bytes that were parsed).
    /// `None` for other nodes, Android NODATA arrays and arrays split across
    /// heap-dump segments.
    pub fn primitive_array<'f>(
        &self,
        file: &'f [u8],
        node: NodeIndex,
    ) -> Option<(PrimitiveType, &'f [u8])> {
        if self.graph.kind(node) != NodeKind::PrimitiveArray {
            return None;
        }
        // The record, re-read: tag 0x23 (not NODATA 0xC3), id, trace serial,
        // length, element type, then the contents.
        let (offset, body) = self.sub_record(file, node, 0x23)?;
        let id = usize::from(self.id_size);
        let length = body.u4(offset + 1 + id + 4).ok()?;
        let ty = BasicType::from_code(body.u1(offset + 1 + id + 8).ok()?)
            .filter(|&t| t != BasicType::Object)?;
        let start = offset + 1 + id + 9;
        let len = stream::len_usize(length).checked_mul(usize::from(ty.file_size(self.id_size)))?;
        Some((ty, file.get(start..start.checked_add(len)?)?))
    }

    /// The instance fields of an [`NodeKind::Object`] node, own class first
    /// then up the super chain, read lazily from `file`. `None` if the node
    /// is not an instance, its class is unknown or `file` differs.
    pub fn instance_fields(
        &self,
        file: &[u8],
        node: NodeIndex,
    ) -> Option<Vec<(StringId, FieldValue)>> {
        if self.graph.kind(node) != NodeKind::Object {
            return None;
        }
        let (offset, body) = self.sub_record(file, node, 0x21)?;
        let id = usize::from(self.id_size);
        let n = stream::len_usize(body.u4(offset + 1 + 2 * id + 4).ok()?);
        let fields = body.bytes(offset + 1 + 2 * id + 8, n).ok()?;
        let class_node = self
            .graph
            .edges(node)
            .find(|e| {
                e.kind == EdgeKind::Internal
                    && matches!(e.label, EdgeLabel::Name(n) if self.graph.strings().bytes(n) == b"<class>")
            })?
            .target;
        let class = self
            .classes
            .binary_search_by_key(&class_node.as_u32(), |c| c.node)
            .ok()?;
        let mut out = Vec::new();
        let id_size = self.id_size;
        for_each_field(
            &self.classes,
            &self.own_fields,
            class as u32,
            id_size,
            |field, at| {
                let width = usize::from(field.ty.file_size(id_size));
                let b = fields.get(at..at + width).ok_or(())?;
                let value = match field.ty {
                    BasicType::Object => FieldValue::Object(stream::id_at(b, id_size)),
                    BasicType::Boolean => FieldValue::Boolean(b.first().copied().ok_or(())? != 0),
                    BasicType::Char => FieldValue::Char(BigEndian::read_u16(b)),
                    BasicType::Float => FieldValue::Float(BigEndian::read_f32(b)),
                    BasicType::Double => FieldValue::Double(BigEndian::read_f64(b)),
                    BasicType::Byte => FieldValue::Byte(b.first().copied().ok_or(())? as i8),
                    BasicType::Short => FieldValue::Short(BigEndian::read_i16(b)),
                    BasicType::Int => FieldValue::Int(BigEndian::read_i32(b)),
                    BasicType::Long => FieldValue::Long(BigEndian::read_i64(b)),
                };
                out.push((field.name, value));
                Ok::<(), ()>(())
            },
        )
        .ok()?;
        Some(out)
    }

    /// Every `java.lang.String` instance with its text (read lazily from
    /// `file`, as [`java_string_value`](Self::java_string_value) reads it)
    /// and its cost: the `String`'s size in `shallow_sizes` (indexed by
    /// node) plus that of its `value` array. Strings whose text cannot be
    /// read are left out. This is what duplicate-string analysis takes.
    pub fn java_strings(
        &self,
        file: &[u8],
        shallow_sizes: &heapgraph_core::Sizes,
    ) -> Vec<(NodeIndex, Vec<u8>, u64)> {
        self.java_string_nodes()
            .filter_map(|n| {
                let (text, cost) = self.java_string(file, shallow_sizes, n)?;
                Some((n, text.into_bytes(), cost))
            })
            .collect()
    }

    /// The `java.lang.String` instances, in node order.
    pub fn java_string_nodes(&self) -> impl Iterator<Item = NodeIndex> + '_ {
        let graph = &self.graph;
        let string_class = graph.strings().find(b"java.lang.String");
        graph.nodes().filter(move |&n| {
            string_class
                .is_some_and(|class| graph.kind(n) == NodeKind::Object && graph.name(n) == class)
        })
    }

    /// One `java.lang.String`'s text and cost (see
    /// [`java_strings`](Self::java_strings)), or `None` when its text cannot
    /// be read.
    pub fn java_string(
        &self,
        file: &[u8],
        shallow_sizes: &heapgraph_core::Sizes,
        node: NodeIndex,
    ) -> Option<(String, u64)> {
        let graph = &self.graph;
        let value_name = graph.strings().find(b"value")?;
        let text = self.java_string_value(file, node)?;
        let size = |n: NodeIndex| shallow_sizes.get(n.index());
        let array = graph
            .edges(node)
            .find(|e| e.kind == EdgeKind::Property && e.label == EdgeLabel::Name(value_name))
            .map(|e| e.target);
        Some((text, size(node).saturating_add(array.map_or(0, size))))
    }

    /// The text of a `java.lang.String` instance, read lazily from `file`.
    ///
    /// Handles JDK 9+ compact strings (`byte[] value` + `byte coder`: 0
    /// Latin-1, 1 UTF-16 in the dumping machine's byte order, assumed
    /// little-endian), JDK ≤ 8 `char[] value` with optional `offset` and
    /// `count`, and Android's `value` array (`char[]`, or `byte[]` Latin-1
    /// for compressed strings).
    pub fn java_string_value(&self, file: &[u8], node: NodeIndex) -> Option<String> {
        if self.graph.name_str(node) != "java.lang.String" {
            return None;
        }
        let fields = self.instance_fields(file, node)?;
        let strings = self.graph.strings();
        let field = |name: &[u8]| {
            fields
                .iter()
                .find(|(n, _)| strings.bytes(*n) == name)
                .map(|f| f.1)
        };
        let Some(FieldValue::Object(value_id)) = field(b"value") else {
            return None;
        };
        if value_id == 0 {
            return Some(String::new());
        }
        let value_node = self.graph.node_by_object_id(value_id)?;
        let (ty, data) = self.primitive_array(file, value_node)?;
        let coder = match field(b"coder") {
            Some(FieldValue::Byte(c)) => Some(c),
            _ => None,
        };
        match ty {
            BasicType::Byte => match coder {
                Some(1) => {
                    let units: Vec<u16> =
                        data.chunks_exact(2).map(LittleEndian::read_u16).collect();
                    Some(String::from_utf16_lossy(&units))
                }
                _ => Some(data.iter().map(|&b| char::from(b)).collect()),
            },
            BasicType::Char => {
                let mut units: Vec<u16> = data.chunks_exact(2).map(BigEndian::read_u16).collect();
                let offset = match field(b"offset") {
                    Some(FieldValue::Int(o)) => usize::try_from(o).ok()?,
                    _ => 0,
                };
                let count = match field(b"count") {
                    Some(FieldValue::Int(c)) => usize::try_from(c).ok()?,
                    _ => units.len().saturating_sub(offset),
                };
                if let Some(window) = units.get(offset..offset.checked_add(count)?) {
                    units = window.to_vec();
                }
                Some(String::from_utf16_lossy(&units))
            }
            _ => None,
        }
    }
}
