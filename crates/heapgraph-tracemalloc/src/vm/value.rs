//! The object model: stack values (cheap handles), and the containers,
//! objects and tracebacks they index.

use std::io::Read;

use heapgraph_core::{FrameId, StringId};

use super::{Vm, MAX_CONTAINERS, MAX_CONTAINER_ITEMS};
use crate::error::{TracemallocError, TracemallocErrorKind as Kind};

/// The allow-listed globals.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Global {
    Snapshot,
    Traces,
    Reconstructor,
    Object,
}

/// An integer of at most 64 bits of magnitude and a sign (pickle ints that
/// matter here are u32 or u64), keeping [`Val`] at 16 bytes.
#[derive(Clone, Copy, Debug)]
pub(super) struct Wide {
    magnitude: u64,
    negative: bool,
}

impl Wide {
    pub(super) fn new(v: i128) -> Option<Wide> {
        let magnitude = u64::try_from(v.unsigned_abs()).ok()?;
        Some(Wide {
            magnitude,
            negative: v < 0,
        })
    }

    pub(super) fn get(self) -> i128 {
        let m = i128::from(self.magnitude);
        if self.negative {
            -m
        } else {
            m
        }
    }
}

/// A stack value: a cheap handle.
#[derive(Clone, Copy, Debug)]
pub(super) enum Val {
    Int(Wide),
    None,
    Bool(bool),
    Str(StringId),
    Global(Global),
    /// Index into `objects`.
    Obj(u32),
    Frame(FrameId),
    /// Index into `tracebacks`.
    Traceback(u32),
    /// Trace index (node = index + 1).
    Trace(u32),
    /// Index into `containers`.
    Container(u32),
    EmptyTuple,
}

impl Val {
    pub(super) fn type_name(self) -> &'static str {
        match self {
            Val::Int(_) => "an int",
            Val::None => "None",
            Val::Bool(_) => "a bool",
            Val::Str(_) => "a str",
            Val::Global(_) => "a class",
            Val::Obj(_) => "an object",
            Val::Frame(_) => "a frame tuple",
            Val::Traceback(_) => "a traceback tuple",
            Val::Trace(_) => "a trace tuple",
            Val::Container(_) => "a container",
            Val::EmptyTuple => "an empty tuple",
        }
    }
}

#[derive(Debug)]
pub(super) enum Container {
    Dict(Vec<(Val, Val)>),
    List(Vec<Val>),
    Tuple(Vec<Val>),
    /// The list (or tuple) holding the traces; the traces are graph nodes.
    Traces,
}

#[derive(Debug)]
pub(super) struct Object {
    pub(super) class: Global,
    pub(super) state: Option<Val>,
}

pub(super) struct Tb {
    pub(super) stack: u32,
    pub(super) depth: u32,
}

impl<R: Read> Vm<'_, R> {
    pub(super) fn new_container(&mut self, c: Container) -> Result<Val, TracemallocError> {
        if self.containers.len() >= MAX_CONTAINERS {
            return Err(self.err(Kind::LimitExceeded {
                what: "containers",
                limit: MAX_CONTAINERS as u64,
            }));
        }
        self.containers.push(c);
        Ok(Val::Container((self.containers.len() - 1) as u32))
    }

    pub(super) fn count_items(&mut self, n: usize) -> Result<(), TracemallocError> {
        self.container_items += n;
        if self.container_items > MAX_CONTAINER_ITEMS {
            return Err(self.err(Kind::LimitExceeded {
                what: "items in non-trace containers",
                limit: MAX_CONTAINER_ITEMS as u64,
            }));
        }
        Ok(())
    }

    pub(super) fn intern_str(&mut self, bytes: &[u8]) -> Result<Val, TracemallocError> {
        let id = self
            .strings
            .intern(bytes)
            .map_err(|e| self.err(Kind::Graph(e.into())))?;
        Ok(Val::Str(id))
    }

    pub(super) fn push_int_checked(&mut self, v: i128) -> Result<(), TracemallocError> {
        let wide = Wide::new(v).ok_or_else(|| {
            self.err(Kind::BadInteger {
                what: "an integer beyond 64 bits",
            })
        })?;
        self.push(Val::Int(wide))
    }
}
