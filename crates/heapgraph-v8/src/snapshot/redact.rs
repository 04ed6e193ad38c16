//! Redaction of `.heapsnapshot` files: see [`redact_snapshot`].

use std::io::Write;
use std::ops::Range;

use hashbrown::{HashMap, HashSet};
use heapgraph_redact::{Options, Redactor, Report};

use super::{missing_section, Reader};
use crate::error::{V8Error, V8ErrorKind};
use crate::json::Cursor;
use crate::meta::SnapshotMeta;
use crate::ParseOptions;

/// What can go wrong while redacting a V8 file: the input is malformed, or
/// the output cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum V8RedactError {
    /// The input is not a well-formed snapshot or profile (the offset is in
    /// the error).
    #[error(transparent)]
    Malformed(#[from] V8Error),
    /// Writing the output failed.
    #[error("cannot write the redacted file: {0}")]
    Write(#[from] std::io::Error),
}

// How a `strings` entry is used (bit flags).
const VALUE: u8 = 1;
const NAME: u8 = 2;
/// A use by V8 or Blink itself (internal edges, hidden and synthetic
/// nodes): kept.
const KEPT: u8 = 4;

/// Node types whose name is the object's value.
const VALUE_TYPES: [&str; 6] = [
    "string",
    "concatenated string",
    "sliced string",
    "regexp",
    "number",
    "bigint",
];
/// Node types named by V8 itself.
const ENGINE_NODE_TYPES: [&str; 3] = ["hidden", "synthetic", "array"];
/// Edge types whose second field is an index, not a string.
const INDEX_EDGE_TYPES: [&str; 2] = ["element", "hidden"];
/// Edge types named by V8 or Blink.
const ENGINE_EDGE_TYPES: [&str; 2] = ["internal", "weak"];

/// Names of the JavaScript and web platforms, and of V8's and Blink's own
/// objects, which `--names` keeps: the analysis reads some of them (user
/// roots, DOM classes, React fibers) and none is the application's.
pub fn is_platform_name(name: &str) -> bool {
    const EXACT: [&str; 84] = [
        "Object",
        "Function",
        "Array",
        "Number",
        "Boolean",
        "String",
        "Symbol",
        "BigInt",
        "Date",
        "RegExp",
        "Error",
        "EvalError",
        "RangeError",
        "ReferenceError",
        "SyntaxError",
        "TypeError",
        "URIError",
        "AggregateError",
        "Promise",
        "Proxy",
        "Reflect",
        "Map",
        "Set",
        "WeakMap",
        "WeakSet",
        "WeakRef",
        "FinalizationRegistry",
        "ArrayBuffer",
        "SharedArrayBuffer",
        "DataView",
        "Int8Array",
        "Uint8Array",
        "Uint8ClampedArray",
        "Int16Array",
        "Uint16Array",
        "Int32Array",
        "Uint32Array",
        "Float32Array",
        "Float64Array",
        "BigInt64Array",
        "BigUint64Array",
        "JSON",
        "Math",
        "Atomics",
        "Intl",
        "Generator",
        "AsyncGenerator",
        "GeneratorFunction",
        "AsyncFunction",
        "Arguments",
        "Iterator",
        "Window",
        "Document",
        "HTMLDocument",
        "Node",
        "Element",
        "Text",
        "Comment",
        "EventTarget",
        "InternalNode",
        "ShadowRoot",
        "StyleEngine",
        "XMLHttpRequest",
        "FiberRootNode",
        "FiberNode",
        "Pending activities",
        "C++ roots",
        "Buffer",
        "process",
        "global",
        "globalThis",
        "__proto__",
        "prototype",
        "constructor",
        "length",
        "name",
        "map",
        "code",
        "context",
        "native_context",
        "elements",
        "properties",
        "table",
        "value",
    ];
    const PREFIXES: [&str; 14] = [
        "(",
        "system / ",
        "HTML",
        "SVG",
        "CSS",
        "blink::",
        "v8::",
        "v8_inspector::",
        "cppgc::",
        "node:",
        "internal/",
        "__react",
        "Node / ",
        "Detached HTML",
    ];
    name.is_empty() || EXACT.contains(&name) || PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Strings kept whatever uses them: the markers by which the reader tells
/// the embedder (V8's `<dummy>` first string, Node's and Deno's built-in
/// module names), all public.
fn is_producer_marker(text: &[u8]) -> bool {
    text == b"<dummy>"
        || text.starts_with(b"node:internal/")
        || text.starts_with(b"ext:core/")
        || text.starts_with(b"ext:deno_")
}

/// The pseudonym of a V8 name, keeping a platform head (`Window / …`,
/// `Detached …`) and walking past every kept name.
pub(crate) fn name_pseudonym(
    name: &str,
    redactor: &Redactor,
    kept: &dyn Fn(&str) -> bool,
) -> String {
    let (head, tail) = if let Some(rest) = name.strip_prefix("Detached ") {
        ("Detached ", rest)
    } else {
        match name.split_once(" / ") {
            Some((head, tail)) if is_platform_name(head) => (&name[..head.len() + 3], tail),
            _ => ("", name),
        }
    };
    if is_platform_name(tail) {
        return name.to_owned();
    }
    let mapped = redactor.pseudonym_avoiding(tail, &|candidate: &str| {
        let whole = format!("{head}{candidate}");
        kept(&whole) || is_platform_name(&whole)
    });
    format!("{head}{mapped}")
}

/// Decodes WTF-8 (what the parser's string reader gives) into UTF-16 code
/// units; a byte that is not part of a valid sequence becomes the lone
/// surrogate `0xDC00 + byte`.
pub(crate) fn wtf8_to_utf16(bytes: &[u8]) -> Vec<u16> {
    let mut units = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let (width, min) = match b {
            0x00..=0x7F => {
                units.push(u16::from(b));
                i += 1;
                continue;
            }
            0xC2..=0xDF => (2, 0x80),
            0xE0..=0xEF => (3, 0x800),
            0xF0..=0xF4 => (4, 0x10000),
            _ => (0, 0),
        };
        let sequence = bytes
            .get(i..i + width)
            .filter(|s| width > 0 && s.iter().skip(1).all(|&c| c & 0xC0 == 0x80));
        let code_point = sequence.map(|s| {
            let first = u32::from(s.first().copied().unwrap_or(0)) & (0x7F >> width);
            s.iter()
                .skip(1)
                .fold(first, |acc, &c| (acc << 6) | u32::from(c & 0x3F))
        });
        match code_point {
            Some(cp) if cp >= min && cp <= 0x10FFFF => {
                if cp >= 0x10000 {
                    let v = cp - 0x10000;
                    units.push(0xD800 + (v >> 10) as u16);
                    units.push(0xDC00 + (v & 0x3FF) as u16);
                } else {
                    units.push(cp as u16);
                }
                i += width;
            }
            _ => {
                units.push(0xDC00 + u16::from(b));
                i += 1;
            }
        }
    }
    units
}

/// Writes UTF-16 code units as a JSON string (quotes included): valid
/// characters as UTF-8, lone surrogates and control characters escaped.
pub(crate) fn json_string(units: &[u16], out: &mut Vec<u8>) {
    out.push(b'"');
    for item in char::decode_utf16(units.iter().copied()) {
        match item {
            Ok('"') => out.extend_from_slice(b"\\\""),
            Ok('\\') => out.extend_from_slice(b"\\\\"),
            Ok(c) if u32::from(c) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", u32::from(c)).as_bytes());
            }
            Ok(c) => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            Err(lone) => {
                out.extend_from_slice(format!("\\u{:04x}", lone.unpaired_surrogate()).as_bytes());
            }
        }
    }
    out.push(b'"');
}

