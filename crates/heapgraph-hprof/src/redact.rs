//! Redaction: an HPROF dump rewritten with its contents replaced.
//!
//! Every change is in place and keeps lengths, so the output has the same
//! records, sub-records, ids, sizes and offsets as the input and everything
//! the analysis reads is unchanged:
//!
//! * every primitive array's contents (so every `String` value: `byte[]`
//!   on JDK 9+, `char[]` before, ART's value arrays) become their keyed
//!   permutation ([`Redactor::replace_bytes`]);
//! * `java.lang.String.hash` (a 32-bit fingerprint of the value) and
//!   `hashIsZero` are zeroed, which Java reads as "not computed yet";
//! * UTF8 records that no class, field, method, source file, thread or heap
//!   name uses (the VM's symbol table: string literals, among others) are
//!   replaced as values;
//! * bodies of records of unknown types are replaced as values;
//! * with [`Options::names`], the class, field, method, signature, source
//!   file and thread names of classes outside the platform
//!   ([`is_platform_class`]) get same-length pseudonyms, walked past every
//!   kept name so no class can take a platform class's name.
//!
//! Two passes over the input: the first finds which symbol each name uses
//! and where `String.hash` lies; the second copies the file to the output
//! with the replacements. Memory: a few words per UTF8 record, class and
//! frame, plus the largest primitive array (which is redacted in a buffer).

use std::io::Write;
use std::ops::Range;

use hashbrown::{HashMap, HashSet};
use heapgraph_redact::{Options, Redactor, Report};

use crate::names::normalize_class_name;
use crate::stream::{
    frame, parse_header, walk, Body, ClassDump, HeapVisitor, RecordVisitor, SubRecord,
};
use crate::{BasicType, HprofError};

/// What can go wrong while redacting: the input is malformed, or the output
/// cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum HprofRedactError {
    /// The input is not a well-formed HPROF dump (the offset is in the
    /// error).
    #[error(transparent)]
    Malformed(#[from] HprofError),
    /// Writing the output failed.
    #[error("cannot write the redacted dump: {0}")]
    Write(#[from] std::io::Error),
}

/// Whether a class (HotSpot's `java/lang/String`, dotted or array names
/// too) belongs to the Java or Android platform: its names are public and
/// the analysis reads some of them, so `--names` keeps them.
pub fn is_platform_class(name: &[u8]) -> bool {
    let normal = normalize_class_name(name);
    let element = normal
        .iter()
        .position(|&b| b == b'[')
        .map_or(&normal[..], |at| &normal[..at]);
    const PRIMITIVES: [&[u8]; 8] = [
        b"boolean", b"char", b"float", b"double", b"byte", b"short", b"int", b"long",
    ];
    const PREFIXES: [&[u8]; 13] = [
        b"java.",
        b"javax.",
        b"jdk.",
        b"sun.",
        b"com.sun.",
        b"android.",
        b"androidx.",
        b"dalvik.",
        b"libcore.",
        b"kotlin.",
        b"kotlinx.",
        b"com.android.",
        b"org.apache.harmony.",
    ];
    PRIMITIVES.contains(&element) || PREFIXES.iter().any(|p| element.starts_with(p))
}

// How a UTF8 symbol is used (bit flags).
const CLASS: u8 = 1;
const MEMBER: u8 = 2;
const SIGNATURE: u8 = 4;
const SOURCE: u8 = 8;
const OTHER: u8 = 16;
/// Some use belongs to a platform class or is a heap name: kept.
const KEPT: u8 = 32;

struct Symbol {
    /// File offset and length of the text.
    text: Range<usize>,
    uses: u8,
}

/// Pass 1's findings.
#[derive(Default)]
struct Findings {
    symbols: Vec<Symbol>,
    by_id: HashMap<u64, u32>,
    /// class object id → name symbol id; class serial → class object id.
    class_names: HashMap<u64, u64>,
    serials: HashMap<u32, u64>,
    /// (method, signature, source file, class serial).
    frames: Vec<(u64, u64, u64, u32)>,
    /// (declaring class id, field or static name id).
    members: Vec<(u64, u64)>,
    /// Thread and heap names: (symbol id, kept).
    other_names: Vec<(u64, bool)>,
    string_class: Option<u64>,
    /// Byte ranges of `hash` and `hashIsZero` within a String's fields.
    string_hash: Vec<Range<usize>>,
    /// Records of unknown types: body file ranges.
    opaque: Vec<Range<usize>>,
}

impl Findings {
    fn text<'a>(&self, bytes: &'a [u8], id: u64) -> Option<&'a [u8]> {
        let symbol = self.symbols.get(*self.by_id.get(&id)? as usize)?;
        bytes.get(symbol.text.clone())
    }

    fn mark(&mut self, id: u64, uses: u8) {
        if let Some(&at) = self.by_id.get(&id) {
            if let Some(symbol) = self.symbols.get_mut(at as usize) {
                symbol.uses |= uses;
            }
        }
    }
}

