//! Interned strings: one byte buffer plus offsets.
//!
//! Strings are stored as raw bytes, because the formats do not all guarantee
//! UTF-8: HPROF uses modified UTF-8, tracemalloc filenames may hold lone
//! surrogates (WTF-8), V8 escapes may encode unpaired surrogates. Identity and
//! ordering use the raw bytes; [`StringTable::get`] decodes lossily for display.
//!
//! ```text
//! bytes:   "" "Object" "length" ...   (concatenated, no separators)
//! offsets: [0, 0, 6, 12, ...]         (string_count + 1 entries)
//! ```
//!
//! Offsets take 4 bytes each: a table's bytes pass 4 GiB rarely, and where
//! they do, the few positions at which the offsets wrap are listed aside
//! (V8 snapshots hold millions of strings, so 8-byte offsets cost tens of
//! megabytes).

use std::borrow::Cow;
use std::hash::BuildHasher;

use hashbrown::HashTable;

use crate::StringId;

/// An immutable table of interned strings, indexed by [`StringId`].
///
/// [`StringId::EMPTY`] (0) is always the empty string.
#[derive(Clone, Debug)]
pub struct StringTable {
    /// All strings, concatenated.
    bytes: Vec<u8>,
    /// `len() + 1` monotone offsets into `bytes`; the last equals `bytes.len()`.
    offsets: Offsets,
}

impl Default for StringTable {
    fn default() -> Self {
        let mut offsets = Offsets::default();
        offsets.push(0);
        offsets.push(0);
        StringTable {
            bytes: Vec::new(),
            offsets,
        }
    }
}

/// Monotone byte offsets in 4 bytes each: the low 32 bits, and the indices
/// at which the high bits step up (one entry per 4 GiB passed, so nearly
/// always none).
#[derive(Clone, Debug, Default)]
struct Offsets {
    low: Vec<u32>,
    /// Ascending; the high bits of offset `i` are the number of entries
    /// `<= i`.
    wraps: Vec<u32>,
}

impl Offsets {
    fn len(&self) -> usize {
        self.low.len()
    }

    /// Appends `offset`, which must not be below the last one.
    fn push(&mut self, offset: u64) {
        let index = self.low.len() as u32;
        let high = offset >> 32;
        while (self.wraps.len() as u64) < high {
            self.wraps.push(index);
        }
        self.low.push(offset as u32);
    }

    #[inline]
    fn get(&self, index: usize) -> Option<u64> {
        let low = u64::from(*self.low.get(index)?);
        if self.wraps.is_empty() {
            return Some(low);
        }
        let high = self.wraps.partition_point(|&w| w as usize <= index) as u64;
        Some(high << 32 | low)
    }

    fn reserve(&mut self, additional: usize) {
        self.low.reserve(additional);
    }

    fn shrink_to_fit(&mut self) {
        self.low.shrink_to_fit();
        self.wraps.shrink_to_fit();
    }

    fn heap_bytes(&self) -> usize {
        self.low.capacity() * 4 + self.wraps.capacity() * 4
    }
}

impl StringTable {
    /// The number of strings, including the empty string.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Always false: the empty string is always present.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The raw bytes of a string (UTF-8, WTF-8 or modified UTF-8).
    ///
    /// An id from another table that is out of range yields the empty slice.
    pub fn bytes(&self, id: StringId) -> &[u8] {
        let i = id.index();
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(start), Some(end)) => self
                .bytes
                .get(start as usize..end as usize)
                .unwrap_or_default(),
            _ => &[],
        }
    }

    /// A string decoded for display: invalid sequences become U+FFFD.
    pub fn get(&self, id: StringId) -> Cow<'_, str> {
        String::from_utf8_lossy(self.bytes(id))
    }

    /// Iterates over `(id, bytes)` pairs in id order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (StringId, &[u8])> + '_ {
        (0..self.len()).map(move |i| {
            let id = StringId(i as u32);
            (id, self.bytes(id))
        })
    }

    /// Heap bytes held by the table.
    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + self.offsets.heap_bytes()
    }

    /// Looks up a string by content. This is a linear scan; use a
    /// [`StringInterner`] while building when many lookups are needed.
    pub fn find(&self, s: &[u8]) -> Option<StringId> {
        self.iter().find(|(_, b)| *b == s).map(|(id, _)| id)
    }
}

