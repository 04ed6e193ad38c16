//! Column-by-column construction of Arrow record batches, and their hand-off
//! to Python through the Arrow PyCapsule interface.
//!
//! A [`Table`] is built in Rust (without the GIL), then wrapped in an
//! [`ArrowStream`]: a Python object with `__arrow_c_stream__`, which returns
//! a capsule named `arrow_array_stream` holding an `FFI_ArrowArrayStream`.
//! pyarrow (`pyarrow.table(stream)`), Polars and DuckDB import such streams
//! without copying the buffers; the capsule's destructor releases the stream
//! if no consumer took it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arrow_array::builder::{ListBuilder, UInt64Builder};
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, ListArray, RecordBatch, RecordBatchIterator,
    StringArray, StructArray, UInt32Array, UInt64Array,
};
use arrow_buffer::OffsetBuffer;
use arrow_schema::{DataType, Field, Fields, Schema};
use heapgraph::analysis::HeapAnalysis;
use heapgraph::core::{NodeIndex, NodeKind};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

/// A table under construction: named columns of equal length.
#[derive(Default)]
pub(crate) struct Table {
    fields: Vec<Field>,
    arrays: Vec<ArrayRef>,
    metadata: HashMap<String, String>,
}

impl Table {
    pub(crate) fn new() -> Table {
        Table::default()
    }

    fn push(&mut self, name: &str, nullable: bool, array: ArrayRef) {
        self.fields
            .push(Field::new(name, array.data_type().clone(), nullable));
        self.arrays.push(array);
    }

    pub(crate) fn u32(&mut self, name: &str, values: Vec<u32>) {
        self.push(name, false, Arc::new(UInt32Array::from(values)));
    }

    pub(crate) fn opt_u32(&mut self, name: &str, values: Vec<Option<u32>>) {
        self.push(name, true, Arc::new(UInt32Array::from(values)));
    }

    pub(crate) fn u64(&mut self, name: &str, values: Vec<u64>) {
        self.push(name, false, Arc::new(UInt64Array::from(values)));
    }

    pub(crate) fn opt_u64(&mut self, name: &str, values: Vec<Option<u64>>) {
        self.push(name, true, Arc::new(UInt64Array::from(values)));
    }

    pub(crate) fn i64(&mut self, name: &str, values: Vec<i64>) {
        self.push(name, false, Arc::new(Int64Array::from(values)));
    }

    pub(crate) fn f64(&mut self, name: &str, values: Vec<f64>) {
        self.push(name, false, Arc::new(Float64Array::from(values)));
    }

    pub(crate) fn bool(&mut self, name: &str, values: Vec<bool>) {
        self.push(name, false, Arc::new(BooleanArray::from(values)));
    }

    pub(crate) fn text<S: AsRef<str>>(&mut self, name: &str, values: impl IntoIterator<Item = S>) {
        self.push(name, false, Arc::new(StringArray::from_iter_values(values)));
    }

    pub(crate) fn opt_text(&mut self, name: &str, values: Vec<Option<String>>) {
        self.push(name, true, Arc::new(StringArray::from(values)));
    }

    /// A `list<uint64>` column; `None` rows are null.
    pub(crate) fn u64_lists(&mut self, name: &str, values: Vec<Option<Vec<u64>>>) {
        let nullable = values.iter().any(Option::is_none);
        let mut builder = ListBuilder::new(UInt64Builder::new());
        for row in values {
            match row {
                Some(items) => {
                    builder.values().append_slice(&items);
                    builder.append(true);
                }
                None => builder.append(false),
            }
        }
        self.push(name, nullable, Arc::new(builder.finish()));
    }

    /// A `list<struct<filename: string, lineno: uint32>>` column: frames.
    pub(crate) fn frame_lists(&mut self, name: &str, rows: Vec<Vec<(String, u32)>>) {
        let mut offsets = Vec::with_capacity(rows.len() + 1);
        offsets.push(0usize);
        let mut filenames = Vec::new();
        let mut linenos = Vec::new();
        for row in rows {
            for (filename, lineno) in row {
                filenames.push(filename);
                linenos.push(lineno);
            }
            offsets.push(filenames.len());
        }
        let struct_fields = Fields::from(vec![
            Field::new("filename", DataType::Utf8, false),
            Field::new("lineno", DataType::UInt32, false),
        ]);
        let values = StructArray::new(
            struct_fields.clone(),
            vec![
                Arc::new(StringArray::from(filenames)) as ArrayRef,
                Arc::new(UInt32Array::from(linenos)) as ArrayRef,
            ],
            None,
        );
        let item = Arc::new(Field::new("item", DataType::Struct(struct_fields), false));
        let list = ListArray::new(
            item,
            OffsetBuffer::from_lengths(offsets.windows(2).map(|w| w[1] - w[0])),
            Arc::new(values),
            None,
        );
        self.push(name, false, Arc::new(list));
    }

    /// Adds a key to the schema's metadata.
    pub(crate) fn meta(&mut self, key: &str, value: impl ToString) {
        self.metadata.insert(key.to_string(), value.to_string());
    }