/// Reads a flat array of unsigned integers in rows of `width`, calling
/// `row` with each complete row and the offset of its first value.
/// `release` gets the bytes read so far every few megabytes.
fn scan_rows<E: From<V8Error>>(
    cursor: &mut Cursor<'_>,
    width: usize,
    release: &dyn Fn(Range<usize>),
    mut row: impl FnMut(&[u64], usize) -> Result<(), E>,
) -> Result<(), E> {
    let width = width.max(1);
    let mut values = Vec::with_capacity(width);
    let mut row_start = cursor.pos();
    let mut released = cursor.pos();
    cursor.expect(b'[', "`[`")?;
    let mut first = true;
    while cursor.next_item(b']', first)? {
        first = false;
        cursor.skip_ws();
        if values.is_empty() {
            row_start = cursor.pos();
            if row_start - released >= 8 << 20 {
                release(released..row_start);
                released = row_start;
            }
        }
        values.push(cursor.uint()?);
        if values.len() == width {
            row(&values, row_start)?;
            values.clear();
        }
    }
    release(released..cursor.pos());
    Ok(())
}

struct Columns {
    width: usize,
    /// (type column, name column).
    type_at: usize,
    name_at: usize,
    /// Flags of a use, by type index.
    use_of_type: Vec<u8>,
}

