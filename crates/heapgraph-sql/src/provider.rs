//! Tables as DataFusion providers that build their rows while a query
//! reads them.

use std::sync::Arc;

use arrow_schema::SchemaRef;
use datafusion::catalog::streaming::StreamingTable;
use datafusion::catalog::TableProvider;
use datafusion::error::DataFusionError;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;

use crate::tables::{batch_ranges, DumpRows, Table};
use crate::Error;

/// One of a table's `parts` partitions: the `part`-th contiguous share of
/// its rows, decided when the query runs (so that registering a table
/// computes nothing).
#[derive(Debug)]
struct Partition {
    rows: Arc<DumpRows>,
    table: Table,
    schema: SchemaRef,
    part: usize,
    parts: usize,
}

impl PartitionStream for Partition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _context: Arc<TaskContext>) -> SendableRecordBatchStream {
        let rows = Arc::clone(&self.rows);
        let table = self.table;
        let (part, parts) = (self.part, self.parts);
        // The rows' count (and the analysis behind it) is computed when the
        // stream is first polled, not when the plan is built.
        let batches = futures::stream::once(async move {
            let units = rows.units(table);
            let share = units.div_ceil(parts.max(1));
            let start = (part * share).min(units);
            let end = (start + share).min(units);
            let each = batch_ranges(start..end).map(move |range| {
                rows.batch(table, range)
                    .map_err(|e| DataFusionError::ArrowError(Box::new(e), None))
            });
            futures::stream::iter(each)
        });
        use futures::StreamExt;
        Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            batches.flatten(),
        ))
    }
}

/// `table` of `rows` as a provider read by `partitions` streams at once.
pub(crate) fn lazy_table(
    rows: Arc<DumpRows>,
    table: Table,
    partitions: usize,
) -> Result<Arc<dyn TableProvider>, Error> {
    let schema = table.schema();
    let parts = partitions.max(1);
    let streams: Vec<Arc<dyn PartitionStream>> = (0..parts)
        .map(|part| {
            Arc::new(Partition {
                rows: Arc::clone(&rows),
                table,
                schema: Arc::clone(&schema),
                part,
                parts,
            }) as Arc<dyn PartitionStream>
        })
        .collect();
    Ok(Arc::new(StreamingTable::try_new(schema, streams)?))
}
