//! `.heapsnapshot` files: [`parse_snapshot`] and [`V8Snapshot`].
//!
//! The reader makes two passes over the bytes:
//!
//! 1. **Locate**: walk the top-level object key by key and remember where
//!    each section's value starts, skipping values (integer arrays by a
//!    `memchr` for their `]`). Sections may come in any order; unknown ones
//!    are skipped with a warning.
//! 2. **Read**, in dependency order: `snapshot` (meta and header counts,
//!    checked against [`ParseOptions::limits`] before anything else),
//!    `strings` (appended to the graph's string table so that V8 string
//!    index `i` is [`StringId`] `base + i`), the allocation-trace sections
//!    (frames and stacks), then `nodes` and `edges` scanned straight into the
//!    [`GraphBuilder`] (digits on every core, see `records`), then
//!    `locations`, `samples` and the scope sections.
//!
//! No JSON tree is built and nothing is allocated per node beyond the
//! graph's own columns (and 4 bytes per node for the edge counts while
//! reading `edges`).

#[cfg(doc)]
use heapgraph_core::StringId;
use heapgraph_core::{Format, GraphBuilder, Limits};

use crate::error::{V8Error, V8ErrorKind};
use crate::json::Cursor;
use crate::records::Split;
use crate::ParseOptions;

use header::Header;
use producer::is_julia;

pub use model::{
    Location, ScopeSection, ScopeSections, SnapshotHeader, TimelineSample, TraceFunctionInfo,
    TraceNode, V8Snapshot,
};
pub use producer::Producer;
pub use warnings::V8Warning;

mod edges;
mod header;
mod model;
mod nodes;
mod producer;
pub(crate) mod redact;
mod side_tables;
mod strings;
mod trace;
mod warnings;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

/// Parses a whole `.heapsnapshot` file.
///
/// # Errors
///
/// A [`V8Error`] with the byte offset of the first problem: truncation,
/// malformed JSON, a missing required section (`snapshot`, `nodes`,
/// `edges`, `strings`) or meta column, an index out of range, or edge
/// counts that disagree with the `edges` array.
pub fn parse_snapshot(bytes: &[u8]) -> Result<V8Snapshot, V8Error> {
    parse(bytes, &ParseOptions::default())
}

/// Reads a `.heapsnapshot` held in memory. This is the parser contract
/// every heapgraph parser crate shares: [`sniff`](crate::sniff) on a
/// prefix, then `parse(bytes, &options)`.
///
/// [`ParseOptions::limits`] refuses a snapshot whose header declares more
/// nodes or edges than allowed before reading anything else, and one whose
/// arrays or strings go over a limit at the record or string that does.
/// [`ParseOptions::on_consumed`] gets the `nodes`, `edges`, `locations`
/// and `strings` sections as they are consumed, a few hundred kilobytes to
/// a few megabytes at a time, in order within each section, never
/// overlapping, from the calling thread; a caller that memory-mapped the
/// file drops those pages there, so the JSON is not resident next to the
/// graph being built (together they would set the peak at the end of the
/// parse). The parse may look at a released range again (to find the
/// offset of an error), so the bytes must stay valid and unchanged.
///
/// # Errors
///
/// As [`parse_snapshot`], and [`V8ErrorKind::Graph`] with
/// [`BuildError::LimitExceeded`](heapgraph_core::BuildError::LimitExceeded)
/// (at the declared `node_count` or `edge_count`, or at the first record
/// over the limit) or a string-bytes
/// [`TooManyStrings`](heapgraph_core::TooManyStrings) (at the string) for a
/// limit.
pub fn parse(bytes: &[u8], options: &ParseOptions) -> Result<V8Snapshot, V8Error> {
    Reader::new(bytes, options, &|range| options.on_consumed.consumed(range)).read()
}

/// [`parse_snapshot`] with the `nodes`/`edges` split chosen by a test.
#[cfg(test)]
fn parse_split(bytes: &[u8], split: Split) -> Result<V8Snapshot, V8Error> {
    parse_split_releasing(bytes, split, &|_| {})
}

/// [`parse`] with a release hook and the split chosen by a test.
#[cfg(test)]
fn parse_split_releasing(
    bytes: &[u8],
    split: Split,
    done_with: &dyn Fn(std::ops::Range<usize>),
) -> Result<V8Snapshot, V8Error> {
    let mut reader = Reader::new(bytes, &ParseOptions::default(), done_with);
    reader.split = split;
    reader.read()
}

struct Reader<'a> {
    bytes: &'a [u8],
    limits: Limits,
    builder: GraphBuilder,
    warnings: Vec<V8Warning>,
    /// `StringId` of V8 string 0.
    string_base: u32,
    string_count: u64,
    gc_roots_string: Option<u64>,
    root_string: Option<u64>,
    /// Strings counted by the locate pass, and the section's byte length.
    string_reserve: (u64, usize),
    /// How the `nodes` and `edges` arrays are split across threads.
    split: Split,
    /// Told of the byte ranges the parse has finished reading.
    release: &'a dyn Fn(std::ops::Range<usize>),
    /// Leave the `locations` section unread ([`ParseOptions::skip_locations`]).
    skip_locations: bool,
}