impl Columns {
    /// The string index a row names and how it uses it (no flags: an
    /// index, not a string).
    fn name_use(&self, row: &[u64]) -> (u64, u8) {
        let ty = row.get(self.type_at).copied().unwrap_or(0);
        let name = row.get(self.name_at).copied().unwrap_or(0);
        let flags = self.use_of_type.get(ty as usize).copied().unwrap_or(NAME);
        (name, flags)
    }
}

fn columns(
    fields: &[String],
    types: &[String],
    list: &'static str,
    pos: usize,
    use_of: &dyn Fn(&str) -> u8,
    name_column: &'static str,
) -> Result<Columns, V8Error> {
    Ok(Columns {
        width: fields.len(),
        type_at: SnapshotMeta::required_column(fields, list, "type", pos)?,
        name_at: SnapshotMeta::required_column(fields, list, name_column, pos)?,
        use_of_type: types.iter().map(|t| use_of(t)).collect(),
    })
}

/// Redacts a `.heapsnapshot` into `out`: every string node's value (and
/// every other `strings` entry no name uses) is replaced by its keyed
/// permutation of the same length in UTF-16 code units; with
/// [`Options::names`], object, function, property, variable and script
/// names that are not the platform's ([`is_platform_name`]) get
/// pseudonyms. `nodes`, `edges` and every other section are copied
/// unchanged, except that a string used both as a value and as a name is
/// split: the name keeps its entry and the value gets a new one at the end
/// of `strings` (the nodes that use it are pointed there).
///
/// Reads the input three times (sections, uses, and the copy); memory is a
/// byte per string plus the kept names.
///
/// # Errors
///
/// [`V8RedactError::Malformed`] naming the offset, or
/// [`V8RedactError::Write`].
pub fn redact_snapshot(
    bytes: &[u8],
    options: &Options,
    out: &mut dyn Write,
    done_with: &dyn Fn(Range<usize>),
) -> Result<Report, V8RedactError> {
    let parse_options = ParseOptions::default();
    let mut reader = Reader::new(bytes, &parse_options, done_with);
    let sections = reader.locate()?;
    let required = |pos: Option<usize>, name| pos.ok_or_else(|| missing_section(bytes, name));
    let header = reader.read_header(required(sections.snapshot, "snapshot")?)?;
    let meta = &header.meta;
    let strings_pos = required(sections.strings, "strings")?;
    let nodes_pos = required(sections.nodes, "nodes")?;
    let edges_pos = required(sections.edges, "edges")?;

    // The strings: how many, where each one is.
    let mut entries: Vec<Range<usize>> = Vec::new();
    let mut buf = Vec::new();
    let strings_close = {
        let mut cursor = Cursor::new(bytes, strings_pos, "strings");
        let mut released = strings_pos;
        cursor.expect(b'[', "`[`")?;
        let mut first = true;
        loop {
            cursor.skip_ws();
            let before = cursor.pos();
            if !cursor.next_item(b']', first)? {
                break before;
            }
            first = false;
            cursor.skip_ws();
            let start = cursor.pos();
            cursor.string(&mut buf)?;
            entries.push(start..cursor.pos());
            if cursor.pos() - released >= 8 << 20 {
                done_with(released..cursor.pos());
                released = cursor.pos();
            }
        }
    };
    done_with(strings_pos..strings_close);
    let count = entries.len();
    let mut flags = vec![0u8; count];
    let mut mark = |index: u64, use_flags: u8, at: usize, section: &'static str| match flags
        .get_mut(index as usize)
    {
        Some(f) => {
            *f |= use_flags;
            Ok(())
        }
        None => Err(V8Error::new(
            at,
            V8ErrorKind::IndexOutOfRange {
                section,
                what: "string index",
                index,
                len: count as u64,
            },
        )),
    };

    // Uses: node names, edge names, function and script names.
    let node_columns = columns(
        &meta.node_fields,
        &meta.node_types,
        "node_fields",
        nodes_pos,
        &|t| {
            if VALUE_TYPES.contains(&t) {
                VALUE
            } else if ENGINE_NODE_TYPES.contains(&t) {
                KEPT
            } else {
                NAME
            }
        },
        "name",
    )?;
    let edge_columns = columns(
        &meta.edge_fields,
        &meta.edge_types,
        "edge_fields",
        edges_pos,
        &|t| {
            if INDEX_EDGE_TYPES.contains(&t) {
                0
            } else if ENGINE_EDGE_TYPES.contains(&t) {
                KEPT
            } else {
                NAME
            }
        },
        "name_or_index",
    )?;
    for (columns, pos, section) in [
        (&node_columns, nodes_pos, "nodes"),
        (&edge_columns, edges_pos, "edges"),
    ] {
        scan_rows(
            &mut Cursor::new(bytes, pos, section),
            columns.width,
            done_with,
            |row, at| match columns.name_use(row) {
                (_, 0) => Ok(()),
                // An edge type the redactor does not know may label by
                // index: an index past the strings is not a string.
                (name, _) if section == "edges" && name >= count as u64 => Ok(()),
                (name, flags) => mark(name, flags, at, section),
            },
        )?;
    }
    for (pos, fields, section) in [
        (
            sections.trace_function_infos,
            &meta.trace_function_info_fields,
            "trace_function_infos",
        ),
        (
            sections.scope_context_vars,
            &meta.scope_context_var_fields,
            "scope_context_vars",
        ),
    ] {
        let Some(pos) = pos else { continue };
        let name_columns: Vec<usize> = fields
            .iter()
            .enumerate()
            .filter(|(_, f)| *f == "name" || f.ends_with("_name"))
            .map(|(i, _)| i)
            .collect();
        if name_columns.is_empty() || fields.is_empty() {
            continue;
        }
        scan_rows(
            &mut Cursor::new(bytes, pos, section),
            fields.len(),
            done_with,
            |row, at| -> Result<(), V8Error> {
                for &c in &name_columns {
                    mark(row.get(c).copied().unwrap_or(0), NAME, at, section)?;
                }
                Ok(())
            },
        )?;
    }

    // Decisions, and the kept names that pseudonyms must not take.
    let redactor = Redactor::new(&options.key);
    let mut kept_names: HashSet<Vec<u8>> = HashSet::new();
    let decode = |range: &Range<usize>, buf: &mut Vec<u8>| -> Result<(), V8Error> {
        Cursor::new(bytes, range.start, "strings").string(buf)
    };
    let is_name = |f: u8| f & (NAME | KEPT) != 0;
    if options.names {
        let mut released = strings_pos;
        for (range, &f) in entries.iter().zip(&flags) {
            if !is_name(f) {
                continue;
            }
            if range.start - released >= 8 << 20 {
                done_with(released..range.start);
                released = range.start;
            }
            decode(range, &mut buf)?;
            let kept = f & KEPT != 0 || std::str::from_utf8(&buf).map_or(true, is_platform_name);
            if kept {
                kept_names.insert(buf.clone());
            }
        }
    }
    // Entries used both as a value and as a name are split.
    let mut split: HashMap<u64, u64> = HashMap::new();
    for (i, &f) in flags.iter().enumerate() {
        if f & VALUE != 0 && is_name(f) {
            let next = (count + split.len()) as u64;
            split.insert(i as u64, next);
        }
    }

    // The copy.
    let mut copier = Copier {
        input: bytes,
        out,
        pos: 0,
        release: done_with,
        released: 0,
    };
    let mut report = Report::default();
    let mut regions: Vec<(usize, u8)> = vec![(strings_pos, 1)];
    if !split.is_empty() {
        regions.push((nodes_pos, 0));
    }
    regions.sort_unstable();
    for (_, region) in regions {
        if region == 0 {
            // Point value nodes at their split entries.
            scan_rows(
                &mut Cursor::new(bytes, nodes_pos, "nodes"),
                node_columns.width,
                done_with,
                |row, at| -> Result<(), V8RedactError> {
                    let (name, flags) = node_columns.name_use(row);
                    if let (VALUE, Some(&new)) = (flags, split.get(&name)) {
                        // The name column's digits within the row.
                        let start = crate::json::value_offset(bytes, at, node_columns.name_at);
                        let digits = bytes
                            .get(start..)
                            .map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count());
                        copier.replace(start..start + digits, new.to_string().as_bytes())?;
                    }
                    Ok(())
                },
            )?;
            continue;
        }
        // The strings.
        let mut appended: Vec<Vec<u8>> = Vec::new();
        let mut json = Vec::new();
        for (i, range) in entries.iter().enumerate() {
            let f = flags.get(i).copied().unwrap_or(0);
            let split_here = split.contains_key(&(i as u64));
            if is_name(f) && !options.names && !split_here {
                continue; // a name, kept as written: copied, not decoded
            }
            decode(range, &mut buf)?;
            let units = wtf8_to_utf16(&buf);
            let value_json = |units: &[u16]| {
                let mut v = units.to_vec();
                redactor.replace_utf16(&mut v);
                let mut j = Vec::new();
                json_string(&v, &mut j);
                j
            };
            if split_here {
                report.values += 1;
                report.value_bytes += units.len() as u64;
                appended.push(value_json(&units));
            }
            json.clear();
            if is_producer_marker(&buf) {
                // Public, and the reader needs it to name the producer.
            } else if !is_name(f) {
                // A value, or an entry nothing uses.
                if f == 0 {
                    report.unused_scrubbed += 1;
                } else {
                    report.values += 1;
                    report.value_bytes += units.len() as u64;
                }
                json = value_json(&units);
            } else if options.names {
                match std::str::from_utf8(&buf) {
                    Ok(name) if f & KEPT == 0 && !is_platform_name(name) => {
                        let kept = |candidate: &str| kept_names.contains(candidate.as_bytes());
                        let pseudonym = name_pseudonym(name, &redactor, &kept);
                        if pseudonym != name {
                            report.names_replaced += 1;
                            report.names_map.insert(name.to_owned(), pseudonym.clone());
                            json_string(&pseudonym.encode_utf16().collect::<Vec<_>>(), &mut json);
                        } else {
                            report.names_kept += 1;
                        }
                    }
                    Ok(_) => report.names_kept += 1,
                    Err(_) => {
                        // Not text (lone surrogates, raw bytes): as a value.
                        report.names_replaced += 1;
                        json = value_json(&units);
                    }
                }
            }
            if !json.is_empty() {
                copier.replace(range.clone(), &json)?;
            }
        }
        copier.copy_to(strings_close)?;
        for (k, entry) in appended.iter().enumerate() {
            if count + k > 0 {
                copier.out.write_all(b",")?;
            }
            copier.out.write_all(entry)?;
        }
    }
    copier.copy_to(bytes.len())?;
    copier.out.flush()?;
    Ok(report)
}