/// Builds a [`StringTable`], deduplicating equal byte strings.
///
/// The interner keeps one 4-byte hash-table slot per distinct string, besides
/// the bytes themselves; no string is allocated on its own.
pub struct StringInterner {
    table: StringTable,
    index: HashTable<u32>,
    hasher: hashbrown::DefaultHashBuilder,
    /// Strings `0..indexed` are in `index`; later ones were appended by
    /// [`StringInterner::push_unique`] and are indexed on the next `intern`.
    indexed: usize,
    /// The most string bytes the table may hold ([`Limits::max_string_bytes`](crate::Limits::max_string_bytes)).
    max_bytes: u64,
}

impl Default for StringInterner {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for StringInterner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StringInterner")
            .field("len", &self.table.len())
            .finish()
    }
}

/// Error returned when a string table would exceed `u32::MAX - 1` strings,
/// or the configured limit on string bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooManyStrings {
    byte_limit: Option<u64>,
}

impl TooManyStrings {
    const COUNT: TooManyStrings = TooManyStrings { byte_limit: None };

    /// The configured limit on string bytes that was exceeded, or `None`
    /// when the number of strings outgrew `u32` indices.
    pub fn byte_limit(&self) -> Option<u64> {
        self.byte_limit
    }
}

impl std::fmt::Display for TooManyStrings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.byte_limit {
            None => f.write_str("too many distinct strings (more than 4294967294)"),
            Some(limit) => write!(f, "string bytes exceed the configured limit of {limit}"),
        }
    }
}

impl std::error::Error for TooManyStrings {}

impl StringInterner {
    /// An interner holding only the empty string.
    pub fn new() -> Self {
        let mut interner = StringInterner {
            table: StringTable::default(),
            index: HashTable::new(),
            hasher: hashbrown::DefaultHashBuilder::default(),
            indexed: 1,
            max_bytes: u64::MAX,
        };
        let hash = interner.hasher.hash_one(b"" as &[u8]);
        interner.index.insert_unique(hash, 0, |_| hash);
        interner
    }

    /// Limits the total bytes of all strings; interning beyond it fails.
    pub fn set_max_bytes(&mut self, max_bytes: u64) {
        self.max_bytes = max_bytes;
    }

    /// Checks that one more string of `len` bytes fits, returning its id.
    fn next_id(&self, len: usize) -> Result<u32, TooManyStrings> {
        let id = u32::try_from(self.table.len()).map_err(|_| TooManyStrings::COUNT)?;
        if id == u32::MAX {
            return Err(TooManyStrings::COUNT);
        }
        let total = (self.table.bytes.len() as u64).saturating_add(len as u64);
        if total > self.max_bytes {
            return Err(TooManyStrings {
                byte_limit: Some(self.max_bytes),
            });
        }
        Ok(id)
    }

    /// Indexes the strings appended by `push_unique` since the last lookup.
    fn index_pending(&mut self) {
        let len = self.table.len();
        if self.indexed >= len {
            return;
        }
        let (table, hasher, index) = (&self.table, &self.hasher, &mut self.index);
        let rehash = |&id: &u32| hasher.hash_one(table.bytes(StringId(id)));
        index.reserve(len - self.indexed, rehash);
        for id in self.indexed..len {
            let id = id as u32;
            let hash = hasher.hash_one(table.bytes(StringId(id)));
            index.insert_unique(hash, id, rehash);
        }
        self.indexed = len;
    }