fn section_error(section: &'static str) -> V8ErrorKind {
    V8ErrorKind::MissingSection { section }
}

/// A required section is absent: reported at the end of the input.
fn missing_section(bytes: &[u8], section: &'static str) -> V8Error {
    V8Error::new(bytes.len(), section_error(section))
}

impl<'a> Reader<'a> {
    fn new(
        bytes: &'a [u8],
        options: &ParseOptions,
        release: &'a dyn Fn(std::ops::Range<usize>),
    ) -> Self {
        Reader {
            bytes,
            limits: options.limits,
            builder: GraphBuilder::new(Format::V8HeapSnapshot).with_limits(options.limits),
            warnings: Vec::new(),
            string_base: 0,
            string_count: 0,
            gc_roots_string: None,
            root_string: None,
            string_reserve: (0, 0),
            split: Split::default(),
            release,
            skip_locations: options.skip_locations,
        }
    }

    fn cursor(&self, pos: usize, section: &'static str) -> Cursor<'a> {
        Cursor::new(self.bytes, pos, section)
    }

    fn read(mut self) -> Result<V8Snapshot, V8Error> {
        let sections = self.locate()?;
        let end = self.bytes.len();
        let snapshot_pos = sections
            .snapshot
            .ok_or_else(|| missing_section(self.bytes, "snapshot"))?;
        let Header {
            meta,
            header,
            extra_native_bytes,
            count_at,
        } = self.read_header(snapshot_pos)?;
        // Refuse an oversized snapshot before reading its strings.
        let refuse = |at: usize| move |e| V8Error::new(at, V8ErrorKind::Graph(e));
        if let Some(declared) = header.node_count {
            self.limits
                .check_declared_nodes(declared)
                .map_err(refuse(count_at.0))?;
        }
        if let Some(declared) = header.edge_count {
            self.limits
                .check_declared_edges(declared)
                .map_err(refuse(count_at.1))?;
        }

        let strings_pos = sections
            .strings
            .ok_or_else(|| missing_section(self.bytes, "strings"))?;
        let markers = self.read_strings(strings_pos)?;

        let trace_function_infos = match sections.trace_function_infos {
            Some(pos) => self.read_trace_function_infos(pos, &meta, &header)?,
            None => Vec::new(),
        };
        let mut trace_nodes = match sections.trace_tree {
            Some(pos) => self.read_trace_tree(pos, &meta, trace_function_infos.len())?,
            None => Vec::new(),
        };
        let stack_by_trace_id = self.build_stacks(
            &trace_function_infos,
            &mut trace_nodes,
            sections.trace_tree.unwrap_or(0),
        )?;

        let nodes_pos = sections
            .nodes
            .ok_or_else(|| missing_section(self.bytes, "nodes"))?;
        let edges_pos = sections
            .edges
            .ok_or_else(|| missing_section(self.bytes, "edges"))?;
        let nodes = self.read_nodes(
            nodes_pos,
            sections.nodes_end,
            &meta,
            &header,
            &stack_by_trace_id,
        )?;
        self.read_edges(edges_pos, sections.edges_end, &meta, &header, &nodes)?;

        let locations = match sections.locations {
            Some(pos) if !self.skip_locations => self.read_locations(pos, &meta, &nodes)?,
            _ => Vec::new(),
        };
        let samples = match sections.samples {
            Some(pos) => self.read_samples(pos, &meta)?,
            None => Vec::new(),
        };
        let scopes = if sections.scopes.is_some()
            || sections.scope_context_vars.is_some()
            || sections.scope_uses.is_some()
        {
            Some(ScopeSections {
                scopes: self.read_scope_section(sections.scopes, "scopes", &meta.scope_fields)?,
                context_vars: self.read_scope_section(
                    sections.scope_context_vars,
                    "scope_context_vars",
                    &meta.scope_context_var_fields,
                )?,
                uses: self.read_scope_section(
                    sections.scope_uses,
                    "scope_uses",
                    &meta.scope_use_fields,
                )?,
            })
        } else {
            None
        };

        let producer = if is_julia(&meta) {
            Producer::Julia
        } else {
            markers.producer()
        };
        self.builder.set_producer(producer.as_str());
        let graph = self
            .builder
            .finish()
            .map_err(|e| V8Error::new(end, V8ErrorKind::Graph(e)))?;
        Ok(V8Snapshot {
            graph,
            meta,
            header,
            producer,
            detachedness: nodes.detachedness,
            extra_native_bytes,
            locations,
            trace_function_infos,
            trace_nodes,
            samples,
            scopes,
            warnings: self.warnings,
        })
    }

    /// Reads a flat record array into `values`, checking its width.
    fn read_flat(
        &self,
        pos: usize,
        section: &'static str,
        width: usize,
    ) -> Result<Vec<(u64, usize)>, V8Error> {
        let mut cursor = self.cursor(pos, section);
        let mut values = Vec::new();
        let count = cursor.uint_array(|value, at| {
            values.push((value, at));
            Ok(())
        })?;
        if width == 0 || count % width as u64 != 0 {
            return Err(V8Error::new(
                pos,
                V8ErrorKind::RaggedArray {
                    section,
                    len: count,
                    width: width as u64,
                },
            ));
        }
        Ok(values)
    }
}
