//! The tables of one dump: their schemas, and their rows built as Arrow
//! record batches a range at a time.
//!
//! Nothing is built before a query reads it: the analysis (dominators,
//! retained sizes, classes) is computed when the first table that needs it
//! is scanned, and a table's rows are built batch by batch as the query
//! pulls them, so `SELECT … FROM classes` never builds an edge row and a
//! scan of `edges` holds one batch at a time.

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use arrow_array::builder::{BooleanBuilder, StringBuilder, UInt32Builder, UInt64Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use heapgraph::analysis::sites::KeyType;
use heapgraph::analysis::{ClassStats, HistogramOrder};
use heapgraph::core::{EdgeIndex, NodeIndex};
use heapgraph::{Analysed, Dump, Parsed};

/// Rows per record batch (for tables whose rows are nodes, nodes per
/// batch).
pub(crate) const BATCH_ROWS: usize = 64 * 1024;

/// One of the tables a dump offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Table {
    /// One row per node (object): `index, id, kind, class, name, self_size,
    /// shallow_size, retained_size, dominator_id, distance, detached,
    /// stack_id`.
    Nodes,
    /// One row per reference: `source, target, kind, name` (`source` and
    /// `target` are node indexes, `nodes.index`).
    Edges,
    /// The class histogram: `class, count, shallow_size, retained_size`.
    Classes,
    /// One row per (GC root kind, object held): `index, id, kind`.
    Roots,
    /// One row per string object with its value: `index, id, value, length,
    /// shallow_size` (HPROF `java.lang.String`s, V8 flat strings).
    Strings,
    /// Allocation sites as tracemalloc's `statistics('lineno')`: `file,
    /// line, size, count` (dumps with allocation stacks).
    Sites,
    /// Java collections (HPROF; Eclipse MAT's collection queries): `index,
    /// id, class, holder, size, capacity, wasted_bytes, retained_size`
    /// (`holder` is the `Class.field` of the first strong referrer).
    Collections,
}

impl Table {
    /// Every table, in the order they are documented.
    pub const ALL: [Table; 7] = [
        Table::Nodes,
        Table::Edges,
        Table::Classes,
        Table::Roots,
        Table::Strings,
        Table::Sites,
        Table::Collections,
    ];

    /// The table's SQL name.
    pub fn name(self) -> &'static str {
        match self {
            Table::Nodes => "nodes",
            Table::Edges => "edges",
            Table::Classes => "classes",
            Table::Roots => "roots",
            Table::Strings => "strings",
            Table::Sites => "sites",
            Table::Collections => "collections",
        }
    }

    /// The table's columns (the same for every format: a column the format
    /// has no value for is null).
    pub fn schema(self) -> SchemaRef {
        use DataType::{Boolean, UInt32, UInt64, Utf8};
        let field = |name: &str, ty: DataType, nullable: bool| Field::new(name, ty, nullable);
        let fields = match self {
            Table::Nodes => vec![
                field("index", UInt32, false),
                field("id", UInt64, false),
                field("kind", Utf8, false),
                field("class", Utf8, false),
                field("name", Utf8, false),
                field("self_size", UInt64, false),
                field("shallow_size", UInt64, false),
                field("retained_size", UInt64, false),
                field("dominator_id", UInt64, true),
                field("distance", UInt32, true),
                field("detached", Boolean, true),
                field("stack_id", UInt32, true),
            ],
            Table::Edges => vec![
                field("source", UInt32, false),
                field("target", UInt32, false),
                field("kind", Utf8, false),
                field("name", Utf8, false),
            ],
            Table::Classes => vec![
                field("class", Utf8, false),
                field("count", UInt64, false),
                field("shallow_size", UInt64, false),
                field("retained_size", UInt64, false),
            ],
            Table::Roots => vec![
                field("index", UInt32, false),
                field("id", UInt64, false),
                field("kind", Utf8, false),
            ],
            Table::Strings => vec![
                field("index", UInt32, false),
                field("id", UInt64, false),
                field("value", Utf8, false),
                field("length", UInt64, false),
                field("shallow_size", UInt64, false),
            ],
            Table::Sites => vec![
                field("file", Utf8, false),
                field("line", UInt32, false),
                field("size", UInt64, false),
                field("count", UInt64, false),
            ],
            Table::Collections => vec![
                field("index", UInt32, false),
                field("id", UInt64, false),
                field("class", Utf8, false),
                field("holder", Utf8, false),
                field("size", UInt64, false),
                field("capacity", UInt64, false),
                field("wasted_bytes", UInt64, false),
                field("retained_size", UInt64, false),
            ],
        };
        Arc::new(Schema::new(fields))
    }
}

