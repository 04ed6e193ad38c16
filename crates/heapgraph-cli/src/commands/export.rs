//! `heapgraph export`: nodes, edges or classes as CSV or Parquet, for
//! notebooks, DuckDB, Polars or Spark.
//!
//! The columns are a contract (see the README):
//!
//! * nodes: `index, id, kind, name, self_size, shallow_size, retained_size,
//!   dominator_id, distance` (`dominator_id` is the immediate dominator's
//!   `id`, empty for the root and unreachable nodes; `distance` is empty for
//!   unreachable nodes; `shallow_size` is what the format's reference tool
//!   shows, `self_size` what the file says).
//! * edges: `source_index, source_id, target_index, target_id, kind, name`.
//! * classes: `class, count, shallow_size, retained_size`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{StringBuilder, UInt32Builder, UInt64Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use heapgraph::analysis::{HeapAnalysis, HistogramOrder};
use heapgraph::core::{EdgeIndex, NodeIndex};

use crate::common::{analyse, open_dump, write_json};
use crate::{ExportWhat, Failure, GlobalOptions, Outcome};

/// Rows written per Parquet row group (bounds the memory export needs).
const BATCH_ROWS: usize = 64 * 1024;

#[derive(Clone, Copy)]
enum ColumnType {
    U32,
    U64,
    OptionalU32,
    OptionalU64,
    Text,
}

enum Cell {
    U32(u32),
    U64(u64),
    Null,
    Text(String),
}

/// A table to export: its columns and a way to produce row `i`.
struct Export<'a> {
    columns: &'static [(&'static str, ColumnType)],
    rows: usize,
    row: Box<dyn Fn(usize) -> Vec<Cell> + 'a>,
}

fn nodes_export<'a>(analysis: &'a HeapAnalysis<'a>) -> Export<'a> {
    const COLUMNS: &[(&str, ColumnType)] = &[
        ("index", ColumnType::U32),
        ("id", ColumnType::U64),
        ("kind", ColumnType::Text),
        ("name", ColumnType::Text),
        ("self_size", ColumnType::U64),
        ("shallow_size", ColumnType::U64),
        ("retained_size", ColumnType::U64),
        ("dominator_id", ColumnType::OptionalU64),
        ("distance", ColumnType::OptionalU32),
    ];
    let graph = analysis.graph();
    Export {
        columns: COLUMNS,
        rows: graph.node_count(),
        row: Box::new(move |i| {
            let node = NodeIndex::new(i as u32);
            vec![
                Cell::U32(node.as_u32()),
                Cell::U64(graph.object_id(node)),
                Cell::Text(graph.kind(node).as_str().to_string()),
                Cell::Text(graph.name_str(node).into_owned()),
                Cell::U64(graph.self_size(node)),
                Cell::U64(analysis.shallow_size(node)),
                Cell::U64(analysis.retained_size(node)),
                analysis
                    .immediate_dominator(node)
                    .filter(|&d| d != node)
                    .map_or(Cell::Null, |d| Cell::U64(graph.object_id(d))),
                analysis.distance(node).map_or(Cell::Null, Cell::U32),
            ]
        }),
    }
}

fn edges_export<'a>(analysis: &'a HeapAnalysis<'a>) -> Export<'a> {
    const COLUMNS: &[(&str, ColumnType)] = &[
        ("source_index", ColumnType::U32),
        ("source_id", ColumnType::U64),
        ("target_index", ColumnType::U32),
        ("target_id", ColumnType::U64),
        ("kind", ColumnType::Text),
        ("name", ColumnType::Text),
    ];
    let graph = analysis.graph();
    Export {
        columns: COLUMNS,
        rows: graph.edge_count(),
        row: Box::new(move |i| {
            let edge = EdgeIndex::new(i as u32);
            let source = graph.edge_source(edge);
            let target = graph.edge_target(edge);
            vec![
                Cell::U32(source.as_u32()),
                Cell::U64(graph.object_id(source)),
                Cell::U32(target.as_u32()),
                Cell::U64(graph.object_id(target)),
                Cell::Text(graph.edge_kind(edge).as_str().to_string()),
                Cell::Text(graph.edge_label_str(edge).into_owned()),
            ]
        }),
    }
}

