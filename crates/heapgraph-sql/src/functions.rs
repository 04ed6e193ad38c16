//! Table functions for what plain SQL cannot express: graph walks from one
//! object.
//!
//! | function | rows |
//! |---|---|
//! | `retainers(id)` | the objects holding a reference to object `id`: `index, id, class, kind, name, retained_size` (`kind` and `name` are the reference's) |
//! | `path_to_root(id, k)` | up to `k` shortest paths from the GC roots to object `id`, ignoring weak references: `path, step, index, id, class, edge` (step 0 is the root; `edge` names the reference into the step's object) |
//! | `dominated_by(id)` | every object object `id` dominates (the objects freed with it): `index, id, class, depth, retained_size` (depth 1 = immediately dominated) |
//!
//! `id` is an object id (`nodes.id`); an id not in the dump is an error.

use std::sync::Arc;

use arrow_array::builder::{StringBuilder, UInt32Builder, UInt64Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::datasource::MemTable;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::context::SessionContext;
use datafusion::logical_expr::Expr;
use heapgraph::core::NodeIndex;

use crate::tables::DumpRows;

/// Registers `retainers`, `path_to_root` and `dominated_by` over `rows`.
pub(crate) fn register(context: &SessionContext, rows: Arc<DumpRows>) {
    for kind in [Walk::Retainers, Walk::PathToRoot, Walk::DominatedBy] {
        context.register_udtf(
            kind.name(),
            Arc::new(GraphFunction {
                rows: Arc::clone(&rows),
                kind,
            }),
        );
    }
}

#[derive(Clone, Copy, Debug)]
enum Walk {
    Retainers,
    PathToRoot,
    DominatedBy,
}

impl Walk {
    fn name(self) -> &'static str {
        match self {
            Walk::Retainers => "retainers",
            Walk::PathToRoot => "path_to_root",
            Walk::DominatedBy => "dominated_by",
        }
    }

    fn schema(self) -> SchemaRef {
        use DataType::{UInt32, UInt64, Utf8};
        let f = |name: &str, ty: DataType| Field::new(name, ty, false);
        Arc::new(Schema::new(match self {
            Walk::Retainers => vec![
                f("index", UInt32),
                f("id", UInt64),
                f("class", Utf8),
                f("kind", Utf8),
                f("name", Utf8),
                f("retained_size", UInt64),
            ],
            Walk::PathToRoot => vec![
                f("path", UInt32),
                f("step", UInt32),
                f("index", UInt32),
                f("id", UInt64),
                f("class", Utf8),
                Field::new("edge", Utf8, true),
            ],
            Walk::DominatedBy => vec![
                f("index", UInt32),
                f("id", UInt64),
                f("class", Utf8),
                f("depth", UInt32),
                f("retained_size", UInt64),
            ],
        }))
    }

    /// The argument count.
    fn arity(self) -> usize {
        match self {
            Walk::PathToRoot => 2,
            Walk::Retainers | Walk::DominatedBy => 1,
        }
    }
}

#[derive(Debug)]
struct GraphFunction {
    rows: Arc<DumpRows>,
    kind: Walk,
}

/// A non-negative integer literal argument.
fn integer_argument(function: &str, position: usize, expr: &Expr) -> Result<u64> {
    let value = match expr {
        Expr::Literal(value, _) => match value {
            ScalarValue::Int8(Some(v)) => u64::try_from(*v).ok(),
            ScalarValue::Int16(Some(v)) => u64::try_from(*v).ok(),
            ScalarValue::Int32(Some(v)) => u64::try_from(*v).ok(),
            ScalarValue::Int64(Some(v)) => u64::try_from(*v).ok(),
            ScalarValue::UInt8(Some(v)) => Some(u64::from(*v)),
            ScalarValue::UInt16(Some(v)) => Some(u64::from(*v)),
            ScalarValue::UInt32(Some(v)) => Some(u64::from(*v)),
            ScalarValue::UInt64(Some(v)) => Some(*v),
            _ => None,
        },
        _ => None,
    };
    value.ok_or_else(|| {
        DataFusionError::Plan(format!(
            "{function}: argument {position} must be a non-negative integer literal, not {expr}"
        ))
    })
}

