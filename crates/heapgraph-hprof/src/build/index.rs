//! Pass 1, the index pass: top-level tables and one small entry per heap object.

use hashbrown::HashMap;

use crate::stream::{self, Body, ClassDump, HeapVisitor, RecordVisitor, SubRecord};
use crate::{HprofError, HprofOptions, RecordStats};

pub(super) const KIND_CLASS: u8 = 0;
pub(super) const KIND_INSTANCE: u8 = 1;
pub(super) const KIND_OBJECT_ARRAY: u8 = 2;
/// Primitive arrays: `KIND_PRIMITIVE_BASE + type code`.
pub(super) const KIND_PRIMITIVE_BASE: u8 = 16;

/// One heap object as pass 1 saw it.
#[derive(Clone, Copy)]
pub(super) struct Pending {
    pub(super) id: u64,
    /// The class id (instances, arrays) or the class index (classes).
    pub(super) class: u64,
    pub(super) length: u32,
    pub(super) kind: u8,
}

pub(crate) struct FrameRecord {
    pub(super) method_name: u64,
    pub(super) source_file: u64,
    pub(super) class_serial: u32,
    pub(super) line: i32,
}

/// Top-level records other than heap dumps.
#[derive(Default)]
pub(crate) struct TopLevel<'a> {
    pub(crate) strings: HashMap<u64, &'a [u8]>,
    pub(crate) class_names: HashMap<u64, u64>,
    pub(crate) class_serials: HashMap<u32, u64>,
    pub(crate) frames: HashMap<u64, FrameRecord>,
    /// (serial, frame ids, innermost first).
    pub(crate) traces: Vec<(u32, &'a [u8])>,
    pub(crate) thread_serials: HashMap<u32, u64>,
}

impl<'a> TopLevel<'a> {
    /// The text of string `id` (empty when it was never dumped).
    pub(super) fn string(&self, id: u64) -> &'a [u8] {
        self.strings.get(&id).copied().unwrap_or(&[])
    }
}

impl<'a> RecordVisitor<'a> for TopLevel<'a> {
    fn record(&mut self, tag: u8, body: Body<'a>) -> Result<(), HprofError> {
        let id = usize::from(body.id_size);
        let r = (|| -> Result<(), stream::Short> {
            match tag {
                0x01 => {
                    let string_id = body.id(0)?;
                    let text = body.data.get(id..).unwrap_or(&[]);
                    self.strings.insert(string_id, text);
                }
                0x02 => {
                    let serial = body.u4(0)?;
                    let class_id = body.id(4)?;
                    let name_id = body.id(8 + id)?;
                    self.class_names.insert(class_id, name_id);
                    self.class_serials.insert(serial, class_id);
                }
                0x04 => {
                    let frame_id = body.id(0)?;
                    let method_name = body.id(id)?;
                    let source_file = body.id(3 * id)?;
                    let class_serial = body.u4(4 * id)?;
                    let line = body.u4(4 * id + 4)? as i32;
                    self.frames.insert(
                        frame_id,
                        FrameRecord {
                            method_name,
                            source_file,
                            class_serial,
                            line,
                        },
                    );
                }
                0x05 => {
                    let serial = body.u4(0)?;
                    let n = stream::len_usize(body.u4(8)?);
                    let frames = body.bytes(12, n.saturating_mul(id))?;
                    self.traces.push((serial, frames));
                }
                0x0A => {
                    let serial = body.u4(0)?;
                    let thread_id = body.id(4)?;
                    self.thread_serials.insert(serial, thread_id);
                }
                // Handled on purpose by being counted only: UNLOAD CLASS,
                // ALLOC SITES, HEAP SUMMARY, END THREAD, CPU SAMPLES,
                // CONTROL SETTINGS, HEAP DUMP END and unknown tags.
                _ => {}
            }
            Ok(())
        })();
        r.map_err(|short| body.short(short))
    }
}

/// Pass 1 over the heap-dump stream.
#[derive(Default)]
pub(crate) struct HeapIndex {
    pub(super) pending: Vec<Pending>,
    /// Per node: the record offset, or `u64::MAX` when the record is split
    /// across segments (`parse` starts it with the root's `u64::MAX`, so
    /// it becomes the dump's node-indexed table without a copy).
    pub(super) offsets: crate::offsets::OffsetTable,
    pub(super) classes: Vec<ClassDump>,
    /// (tag, id, first u4, second u4).
    pub(super) roots: Vec<(u8, u64, u32, u32)>,
    /// (first ordinal, heap id) runs from HEAP DUMP INFO.
    pub(super) heap_runs: Vec<(u32, u32)>,
    pub(super) heap_names: Vec<(u32, u64)>,
    current_heap: Option<u32>,
    /// The most heap objects [`Limits::max_nodes`](heapgraph_core::Limits)
    /// leaves room for (the root takes one node); `None`: no limit.
    object_limit: Option<(u64, u64)>,
}

