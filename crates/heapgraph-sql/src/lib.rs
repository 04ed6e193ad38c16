//! SQL over heap dumps, with Apache DataFusion.
//!
//! A dump's objects, references, classes, GC roots, strings and allocation
//! sites are offered as tables ([`Table`]) that are built only when a query
//! reads them, batch by batch as the query pulls rows; what plain SQL cannot
//! express (who holds an object, its paths to the GC roots, what it
//! dominates) are table functions ([`functions`]). Many dumps become one
//! Hive-partitioned Parquet dataset ([`dataset`]) that this crate, DuckDB
//! or Spark can query.
//!
//! ```no_run
//! use std::sync::Arc;
//! let dump = Arc::new(heapgraph::open("app.hprof")?);
//! let engine = heapgraph_sql::Engine::new()?;
//! engine.register_dump(dump)?;
//! let result = engine.query(
//!     "SELECT class, retained_size FROM classes ORDER BY retained_size DESC LIMIT 5",
//! )?;
//! println!("{} rows", result.row_count());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod dataset;
pub mod functions;
mod provider;
mod tables;

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use datafusion::execution::context::{SessionConfig, SessionContext};
use heapgraph::{Analysed, Dump};

/// The engine, re-exported so that users name the same version.
pub use datafusion;
pub use tables::Table;

/// Why a query or an export failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The SQL could not be planned or run (syntax, unknown table or
    /// column, a type error, a table function's bad argument).
    #[error("{0}")]
    Query(#[from] datafusion::error::DataFusionError),
    /// Building a record batch failed.
    #[error("building a table: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// Writing Parquet failed.
    #[error("writing Parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: std::path::PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The dataset already holds a dump of that name.
    #[error("the dataset already holds a dump named {name:?} ({path}); remove it or choose another name")]
    DumpExists {
        /// The dump's name.
        name: String,
        /// Its directory.
        path: std::path::PathBuf,
    },
    /// A dump name that cannot be a partition directory.
    #[error("{name:?} cannot name a dump in a dataset: use letters, digits, '.', '-' and '_'")]
    BadDumpName {
        /// The name.
        name: String,
    },
    /// The directory is not a dataset written by `export --dataset`.
    #[error("{path} holds no dataset (no dump=NAME/dump.parquet below it)")]
    NotADataset {
        /// The directory.
        path: std::path::PathBuf,
    },
    /// The async runtime could not start.
    #[error("cannot start the query runtime: {0}")]
    Runtime(std::io::Error),
}

/// A query's result: its schema and its rows.
#[derive(Debug, Clone)]
pub struct QueryResult {
    /// The columns.
    pub schema: SchemaRef,
    /// The rows, in batches.
    pub batches: Vec<RecordBatch>,
}

impl QueryResult {
    /// The number of rows.
    pub fn row_count(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

/// A DataFusion session with heapgraph's tables, and the runtime that runs
/// its queries to completion.
pub struct Engine {
    context: SessionContext,
    runtime: tokio::runtime::Runtime,
    /// The dump registered with [`register_dump`](Engine::register_dump).
    dump: std::sync::OnceLock<Arc<tables::DumpRows>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

impl Engine {
    /// A session using every core (DataFusion's partitions, one thread
    /// each), with no tables yet.
    ///
    /// # Errors
    ///
    /// [`Error::Runtime`] when the thread pool cannot start.
    pub fn new() -> Result<Engine, Error> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("heapgraph-sql")
            .build()
            .map_err(Error::Runtime)?;
        let config = SessionConfig::new()
            .with_target_partitions(threads)
            .with_information_schema(true);
        // `FROM 'file.parquet'` reads a file as a table.
        let context = SessionContext::new_with_config(config).enable_url_table();
        Ok(Engine {
            context,
            runtime,
            dump: std::sync::OnceLock::new(),
        })
    }

    /// The DataFusion session, to register more tables or functions.
    pub fn context(&self) -> &SessionContext {
        &self.context
    }

    /// Registers the tables of `dump` ([`Table::ALL`]) and the table
    /// functions ([`functions`]). The analysis is computed when a
    /// query first reads a table that needs it.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] if a table of that name is already registered.
    pub fn register_dump(&self, dump: Arc<Dump>) -> Result<(), Error> {
        self.register_rows(Arc::new(tables::DumpRows::new(dump, None)))
    }

    /// As [`register_dump`](Self::register_dump), with the analysis already
    /// computed.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] if a table of that name is already registered.
    pub fn register_analysed(&self, analysed: Arc<Analysed>) -> Result<(), Error> {
        let dump = Arc::clone(analysed.shared_dump());
        self.register_rows(Arc::new(tables::DumpRows::new(dump, Some(analysed))))
    }

    fn register_rows(&self, rows: Arc<tables::DumpRows>) -> Result<(), Error> {
        if self.dump.set(Arc::clone(&rows)).is_err() {
            return Err(Error::Query(datafusion::error::DataFusionError::Plan(
                "an engine holds the tables of one dump".to_string(),
            )));
        }
        let partitions = self.context.state().config().target_partitions();
        for table in Table::ALL {
            let provider = provider::lazy_table(Arc::clone(&rows), table, partitions)?;
            self.context.register_table(table.name(), provider)?;
        }
        functions::register(&self.context, rows);
        Ok(())
    }

    /// The tables of the registered dump that queries have read so far (a
    /// query reads only the tables it names).
    pub fn built_tables(&self) -> Vec<Table> {
        self.dump
            .get()
            .map_or_else(Vec::new, |rows| rows.built_tables())
    }

    /// Whether the registered dump's analysis (dominators, retained sizes,
    /// classes) has been computed: only queries that need it compute it.
    pub fn is_analysed(&self) -> bool {
        self.dump.get().is_some_and(|rows| rows.is_analysed())
    }

    /// The registered dump's analysis, if a query has computed it (or it
    /// was registered with one), to share with other users of the dump.
    pub fn analysed(&self) -> Option<Arc<Analysed>> {
        self.dump.get().and_then(|rows| rows.shared_analysis())
    }

    /// Registers the tables of a dataset written by
    /// [`dataset::append`], each with a `dump` column naming the dump a row
    /// comes from, plus the `dumps` table.
    ///
    /// # Errors
    ///
    /// [`Error::NotADataset`] when `dir` holds no dump, [`Error::Query`]
    /// when DataFusion cannot read it.
    pub fn register_dataset(&self, dir: &std::path::Path) -> Result<(), Error> {
        self.runtime.block_on(dataset::register(&self.context, dir))
    }

    /// Runs `sql` to completion.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] with DataFusion's message.
    pub fn query(&self, sql: &str) -> Result<QueryResult, Error> {
        self.runtime.block_on(async {
            let frame = self.context.sql(sql).await?;
            let schema: SchemaRef = Arc::new(frame.schema().as_arrow().clone());
            let batches = frame.collect().await?;
            Ok(QueryResult { schema, batches })
        })
    }
}