fn classes_export<'a>(analysis: &'a HeapAnalysis<'a>) -> Export<'a> {
    const COLUMNS: &[(&str, ColumnType)] = &[
        ("class", ColumnType::Text),
        ("count", ColumnType::U64),
        ("shallow_size", ColumnType::U64),
        ("retained_size", ColumnType::U64),
    ];
    let mut histogram = analysis.class_histogram();
    histogram.sort_by(HistogramOrder::RetainedSize);
    let rows: Vec<_> = histogram.rows().to_vec();
    Export {
        columns: COLUMNS,
        rows: rows.len(),
        row: Box::new(move |i| {
            let r = rows[i];
            vec![
                Cell::Text(analysis.classes().name(r.class).to_string()),
                Cell::U64(r.count),
                Cell::U64(r.shallow_size),
                Cell::U64(r.retained_size),
            ]
        }),
    }
}

/// Quotes a CSV field when it needs it (RFC 4180).
pub(crate) fn csv_field(out: &mut impl Write, text: &str) -> std::io::Result<()> {
    if text.contains([',', '"', '\n', '\r']) {
        write!(out, "\"{}\"", text.replace('"', "\"\""))
    } else {
        out.write_all(text.as_bytes())
    }
}

fn write_csv(export: &Export<'_>, out: &mut impl Write) -> std::io::Result<()> {
    let header: Vec<&str> = export.columns.iter().map(|(name, _)| *name).collect();
    writeln!(out, "{}", header.join(","))?;
    for i in 0..export.rows {
        for (c, cell) in (export.row)(i).iter().enumerate() {
            if c > 0 {
                out.write_all(b",")?;
            }
            match cell {
                Cell::U32(v) => write!(out, "{v}")?,
                Cell::U64(v) => write!(out, "{v}")?,
                Cell::Null => {}
                Cell::Text(t) => csv_field(out, t)?,
            }
        }
        out.write_all(b"\n")?;
    }
    Ok(())
}

fn write_parquet(export: &Export<'_>, file: File) -> Result<(), String> {
    let schema = Arc::new(Schema::new(
        export
            .columns
            .iter()
            .map(|&(name, ty)| match ty {
                ColumnType::U32 => Field::new(name, DataType::UInt32, false),
                ColumnType::U64 => Field::new(name, DataType::UInt64, false),
                ColumnType::OptionalU32 => Field::new(name, DataType::UInt32, true),
                ColumnType::OptionalU64 => Field::new(name, DataType::UInt64, true),
                ColumnType::Text => Field::new(name, DataType::Utf8, false),
            })
            .collect::<Vec<_>>(),
    ));
    let properties = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::SNAPPY)
        .build();
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(file, Arc::clone(&schema), Some(properties))
            .map_err(|e| e.to_string())?;
    let mut start = 0;
    while start < export.rows || (start == 0 && export.rows == 0) {
        let end = (start + BATCH_ROWS).min(export.rows);
        let mut builders: Vec<Builder> = export
            .columns
            .iter()
            .map(|&(_, ty)| Builder::new(ty, end - start))
            .collect();
        for i in start..end {
            for (builder, cell) in builders.iter_mut().zip((export.row)(i)) {
                builder.push(cell);
            }
        }
        let arrays: Vec<ArrayRef> = builders.into_iter().map(Builder::finish).collect();
        let batch = RecordBatch::try_new(Arc::clone(&schema), arrays).map_err(|e| e.to_string())?;
        writer.write(&batch).map_err(|e| e.to_string())?;
        if end == export.rows {
            break;
        }
        start = end;
    }
    writer.close().map_err(|e| e.to_string())?;
    Ok(())
}

enum Builder {
    U32(UInt32Builder),
    U64(UInt64Builder),
    Text(StringBuilder),
}

impl Builder {
    fn new(ty: ColumnType, rows: usize) -> Builder {
        match ty {
            ColumnType::U32 | ColumnType::OptionalU32 => {
                Builder::U32(UInt32Builder::with_capacity(rows))
            }
            ColumnType::U64 | ColumnType::OptionalU64 => {
                Builder::U64(UInt64Builder::with_capacity(rows))
            }
            ColumnType::Text => Builder::Text(StringBuilder::with_capacity(rows, rows * 16)),
        }
    }

    fn push(&mut self, cell: Cell) {
        match (self, cell) {
            (Builder::U32(b), Cell::U32(v)) => b.append_value(v),
            (Builder::U64(b), Cell::U64(v)) => b.append_value(v),
            (Builder::U32(b), _) => b.append_null(),
            (Builder::U64(b), _) => b.append_null(),
            (Builder::Text(b), Cell::Text(t)) => b.append_value(t),
            (Builder::Text(b), _) => b.append_value(""),
        }
    }

    fn finish(self) -> ArrayRef {
        match self {
            Builder::U32(mut b) => Arc::new(b.finish()),
            Builder::U64(mut b) => Arc::new(b.finish()),
            Builder::Text(mut b) => Arc::new(b.finish()),
        }
    }
}

