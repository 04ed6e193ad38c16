//! Many dumps as one Hive-partitioned Parquet dataset.
//!
//! Layout (a contract: DuckDB, Spark and `heapgraph query --dataset` read
//! it):
//!
//! ```text
//! DIR/dump=NAME/dump.parquet      one row: file, format, producer, taken_at,
//!                                 node_count, edge_count, total_self_size, root_count
//! DIR/dump=NAME/nodes.parquet     the nodes table
//! DIR/dump=NAME/edges.parquet     edges
//! DIR/dump=NAME/classes.parquet   classes
//! DIR/dump=NAME/roots.parquet     roots
//! DIR/dump=NAME/strings.parquet   strings
//! DIR/dump=NAME/sites.parquet     sites
//! DIR/dump=NAME/collections.parquet  collections
//! ```
//!
//! The columns are those of [`Table::schema`]; readers add `dump` (the
//! partition) to every table. Each dump is written one table and one batch
//! at a time, into files that get their final names only when complete, and
//! `dump.parquet` last: a directory without it is an export that did not
//! finish, which readers skip.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{StringBuilder, TimestampMillisecondBuilder, UInt64Builder};
use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::ListingOptions;
use datafusion::execution::context::SessionContext;
use heapgraph::{Dump, Parsed};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::tables::{batch_ranges, DumpRows, Table};
use crate::Error;

/// The name of the per-dump summary table and file.
pub const DUMPS_TABLE: &str = "dumps";

/// What [`append`] wrote for one dump.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appended {
    /// The dump's name (its partition value).
    pub name: String,
    /// Its directory, `DIR/dump=NAME`.
    pub path: PathBuf,
    /// Rows written per table, in [`Table::ALL`] order.
    pub rows: Vec<(Table, u64)>,
}

/// The columns of `dump.parquet`.
pub fn dumps_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("file", DataType::Utf8, false),
        Field::new("format", DataType::Utf8, false),
        Field::new("producer", DataType::Utf8, false),
        Field::new(
            "taken_at",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            true,
        ),
        Field::new("node_count", DataType::UInt64, false),
        Field::new("edge_count", DataType::UInt64, false),
        Field::new("total_self_size", DataType::UInt64, false),
        Field::new("root_count", DataType::UInt64, false),
    ]))
}

/// The name a dump gets by default: its file name without `.gz` and its
/// format's extension, with any character outside `[A-Za-z0-9._-]` made `_`.
pub fn default_name(file: &Path) -> String {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    let stem = match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => name,
    };
    stem.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Adds `dump` (read from `file`) to the dataset in `dir` as `name`,
/// creating `dir` if needed. Memory: the dump, its analysis and one batch
/// of rows.
///
/// # Errors
///
/// [`Error::BadDumpName`], [`Error::DumpExists`], [`Error::Io`] or
/// [`Error::Parquet`] when a file cannot be written.
pub fn append(dir: &Path, name: &str, file: &Path, dump: Arc<Dump>) -> Result<Appended, Error> {
    if !valid_name(name) {
        return Err(Error::BadDumpName {
            name: name.to_string(),
        });
    }
    let target = dir.join(format!("dump={name}"));
    if target.join("dump.parquet").exists() {
        return Err(Error::DumpExists {
            name: name.to_string(),
            path: target,
        });
    }
    fs::create_dir_all(&target).map_err(io(&target))?;
    let rows = DumpRows::new(Arc::clone(&dump), None);
    let mut counts = Vec::new();
    for table in Table::ALL {
        let mut written = 0u64;
        write_parquet(&target, table.name(), table.schema(), |write| {
            for range in batch_ranges(0..rows.units(table)) {
                let batch = rows.batch(table, range)?;
                written += batch.num_rows() as u64;
                write(&batch)?;
            }
            Ok(())
        })?;
        counts.push((table, written));
    }
    let summary = dump_summary(file, &dump)?;
    write_parquet(&target, "dump", dumps_schema(), |write| write(&summary))?;
    Ok(Appended {
        name: name.to_string(),
        path: target,
        rows: counts,
    })
}