    /// The record batch.
    fn finish(self) -> Result<RecordBatch, String> {
        let schema = Arc::new(Schema::new_with_metadata(self.fields, self.metadata));
        if self.arrays.is_empty() {
            return Err("a table needs at least one column".to_string());
        }
        RecordBatch::try_new(schema, self.arrays).map_err(|e| e.to_string())
    }
}

/// An Arrow C stream holding one record batch, for Python consumers.
///
/// It can be consumed once: `pyarrow.table(stream)` moves it.
#[pyclass(frozen, module = "heapgraph._native")]
pub(crate) struct ArrowStream {
    stream: Mutex<Option<FFI_ArrowArrayStream>>,
}

impl ArrowStream {
    pub(crate) fn new(table: Table) -> PyResult<ArrowStream> {
        let batch = table.finish().map_err(PyValueError::new_err)?;
        let schema = batch.schema();
        Ok(ArrowStream::from_batches(schema, vec![batch]))
    }

    /// A stream of `batches` (a query's result).
    pub(crate) fn from_batches(
        schema: arrow_schema::SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> ArrowStream {
        let reader = RecordBatchIterator::new(batches.into_iter().map(Ok), schema);
        ArrowStream {
            stream: Mutex::new(Some(FFI_ArrowArrayStream::new(Box::new(reader)))),
        }
    }
}

#[pymethods]
impl ArrowStream {
    /// The Arrow PyCapsule interface: a capsule `arrow_array_stream`.
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        // The schema is fixed; consumers cast if they asked for another.
        let _ = requested_schema;
        let stream = self
            .stream
            .lock()
            .map_err(|_| PyValueError::new_err("the Arrow stream is poisoned"))?
            .take()
            .ok_or_else(|| PyValueError::new_err("this Arrow stream was already consumed"))?;
        PyCapsule::new_with_value(py, stream, c"arrow_array_stream")
    }
}

/// A node's name for display: strings shortened, others as named (the
/// CLI's `--json` `name`).
pub(crate) fn display_name(graph: &heapgraph::HeapGraph, node: NodeIndex) -> String {
    let name = graph.name_str(node);
    let limit = match graph.kind(node) {
        NodeKind::String | NodeKind::ConsString | NodeKind::SlicedString => 60,
        _ => 200,
    };
    if name.chars().count() <= limit {
        return name.into_owned();
    }
    let mut out: String = name.chars().take(limit).collect();
    out.push('…');
    out
}

/// The columns describing objects, as the CLI's `--json` describes a node:
/// `index, id, kind, class, name, shallow_size, retained_size` (with an
/// optional prefix, and nulls for absent objects).
#[derive(Default)]
pub(crate) struct NodeColumns {
    index: Vec<Option<u32>>,
    id: Vec<Option<u64>>,
    kind: Vec<Option<String>>,
    class: Vec<Option<String>>,
    name: Vec<Option<String>>,
    shallow_size: Vec<Option<u64>>,
    retained_size: Vec<Option<u64>>,
}

impl NodeColumns {
    pub(crate) fn push(&mut self, analysis: &HeapAnalysis<'_>, node: Option<NodeIndex>) {
        let graph = analysis.graph();
        self.index.push(node.map(NodeIndex::as_u32));
        self.id.push(node.map(|n| graph.object_id(n)));
        self.kind
            .push(node.map(|n| graph.kind(n).as_str().to_string()));
        self.class
            .push(node.map(|n| analysis.class_name(n).to_string()));
        self.name.push(node.map(|n| display_name(graph, n)));
        self.shallow_size
            .push(node.map(|n| analysis.shallow_size(n)));
        self.retained_size
            .push(node.map(|n| analysis.retained_size(n)));
    }

    /// Adds the columns to `table`, named `{prefix}index` and so on.
    pub(crate) fn add_to(self, table: &mut Table, prefix: &str) {
        let nullable = self.index.iter().any(Option::is_none);
        let name = |column: &str| format!("{prefix}{column}");
        if nullable {
            table.opt_u32(&name("index"), self.index);
            table.opt_u64(&name("id"), self.id);
            table.opt_text(&name("kind"), self.kind);
            table.opt_text(&name("class"), self.class);
            table.opt_text(&name("name"), self.name);
            table.opt_u64(&name("shallow_size"), self.shallow_size);
            table.opt_u64(&name("retained_size"), self.retained_size);
        } else {
            table.u32(&name("index"), self.index.into_iter().flatten().collect());
            table.u64(&name("id"), self.id.into_iter().flatten().collect());
            table.text(&name("kind"), self.kind.into_iter().flatten());
            table.text(&name("class"), self.class.into_iter().flatten());
            table.text(&name("name"), self.name.into_iter().flatten());
            table.u64(
                &name("shallow_size"),
                self.shallow_size.into_iter().flatten().collect(),
            );
            table.u64(
                &name("retained_size"),
                self.retained_size.into_iter().flatten().collect(),
            );
        }
    }
}
