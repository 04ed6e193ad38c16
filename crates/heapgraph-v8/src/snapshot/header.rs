//! The locate pass over the top-level object, and the `snapshot` section
//! (header values and meta).

use super::{section_error, Reader, SnapshotHeader, V8Warning};
use crate::error::{V8Error, V8ErrorKind};
use crate::meta::{parse_meta, SnapshotMeta};

/// What the `snapshot` section holds.
pub(super) struct Header {
    pub(super) meta: SnapshotMeta,
    pub(super) header: SnapshotHeader,
    pub(super) extra_native_bytes: Option<u64>,
    /// Where the `node_count` and `edge_count` values are (the section's
    /// start when absent).
    pub(super) count_at: (usize, usize),
}

/// Where each top-level section's value starts.
#[derive(Default)]
pub(super) struct Sections {
    pub(super) snapshot: Option<usize>,
    pub(super) nodes: Option<usize>,
    pub(super) edges: Option<usize>,
    /// Where the `nodes` and `edges` arrays' first `]` is, from the locate
    /// pass (the parallel scan splits the text before it).
    pub(super) nodes_end: Option<usize>,
    pub(super) edges_end: Option<usize>,
    pub(super) strings: Option<usize>,
    pub(super) trace_function_infos: Option<usize>,
    pub(super) trace_tree: Option<usize>,
    pub(super) samples: Option<usize>,
    pub(super) locations: Option<usize>,
    pub(super) scopes: Option<usize>,
    pub(super) scope_context_vars: Option<usize>,
    pub(super) scope_uses: Option<usize>,
}

impl Reader<'_> {
    /// Pass 1: the top-level object's sections.
    pub(super) fn locate(&mut self) -> Result<Sections, V8Error> {
        let mut sections = Sections::default();
        let start = if self.bytes.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        let mut cursor = self.cursor(start, "top level");
        cursor.expect(b'{', "`{`")?;
        let mut key = Vec::new();
        let mut first = true;
        while cursor.next_item(b'}', first)? {
            first = false;
            cursor.set_section("top level");
            cursor.key(&mut key)?;
            cursor.skip_ws();
            let pos = cursor.pos();
            let (slot, name, numbers): (Option<&mut Option<usize>>, &'static str, bool) =
                match key.as_slice() {
                    b"snapshot" => (Some(&mut sections.snapshot), "snapshot", false),
                    b"nodes" => (Some(&mut sections.nodes), "nodes", true),
                    b"edges" => (Some(&mut sections.edges), "edges", true),
                    b"strings" => (Some(&mut sections.strings), "strings", false),
                    b"trace_function_infos" => (
                        Some(&mut sections.trace_function_infos),
                        "trace_function_infos",
                        true,
                    ),
                    b"trace_tree" => (Some(&mut sections.trace_tree), "trace_tree", false),
                    b"samples" => (Some(&mut sections.samples), "samples", true),
                    b"locations" => (Some(&mut sections.locations), "locations", true),
                    b"scopes" => (Some(&mut sections.scopes), "scopes", true),
                    b"scope_context_vars" => (
                        Some(&mut sections.scope_context_vars),
                        "scope_context_vars",
                        true,
                    ),
                    b"scope_uses" => (Some(&mut sections.scope_uses), "scope_uses", true),
                    _ => (None, "unknown section", false),
                };
            cursor.set_section(name);
            match slot {
                Some(slot) => {
                    if slot.is_some() {
                        return Err(V8Error::new(
                            pos,
                            V8ErrorKind::DuplicateSection { section: name },
                        ));
                    }
                    *slot = Some(pos);
                }
                None => self.warnings.push(V8Warning::UnknownSection {
                    name: String::from_utf8_lossy(&key).into_owned(),
                    offset: pos as u64,
                }),
            }
            if numbers {
                let is_array = cursor.peek() == Some(b'[');
                cursor.skip_number_array_releasing(self.release)?;
                let end = is_array.then(|| cursor.pos().saturating_sub(1));
                match name {
                    "nodes" => sections.nodes_end = end,
                    "edges" => sections.edges_end = end,
                    _ => {}
                }
            } else if name == "strings" {
                let count = cursor.skip_string_array_releasing(self.release)?;
                self.string_reserve = (count, cursor.pos().saturating_sub(pos));
            } else {
                cursor.skip_value()?;
            }
            // The locate pass has only looked at this section (the big ones
            // are found with memchr): let its pages go until the read pass
            // reads them, so a file-backed input is never resident whole.
            (self.release)(pos..cursor.pos());
        }
        cursor.skip_ws();
        if cursor.pos() < self.bytes.len() {
            self.warnings.push(V8Warning::TrailingData {
                offset: cursor.pos() as u64,
            });
        }
        Ok(sections)
    }

    pub(super) fn read_header(&mut self, pos: usize) -> Result<Header, V8Error> {
        let mut cursor = self.cursor(pos, "snapshot");
        let mut header = SnapshotHeader::default();
        let mut meta = None;
        let mut extra_native_bytes = None;
        let mut count_at = (pos, pos);
        let mut key = Vec::new();
        let mut buf = Vec::new();
        cursor.expect(b'{', "`{`")?;
        let mut first = true;
        while cursor.next_item(b'}', first)? {
            first = false;
            cursor.key(&mut key)?;
            match key.as_slice() {
                b"meta" => {
                    cursor.set_section("meta");
                    meta = Some(parse_meta(&mut cursor)?);
                    cursor.set_section("snapshot");
                }
                b"node_count" => {
                    cursor.skip_ws();
                    count_at.0 = cursor.pos();
                    header.node_count = Some(cursor.uint()?);
                }
                b"edge_count" => {
                    cursor.skip_ws();
                    count_at.1 = cursor.pos();
                    header.edge_count = Some(cursor.uint()?);
                }
                b"trace_function_count" => header.trace_function_count = Some(cursor.uint()?),
                b"root_index" => header.root_index = Some(cursor.uint()?),
                b"uid" => header.uid = Some(cursor.uint()?),
                b"extra_native_bytes" => extra_native_bytes = Some(cursor.uint()?),
                b"title" if cursor.peek() == Some(b'"') => {
                    cursor.string(&mut buf)?;
                    header.title = Some(String::from_utf8_lossy(&buf).into_owned());
                }
                _ => cursor.skip_value()?,
            }
        }
        let meta = meta.ok_or_else(|| V8Error::new(pos, section_error("snapshot.meta")))?;
        Ok(Header {
            meta,
            header,
            extra_native_bytes,
            count_at,
        })
    }
}