impl HeapVisitor for HeapIndex {
    fn sub_record(
        &mut self,
        record: SubRecord<'_>,
        offset: u64,
        contiguous: bool,
    ) -> Result<(), HprofError> {
        let pending = match record {
            SubRecord::Root {
                tag,
                id,
                first,
                second,
            } => {
                self.roots.push((tag, id, first, second));
                return Ok(());
            }
            SubRecord::HeapInfo { heap_id, name_id } => {
                if !self.heap_names.iter().any(|&(h, _)| h == heap_id) {
                    self.heap_names.push((heap_id, name_id));
                }
                if self.current_heap != Some(heap_id) {
                    self.current_heap = Some(heap_id);
                    self.heap_runs.push((self.pending.len() as u32, heap_id));
                }
                return Ok(());
            }
            SubRecord::Class(class) => {
                let pending = Pending {
                    id: class.id,
                    class: self.classes.len() as u64,
                    length: 0,
                    kind: KIND_CLASS,
                };
                self.classes.push(class);
                pending
            }
            SubRecord::Instance {
                id,
                class_id,
                fields,
                ..
            } => Pending {
                id,
                class: class_id,
                length: u32::try_from(fields.len()).unwrap_or(u32::MAX),
                kind: KIND_INSTANCE,
            },
            SubRecord::ObjectArray {
                id,
                class_id,
                length,
                ..
            } => Pending {
                id,
                class: class_id,
                length,
                kind: KIND_OBJECT_ARRAY,
            },
            // The contents are found again from the record offset.
            SubRecord::PrimitiveArray { id, ty, length, .. } => Pending {
                id,
                class: 0,
                length,
                kind: KIND_PRIMITIVE_BASE + ty.code(),
            },
        };
        if let Some((objects, max_nodes)) = self.object_limit {
            if self.pending.len() as u64 >= objects {
                return Err(HprofError::graph(
                    offset,
                    heapgraph_core::BuildError::LimitExceeded {
                        what: "nodes",
                        limit: max_nodes,
                    },
                ));
            }
        }
        if self.pending.len() >= (u32::MAX - 64) as usize {
            return Err(HprofError::graph(
                offset,
                heapgraph_core::BuildError::TooManyNodes,
            ));
        }
        self.pending.push(pending);
        self.offsets
            .push(if contiguous { offset } else { u64::MAX });
        Ok(())
    }
}

/// Pass 1 of [`parse`](super::parse) over the dump whose `header` was
/// read: the top-level tables, the record counts and the heap index, with
/// [`Limits::max_nodes`](heapgraph_core::Limits) applied to the objects.
pub(super) fn index_pass<'a>(
    bytes: &'a [u8],
    header: &stream::Header,
    options: &HprofOptions,
    done_with: &dyn Fn(std::ops::Range<usize>),
) -> Result<(RecordStats, TopLevel<'a>, HeapIndex), HprofError> {
    let mut stats = RecordStats::default();
    let mut top = TopLevel::default();
    let limits = options.limits;
    let mut index = HeapIndex {
        object_limit: (limits.max_nodes < u64::from(u32::MAX - 1))
            .then(|| (limits.max_nodes.saturating_sub(1), limits.max_nodes)),
        offsets: {
            let mut root = crate::offsets::OffsetTable::default();
            root.push(u64::MAX);
            root
        },
        ..HeapIndex::default()
    };
    stream::walk(
        bytes,
        header,
        Some(&mut top),
        &mut index,
        &mut stats,
        options.lenient,
        options.dump,
        done_with,
    )?;

    // The index grew by doubling: give the slack back before the graph's
    // columns are allocated (large blocks shrink in place).
    index.pending.shrink_to_fit();
    index.offsets.shrink_to_fit();
    Ok((stats, top, index))
}

/// The index pass alone; see [`crate::scan`].
pub(crate) fn scan(bytes: &[u8]) -> Result<(RecordStats, u64), HprofError> {
    let header = stream::parse_header(bytes)?;
    let mut stats = RecordStats::default();
    let mut top = TopLevel::default();
    let mut index = HeapIndex::default();
    stream::walk(
        bytes,
        &header,
        Some(&mut top),
        &mut index,
        &mut stats,
        false,
        1,
        &|_| {},
    )?;
    Ok((stats, index.pending.len() as u64))
}
