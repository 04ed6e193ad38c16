//! `heapgraph query`: SQL over one dump's tables or over a dataset of many
//! dumps (`heapgraph-sql`, Apache DataFusion).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use heapgraph_sql::datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use heapgraph_sql::datafusion::arrow::datatypes::{self, DataType};
use heapgraph_sql::datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use heapgraph_sql::{Engine, QueryResult};
use serde_json::{Map, Value};

use crate::common::{open_dump, with_progress, write_json};
use crate::format::{Align, Table};
use crate::{Failure, GlobalOptions, Outcome};

/// What the query reads.
enum Source<'a> {
    /// One dump's tables.
    Dump(&'a Path),
    /// A dataset written by `export --dataset`.
    Dataset(&'a Path),
}

/// Where the rows go.
pub(crate) enum Destination<'a> {
    /// The terminal: a table, or JSON with `--json`.
    Stdout,
    /// CSV on stdout.
    Csv,
    /// A `.parquet` or `.csv` file.
    File(&'a Path),
}

/// `heapgraph query` as typed: `DUMP SQL`, or `SQL` with `--dataset`.
pub(crate) fn run_args(
    options: &GlobalOptions,
    args: &[String],
    dataset: Option<&Path>,
    csv: bool,
    output: Option<&Path>,
    out: &mut impl Write,
) -> Result<(), Outcome> {
    let destination = match (output, csv) {
        (Some(path), _) => Destination::File(path),
        (None, true) => Destination::Csv,
        (None, false) => Destination::Stdout,
    };
    match (args, dataset) {
        ([dump, sql], None) => run(
            options,
            Source::Dump(Path::new(dump)),
            sql,
            destination,
            out,
        ),
        ([sql], Some(dir)) => run(options, Source::Dataset(dir), sql, destination, out),
        ([_], None) => Err(Failure(
            "query needs a dump and a query (or --dataset DIR and a query)".to_string(),
        )
        .into()),
        _ => Err(Failure("with --dataset, give the query alone".to_string()).into()),
    }
}

/// Runs `sql` over the tables of `source`.
fn run(
    options: &GlobalOptions,
    source: Source<'_>,
    sql: &str,
    destination: Destination<'_>,
    out: &mut impl Write,
) -> Result<(), Outcome> {
    let engine = Engine::new().map_err(|e| Failure(e.to_string()))?;
    let source = match source {
        Source::Dump(file) => {
            let opened = Arc::new(open_dump(options, file)?);
            engine
                .register_dump(opened)
                .map_err(|e| Failure(e.to_string()))?;
            file.display().to_string()
        }
        Source::Dataset(dir) => {
            engine
                .register_dataset(dir)
                .map_err(|e| Failure(e.to_string()))?;
            dir.display().to_string()
        }
    };
    let result = with_progress(options, "running the query".to_string(), || {
        engine.query(sql)
    })
    .map_err(|e| Failure(format!("query: {e}")))?;
    match destination {
        Destination::File(path) => {
            write_file(&result, path)?;
            if options.json {
                let document = serde_json::json!({
                    "source": source,
                    "output": path.display().to_string(),
                    "rows": result.row_count(),
                });
                return write_json(out, &document);
            }
            if !options.quiet {
                eprintln!(
                    "heapgraph: wrote {} rows to {}",
                    result.row_count(),
                    path.display()
                );
            }
            Ok(())
        }
        Destination::Csv => Ok(write_csv(&result, out)?),
        Destination::Stdout if options.json => write_json(out, &json(&source, sql, &result)?),
        Destination::Stdout => {
            write!(out, "{}", table(&result)?)?;
            Ok(())
        }
    }
}

fn format_error(e: impl std::fmt::Display) -> Outcome {
    Failure(format!("query: cannot format the result: {e}")).into()
}

/// The cells of `column` as text (empty for nulls).
fn texts(column: &ArrayRef) -> Result<Vec<String>, Outcome> {
    let options = FormatOptions::default().with_null("");
    let formatter = ArrayFormatter::try_new(column.as_ref(), &options).map_err(format_error)?;
    Ok((0..column.len())
        .map(|i| formatter.value(i).to_string())
        .collect())
}

/// Every column of `batch` as text.
fn batch_texts(batch: &RecordBatch) -> Result<Vec<Vec<String>>, Outcome> {
    batch.columns().iter().map(texts).collect()
}

fn table(result: &QueryResult) -> Result<String, Outcome> {
    let header: Vec<(&str, Align)> = result
        .schema
        .fields()
        .iter()
        .map(|f| {
            let align = if f.data_type().is_numeric() {
                Align::Right
            } else {
                Align::Left
            };
            (f.name().as_str(), align)
        })
        .collect();
    let mut out = Table::new(&header);
    for batch in &result.batches {
        let columns = batch_texts(batch)?;
        for row in 0..batch.num_rows() {
            out.row(
                columns
                    .iter()
                    .map(|c| c.get(row).cloned().unwrap_or_default())
                    .collect(),
            );
        }
    }
    Ok(out.render())
}

/// One cell as JSON: numbers as numbers, text as strings, null as null,
/// anything else as its text.
fn json_cell(column: &ArrayRef, text: &str, row: usize) -> Value {
    if column.is_null(row) {
        return Value::Null;
    }
    macro_rules! primitive {
        ($t:ty) => {
            Value::from(column.as_primitive::<$t>().value(row))
        };
    }
    match column.data_type() {
        DataType::Boolean => Value::Bool(column.as_boolean().value(row)),
        DataType::Int8 => primitive!(datatypes::Int8Type),
        DataType::Int16 => primitive!(datatypes::Int16Type),
        DataType::Int32 => primitive!(datatypes::Int32Type),
        DataType::Int64 => primitive!(datatypes::Int64Type),
        DataType::UInt8 => primitive!(datatypes::UInt8Type),
        DataType::UInt16 => primitive!(datatypes::UInt16Type),
        DataType::UInt32 => primitive!(datatypes::UInt32Type),
        DataType::UInt64 => primitive!(datatypes::UInt64Type),
        DataType::Float32 => primitive!(datatypes::Float32Type),
        DataType::Float64 => primitive!(datatypes::Float64Type),
        _ => Value::String(text.to_string()),
    }
}

fn json(source: &str, sql: &str, result: &QueryResult) -> Result<Value, Outcome> {
    let names: Vec<&String> = result.schema.fields().iter().map(|f| f.name()).collect();
    let mut rows = Vec::with_capacity(result.row_count());
    for batch in &result.batches {
        let columns = batch_texts(batch)?;
        for row in 0..batch.num_rows() {
            let mut object = Map::new();
            for ((name, column), text) in names.iter().zip(batch.columns()).zip(&columns) {
                let cell = json_cell(column, text.get(row).map_or("", String::as_str), row);
                object.insert((*name).clone(), cell);
            }
            rows.push(Value::Object(object));
        }
    }
    let columns: Vec<Value> = result
        .schema
        .fields()
        .iter()
        .map(|f| serde_json::json!({ "name": f.name(), "type": f.data_type().to_string() }))
        .collect();
    Ok(serde_json::json!({
        "source": source,
        "sql": sql,
        "columns": columns,
        "rows": rows,
    }))
}

fn write_csv(result: &QueryResult, out: &mut impl Write) -> Result<(), Outcome> {
    let names: Vec<&str> = result
        .schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        super::export::csv_field(out, name)?;
    }
    out.write_all(b"\n")?;
    for batch in &result.batches {
        let columns = batch_texts(batch)?;
        for row in 0..batch.num_rows() {
            for (i, column) in columns.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                super::export::csv_field(out, column.get(row).map_or("", String::as_str))?;
            }
            out.write_all(b"\n")?;
        }
    }
    Ok(())
}

fn write_file(result: &QueryResult, path: &Path) -> Result<(), Outcome> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let cannot =
        |e: &dyn std::fmt::Display| Failure(format!("cannot write {}: {e}", path.display()));
    let file = File::create(path).map_err(|e| cannot(&e))?;
    match extension.as_deref() {
        Some("parquet") => {
            let properties = parquet::file::properties::WriterProperties::builder()
                .set_compression(parquet::basic::Compression::SNAPPY)
                .build();
            let mut writer = parquet::arrow::ArrowWriter::try_new(
                file,
                Arc::clone(&result.schema),
                Some(properties),
            )
            .map_err(|e| cannot(&e))?;
            for batch in &result.batches {
                writer.write(batch).map_err(|e| cannot(&e))?;
            }
            writer.close().map_err(|e| cannot(&e))?;
            Ok(())
        }
        Some("csv") => {
            let mut writer = BufWriter::new(file);
            write_csv(result, &mut writer)?;
            writer.flush().map_err(|e| cannot(&e))?;
            Ok(())
        }
        _ => Err(Failure(format!(
            "{}: the output must end in .csv or .parquet",
            path.display()
        ))
        .into()),
    }
}