struct Pass1<'a, 'f> {
    bytes: &'a [u8],
    id_size: u8,
    findings: &'f std::cell::RefCell<Findings>,
}

impl<'a> RecordVisitor<'a> for Pass1<'a, '_> {
    fn record(&mut self, tag: u8, body: Body<'a>) -> Result<(), HprofError> {
        let id = usize::from(body.id_size);
        let mut f = self.findings.borrow_mut();
        match tag {
            0x01 => {
                let symbol = body.id(0).map_err(|s| body.short(s))?;
                let start = body.base as usize + id;
                let end = body.base as usize + body.data.len();
                if start <= end {
                    let at = f.symbols.len() as u32;
                    f.symbols.push(Symbol {
                        text: start..end,
                        uses: 0,
                    });
                    f.by_id.insert(symbol, at);
                }
            }
            0x02 => {
                let serial = body.u4(0).map_err(|s| body.short(s))?;
                let class = body.id(4).map_err(|s| body.short(s))?;
                let name = body.id(8 + id).map_err(|s| body.short(s))?;
                f.class_names.insert(class, name);
                f.serials.insert(serial, class);
                let is_string = f
                    .text(self.bytes, name)
                    .map(normalize_class_name)
                    .as_deref()
                    == Some(&b"java.lang.String"[..]);
                if is_string {
                    f.string_class = Some(class);
                }
            }
            0x04 => {
                let method = body.id(id).map_err(|s| body.short(s))?;
                let signature = body.id(2 * id).map_err(|s| body.short(s))?;
                let source = body.id(3 * id).map_err(|s| body.short(s))?;
                let serial = body.u4(4 * id).map_err(|s| body.short(s))?;
                f.frames.push((method, signature, source, serial));
            }
            0x0A => {
                // START THREAD: serial, thread object, trace serial, then the
                // thread, group and parent group names.
                for k in 0..3 {
                    let name = body.id(8 + id + k * id).map_err(|s| body.short(s))?;
                    f.other_names.push((name, false));
                }
            }
            0x03 | 0x05..=0x07 | 0x0B | 0x0D | 0x0E | 0x2C => {}
            _ => {
                let start = body.base as usize;
                f.opaque.push(start..start + body.data.len());
            }
        }
        Ok(())
    }
}

impl HeapVisitor for Pass1<'_, '_> {
    fn sub_record(
        &mut self,
        record: SubRecord<'_>,
        _offset: u64,
        _contiguous: bool,
    ) -> Result<(), HprofError> {
        let mut f = self.findings.borrow_mut();
        match record {
            SubRecord::Class(ClassDump {
                id,
                statics,
                fields,
                ..
            }) => {
                for s in &statics {
                    f.members.push((id, s.name_id));
                }
                for &(name, _) in &fields {
                    f.members.push((id, name));
                }
                if f.string_class == Some(id) {
                    let mut at = 0usize;
                    let mut ranges = Vec::new();
                    for &(name, ty) in &fields {
                        let size = usize::from(ty.file_size(self.id_size));
                        let field = f.text(self.bytes, name);
                        let is_hash = (field == Some(b"hash") && ty == BasicType::Int)
                            || (field == Some(b"hashIsZero") && ty == BasicType::Boolean);
                        if is_hash {
                            ranges.push(at..at + size);
                        }
                        at += size;
                    }
                    f.string_hash = ranges;
                }
            }
            SubRecord::HeapInfo { name_id, .. } => f.other_names.push((name_id, true)),
            _ => {}
        }
        Ok(())
    }
}

