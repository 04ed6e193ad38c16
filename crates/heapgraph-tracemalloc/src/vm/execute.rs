//! The opcode loop: each opcode decoded with its arguments and run.

use std::io::Read;

use super::value::{Container, Val, Wide};
use super::{Vm, MAX_MARKS};
use crate::error::{TracemallocError, TracemallocErrorKind as Kind};

impl<R: Read> Vm<'_, R> {
    pub(super) fn execute(&mut self) -> Result<(), TracemallocError> {
        loop {
            self.op_start = self.position();
            self.op = None;
            let op = self.u8("an opcode")?;
            self.op = Some(op);
            match op {
                // Framing and protocol.
                0x80 => {
                    let p = self.u8("a protocol number")?;
                    if p > 5 {
                        return Err(self.err(Kind::UnsupportedProtocol(p)));
                    }
                    self.protocol = p;
                }
                0x95 => {
                    let len = u64::from_le_bytes(self.take_array::<8>("a FRAME length")?);
                    self.length(len, 8)?;
                }
                b'.' => {
                    let v = self.pop()?;
                    self.result = Some(v);
                    return Ok(());
                }
                // Marks.
                b'(' => {
                    if self.fast_paths && (self.trace_fast_path()? || self.traceback_fast_path()?) {
                        continue;
                    }
                    if self.marks.len() >= MAX_MARKS {
                        return Err(self.err(Kind::LimitExceeded {
                            what: "nested MARKs",
                            limit: MAX_MARKS as u64,
                        }));
                    }
                    self.marks.push(self.stack.len());
                }
                // Integers.
                b'K' => {
                    let v = self.u8("a BININT1 value")?;
                    self.push_int_checked(i128::from(v))?;
                }
                b'M' => {
                    let v = u16::from_le_bytes(self.take_array::<2>("a BININT2 value")?);
                    self.push_int_checked(i128::from(v))?;
                }
                b'J' => {
                    let v = i32::from_le_bytes(self.take_array::<4>("a BININT value")?);
                    self.push_int_checked(i128::from(v))?;
                }
                0x8a => {
                    let n = self.u8("a LONG1 length")?;
                    self.long_bytes(u64::from(n), 1)?;
                }
                0x8b => {
                    let n = u32::from_le_bytes(self.take_array::<4>("a LONG4 length")?);
                    self.long_bytes(u64::from(n), 4)?;
                }
                b'I' => {
                    let line = self.line_vec("an INT line")?;
                    let v = match line.as_slice() {
                        b"01" => Val::Bool(true),
                        b"00" => Val::Bool(false),
                        digits => {
                            let v = self.parse_decimal(digits, "INT")?;
                            Val::Int(
                                Wide::new(v)
                                    .ok_or_else(|| self.err(Kind::BadInteger { what: "INT" }))?,
                            )
                        }
                    };
                    self.push(v)?;
                }
                b'L' => {
                    let line = self.line_vec("a LONG line")?;
                    let digits = line.strip_suffix(b"L").unwrap_or(&line);
                    let v = self.parse_decimal(digits, "LONG")?;
                    self.push_int_checked(v)?;
                }
                b'N' => self.push(Val::None)?,
                0x88 => self.push(Val::Bool(true))?,
                0x89 => self.push(Val::Bool(false))?,
                // Strings.
                0x8c => {
                    let n = self.u8("a SHORT_BINUNICODE length")?;
                    let n = self.length(u64::from(n), 1)?;
                    let range = self.take(n, "string bytes")?;
                    let v = self.intern_range(range)?;
                    self.push(v)?;
                }
                b'X' => {
                    let n = u32::from_le_bytes(self.take_array::<4>("a BINUNICODE length")?);
                    let n = self.length(u64::from(n), 4)?;
                    let range = self.take(n, "string bytes")?;
                    let v = self.intern_range(range)?;
                    self.push(v)?;
                }
                0x8d => {
                    let n = u64::from_le_bytes(self.take_array::<8>("a BINUNICODE8 length")?);
                    let n = self.length(n, 8)?;
                    let range = self.take(n, "string bytes")?;
                    let v = self.intern_range(range)?;
                    self.push(v)?;
                }
                b'V' => {
                    let line = self.line("a UNICODE line")?;
                    let mut text = std::mem::take(&mut self.text);
                    text.clear();
                    let decoded = decode_raw_unicode_escape(&self.window[line], &mut text);
                    let v = match decoded {
                        Ok(()) => self.intern_str(&text),
                        Err(what) => Err(self.err(Kind::BadString(what))),
                    };
                    self.text = text;
                    self.push(v?)?;
                }
                // Memo.
                0x94 => {
                    let next = self.memo_high;
                    self.memo_put(next)?;
                }
                b'q' => {
                    let i = self.u8("a BINPUT index")?;
                    self.memo_put(u64::from(i))?;
                }
                b'r' => {
                    let i = u32::from_le_bytes(self.take_array::<4>("a LONG_BINPUT index")?);
                    self.memo_put(u64::from(i))?;
                }
                b'p' => {
                    let line = self.line_vec("a PUT index")?;
                    let i = self.parse_index(&line)?;
                    self.memo_put(i)?;
                }
                b'h' => {
                    let i = self.u8("a BINGET index")?;
                    if !(self.fast_paths && self.frame_fast_path(u64::from(i))?) {
                        self.memo_get(u64::from(i))?;
                    }
                }
                b'j' => {
                    let i = u32::from_le_bytes(self.take_array::<4>("a LONG_BINGET index")?);
                    if !(self.fast_paths && self.frame_fast_path(u64::from(i))?) {
                        self.memo_get(u64::from(i))?;
                    }
                }
                b'g' => {
                    let line = self.line_vec("a GET index")?;
                    let i = self.parse_index(&line)?;
                    self.memo_get(i)?;
                }
                // Tuples.
                b')' => self.push(Val::EmptyTuple)?,
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    let floor = self.marks.last().copied().unwrap_or(0);
                    if self.stack.len() < floor + n {
                        return Err(self.err(Kind::StackUnderflow));
                    }
                    let start = self.stack.len() - n;
                    let v = self.in_place(start, |vm, items| vm.make_tuple(items))?;
                    self.push(v)?;
                }
                b't' => {
                    let mark = self
                        .marks
                        .pop()
                        .ok_or_else(|| self.err(Kind::MissingMark))?;
                    let v = self.in_place(mark, |vm, items| vm.make_tuple(items))?;
                    self.push(v)?;
                }
                // Lists.
                b']' => {
                    let v = self.new_container(Container::List(Vec::new()))?;
                    self.push(v)?;
                }
                b'l' => {
                    let items = self.pop_mark()?;
                    let result = self.new_list_from(&items);
                    self.scratch = items;
                    let v = result?;
                    self.push(v)?;
                }
                b'a' => {
                    let item = self.pop()?;
                    let list = self.top()?;
                    let Val::Container(id) = list else {
                        return Err(self.unexpected("a list", list));
                    };
                    self.append(id, &[item])?;
                }
                b'e' => {
                    let mark = self
                        .marks
                        .pop()
                        .ok_or_else(|| self.err(Kind::MissingMark))?;
                    let floor = self.marks.last().copied().unwrap_or(0);
                    let list = match mark.checked_sub(1) {
                        Some(i) if i >= floor => self.stack.get(i).copied(),
                        _ => None,
                    };
                    match list {
                        Some(Val::Container(id)) => {
                            self.in_place(mark, |vm, items| vm.append(id, items))?;
                        }
                        Some(other) => return Err(self.unexpected("a list", other)),
                        None => return Err(self.err(Kind::StackUnderflow)),
                    }
                }
                // Dicts.
                b'}' => {
                    let v = self.new_container(Container::Dict(Vec::new()))?;
                    self.push(v)?;
                }
                b'd' => {
                    let items = self.pop_mark()?;
                    let result = self
                        .new_container(Container::Dict(Vec::new()))
                        .and_then(|d| self.setitems(d, &items).map(|()| d));
                    self.scratch = items;
                    let v = result?;
                    self.push(v)?;
                }
                b's' => {
                    let value = self.pop()?;
                    let key = self.pop()?;
                    let dict = self.top()?;
                    self.setitems(dict, &[key, value])?;
                }
                b'u' => {
                    let items = self.pop_mark()?;
                    let result = self.top().and_then(|d| self.setitems(d, &items));
                    self.scratch = items;
                    result?;
                }
                // Classes and objects.
                b'c' => {
                    let module = self.line_vec("a GLOBAL module")?;
                    let name = self.line_vec("a GLOBAL name")?;
                    self.global(&module, &name)?;
                }
                0x93 => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    let (Some(m), Some(n)) = (self.str_bytes(module), self.str_bytes(name)) else {
                        return Err(self.unexpected("module and name strings", module));
                    };
                    self.global(&m, &n)?;
                }
                0x81 => {
                    let args = self.pop()?;
                    let class = self.pop()?;
                    if !self.is_empty_args(args) {
                        return Err(self.unexpected("empty constructor arguments", args));
                    }
                    let obj = self.new_object(class)?;
                    self.push(obj)?;
                }
                b'R' => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    let obj = self.reduce(callable, args)?;
                    self.push(obj)?;
                }
                b'b' => {
                    let state = self.pop()?;
                    let obj = self.top()?;
                    let Val::Obj(i) = obj else {
                        return Err(self.unexpected("an object to BUILD", obj));
                    };
                    if let Some(o) = self.objects.get_mut(i as usize) {
                        o.state = Some(state);
                    }
                }
                // Known opcodes that snapshots never need.
                b'0'
                | b'1'
                | b'2'
                | b'F'
                | b'P'
                | b'Q'
                | b'S'
                | b'T'
                | b'U'
                | b'i'
                | b'o'
                | b'G'
                | b'B'
                | b'C'
                | 0x82..=0x84
                | 0x8e..=0x92
                | 0x96..=0x98 => {
                    return Err(self.err(Kind::ForbiddenOpcode));
                }
                other => return Err(self.err(Kind::UnknownOpcode(other))),
            }
        }
    }

    fn long_bytes(&mut self, n: u64, width: u64) -> Result<(), TracemallocError> {
        let n = self.length(n, width)?;
        let range = self.take(n, "integer bytes")?;
        let bytes = &self.window[range];
        if bytes.len() > 16 {
            return Err(self.err(Kind::BadInteger {
                what: "an integer wider than 128 bits",
            }));
        }
        let mut buf = [0u8; 16];
        if bytes.last().is_some_and(|&b| b & 0x80 != 0) {
            buf = [0xff; 16];
        }
        buf[..n].copy_from_slice(bytes);
        self.push_int_checked(i128::from_le_bytes(buf))
    }

    fn parse_decimal(&self, digits: &[u8], what: &'static str) -> Result<i128, TracemallocError> {
        std::str::from_utf8(digits)
            .ok()
            .and_then(|s| s.trim().parse::<i128>().ok())
            .ok_or_else(|| self.err(Kind::BadInteger { what }))
    }

    fn parse_index(&self, line: &[u8]) -> Result<u64, TracemallocError> {
        std::str::from_utf8(line)
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| self.err(Kind::BadInteger { what: "memo index" }))
    }
}