impl TableFunctionImpl for GraphFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let name = self.kind.name();
        let exprs = args.exprs();
        if exprs.len() != self.kind.arity() {
            return Err(DataFusionError::Plan(format!(
                "{name} takes {} argument(s), not {}",
                self.kind.arity(),
                exprs.len()
            )));
        }
        let mut values = Vec::with_capacity(exprs.len());
        for (i, expr) in exprs.iter().enumerate() {
            values.push(integer_argument(name, i + 1, expr)?);
        }
        let object_id = values.first().copied().unwrap_or(0);
        let graph = self.rows.dump().graph();
        let node = graph.node_by_object_id(object_id).ok_or_else(|| {
            DataFusionError::Plan(format!("{name}: no object has id {object_id}"))
        })?;
        let columns = match self.kind {
            Walk::Retainers => self.retainers(node),
            Walk::PathToRoot => {
                let k = values.get(1).copied().unwrap_or(1);
                self.paths(node, usize::try_from(k).unwrap_or(usize::MAX))
            }
            Walk::DominatedBy => self.dominated(node),
        };
        let schema = self.kind.schema();
        let batch = RecordBatch::try_new(Arc::clone(&schema), columns)?;
        Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
    }
}

impl GraphFunction {
    fn retainers(&self, node: NodeIndex) -> Vec<ArrayRef> {
        let analysis = self.rows.analysed().analysis();
        let graph = analysis.graph();
        let mut index = UInt32Builder::new();
        let mut id = UInt64Builder::new();
        let mut class = StringBuilder::new();
        let mut kind = StringBuilder::new();
        let mut name = StringBuilder::new();
        let mut retained = UInt64Builder::new();
        for r in analysis.retainers(node) {
            index.append_value(r.source.as_u32());
            id.append_value(graph.object_id(r.source));
            class.append_value(analysis.class_name(r.source));
            kind.append_value(r.kind.as_str());
            name.append_value(graph.edge_label_str(r.edge));
            retained.append_value(analysis.retained_size(r.source));
        }
        vec![
            Arc::new(index.finish()),
            Arc::new(id.finish()),
            Arc::new(class.finish()),
            Arc::new(kind.finish()),
            Arc::new(name.finish()),
            Arc::new(retained.finish()),
        ]
    }

    fn paths(&self, node: NodeIndex, k: usize) -> Vec<ArrayRef> {
        let analysis = self.rows.analysed().analysis();
        let graph = analysis.graph();
        let mut path = UInt32Builder::new();
        let mut step = UInt32Builder::new();
        let mut index = UInt32Builder::new();
        let mut id = UInt64Builder::new();
        let mut class = StringBuilder::new();
        let mut edge = StringBuilder::new();
        for (p, found) in analysis.retention_paths(node, k).iter().enumerate() {
            for (s, at) in found.nodes().into_iter().enumerate() {
                path.append_value(p as u32);
                step.append_value(s as u32);
                index.append_value(at.as_u32());
                id.append_value(graph.object_id(at));
                class.append_value(analysis.class_name(at));
                match s.checked_sub(1).and_then(|i| found.steps.get(i)) {
                    Some(into) => edge.append_value(graph.edge_label_str(into.edge)),
                    None => edge.append_null(),
                }
            }
        }
        vec![
            Arc::new(path.finish()),
            Arc::new(step.finish()),
            Arc::new(index.finish()),
            Arc::new(id.finish()),
            Arc::new(class.finish()),
            Arc::new(edge.finish()),
        ]
    }

    fn dominated(&self, node: NodeIndex) -> Vec<ArrayRef> {
        let analysis = self.rows.analysed().analysis();
        let graph = analysis.graph();
        let mut index = UInt32Builder::new();
        let mut id = UInt64Builder::new();
        let mut class = StringBuilder::new();
        let mut depth_column = UInt32Builder::new();
        let mut retained = UInt64Builder::new();
        let mut depth = 0u32;
        analysis.dominated().walk(node, |at, entering| {
            if !entering {
                depth = depth.saturating_sub(1);
                return;
            }
            if at != node {
                index.append_value(at.as_u32());
                id.append_value(graph.object_id(at));
                class.append_value(analysis.class_name(at));
                depth_column.append_value(depth);
                retained.append_value(analysis.retained_size(at));
            }
            depth += 1;
        });
        vec![
            Arc::new(index.finish()),
            Arc::new(id.finish()),
            Arc::new(class.finish()),
            Arc::new(depth_column.finish()),
            Arc::new(retained.finish()),
        ]
    }
}