/// Writes `DIR/NAME.parquet` from the batches `fill` hands to its writer,
/// under a temporary name until it is complete.
fn write_parquet(
    dir: &Path,
    name: &str,
    schema: SchemaRef,
    fill: impl FnOnce(&mut dyn FnMut(&RecordBatch) -> Result<(), Error>) -> Result<(), Error>,
) -> Result<(), Error> {
    let partial = dir.join(format!("{name}.parquet.partial"));
    let done = dir.join(format!("{name}.parquet"));
    let file = File::create(&partial).map_err(io(&partial))?;
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut writer = ArrowWriter::try_new(file, schema, Some(properties))?;
    fill(&mut |batch| Ok(writer.write(batch)?))?;
    writer.close()?;
    fs::rename(&partial, &done).map_err(io(&done))?;
    Ok(())
}

/// The one row of `dump.parquet`.
fn dump_summary(file: &Path, dump: &Dump) -> Result<RecordBatch, Error> {
    let graph = dump.graph();
    let taken_at = match dump.parsed() {
        Parsed::Hprof(hprof) => i64::try_from(hprof.timestamp_ms()).ok().filter(|&t| t > 0),
        _ => None,
    };
    let mut file_column = StringBuilder::new();
    file_column.append_value(file.display().to_string());
    let mut format = StringBuilder::new();
    format.append_value(dump.format().as_str());
    let mut producer = StringBuilder::new();
    producer.append_value(dump.producer());
    let mut taken = TimestampMillisecondBuilder::new().with_timezone("UTC");
    taken.append_option(taken_at);
    let number = |value: u64| {
        let mut b = UInt64Builder::new();
        b.append_value(value);
        Arc::new(b.finish()) as arrow_array::ArrayRef
    };
    Ok(RecordBatch::try_new(
        dumps_schema(),
        vec![
            Arc::new(file_column.finish()),
            Arc::new(format.finish()),
            Arc::new(producer.finish()),
            Arc::new(taken.finish()),
            number(graph.node_count() as u64),
            number(graph.edge_count() as u64),
            number(graph.total_self_size()),
            number(dump.root_count()),
        ],
    )?)
}

/// The names of the complete dumps in `dir`, sorted.
pub fn dump_names(dir: &Path) -> Result<Vec<String>, Error> {
    let mut names = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(names),
        Err(e) => return Err(io(dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io(dir))?;
        let file_name = entry.file_name();
        let Some(name) = file_name.to_str().and_then(|n| n.strip_prefix("dump=")) else {
            continue;
        };
        if entry.path().join("dump.parquet").is_file() {
            names.push(name.to_string());
        }
    }
    names.sort();
    Ok(names)
}

/// Registers the dataset's tables in `context`, each with the partition
/// column `dump`.
pub(crate) async fn register(context: &SessionContext, dir: &Path) -> Result<(), Error> {
    if dump_names(dir)?.is_empty() {
        return Err(Error::NotADataset {
            path: dir.to_path_buf(),
        });
    }
    let absolute = fs::canonicalize(dir).map_err(io(dir))?;
    let url = format!("{}/", absolute.display());
    let tables = Table::ALL
        .iter()
        .map(|t| (t.name(), t.schema()))
        .chain(std::iter::once((DUMPS_TABLE, dumps_schema())));
    for (name, schema) in tables {
        let file = if name == DUMPS_TABLE { "dump" } else { name };
        let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
            .with_file_extension(format!("/{file}.parquet"))
            .with_table_partition_cols(vec![("dump".to_string(), DataType::Utf8)]);
        context
            .register_listing_table(name, &url, options, Some(schema), None)
            .await?;
    }
    Ok(())
}