/// An allocation site.
struct SiteRow {
    file: String,
    line: u32,
    size: u64,
    count: u64,
}

/// The rows of one dump's tables, built on demand and shared by every scan.
pub(crate) struct DumpRows {
    dump: Arc<Dump>,
    analysed: OnceLock<Arc<Analysed>>,
    classes: OnceLock<Vec<ClassStats>>,
    roots: OnceLock<Vec<(NodeIndex, &'static str)>>,
    /// The string objects (their values are read per batch).
    strings: OnceLock<Vec<NodeIndex>>,
    sites: OnceLock<Vec<SiteRow>>,
    collections: OnceLock<Vec<heapgraph::collections::Collection>>,
    /// Per table (in [`Table::ALL`] order): whether a batch was built.
    built: [std::sync::atomic::AtomicBool; Table::ALL.len()],
}

impl std::fmt::Debug for DumpRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DumpRows")
            .field("format", &self.dump.format())
            .finish_non_exhaustive()
    }
}

impl DumpRows {
    pub(crate) fn new(dump: Arc<Dump>, analysed: Option<Arc<Analysed>>) -> DumpRows {
        let cell = OnceLock::new();
        if let Some(analysed) = analysed {
            let _ = cell.set(analysed);
        }
        DumpRows {
            dump,
            analysed: cell,
            classes: OnceLock::new(),
            roots: OnceLock::new(),
            strings: OnceLock::new(),
            sites: OnceLock::new(),
            collections: OnceLock::new(),
            built: Default::default(),
        }
    }

    /// The tables a batch was built of so far.
    pub(crate) fn built_tables(&self) -> Vec<Table> {
        Table::ALL
            .into_iter()
            .filter(|&t| {
                self.built
                    .get(t as usize)
                    .is_some_and(|f| f.load(std::sync::atomic::Ordering::Relaxed))
            })
            .collect()
    }

    /// The analysis, if computed.
    pub(crate) fn shared_analysis(&self) -> Option<Arc<Analysed>> {
        self.analysed.get().cloned()
    }

    /// Whether the analysis has been computed.
    pub(crate) fn is_analysed(&self) -> bool {
        self.analysed.get().is_some()
    }

    pub(crate) fn dump(&self) -> &Dump {
        &self.dump
    }

    /// The analysis, computed on first use.
    pub(crate) fn analysed(&self) -> &Analysed {
        self.analysed
            .get_or_init(|| Arc::new(Analysed::new(Arc::clone(&self.dump))))
    }

    /// How many units the table's rows are built from (nodes for `nodes` and
    /// `edges`, rows for the others); batches are ranges of these.
    pub(crate) fn units(&self, table: Table) -> usize {
        match table {
            Table::Nodes | Table::Edges => self.dump.graph().node_count(),
            Table::Classes => self.classes().len(),
            Table::Roots => self.roots().len(),
            Table::Strings => self.strings().len(),
            Table::Sites => self.sites().len(),
            Table::Collections => self.collections().len(),
        }
    }