/// Copies the input to the output with replacements, in file order.
pub(crate) struct Copier<'a, 'w> {
    pub(crate) input: &'a [u8],
    pub(crate) out: &'w mut dyn Write,
    pub(crate) pos: usize,
    /// Told of the input copied so far, every few megabytes.
    pub(crate) release: &'a dyn Fn(Range<usize>),
    pub(crate) released: usize,
}

impl Copier<'_, '_> {
    pub(crate) fn copy_to(&mut self, offset: usize) -> std::io::Result<()> {
        let end = offset.min(self.input.len());
        // In 8 MiB steps, each let go once written: a long copy never makes
        // the mapped input resident whole.
        while end > self.pos {
            let step = end.min(self.pos.saturating_add(8 << 20));
            self.out
                .write_all(self.input.get(self.pos..step).unwrap_or(&[]))?;
            self.pos = step;
            if self.pos - self.released >= 8 << 20 || self.pos == self.input.len() {
                (self.release)(self.released..self.pos);
                self.released = self.pos;
            }
        }
        Ok(())
    }

    pub(crate) fn replace(&mut self, range: Range<usize>, with: &[u8]) -> std::io::Result<()> {
        if range.start < self.pos {
            return Ok(());
        }
        self.copy_to(range.start)?;
        self.out.write_all(with)?;
        self.pos = range.end.min(self.input.len());
        Ok(())
    }
}