    /// Interns `s`, returning the id of an equal string if one exists.
    pub fn intern(&mut self, s: &[u8]) -> Result<StringId, TooManyStrings> {
        self.index_pending();
        let hash = self.hasher.hash_one(s);
        let table = &self.table;
        if let Some(&id) = self.index.find(hash, |&id| table.bytes(StringId(id)) == s) {
            return Ok(StringId(id));
        }
        let id = self.next_id(s.len())?;
        self.table.bytes.extend_from_slice(s);
        self.table.offsets.push(self.table.bytes.len() as u64);
        let (table, hasher) = (&self.table, &self.hasher);
        self.index.insert_unique(hash, id, |&other| {
            hasher.hash_one(table.bytes(StringId(other)))
        });
        self.indexed = self.table.len();
        Ok(StringId(id))
    }

    /// Interns a UTF-8 string.
    pub fn intern_str(&mut self, s: &str) -> Result<StringId, TooManyStrings> {
        self.intern(s.as_bytes())
    }

    /// Appends `s` as a new string without deduplicating it.
    ///
    /// For producers whose own string table is already deduplicated (V8) and
    /// whose indices must be preserved. Later [`intern`](Self::intern) calls
    /// may return either copy of an equal string.
    ///
    /// Appending is cheap: the lookup index is only brought up to date by
    /// the next [`intern`](Self::intern), so a bulk load that never looks a
    /// string up never hashes at all.
    pub fn push_unique(&mut self, s: &[u8]) -> Result<StringId, TooManyStrings> {
        let id = self.next_id(s.len())?;
        self.table.bytes.extend_from_slice(s);
        self.table.offsets.push(self.table.bytes.len() as u64);
        Ok(StringId(id))
    }

    /// Reserves room for `strings` more strings of `bytes` more bytes in
    /// total, so that a bulk load (V8's string table) does not copy while
    /// growing. Callers must bound both by what their input can hold.
    pub fn reserve(&mut self, strings: usize, bytes: usize) {
        self.table.bytes.reserve(bytes);
        self.table.offsets.reserve(strings);
    }

    /// The strings interned so far.
    pub fn table(&self) -> &StringTable {
        &self.table
    }

    /// The number of strings interned so far.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Always false: the empty string is always present.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Drops the lookup index and returns the frozen table.
    pub fn finish(mut self) -> StringTable {
        self.table.bytes.shrink_to_fit();
        self.table.offsets.shrink_to_fit();
        self.table
    }
}