#[derive(serde::Serialize)]
struct ExportJson {
    file: String,
    output: String,
    what: &'static str,
    format: &'static str,
    rows: u64,
}

/// `export DUMP -o FILE`: one table of one dump.
pub(crate) fn run_single(
    options: &GlobalOptions,
    files: &[std::path::PathBuf],
    output: Option<&Path>,
    what: ExportWhat,
    out: &mut impl Write,
) -> Result<(), Outcome> {
    match (files, output) {
        ([file], Some(output)) => run(options, file, output, what, out),
        ([_], None) => Err(Failure("export needs -o FILE (or --dataset DIR)".to_string()).into()),
        _ => Err(Failure(
            "export writes one dump to a file; several dumps go to a --dataset DIR".to_string(),
        )
        .into()),
    }
}

/// What `export --dataset --json` prints per dump.
#[cfg(feature = "sql")]
#[derive(serde::Serialize)]
struct DatasetDumpJson {
    file: String,
    name: String,
    path: String,
    rows: std::collections::BTreeMap<&'static str, u64>,
}

/// `export --dataset DIR DUMP...`: every table of each dump into the
/// dataset, one dump at a time.
#[cfg(feature = "sql")]
pub(crate) fn run_dataset(
    options: &GlobalOptions,
    files: &[std::path::PathBuf],
    dir: &Path,
    name: Option<&str>,
    out: &mut impl Write,
) -> Result<(), Outcome> {
    if name.is_some() && files.len() != 1 {
        return Err(Failure("--name names one dump; give one file with it".to_string()).into());
    }
    let mut written = Vec::with_capacity(files.len());
    for file in files {
        let dump_name = name.map_or_else(
            || heapgraph_sql::dataset::default_name(file),
            str::to_string,
        );
        let dump = std::sync::Arc::new(open_dump(options, file)?);
        let appended = crate::common::with_progress(
            options,
            format!("adding {} to the dataset", file.display()),
            || heapgraph_sql::dataset::append(dir, &dump_name, file, dump),
        )
        .map_err(|e| Failure(format!("{}: {e}", file.display())))?;
        if !options.quiet && !options.json {
            let nodes = appended.rows.first().map_or(0, |&(_, n)| n);
            eprintln!(
                "heapgraph: added {} as {} ({nodes} nodes) to {}",
                file.display(),
                appended.name,
                dir.display()
            );
        }
        written.push(DatasetDumpJson {
            file: file.display().to_string(),
            name: appended.name,
            path: appended.path.display().to_string(),
            rows: appended.rows.iter().map(|&(t, n)| (t.name(), n)).collect(),
        });
    }
    if options.json {
        return write_json(
            out,
            &serde_json::json!({ "dataset": dir.display().to_string(), "dumps": written }),
        );
    }
    Ok(())
}

fn run(
    options: &GlobalOptions,
    file: &Path,
    output: &Path,
    what: ExportWhat,
    out: &mut impl Write,
) -> Result<(), Outcome> {
    let extension = output
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let parquet = match extension.as_deref() {
        Some("parquet") => true,
        Some("csv") => false,
        _ => {
            return Err(Failure(format!(
                "{}: the output must end in .csv or .parquet",
                output.display()
            ))
            .into())
        }
    };
    let dump = open_dump(options, file)?;
    let analysis = analyse(options, &dump);
    let (export, what_name) = match what {
        ExportWhat::Nodes => (nodes_export(&analysis), "nodes"),
        ExportWhat::Edges => (edges_export(&analysis), "edges"),
        ExportWhat::Classes => (classes_export(&analysis), "classes"),
    };
    let create = File::create(output)
        .map_err(|e| Failure(format!("cannot create {}: {e}", output.display())))?;
    let written = if parquet {
        write_parquet(&export, create)
    } else {
        let mut writer = BufWriter::new(create);
        write_csv(&export, &mut writer)
            .and_then(|()| writer.flush())
            .map_err(|e| e.to_string())
    };
    written.map_err(|e| Failure(format!("cannot write {}: {e}", output.display())))?;
    let document = ExportJson {
        file: file.display().to_string(),
        output: output.display().to_string(),
        what: what_name,
        format: if parquet { "parquet" } else { "csv" },
        rows: export.rows as u64,
    };
    if options.json {
        return write_json(out, &document);
    }
    if !options.quiet {
        eprintln!(
            "heapgraph: wrote {} {} to {}",
            document.rows, document.what, document.output
        );
    }
    Ok(())
}