struct NoRecords;
impl<'a> RecordVisitor<'a> for NoRecords {
    fn record(&mut self, _tag: u8, _body: Body<'a>) -> Result<(), HprofError> {
        Ok(())
    }
}

/// A replacement of a file range (the whole range is rewritten).
enum Action {
    /// Replaced by its keyed permutation.
    Scramble,
    /// Replaced by these bytes (same length).
    Bytes(Vec<u8>),
    /// Zeroed.
    Zero,
}

/// Copies the input to the output, applying replacements in file order.
struct Patcher<'a, 'w> {
    input: &'a [u8],
    out: &'w mut dyn Write,
    pos: usize,
    /// Top-level replacements (symbols, opaque records), in file order.
    pending: std::iter::Peekable<std::vec::IntoIter<(Range<usize>, Action)>>,
    redactor: &'a Redactor,
    scratch: Vec<u8>,
}

impl Patcher<'_, '_> {
    /// Copies the input up to `offset`, applying the pending top-level
    /// replacements that lie before it.
    fn copy_to(&mut self, offset: usize) -> std::io::Result<()> {
        while let Some((range, _)) = self.pending.peek() {
            if range.start >= offset {
                break;
            }
            if let Some((range, action)) = self.pending.next() {
                self.replace(&[range], action)?;
            }
        }
        let end = offset.min(self.input.len());
        if end > self.pos {
            self.out
                .write_all(self.input.get(self.pos..end).unwrap_or(&[]))?;
            self.pos = end;
        }
        Ok(())
    }

    /// Rewrites the logical value made of `pieces` (one range, or several
    /// when a sub-record continues in the next segment).
    fn replace(&mut self, pieces: &[Range<usize>], action: Action) -> std::io::Result<()> {
        let Some(first) = pieces.first() else {
            return Ok(());
        };
        if first.start < self.pos {
            return Ok(()); // overlapping replacement: the first one stands
        }
        self.scratch.clear();
        for piece in pieces {
            self.scratch
                .extend_from_slice(self.input.get(piece.clone()).unwrap_or(&[]));
        }
        match action {
            Action::Scramble => self.redactor.replace_bytes(&mut self.scratch),
            Action::Zero => self.scratch.fill(0),
            Action::Bytes(bytes) if bytes.len() == self.scratch.len() => {
                self.scratch.copy_from_slice(&bytes);
            }
            Action::Bytes(_) => self.redactor.replace_bytes(&mut self.scratch),
        }
        let mut done = 0;
        for piece in pieces {
            let end = piece.end.min(self.input.len());
            if end > self.pos {
                self.out
                    .write_all(self.input.get(self.pos..piece.start).unwrap_or(&[]))?;
                let n = end - piece.start;
                self.out
                    .write_all(self.scratch.get(done..done + n).unwrap_or(&[]))?;
                done += n;
                self.pos = end;
            }
        }
        Ok(())
    }
}

struct Pass2<'a, 'w, 'p> {
    bytes: &'a [u8],
    patcher: &'p mut Patcher<'a, 'w>,
    id_size: usize,
    string_class: Option<u64>,
    string_hash: &'p [Range<usize>],
    /// Heap segments of the dump being walked, found when a sub-record
    /// crosses a segment end.
    segments: Option<Vec<Range<usize>>>,
    header: crate::stream::Header,
    dump: u32,
    report: &'p mut Report,
    /// A failed write, which stops the walk.
    write_error: Option<std::io::Error>,
}