/// Decodes Python's `raw-unicode-escape` (protocol 0 `UNICODE`) into
/// generalized UTF-8 (lone surrogates as 3-byte sequences, like
/// `surrogatepass`).
pub(super) fn decode_raw_unicode_escape(
    line: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), &'static str> {
    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        if b != b'\\' {
            heapgraph_core::push_wtf8(out, u32::from(b));
            i += 1;
            continue;
        }
        // Count a run of backslashes: only an odd run escapes.
        let run_start = i;
        while i < line.len() && line[i] == b'\\' {
            i += 1;
        }
        let run = i - run_start;
        let next = line.get(i).copied();
        let escapes = run % 2 == 1 && matches!(next, Some(b'u' | b'U'));
        let literal = if escapes { run - 1 } else { run };
        for _ in 0..literal {
            out.push(b'\\');
        }
        if !escapes {
            continue;
        }
        let digits = if next == Some(b'u') { 4 } else { 8 };
        let hex = line
            .get(i + 1..i + 1 + digits)
            .ok_or("truncated \\u escape")?;
        let mut cp = 0u32;
        for &h in hex {
            let d = (h as char)
                .to_digit(16)
                .ok_or("bad hex digit in \\u escape")?;
            cp = cp.checked_mul(16).ok_or("bad \\U escape")? + d;
        }
        if cp > 0x10FFFF {
            return Err("\\U escape beyond U+10FFFF");
        }
        heapgraph_core::push_wtf8(out, cp);
        i += 1 + digits;
    }
    Ok(())
}

