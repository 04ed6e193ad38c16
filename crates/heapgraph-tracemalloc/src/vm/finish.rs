//! The snapshot assembled from the pickle's result.

use std::io::Read;

use super::value::{Container, Global, Val};
use super::{err_at, Vm};
use crate::error::{TracemallocError, TracemallocErrorKind as Kind};
use crate::{TraceColumns, TraceShape, TracemallocSnapshot};

impl<R: Read> Vm<'_, R> {
    fn dict_get(&mut self, dict: Val, key: &[u8]) -> Option<Val> {
        let Val::Container(id) = dict else {
            return None;
        };
        let Some(Container::Dict(pairs)) = self.containers.get(id as usize) else {
            return None;
        };
        let strings = self.strings.table();
        pairs
            .iter()
            .rev()
            .find(|(k, _)| matches!(k, Val::Str(s) if strings.bytes(*s) == key))
            .map(|&(_, v)| v)
    }

    fn object_state(&self, v: Val, class: Global) -> Option<Val> {
        let Val::Obj(i) = v else { return None };
        let o = self.objects.get(i as usize)?;
        if o.class != class {
            return None;
        }
        o.state
    }

    pub(super) fn finish(mut self) -> Result<TracemallocSnapshot, TracemallocError> {
        let stop = self.op_start;
        let fail = |kind: Kind| err_at(stop, Some(b'.'), kind);
        let result = self.result.unwrap_or(Val::None);
        let Some(state) = self.object_state(result, Global::Snapshot) else {
            return Err(fail(Kind::NotASnapshot {
                what: match result {
                    Val::Obj(_) => "a _Traces object or an unbuilt Snapshot".to_owned(),
                    other => other.type_name().to_owned(),
                },
            }));
        };
        let traceback_limit = match self.dict_get(state, b"traceback_limit") {
            Some(Val::Int(v)) => u64::try_from(v.get()).map_err(|_| {
                fail(Kind::BadInteger {
                    what: "traceback_limit",
                })
            })?,
            Some(Val::Bool(b)) => u64::from(b),
            Some(other) => {
                return Err(fail(Kind::Unexpected {
                    expected: "an int traceback_limit",
                    found: other.type_name(),
                }))
            }
            None => {
                return Err(fail(Kind::Unexpected {
                    expected: "a traceback_limit in the Snapshot state",
                    found: "none",
                }))
            }
        };
        let traces_obj = self.dict_get(state, b"traces").unwrap_or(Val::None);
        let Some(traces_state) = self.object_state(traces_obj, Global::Traces) else {
            return Err(fail(Kind::Unexpected {
                expected: "a built tracemalloc._Traces as Snapshot.traces",
                found: traces_obj.type_name(),
            }));
        };
        let list = self.dict_get(traces_state, b"_traces").unwrap_or(Val::None);
        let ok = match list {
            Val::EmptyTuple => self.trace_count == 0,
            Val::Container(id) => match self.containers.get(id as usize) {
                Some(Container::Traces) => self.traces_container == Some(id),
                Some(Container::List(v) | Container::Tuple(v)) => {
                    v.is_empty() && self.trace_count == 0
                }
                _ => false,
            },
            _ => false,
        };
        if !ok || self.appended != self.trace_count {
            return Err(fail(Kind::Unexpected {
                expected: "_Traces._traces to be the list of every trace tuple",
                found: "another value or stray trace tuples",
            }));
        }
        let stop_end = self.position();
        let mut trailing = (self.window.len() - self.pos) as u64;
        if let Some(reader) = self.reader.as_mut() {
            trailing += std::io::copy(reader, &mut std::io::sink()).unwrap_or(0);
        }
        if trailing != 0 {
            return Err(err_at(stop_end, None, Kind::TrailingBytes(trailing)));
        }
        let producer = format!(
            "CPython tracemalloc (pickle protocol {}, {})",
            self.protocol,
            self.shape.map_or("no traces", TraceShape::describe)
        );
        let mut trace_stacks = std::mem::take(&mut self.trace_stacks);
        let mut trace_sizes = std::mem::take(&mut self.trace_sizes);
        trace_stacks.shrink_to_fit();
        trace_sizes.shrink_to_fit();
        let mut large_sizes = std::mem::take(&mut self.large_sizes);
        large_sizes.shrink_to_fit();
        let strings = std::mem::take(&mut self.strings).finish();
        let stacks = std::mem::take(&mut self.stack_table).finish();
        Ok(TracemallocSnapshot::new(
            strings,
            stacks,
            TraceColumns {
                stacks: trace_stacks,
                sizes: trace_sizes,
                large_sizes,
                domains: self.domains.take(),
            },
            self.total_nframe.take(),
            traceback_limit,
            self.protocol,
            self.shape,
            producer,
        ))
    }
}
