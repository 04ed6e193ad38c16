//! The `locations`, `samples` and scope sections.

use heapgraph_core::NodeIndex;

use super::edges::ExactDivisor;
use super::nodes::NodesInfo;
use super::{Location, Reader, ScopeSection, TimelineSample};
use crate::error::{V8Error, V8ErrorKind};
use crate::json::MAX_FIELDS;
use crate::meta::SnapshotMeta;
use crate::records::scan_records;
use crate::records::Scan;

impl Reader<'_> {
    pub(super) fn read_locations(
        &mut self,
        pos: usize,
        meta: &SnapshotMeta,
        nodes: &NodesInfo,
    ) -> Result<Vec<Location>, V8Error> {
        const SECTION: &str = "locations";
        let fields = &meta.location_fields;
        if fields.is_empty() {
            let count = self.cursor(pos, SECTION).uint_array(|_, _| Ok(()))?;
            if count == 0 {
                return Ok(Vec::new());
            }
        }
        let col = |name| SnapshotMeta::required_column(fields, "location_fields", name, pos);
        let (c_object, c_script, c_line, c_column) = (
            col("object_index")?,
            col("script_id")?,
            col("line")?,
            col("column")?,
        );
        let c_script_object = SnapshotMeta::column(fields, "script_object_index");
        let width = fields.len();
        if width > MAX_FIELDS {
            return Err(V8Error::new(
                pos,
                V8ErrorKind::BadMeta {
                    what: "more than 64 location fields",
                },
            ));
        }
        let mut locations = Vec::new();
        let root = nodes.root_ordinal;
        let bytes = self.bytes;
        let divisor = ExactDivisor::new(nodes.field_count);
        let split = Scan {
            split: self.split,
            release: self.release,
        };
        scan_records(bytes, pos, None, SECTION, width, split, |record, start| {
            let get = |c: usize| record.get(c).copied().unwrap_or(0);
            let small = |c: usize| {
                u32::try_from(get(c)).map_err(|_| {
                    V8Error::new(
                        start.field(bytes, c),
                        V8ErrorKind::NumberTooLarge {
                            section: SECTION,
                            max: u64::from(u32::MAX),
                        },
                    )
                })
            };
            // A `nodes` position as a (root-swapped) node.
            let node_at = |c: usize, what: &'static str| {
                let position = get(c);
                // Found again only for an error.
                let at = || start.field(bytes, c);
                let Some(ordinal) = divisor.and_then(|d| d.divide(position)) else {
                    return Err(V8Error::new(
                        at(),
                        V8ErrorKind::MisalignedNodePosition {
                            section: SECTION,
                            position,
                            field_count: nodes.field_count,
                        },
                    ));
                };
                if ordinal >= nodes.node_count {
                    return Err(V8Error::new(
                        at(),
                        V8ErrorKind::IndexOutOfRange {
                            section: SECTION,
                            what,
                            index: ordinal,
                            len: nodes.node_count,
                        },
                    ));
                }
                let swapped = if root != 0 && ordinal == 0 {
                    root
                } else if root != 0 && ordinal == root {
                    0
                } else {
                    ordinal
                };
                // Below node_count, which the builder keeps within u32.
                Ok(NodeIndex::new(swapped as u32))
            };
            let node = node_at(c_object, "object_index ordinal")?;
            let script_object = match c_script_object {
                Some(c) => Some(node_at(c, "script_object_index ordinal")?),
                None => None,
            };
            locations.push(Location {
                node,
                script_object,
                script_id: small(c_script)?,
                line: small(c_line)?,
                column: small(c_column)?,
            });
            Ok(())
        })?;
        Ok(locations)
    }

    pub(super) fn read_samples(
        &mut self,
        pos: usize,
        meta: &SnapshotMeta,
    ) -> Result<Vec<TimelineSample>, V8Error> {
        const SECTION: &str = "samples";
        let fields = &meta.sample_fields;
        let values = if fields.is_empty() {
            let count = self.cursor(pos, SECTION).uint_array(|_, _| Ok(()))?;
            if count == 0 {
                return Ok(Vec::new());
            }
            return Err(V8Error::new(
                pos,
                V8ErrorKind::MissingColumn {
                    list: "sample_fields",
                    column: "timestamp_us",
                },
            ));
        } else {
            self.read_flat(pos, SECTION, fields.len())?
        };
        let c_time = SnapshotMeta::column(fields, "timestamp_us");
        let c_id = SnapshotMeta::column(fields, "last_assigned_id");
        Ok(values
            .chunks_exact(fields.len())
            .map(|record| {
                let get = |c: Option<usize>| c.and_then(|c| record.get(c)).map_or(0, |v| v.0);
                TimelineSample {
                    timestamp_us: get(c_time),
                    last_assigned_id: get(c_id),
                }
            })
            .collect())
    }

    pub(super) fn read_scope_section(
        &mut self,
        pos: Option<usize>,
        section: &'static str,
        fields: &[String],
    ) -> Result<ScopeSection, V8Error> {
        let Some(pos) = pos else {
            return Ok(ScopeSection {
                fields: fields.to_vec(),
                values: Vec::new(),
            });
        };
        let mut values = Vec::new();
        let count = self.cursor(pos, section).int_array(|v| {
            values.push(v);
            Ok(())
        })?;
        if count != 0 && (fields.is_empty() || count % fields.len() as u64 != 0) {
            return Err(V8Error::new(
                pos,
                V8ErrorKind::RaggedArray {
                    section,
                    len: count,
                    width: fields.len() as u64,
                },
            ));
        }
        Ok(ScopeSection {
            fields: fields.to_vec(),
            values,
        })
    }
}