    /// The rows built from `units` (see [`units`](Self::units)).
    pub(crate) fn batch(
        &self,
        table: Table,
        units: Range<usize>,
    ) -> Result<RecordBatch, ArrowError> {
        if let Some(flag) = self.built.get(table as usize) {
            flag.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let columns = match table {
            Table::Nodes => self.node_columns(units),
            Table::Edges => self.edge_columns(units),
            Table::Classes => self.class_columns(units),
            Table::Roots => self.root_columns(units),
            Table::Strings => self.string_columns(units),
            Table::Sites => self.site_columns(units),
            Table::Collections => self.collection_columns(units),
        };
        RecordBatch::try_new(table.schema(), columns)
    }

    fn node_columns(&self, units: Range<usize>) -> Vec<ArrayRef> {
        let analysed = self.analysed();
        let analysis = analysed.analysis();
        let graph = analysis.graph();
        let detached = self.dump.detached_nodes();
        let rows = units.len();
        let mut index = UInt32Builder::with_capacity(rows);
        let mut id = UInt64Builder::with_capacity(rows);
        let mut kind = StringBuilder::with_capacity(rows, rows * 8);
        let mut class = StringBuilder::with_capacity(rows, rows * 16);
        let mut name = StringBuilder::with_capacity(rows, rows * 16);
        let mut self_size = UInt64Builder::with_capacity(rows);
        let mut shallow_size = UInt64Builder::with_capacity(rows);
        let mut retained_size = UInt64Builder::with_capacity(rows);
        let mut dominator_id = UInt64Builder::with_capacity(rows);
        let mut distance = UInt32Builder::with_capacity(rows);
        let mut detached_column = BooleanBuilder::with_capacity(rows);
        let mut stack_id = UInt32Builder::with_capacity(rows);
        for i in units {
            let node = NodeIndex::new(i as u32);
            index.append_value(node.as_u32());
            id.append_value(graph.object_id(node));
            kind.append_value(graph.kind(node).as_str());
            class.append_value(analysis.class_name(node));
            name.append_value(graph.name_str(node));
            self_size.append_value(graph.self_size(node));
            shallow_size.append_value(analysis.shallow_size(node));
            retained_size.append_value(analysis.retained_size(node));
            dominator_id.append_option(
                analysis
                    .immediate_dominator(node)
                    .filter(|&d| d != node)
                    .map(|d| graph.object_id(d)),
            );
            distance.append_option(analysis.distance(node));
            detached_column.append_option(detached.and_then(|d| d.get(i).copied()));
            stack_id.append_option(graph.node_stack(node).map(|s| s.as_u32()));
        }
        vec![
            Arc::new(index.finish()),
            Arc::new(id.finish()),
            Arc::new(kind.finish()),
            Arc::new(class.finish()),
            Arc::new(name.finish()),
            Arc::new(self_size.finish()),
            Arc::new(shallow_size.finish()),
            Arc::new(retained_size.finish()),
            Arc::new(dominator_id.finish()),
            Arc::new(distance.finish()),
            Arc::new(detached_column.finish()),
            Arc::new(stack_id.finish()),
        ]
    }

    fn edge_columns(&self, units: Range<usize>) -> Vec<ArrayRef> {
        let graph = self.dump.graph();
        let starts = graph.edge_starts();
        let first = starts.get(units.start).copied().unwrap_or(0) as usize;
        let end = starts.get(units.end).copied().unwrap_or(0) as usize;
        let rows = end.saturating_sub(first);
        let mut source = UInt32Builder::with_capacity(rows);
        let mut target = UInt32Builder::with_capacity(rows);
        let mut kind = StringBuilder::with_capacity(rows, rows * 8);
        let mut name = StringBuilder::with_capacity(rows, rows * 8);
        for i in units {
            let node = NodeIndex::new(i as u32);
            for edge in graph.edge_range(node) {
                let edge = EdgeIndex::new(edge);
                source.append_value(node.as_u32());
                target.append_value(graph.edge_target(edge).as_u32());
                kind.append_value(graph.edge_kind(edge).as_str());
                name.append_value(graph.edge_label_str(edge));
            }
        }
        vec![
            Arc::new(source.finish()),
            Arc::new(target.finish()),
            Arc::new(kind.finish()),
            Arc::new(name.finish()),
        ]
    }

    fn classes(&self) -> &[ClassStats] {
        self.classes.get_or_init(|| {
            let mut histogram = self.analysed().analysis().class_histogram();
            histogram.sort_by(HistogramOrder::RetainedSize);
            histogram.rows().to_vec()
        })
    }

    fn class_columns(&self, units: Range<usize>) -> Vec<ArrayRef> {
        let classes = self.analysed().analysis().classes();
        let rows = self.classes().get(units).unwrap_or(&[]);
        let mut class = StringBuilder::new();
        let mut count = UInt64Builder::with_capacity(rows.len());
        let mut shallow_size = UInt64Builder::with_capacity(rows.len());
        let mut retained_size = UInt64Builder::with_capacity(rows.len());
        for r in rows {
            class.append_value(classes.name(r.class));
            count.append_value(r.count);
            shallow_size.append_value(r.shallow_size);
            retained_size.append_value(r.retained_size);
        }
        vec![
            Arc::new(class.finish()),
            Arc::new(count.finish()),
            Arc::new(shallow_size.finish()),
            Arc::new(retained_size.finish()),
        ]
    }

    fn roots(&self) -> &[(NodeIndex, &'static str)] {
        self.roots.get_or_init(|| {
            let graph = self.dump.graph();
            let mut rows = Vec::new();
            for &(group, kind) in graph.root_groups() {
                for edge in graph.edges(group) {
                    rows.push((edge.target, kind.as_str()));
                }
            }
            rows
        })
    }

    fn root_columns(&self, units: Range<usize>) -> Vec<ArrayRef> {
        let graph = self.dump.graph();
        let rows = self.roots().get(units).unwrap_or(&[]);
        let mut index = UInt32Builder::with_capacity(rows.len());
        let mut id = UInt64Builder::with_capacity(rows.len());
        let mut kind = StringBuilder::new();
        for &(node, root_kind) in rows {
            index.append_value(node.as_u32());
            id.append_value(graph.object_id(node));
            kind.append_value(root_kind);
        }
        vec![
            Arc::new(index.finish()),
            Arc::new(id.finish()),
            Arc::new(kind.finish()),
        ]
    }

    fn strings(&self) -> &[NodeIndex] {
        self.strings.get_or_init(|| match self.dump.parsed() {
            Parsed::V8Snapshot(snapshot) => {
                heapgraph::analysis::strings::v8_strings(&snapshot.graph)
                    .map(|(node, _, _)| node)
                    .collect()
            }
            Parsed::Hprof(hprof) => hprof.java_string_nodes().collect(),
            _ => Vec::new(),
        })
    }

    /// A string object's value and cost, as duplicate-string analysis
    /// takes them (V8: the node's name and self size; Java: the text read
    /// from the file, the `String` and its array).
    fn string_value(&self, node: NodeIndex) -> Option<(std::borrow::Cow<'_, str>, u64, u64)> {
        match self.dump.parsed() {
            Parsed::V8Snapshot(snapshot) => {
                let graph = &snapshot.graph;
                let bytes = graph.strings().bytes(graph.name(node));
                Some((
                    String::from_utf8_lossy(bytes),
                    bytes.len() as u64,
                    graph.self_size(node),
                ))
            }
            Parsed::Hprof(hprof) => {
                let shallow = self.analysed().analysis().shallow_sizes();
                let (text, cost) = hprof.java_string(self.dump.bytes(), shallow, node)?;
                let length = text.len() as u64;
                Some((std::borrow::Cow::Owned(text), length, cost))
            }
            _ => None,
        }
    }

    fn string_columns(&self, units: Range<usize>) -> Vec<ArrayRef> {
        let graph = self.dump.graph();
        let nodes = self.strings().get(units).unwrap_or(&[]);
        let mut index = UInt32Builder::with_capacity(nodes.len());
        let mut id = UInt64Builder::with_capacity(nodes.len());
        let mut value = StringBuilder::new();
        let mut length = UInt64Builder::with_capacity(nodes.len());
        let mut shallow_size = UInt64Builder::with_capacity(nodes.len());
        for &node in nodes {
            // A Java string whose text cannot be read has no row, as in
            // duplicate-string analysis.
            let Some((text, bytes, cost)) = self.string_value(node) else {
                continue;
            };
            index.append_value(node.as_u32());
            id.append_value(graph.object_id(node));
            value.append_value(text);
            length.append_value(bytes);
            shallow_size.append_value(cost);
        }
        vec![
            Arc::new(index.finish()),
            Arc::new(id.finish()),
            Arc::new(value.finish()),
            Arc::new(length.finish()),
            Arc::new(shallow_size.finish()),
        ]
    }

    fn sites(&self) -> &[SiteRow] {
        self.sites.get_or_init(|| {
            let allocations = self.dump.allocations();
            let Ok(statistics) = allocations.statistics(KeyType::Lineno, false) else {
                return Vec::new();
            };
            statistics
                .iter()
                .map(|s| {
                    let frame = s.traceback.frames().last().copied();
                    SiteRow {
                        file: frame.map_or_else(String::new, |f| {
                            String::from_utf8_lossy(f.filename).into_owned()
                        }),
                        line: frame.map_or(0, |f| f.lineno),
                        size: s.size,
                        count: s.count,
                    }
                })
                .collect()
        })
    }

    fn site_columns(&self, units: Range<usize>) -> Vec<ArrayRef> {
        let rows = self.sites().get(units).unwrap_or(&[]);
        let mut file = StringBuilder::new();
        let mut line = UInt32Builder::with_capacity(rows.len());
        let mut size = UInt64Builder::with_capacity(rows.len());
        let mut count = UInt64Builder::with_capacity(rows.len());
        for r in rows {
            file.append_value(&r.file);
            line.append_value(r.line);
            size.append_value(r.size);
            count.append_value(r.count);
        }
        vec![
            Arc::new(file.finish()),
            Arc::new(line.finish()),
            Arc::new(size.finish()),
            Arc::new(count.finish()),
        ]
    }
}

impl DumpRows {
    fn collections(&self) -> &[heapgraph::collections::Collection] {
        self.collections.get_or_init(|| {
            if self.dump.hprof().is_none() {
                return Vec::new();
            }
            heapgraph::collections::collections(&self.dump, self.analysed().analysis())
        })
    }

    fn collection_columns(&self, units: Range<usize>) -> Vec<ArrayRef> {
        let analysis = self.analysed().analysis();
        let graph = analysis.graph();
        let rows = self.collections().get(units).unwrap_or(&[]);
        let mut index = UInt32Builder::with_capacity(rows.len());
        let mut id = UInt64Builder::with_capacity(rows.len());
        let mut class = StringBuilder::new();
        let mut holder = StringBuilder::new();
        let mut size = UInt64Builder::with_capacity(rows.len());
        let mut capacity = UInt64Builder::with_capacity(rows.len());
        let mut wasted = UInt64Builder::with_capacity(rows.len());
        let mut retained = UInt64Builder::with_capacity(rows.len());
        for c in rows {
            index.append_value(c.node.as_u32());
            id.append_value(graph.object_id(c.node));
            class.append_value(&c.class);
            holder.append_value(&c.holder);
            size.append_value(c.size);
            capacity.append_value(c.capacity);
            wasted.append_value(c.wasted_bytes());
            retained.append_value(analysis.retained_size(c.node));
        }
        vec![
            Arc::new(index.finish()),
            Arc::new(id.finish()),
            Arc::new(class.finish()),
            Arc::new(holder.finish()),
            Arc::new(size.finish()),
            Arc::new(capacity.finish()),
            Arc::new(wasted.finish()),
            Arc::new(retained.finish()),
        ]
    }
}

/// The batches of `table` over `units`, each at most [`BATCH_ROWS`] units.
pub(crate) fn batch_ranges(units: Range<usize>) -> impl Iterator<Item = Range<usize>> {
    let end = units.end;
    units
        .step_by(BATCH_ROWS)
        .map(move |start| start..(start + BATCH_ROWS).min(end))
}