impl Pass2<'_, '_, '_> {
    /// The file ranges of `len` bytes starting `rel` bytes after the
    /// sub-record at `offset`, following the segments when it is split.
    fn pieces(
        &mut self,
        offset: usize,
        contiguous: bool,
        rel: usize,
        len: usize,
    ) -> Vec<Range<usize>> {
        if contiguous {
            return std::iter::once(offset + rel..offset + rel + len).collect();
        }
        if self.segments.is_none() {
            let mut stats = crate::RecordStats::default();
            let framing = frame(
                self.bytes,
                &self.header,
                &mut NoRecords,
                &mut stats,
                false,
                self.dump,
                &|_| {},
            );
            self.segments = Some(framing.segments.iter().map(|s| s.start..s.end).collect());
        }
        let segments = self.segments.as_deref().unwrap_or(&[]);
        let mut at = segments.partition_point(|s| s.end <= offset);
        let mut pos = offset;
        let mut skip = rel;
        let mut left = len;
        let mut pieces = Vec::new();
        while let Some(segment) = segments.get(at) {
            let room = segment.end.saturating_sub(pos);
            if skip >= room {
                skip -= room;
            } else {
                let start = pos + skip;
                let n = left.min(segment.end - start);
                if n > 0 {
                    pieces.push(start..start + n);
                }
                left -= n;
                skip = 0;
                if left == 0 {
                    break;
                }
            }
            at += 1;
            pos = segments.get(at).map_or(segment.end, |s| s.start);
        }
        pieces
    }

    fn patch(
        &mut self,
        offset: usize,
        contiguous: bool,
        rel: usize,
        len: usize,
        action: Action,
    ) -> Result<(), HprofError> {
        let pieces = self.pieces(offset, contiguous, rel, len);
        let Some(start) = pieces.first().map(|p| p.start) else {
            return Ok(());
        };
        let written = self
            .patcher
            .copy_to(start)
            .and_then(|()| self.patcher.replace(&pieces, action));
        written.map_err(|error| {
            // Stop the walk; `redact` reports the write error itself.
            self.write_error = Some(error);
            HprofError::new(start as u64, crate::HprofErrorKind::NotHprof)
        })
    }
}