/// Redacts a `.heapprofile` (sampling heap profile) into `out`. A profile
/// holds no values, only call frames: without [`Options::names`] it is
/// copied unchanged; with it, every `functionName` and `url` that is not
/// the platform's ([`is_platform_name`]; `(root)`, `(program)`, `node:…`
/// URLs and the empty string among them) gets a pseudonym. Everything else
/// (ids, sizes, line numbers, samples) is copied byte for byte.
///
/// # Errors
///
/// [`V8RedactError::Malformed`] naming the offset of a string that does
/// not close, or [`V8RedactError::Write`].
pub fn redact_heapprofile(
    bytes: &[u8],
    options: &Options,
    out: &mut dyn Write,
) -> Result<Report, V8RedactError> {
    // Validate first: a malformed profile is refused, not half-copied.
    crate::parse_heapprofile(bytes)?;
    let redactor = Redactor::new(&options.key);
    let mut report = Report::default();
    let mut copier = Copier {
        input: bytes,
        out,
        pos: 0,
        release: &|_| {},
        released: 0,
    };
    let mut buf = Vec::new();
    let mut key: Option<Vec<u8>> = None;
    let mut pos = 0;
    let kept = |_: &str| false;
    while let Some(found) = bytes.get(pos..).and_then(|rest| memchr::memchr(b'"', rest)) {
        let start = pos + found;
        let mut cursor = Cursor::new(bytes, start, "head");
        cursor.string(&mut buf)?;
        let after = cursor.pos();
        cursor.skip_ws();
        if cursor.peek() == Some(b':') {
            key = Some(buf.clone());
        } else {
            let is_frame_name = matches!(key.as_deref(), Some(b"functionName" | b"url"));
            if options.names && is_frame_name {
                match std::str::from_utf8(&buf) {
                    Ok(name) if is_platform_name(name) => report.names_kept += 1,
                    Ok(name) => {
                        let pseudonym = match name.find("://") {
                            // Keep a URL's scheme: `https://` + pseudonym.
                            Some(at) => format!(
                                "{}{}",
                                &name[..at + 3],
                                redactor.pseudonym(&name[at + 3..])
                            ),
                            None => name_pseudonym(name, &redactor, &kept),
                        };
                        report.names_replaced += 1;
                        report.names_map.insert(name.to_owned(), pseudonym.clone());
                        let mut json = Vec::new();
                        json_string(&pseudonym.encode_utf16().collect::<Vec<_>>(), &mut json);
                        copier.replace(start..after, &json)?;
                    }
                    Err(_) => {
                        let mut units = wtf8_to_utf16(&buf);
                        redactor.replace_utf16(&mut units);
                        let mut json = Vec::new();
                        json_string(&units, &mut json);
                        report.names_replaced += 1;
                        copier.replace(start..after, &json)?;
                    }
                }
            }
            key = None;
        }
        pos = after;
    }
    copier.copy_to(bytes.len())?;
    copier.out.flush()?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wtf8_round_trips_through_json() {
        for text in ["plain", "quote\" back\\ nl\n", "é€😀"] {
            let units = wtf8_to_utf16(text.as_bytes());
            assert_eq!(String::from_utf16(&units).unwrap(), text);
            let mut json = Vec::new();
            json_string(&units, &mut json);
            let back: String = serde_json::from_slice(&json).unwrap();
            assert_eq!(back, text);
        }
        // A lone surrogate in WTF-8 (ED A0 80) stays one unit, escaped.
        let units = wtf8_to_utf16(&[b'a', 0xED, 0xA0, 0x80]);
        assert_eq!(units, vec![u16::from(b'a'), 0xD800]);
        let mut json = Vec::new();
        json_string(&units, &mut json);
        assert_eq!(json, b"\"a\\ud800\"");
        // Invalid bytes map one to one.
        assert_eq!(wtf8_to_utf16(&[0xFF]), vec![0xDCFF]);
    }

    #[test]
    fn platform_heads_are_kept() {
        let r = Redactor::new(&heapgraph_redact::Key::from_salt(b"t"));
        let none = |_: &str| false;
        assert_eq!(name_pseudonym("Map", &r, &none), "Map");
        let window = name_pseudonym("Window / https://acme.example/secret", &r, &none);
        assert!(window.starts_with("Window / "));
        assert!(!window.contains("secret"));
        let detached = name_pseudonym("Detached <div id=\"card\">", &r, &none);
        assert!(detached.starts_with("Detached <"));
        assert!(!detached.contains("card"));
        let app = name_pseudonym("CardVault", &r, &none);
        assert_eq!(app.len(), 9);
        assert_ne!(app, "CardVault");
    }
}
