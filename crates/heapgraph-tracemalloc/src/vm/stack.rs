//! The pickle stack and its marks.

use std::io::Read;

use super::value::Val;
use super::{Vm, MAX_STACK};
use crate::error::{TracemallocError, TracemallocErrorKind as Kind};

impl<R: Read> Vm<'_, R> {
    pub(super) fn push(&mut self, v: Val) -> Result<(), TracemallocError> {
        if self.stack.len() >= MAX_STACK {
            return Err(self.err(Kind::LimitExceeded {
                what: "pickle stack depth",
                limit: MAX_STACK as u64,
            }));
        }
        self.stack.push(v);
        Ok(())
    }

    pub(super) fn pop(&mut self) -> Result<Val, TracemallocError> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err(self.err(Kind::StackUnderflow));
        }
        self.stack
            .pop()
            .ok_or_else(|| self.err(Kind::StackUnderflow))
    }

    pub(super) fn top(&self) -> Result<Val, TracemallocError> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err(self.err(Kind::StackUnderflow));
        }
        self.stack
            .last()
            .copied()
            .ok_or_else(|| self.err(Kind::StackUnderflow))
    }

    /// Moves the items above the last mark into `scratch` and drops the mark.
    pub(super) fn pop_mark(&mut self) -> Result<Vec<Val>, TracemallocError> {
        let mark = self
            .marks
            .pop()
            .ok_or_else(|| self.err(Kind::MissingMark))?;
        let mut items = std::mem::take(&mut self.scratch);
        items.clear();
        items.extend_from_slice(self.stack.get(mark..).unwrap_or_default());
        self.stack.truncate(mark);
        Ok(items)
    }

    /// Runs `f` on the stack items from `start` on (without copying them),
    /// then drops them.
    pub(super) fn in_place<T>(
        &mut self,
        start: usize,
        f: impl FnOnce(&mut Self, &[Val]) -> Result<T, TracemallocError>,
    ) -> Result<T, TracemallocError> {
        let stack = std::mem::take(&mut self.stack);
        let result = f(self, stack.get(start..).unwrap_or_default());
        self.stack = stack;
        self.stack.truncate(start);
        result
    }
}
