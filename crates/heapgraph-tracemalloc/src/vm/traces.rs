//! Frame, traceback and trace tuples, interned into the stack table and the
//! trace table as they are built.

use std::io::Read;

use heapgraph_core::{BuildError, Frame, FrameId, Limits, StackId, StringId};

use super::value::{Container, Tb, Val};
use super::{err_at, Vm, LARGE_SIZE, MAX_FRAMES, NO_STACK};
use crate::error::{TracemallocError, TracemallocErrorKind as Kind};
use crate::TraceShape;

impl<R: Read> Vm<'_, R> {
    /// The frame `(file, line)`, interned.
    #[inline]
    pub(super) fn frame(&mut self, file: StringId, line: u32) -> Result<FrameId, TracemallocError> {
        let key = (u64::from(file.as_u32()) << 32) | u64::from(line);
        if let Some(&id) = self.frames.get(&key) {
            return Ok(FrameId::new(id));
        }
        let frame = Frame {
            function: StringId::EMPTY,
            file,
            line,
            column: 0,
        };
        let id = self
            .stack_table
            .intern_frame(frame)
            .map_err(|e| self.err(Kind::Graph(e.into())))?;
        self.frames.insert(key, id.as_u32());
        Ok(id)
    }

    /// Builds a tuple from `items`, recognising frames, tracebacks and traces.
    pub(super) fn make_tuple(&mut self, items: &[Val]) -> Result<Val, TracemallocError> {
        match items {
            [] => return Ok(Val::EmptyTuple),
            [Val::Str(file), Val::Int(line)] => {
                if let Ok(line) = u32::try_from(line.get()) {
                    return Ok(Val::Frame(self.frame(*file, line)?));
                }
            }
            [Val::Int(size), tb @ (Val::Traceback(_) | Val::EmptyTuple)] => {
                return self.make_trace(TraceShape::SizeTraceback, 0, size.get(), *tb, None);
            }
            [Val::Int(domain), Val::Int(size), tb @ (Val::Traceback(_) | Val::EmptyTuple)] => {
                return self.make_trace(
                    TraceShape::DomainSizeTraceback,
                    domain.get(),
                    size.get(),
                    *tb,
                    None,
                );
            }
            [Val::Int(domain), Val::Int(size), tb @ (Val::Traceback(_) | Val::EmptyTuple), Val::Int(nframe)] =>
            {
                return self.make_trace(
                    TraceShape::WithTotalNframe,
                    domain.get(),
                    size.get(),
                    *tb,
                    Some(nframe.get()),
                );
            }
            _ => {}
        }
        if items.iter().all(|v| matches!(v, Val::Frame(_))) {
            return self.make_traceback(items);
        }
        if items.iter().all(|v| matches!(v, Val::Trace(_))) {
            let list = self.new_container(Container::List(Vec::new()))?;
            let Val::Container(id) = list else {
                return Err(self.err(Kind::StackUnderflow));
            };
            self.append(id, items)?;
            return Ok(list);
        }
        self.count_items(items.len())?;
        self.new_container(Container::Tuple(items.to_vec()))
    }

    pub(super) fn make_traceback(&mut self, items: &[Val]) -> Result<Val, TracemallocError> {
        if items.len() > MAX_FRAMES {
            return Err(self.err(Kind::LimitExceeded {
                what: "frames in a traceback",
                limit: MAX_FRAMES as u64,
            }));
        }
        if self.innermost_frame_only {
            return self.make_innermost_traceback(items);
        }
        let mut frames = std::mem::take(&mut self.frame_scratch);
        frames.clear();
        frames.extend(items.iter().filter_map(|v| match v {
            Val::Frame(f) => Some(*f),
            _ => None,
        }));
        // Outermost frame first. The callers the previous traceback shares
        // (the frames of consecutive tracebacks mostly do) come from its
        // path; the rest through a small direct-mapped cache of trie edges
        // in front of the stack table's own index.
        let mut path = std::mem::take(&mut self.last_path);
        let shared = path
            .iter()
            .zip(frames.iter().rev())
            .take_while(|((known, _), frame)| known == *frame)
            .count();
        path.truncate(shared);
        let mut stack: Option<StackId> = path.last().map(|&(_, s)| s);
        for &frame in frames.iter().rev().skip(shared) {
            let s = self.child_stack(stack, frame)?;
            stack = Some(s);
            path.push((frame, s));
        }
        self.last_path = path;
        self.frame_scratch = frames;
        self.tracebacks.push(Tb {
            stack: stack.map_or(NO_STACK, StackId::as_u32),
            depth: items.len() as u32,
        });
        Ok(Val::Traceback((self.tracebacks.len() - 1) as u32))
    }

    /// The stack `parent` + `frame` (a new root stack for `None`), through a
    /// small direct-mapped cache of trie edges in front of the stack table's
    /// own index.
    #[inline]
    fn child_stack(
        &mut self,
        parent: Option<StackId>,
        frame: FrameId,
    ) -> Result<StackId, TracemallocError> {
        let parent_key = parent.map_or(u32::MAX, StackId::as_u32);
        let key = (u64::from(parent_key) << 32) | u64::from(frame.as_u32());
        let slot = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - self.cache_bits)) as usize;
        if let Some(&(k, s)) = self.edge_cache.get(slot) {
            if k == key {
                return Ok(StackId::new(s));
            }
        }
        let (op_start, op) = (self.op_start, self.op);
        let s = self
            .stack_table
            .push_frame(parent, frame)
            .map_err(|e| err_at(op_start, op, Kind::Graph(e.into())))?;
        if let Some(entry) = self.edge_cache.get_mut(slot) {
            *entry = (key, s.as_u32());
        }
        Ok(s)
    }

    /// [`make_traceback`](Self::make_traceback) keeping the innermost frame
    /// (the first in the file) alone: one stack per distinct frame.
    fn make_innermost_traceback(&mut self, items: &[Val]) -> Result<Val, TracemallocError> {
        let innermost = items.iter().find_map(|v| match v {
            Val::Frame(f) => Some(*f),
            _ => None,
        });
        let stack = match innermost {
            None => NO_STACK,
            Some(frame) => self.child_stack(None, frame)?.as_u32(),
        };
        self.tracebacks.push(Tb {
            stack,
            depth: items.len() as u32,
        });
        Ok(Val::Traceback((self.tracebacks.len() - 1) as u32))
    }

    pub(super) fn make_trace(
        &mut self,
        shape: TraceShape,
        domain: i128,
        size: i128,
        traceback: Val,
        nframe: Option<i128>,
    ) -> Result<Val, TracemallocError> {
        match self.shape {
            None => self.shape = Some(shape),
            Some(s) if s == shape => {}
            Some(_) => {
                return Err(self.err(Kind::Unexpected {
                    expected: "trace tuples of one shape",
                    found: "a trace tuple of another length",
                }))
            }
        }
        let domain = u32::try_from(domain).map_err(|_| {
            self.err(Kind::BadInteger {
                what: "trace domain",
            })
        })?;
        let size =
            u64::try_from(size).map_err(|_| self.err(Kind::BadInteger { what: "trace size" }))?;
        let nframe = match nframe {
            Some(n) => Some(u32::try_from(n).map_err(|_| {
                self.err(Kind::BadInteger {
                    what: "total_nframe",
                })
            })?),
            None => None,
        };
        let (stack, depth) = match traceback {
            Val::Traceback(t) => match self.tracebacks.get(t as usize) {
                Some(tb) => (tb.stack, tb.depth),
                None => (NO_STACK, 0),
            },
            _ => (NO_STACK, 0),
        };
        self.emit_trace(domain, size, stack, nframe, depth)
    }

    fn emit_trace(
        &mut self,
        domain: u32,
        size: u64,
        stack: u32,
        nframe: Option<u32>,
        depth: u32,
    ) -> Result<Val, TracemallocError> {
        let index = self.trace_count;
        if index >= self.max_traces {
            return Err(self.trace_limit_error());
        }
        self.trace_stacks.push(stack);
        match u32::try_from(size) {
            Ok(small) if small != LARGE_SIZE => self.trace_sizes.push(small),
            _ => {
                self.trace_sizes.push(LARGE_SIZE);
                self.large_sizes.push((index, size));
            }
        }
        if domain != 0 && self.domains.is_none() {
            self.domains = Some(vec![0; index as usize]);
        }
        if let Some(domains) = &mut self.domains {
            domains.push(domain);
        }
        // With the innermost frame alone, a traceback's length is not kept,
        // so neither is `total_nframe` (see `ParseOptions`).
        if let Some(n) = nframe.filter(|_| !self.innermost_frame_only) {
            // Usually the traceback's own length: keep only the others.
            let exceptions = self.total_nframe.get_or_insert_with(Vec::new);
            if n != depth {
                exceptions.push((index, n));
            }
        }
        self.trace_count += 1;
        Ok(Val::Trace(index))
    }

    /// The error for one trace more than the limits allow: each trace is a
    /// graph node (besides the root) with one root edge.
    #[cold]
    fn trace_limit_error(&self) -> TracemallocError {
        let default = Limits::default();
        let kind = if self.limits.max_nodes < default.max_nodes
            && self.limits.max_nodes.saturating_sub(1) <= self.limits.max_edges
        {
            Kind::Graph(BuildError::LimitExceeded {
                what: "nodes",
                limit: self.limits.max_nodes,
            })
        } else if self.limits.max_edges < default.max_edges {
            Kind::Graph(BuildError::LimitExceeded {
                what: "edges",
                limit: self.limits.max_edges,
            })
        } else {
            Kind::LimitExceeded {
                what: "traces",
                limit: u64::from(self.max_traces),
            }
        };
        self.err(kind)
    }
}