/// The pickletools name of an opcode byte, for error messages.
pub(crate) fn opcode_name(op: u8) -> String {
    let name = match op {
        b'(' => "MARK",
        b'.' => "STOP",
        b'0' => "POP",
        b'1' => "POP_MARK",
        b'2' => "DUP",
        b'F' => "FLOAT",
        b'I' => "INT",
        b'J' => "BININT",
        b'K' => "BININT1",
        b'L' => "LONG",
        b'M' => "BININT2",
        b'N' => "NONE",
        b'P' => "PERSID",
        b'Q' => "BINPERSID",
        b'R' => "REDUCE",
        b'S' => "STRING",
        b'T' => "BINSTRING",
        b'U' => "SHORT_BINSTRING",
        b'V' => "UNICODE",
        b'X' => "BINUNICODE",
        b'a' => "APPEND",
        b'b' => "BUILD",
        b'c' => "GLOBAL",
        b'd' => "DICT",
        b'}' => "EMPTY_DICT",
        b'e' => "APPENDS",
        b'g' => "GET",
        b'h' => "BINGET",
        b'i' => "INST",
        b'j' => "LONG_BINGET",
        b'l' => "LIST",
        b']' => "EMPTY_LIST",
        b'o' => "OBJ",
        b'p' => "PUT",
        b'q' => "BINPUT",
        b'r' => "LONG_BINPUT",
        b's' => "SETITEM",
        b't' => "TUPLE",
        b')' => "EMPTY_TUPLE",
        b'u' => "SETITEMS",
        b'G' => "BINFLOAT",
        b'B' => "BINBYTES",
        b'C' => "SHORT_BINBYTES",
        0x80 => "PROTO",
        0x81 => "NEWOBJ",
        0x82 => "EXT1",
        0x83 => "EXT2",
        0x84 => "EXT4",
        0x85 => "TUPLE1",
        0x86 => "TUPLE2",
        0x87 => "TUPLE3",
        0x88 => "NEWTRUE",
        0x89 => "NEWFALSE",
        0x8a => "LONG1",
        0x8b => "LONG4",
        0x8c => "SHORT_BINUNICODE",
        0x8d => "BINUNICODE8",
        0x8e => "BINBYTES8",
        0x8f => "EMPTY_SET",
        0x90 => "ADDITEMS",
        0x91 => "FROZENSET",
        0x92 => "NEWOBJ_EX",
        0x93 => "STACK_GLOBAL",
        0x94 => "MEMOIZE",
        0x95 => "FRAME",
        0x96 => "BYTEARRAY8",
        0x97 => "NEXT_BUFFER",
        0x98 => "READONLY_BUFFER",
        _ => return format!("0x{op:02x}"),
    };
    format!("{name} 0x{op:02x}")
}
