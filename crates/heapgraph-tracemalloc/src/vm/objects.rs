//! Lists, dicts, the allow-listed globals and the objects built from them.

use std::io::Read;

use super::value::{Container, Global, Object, Val};
use super::{Vm, MAX_CONTAINERS};
use crate::error::{TracemallocError, TracemallocErrorKind as Kind};

impl<R: Read> Vm<'_, R> {
    /// Appends values to the list `id`.
    pub(super) fn append(&mut self, id: u32, items: &[Val]) -> Result<(), TracemallocError> {
        let Some(container) = self.containers.get_mut(id as usize) else {
            return Err(self.err(Kind::StackUnderflow));
        };
        let traces = items.iter().filter(|v| matches!(v, Val::Trace(_))).count();
        match container {
            Container::List(list) if traces == 0 => {
                list.extend_from_slice(items);
                return self.count_items(items.len());
            }
            Container::List(list) if list.is_empty() && traces == items.len() => {
                if self.traces_container.is_some() {
                    return Err(self.err(Kind::Unexpected {
                        expected: "one list of traces",
                        found: "a second list of traces",
                    }));
                }
                *container = Container::Traces;
                self.traces_container = Some(id);
            }
            Container::Traces if traces == items.len() => {}
            Container::Dict(_) | Container::Tuple(_) => {
                return Err(self.err(Kind::Unexpected {
                    expected: "a list to append to",
                    found: "a dict or tuple",
                }))
            }
            _ => {
                return Err(self.err(Kind::Unexpected {
                    expected: "only trace tuples in the traces list",
                    found: "a mix of traces and other values",
                }))
            }
        }
        for &item in items {
            let Val::Trace(index) = item else { continue };
            if index == self.appended {
                self.appended += 1;
            } else if index < self.appended {
                return Err(self.err(Kind::Unexpected {
                    expected: "each trace tuple listed once",
                    found: "a trace tuple listed twice",
                }));
            } else {
                return Err(self.err(Kind::Unexpected {
                    expected: "trace tuples appended in the order they were built",
                    found: "a trace tuple built earlier but not yet listed",
                }));
            }
        }
        Ok(())
    }

    pub(super) fn setitems(&mut self, dict: Val, items: &[Val]) -> Result<(), TracemallocError> {
        if !items.len().is_multiple_of(2) {
            return Err(self.err(Kind::Unexpected {
                expected: "key/value pairs",
                found: "an odd number of items",
            }));
        }
        let Val::Container(id) = dict else {
            return Err(self.unexpected("a dict", dict));
        };
        self.count_items(items.len())?;
        match self.containers.get_mut(id as usize) {
            Some(Container::Dict(pairs)) => {
                for pair in items.chunks_exact(2) {
                    pairs.push((pair[0], pair[1]));
                }
                Ok(())
            }
            _ => Err(self.unexpected("a dict", dict)),
        }
    }

    pub(super) fn global(&mut self, module: &[u8], name: &[u8]) -> Result<(), TracemallocError> {
        let g = match (module, name) {
            (b"tracemalloc", b"Snapshot") => Global::Snapshot,
            (b"tracemalloc", b"_Traces") => Global::Traces,
            (b"copy_reg" | b"copyreg", b"_reconstructor") => Global::Reconstructor,
            (b"__builtin__" | b"builtins", b"object") => Global::Object,
            _ => {
                return Err(self.err(Kind::NotASnapshot {
                    what: format!(
                        "{}.{}",
                        String::from_utf8_lossy(module),
                        String::from_utf8_lossy(name)
                    ),
                }))
            }
        };
        self.push(Val::Global(g))
    }

    pub(super) fn new_object(&mut self, class: Val) -> Result<Val, TracemallocError> {
        match class {
            Val::Global(g @ (Global::Snapshot | Global::Traces)) => {
                if self.objects.len() >= MAX_CONTAINERS {
                    return Err(self.err(Kind::LimitExceeded {
                        what: "objects",
                        limit: MAX_CONTAINERS as u64,
                    }));
                }
                self.objects.push(Object {
                    class: g,
                    state: None,
                });
                Ok(Val::Obj((self.objects.len() - 1) as u32))
            }
            Val::Global(g) => Err(self.err(Kind::NotASnapshot {
                what: format!("an instance of {g:?}"),
            })),
            other => Err(self.unexpected("a class", other)),
        }
    }

    pub(super) fn str_bytes(&mut self, v: Val) -> Option<Vec<u8>> {
        match v {
            Val::Str(s) => Some(self.strings.table().bytes(s).to_vec()),
            _ => None,
        }
    }

    pub(super) fn new_list_from(&mut self, items: &[Val]) -> Result<Val, TracemallocError> {
        let list = self.new_container(Container::List(Vec::new()))?;
        if let Val::Container(id) = list {
            self.append(id, items)?;
        }
        Ok(list)
    }

    pub(super) fn is_empty_args(&self, args: Val) -> bool {
        match args {
            Val::EmptyTuple => true,
            Val::Container(id) => {
                matches!(self.containers.get(id as usize), Some(Container::Tuple(t)) if t.is_empty())
            }
            _ => false,
        }
    }

    pub(super) fn reduce(&mut self, callable: Val, args: Val) -> Result<Val, TracemallocError> {
        if !matches!(callable, Val::Global(Global::Reconstructor)) {
            return Err(match callable {
                Val::Global(g) => self.err(Kind::NotASnapshot {
                    what: format!("a call of {g:?}"),
                }),
                other => self.unexpected("copyreg._reconstructor", other),
            });
        }
        let class = match args {
            Val::Container(id) => match self.containers.get(id as usize) {
                Some(Container::Tuple(t)) => match t.as_slice() {
                    [class, Val::Global(Global::Object), Val::None] => Some(*class),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        };
        match class {
            Some(class) => self.new_object(class),
            None => Err(self.unexpected("(class, object, None) arguments", args)),
        }
    }
}