/// Appends a code point as WTF-8: UTF-8 that also encodes lone surrogates
/// (U+D800..U+DFFF) as their 3-byte sequences, so that strings which are
/// not valid Unicode (V8's `\uD800` escapes, Python's `surrogateescape`d
/// file names) keep their identity in a [`StringTable`]. The V8 reader and
/// the pickle reader both encode through it.
pub fn push_wtf8(out: &mut Vec<u8>, code_point: u32) {
    let c = code_point;
    if c < 0x80 {
        out.push(c as u8);
    } else if c < 0x800 {
        out.extend_from_slice(&[0xC0 | (c >> 6) as u8, 0x80 | (c & 0x3F) as u8]);
    } else if c < 0x10000 {
        out.extend_from_slice(&[
            0xE0 | (c >> 12) as u8,
            0x80 | ((c >> 6) & 0x3F) as u8,
            0x80 | (c & 0x3F) as u8,
        ]);
    } else {
        out.extend_from_slice(&[
            0xF0 | (c >> 18) as u8,
            0x80 | ((c >> 12) & 0x3F) as u8,
            0x80 | ((c >> 6) & 0x3F) as u8,
            0x80 | (c & 0x3F) as u8,
        ]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// 4-byte offsets against a plain `Vec<u64>`, with steps that pass
        /// one or several 4 GiB boundaries at once.
        #[test]
        fn offsets_behave_like_a_vec(steps in prop::collection::vec(
            prop_oneof![0u64..10, Just(1u64 << 32), Just(3u64 << 32), (1u64 << 31)..(1u64 << 33)],
            0..40,
        )) {
            let mut offsets = Offsets::default();
            let mut oracle = Vec::new();
            let mut at = 0u64;
            for step in steps {
                at += step;
                offsets.push(at);
                oracle.push(at);
            }
            prop_assert_eq!(offsets.len(), oracle.len());
            for (i, &o) in oracle.iter().enumerate() {
                prop_assert_eq!(offsets.get(i), Some(o));
            }
            prop_assert_eq!(offsets.get(oracle.len()), None);
        }
    }

    #[test]
    fn interning_deduplicates_and_keeps_raw_bytes() {
        let mut interner = StringInterner::new();
        let a = interner.intern_str("Object").unwrap();
        let b = interner.intern_str("Array").unwrap();
        let a2 = interner.intern(b"Object").unwrap();
        let empty = interner.intern(b"").unwrap();
        // A lone surrogate as WTF-8 (not valid UTF-8) survives as bytes.
        let wtf8 = interner.intern(b"x\xED\xB3\xBFy").unwrap();
        assert_eq!(a, a2);
        assert_ne!(a, b);
        assert_eq!(empty, StringId::EMPTY);
        let table = interner.finish();
        assert_eq!(table.len(), 4);
        assert_eq!(table.get(a), "Object");
        assert_eq!(table.get(b), "Array");
        assert_eq!(table.bytes(wtf8), b"x\xED\xB3\xBFy");
        assert_eq!(table.get(wtf8), "x\u{FFFD}\u{FFFD}\u{FFFD}y");
        assert_eq!(table.find(b"Array"), Some(b));
        assert_eq!(table.find(b"nope"), None);
        assert_eq!(table.bytes(StringId::new(99)), b"");
    }

    #[test]
    fn push_unique_keeps_positions() {
        let mut interner = StringInterner::new();
        let x1 = interner.push_unique(b"x").unwrap();
        let x2 = interner.push_unique(b"x").unwrap();
        assert_eq!((x1.as_u32(), x2.as_u32()), (1, 2));
        let found = interner.intern(b"x").unwrap();
        assert!(found == x1 || found == x2);
        assert_eq!(interner.len(), 3);
    }

    #[test]
    fn reserve_keeps_contents_and_lookups() {
        let mut interner = StringInterner::new();
        let a = interner.intern_str("a").unwrap();
        interner.reserve(1000, 10_000);
        assert!(interner.table().bytes.capacity() >= 10_001);
        let ids: Vec<_> = (0..1000)
            .map(|i| interner.push_unique(format!("s{i}").as_bytes()).unwrap())
            .collect();
        assert_eq!(interner.intern_str("a").unwrap(), a);
        // Strings appended by push_unique are found by later lookups.
        assert_eq!(interner.intern_str("s999").unwrap(), ids[999]);
        assert_eq!(interner.intern_str("s0").unwrap(), ids[0]);
        assert_eq!(interner.len(), 1002);
        let more = interner.push_unique(b"late").unwrap();
        assert_eq!(interner.intern(b"late").unwrap(), more);
        assert_eq!(interner.intern(b"").unwrap(), StringId::EMPTY);
        assert_eq!(interner.len(), 1003);
    }

    #[test]
    fn many_strings_rehash_correctly() {
        let mut interner = StringInterner::new();
        let ids: Vec<_> = (0..10_000)
            .map(|i| interner.intern_str(&format!("s{i}")).unwrap())
            .collect();
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(interner.intern_str(&format!("s{i}")).unwrap(), *id);
        }
        assert_eq!(interner.len(), 10_001);
    }

    #[test]
    fn wtf8_is_utf8_plus_lone_surrogates() {
        for c in [
            'a', 'é', '€', '😀', '\u{7F}', '\u{80}', '\u{7FF}', '\u{800}', '\u{FFFF}',
        ] {
            let mut out = Vec::new();
            push_wtf8(&mut out, c as u32);
            assert_eq!(out, c.to_string().as_bytes(), "{c:?}");
        }
        let mut out = Vec::new();
        push_wtf8(&mut out, 0xDCFF);
        push_wtf8(&mut out, 0xD800);
        assert_eq!(out, b"\xed\xb3\xbf\xed\xa0\x80");
    }
}