impl HeapVisitor for Pass2<'_, '_, '_> {
    fn sub_record(
        &mut self,
        record: SubRecord<'_>,
        offset: u64,
        contiguous: bool,
    ) -> Result<(), HprofError> {
        let offset = offset as usize;
        let id = self.id_size;
        match record {
            SubRecord::PrimitiveArray { ty, length, .. } => {
                if self.bytes.get(offset) != Some(&0x23) {
                    return Ok(()); // Android's NODATA arrays hold nothing
                }
                let len = (length as usize).saturating_mul(usize::from(ty.file_size(id as u8)));
                if len > 0 {
                    self.report.values += 1;
                    self.report.value_bytes += len as u64;
                    self.patch(offset, contiguous, 1 + id + 9, len, Action::Scramble)?;
                }
            }
            SubRecord::Instance {
                class_id, fields, ..
            } if Some(class_id) == self.string_class && !self.string_hash.is_empty() => {
                let base = 1 + 2 * id + 8;
                let mut cleared = false;
                for range in self.string_hash.iter().cloned() {
                    if let Some(value) = fields.get(range.clone()) {
                        if value.iter().any(|&b| b != 0) {
                            cleared = true;
                            self.patch(
                                offset,
                                contiguous,
                                base + range.start,
                                range.len(),
                                Action::Zero,
                            )?;
                        }
                    }
                }
                if cleared {
                    self.report.hashes_cleared += 1;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Redacts the HPROF dump `bytes` into `out` (see the [module](self)).
/// `done_with` gets byte ranges of the input the walk has passed, so a
/// caller that mapped the file can let them go.
///
/// # Errors
///
/// [`HprofRedactError::Malformed`] with the offset of the first malformed
/// record (nothing useful has been written then: remove the output), or
/// [`HprofRedactError::Write`].
pub fn redact(
    bytes: &[u8],
    options: &Options,
    out: &mut dyn Write,
    done_with: &dyn Fn(Range<usize>),
) -> Result<Report, HprofRedactError> {
    let header = parse_header(bytes)?;
    let redactor = Redactor::new(&options.key);
    let findings = std::cell::RefCell::new(Findings::default());

    // Pass 1: symbols, their uses, String's layout; every heap dump.
    let mut stats = crate::RecordStats::default();
    let mut dump = 1;
    loop {
        let mut records = Pass1 {
            bytes,
            id_size: header.id_size,
            findings: &findings,
        };
        let mut heap = Pass1 {
            bytes,
            id_size: header.id_size,
            findings: &findings,
        };
        let visitor: Option<&mut dyn RecordVisitor<'_>> =
            if dump == 1 { Some(&mut records) } else { None };
        walk(
            bytes, &header, visitor, &mut heap, &mut stats, false, dump, done_with,
        )?;
        if dump >= stats.heap_dumps {
            break;
        }
        dump += 1;
    }
    let dumps = stats.heap_dumps.max(1);
    let mut findings = findings.into_inner();
    let mut report = Report::default();
    let plan = plan_symbols(bytes, &mut findings, options, &redactor, &mut report);

    // Pass 2: copy with the replacements.
    let mut pending = plan;
    for range in std::mem::take(&mut findings.opaque) {
        report.opaque_records += 1;
        pending.push((range, Action::Scramble));
    }
    pending.sort_by_key(|(range, _)| range.start);
    let mut patcher = Patcher {
        input: bytes,
        out,
        pos: 0,
        pending: pending.into_iter().peekable(),
        redactor: &redactor,
        scratch: Vec::new(),
    };
    for dump in 1..=dumps {
        let mut pass = Pass2 {
            bytes,
            patcher: &mut patcher,
            id_size: usize::from(header.id_size),
            string_class: findings.string_class,
            string_hash: &findings.string_hash,
            segments: None,
            header,
            dump,
            report: &mut report,
            write_error: None,
        };
        let mut stats = crate::RecordStats::default();
        let walked = walk(
            bytes, &header, None, &mut pass, &mut stats, false, dump, done_with,
        );
        if let Some(error) = pass.write_error {
            return Err(error.into());
        }
        walked?;
    }
    patcher.copy_to(bytes.len())?;
    patcher.out.flush()?;
    Ok(report)
}

/// Decides every UTF8 symbol's fate and computes the pseudonyms.
fn plan_symbols(
    bytes: &[u8],
    findings: &mut Findings,
    options: &Options,
    redactor: &Redactor,
    report: &mut Report,
) -> Vec<(Range<usize>, Action)> {
    // Uses: class names, members, frames, thread and heap names.
    let classes: Vec<(u64, u64)> = findings.class_names.iter().map(|(&c, &n)| (c, n)).collect();
    let mut platform: HashSet<u64> = HashSet::new();
    for &(class, name) in &classes {
        let kept = findings.text(bytes, name).is_some_and(is_platform_class);
        if kept {
            platform.insert(class);
        }
        findings.mark(name, CLASS | if kept { KEPT } else { 0 });
    }
    for (class, name) in std::mem::take(&mut findings.members) {
        let kept = platform.contains(&class);
        findings.mark(name, MEMBER | if kept { KEPT } else { 0 });
    }
    for (method, signature, source, serial) in std::mem::take(&mut findings.frames) {
        let kept = findings
            .serials
            .get(&serial)
            .is_some_and(|class| platform.contains(class));
        let k = if kept { KEPT } else { 0 };
        findings.mark(method, MEMBER | k);
        findings.mark(signature, SIGNATURE | k);
        findings.mark(source, SOURCE | k);
    }
    for (name, kept) in std::mem::take(&mut findings.other_names) {
        findings.mark(name, OTHER | if kept { KEPT } else { 0 });
    }

    let kept_texts: HashSet<&[u8]> = findings
        .symbols
        .iter()
        .filter(|s| s.uses & KEPT != 0 || (s.uses != 0 && !options.names))
        .filter_map(|s| bytes.get(s.text.clone()))
        .collect();
    let taken = |name: &str| kept_texts.contains(name.as_bytes());
    let class_taken = |name: &str| taken(name) || is_platform_class(name.as_bytes());
    let class_pseudonym = |name: &str| -> String {
        if is_platform_class(name.as_bytes()) {
            return name.to_owned();
        }
        redactor.pseudonym_avoiding(name, &|candidate: &str| class_taken(candidate))
    };

    let mut plan = Vec::new();
    for symbol in &findings.symbols {
        let Some(text) = bytes.get(symbol.text.clone()) else {
            continue;
        };
        if symbol.uses == 0 {
            if !text.is_empty() {
                report.unused_scrubbed += 1;
                plan.push((symbol.text.clone(), Action::Scramble));
            }
            continue;
        }
        if !options.names {
            continue;
        }
        if symbol.uses & KEPT != 0 {
            report.names_kept += 1;
            continue;
        }
        let pseudonym = match std::str::from_utf8(text) {
            Ok(name) => {
                let p = if symbol.uses & CLASS != 0 {
                    class_name_pseudonym(name, &class_pseudonym)
                } else if symbol.uses & SIGNATURE != 0 {
                    signature_pseudonym(name, &class_pseudonym)
                } else if symbol.uses & SOURCE != 0 {
                    redactor.file_pseudonym(name, &taken)
                } else {
                    redactor.pseudonym_avoiding(name, &taken)
                };
                if p == name {
                    report.names_kept += 1;
                    continue;
                }
                report.names_map.insert(name.to_owned(), p.clone());
                p.into_bytes()
            }
            // Modified UTF-8 that is not UTF-8 (surrogates, NUL): as a value.
            Err(_) => redactor.replaced(text),
        };
        report.names_replaced += 1;
        plan.push((symbol.text.clone(), Action::Bytes(pseudonym)));
    }
    plan
}

/// `com/acme/Foo`, `[Lcom/acme/Foo;` or `[[I`: the element class's name
/// replaced, array syntax kept.
fn class_name_pseudonym(name: &str, class: &dyn Fn(&str) -> String) -> String {
    let dims = name.bytes().take_while(|&b| b == b'[').count();
    let (prefix, rest) = name.split_at(dims);
    if dims > 0 {
        if let Some(inner) = rest.strip_prefix('L').and_then(|r| r.strip_suffix(';')) {
            return format!("{prefix}L{};", class(inner));
        }
        if rest.len() == 1 {
            return name.to_owned(); // a primitive array
        }
    }
    let dotted_dims = name.matches("[]").count();
    if dotted_dims > 0 {
        if let Some(element) = name.split("[]").next() {
            return format!("{}{}", class(element), "[]".repeat(dotted_dims));
        }
    }
    class(name)
}

/// A method descriptor with every `Lclass;` replaced like a class name.
fn signature_pseudonym(signature: &str, class: &dyn Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(signature.len());
    let mut rest = signature;
    while let Some(at) = rest.find('L') {
        let (before, after) = rest.split_at(at);
        out.push_str(before);
        match after.find(';') {
            Some(end) => {
                let inner = after.get(1..end).unwrap_or("");
                out.push('L');
                out.push_str(&class(inner));
                out.push(';');
                rest = after.get(end + 1..).unwrap_or("");
            }
            None => {
                out.push_str(after);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_classes() {
        assert!(is_platform_class(b"java/lang/String"));
        assert!(is_platform_class(b"[Ljava/util/HashMap$Node;"));
        assert!(is_platform_class(b"[[I"));
        assert!(is_platform_class(b"android.app.Activity"));
        assert!(!is_platform_class(b"com/acme/Secret"));
        assert!(!is_platform_class(b"[Lcom/acme/Secret;"));
        assert!(!is_platform_class(b"javafoo/Bar"));
    }

    #[test]
    fn name_shapes() {
        let class = |s: &str| s.to_uppercase();
        assert_eq!(class_name_pseudonym("[[Lcom/a/B;", &class), "[[LCOM/A/B;");
        assert_eq!(class_name_pseudonym("[I", &class), "[I");
        assert_eq!(class_name_pseudonym("com.a.B[][]", &class), "COM.A.B[][]");
        assert_eq!(
            signature_pseudonym("(Lcom/a/B;I[Ljava/lang/String;)V", &class),
            "(LCOM/A/B;I[LJAVA/LANG/STRING;)V"
        );
    }
}
