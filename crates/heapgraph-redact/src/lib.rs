//! Keyed, collision-free, same-length replacements for redacting heap dumps.
//!
//! A heap dump holds passwords, tokens and personal data in strings and
//! byte arrays. Blanking them (as most redaction tools do) loses what the
//! dump was shared for: duplicate strings and arrays can no longer be found.
//! This crate replaces every value by a value of the **same length** through
//! a keyed **permutation**: a bijection on the values of that length, so
//!
//! * equal contents map to equal replacements, and different contents to
//!   different ones, *by construction* (no hash can collide, no table is
//!   needed, memory is constant);
//! * the mapping is stable for one key (redact two dumps with the same
//!   `--salt` and they still diff);
//! * without the key nothing can be inverted (the round function is keyed
//!   BLAKE3, see below).
//!
//! Values keep the *class* of each symbol: printable ASCII stays printable
//! ASCII and other values stay other values ([`Redactor::replace_bytes`],
//! [`Redactor::replace_utf16`]), so a redacted Latin-1 string still prints
//! and a JSON string stays valid. Names get pseudonyms of the same byte
//! length that keep separators (`/ . $ _ ;` …), letter case and digits
//! ([`Redactor::pseudonym`]): `com/acme/billing/CardVault$Entry` becomes
//! something like `qux/hvbr/zqaatwq/MxprZtcgu$Oimwq`, so package grouping
//! survives.
//!
//! # The construction
//!
//! A value is a vector of digits, each with the radix of its class (95 for
//! printable ASCII, 161 for the other byte values, …). A Feistel network of
//! [`ROUNDS`] rounds splits the vector in two halves and, in turn, adds to
//! every digit of one half (modulo that digit's radix) a keystream derived
//! from the other half by BLAKE3 in keyed mode with extendable output. Each
//! round is invertible given the key, so the whole is a permutation of the
//! vectors with that class pattern. A single digit is permuted by a bit-level
//! Feistel network over the next power of two with cycle walking (repeat
//! until the result is below the radix), which is a permutation too. Class
//! patterns are kept, so the map is injective across patterns and lengths as
//! well.
//!
//! The key is derived from a salt ([`Key::from_salt`]) or drawn at random
//! ([`Key::random`]); it is never written to a redacted dump.
//!
//! The format rewriters live in the parser crates, which know the layouts;
//! the `heapgraph` facade picks one by format. They share [`Redactor`],
//! [`Options`] and [`Report`] from here.

#![deny(missing_docs)]

use std::collections::BTreeMap;

/// Feistel rounds of every permutation.
pub const ROUNDS: u8 = 6;

/// The context string of BLAKE3's key derivation: changing it changes every
/// replacement (a new format of redaction).
const KEY_CONTEXT: &str = "heapgraph 2026-12-07 redact: keyed same-length permutations v1";

/// Domain separation of the round functions.
const DOMAIN_BYTES: u8 = 1;
const DOMAIN_UTF16: u8 = 2;
const DOMAIN_NAME: u8 = 3;
const DOMAIN_SINGLE: u8 = 4;

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum RedactError {
    /// The operating system's random source failed (for a random key).
    #[error("cannot draw a random key: {0}")]
    Random(String),
}

/// A 256-bit redaction key.
#[derive(Clone)]
pub struct Key([u8; 32]);

impl Key {
    /// The key for a user's salt (any bytes): the same salt always gives the
    /// same replacements.
    pub fn from_salt(salt: &[u8]) -> Key {
        Key(blake3::derive_key(KEY_CONTEXT, salt))
    }

    /// A key from the operating system's random source: replacements differ
    /// on every run and cannot be reproduced.
    ///
    /// # Errors
    ///
    /// [`RedactError::Random`] if the random source fails.
    pub fn random() -> Result<Key, RedactError> {
        let mut salt = [0u8; 32];
        getrandom::fill(&mut salt).map_err(|e| RedactError::Random(e.to_string()))?;
        Ok(Key::from_salt(&salt))
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

/// What to redact: shared by every format's rewriter.
#[derive(Clone, Debug)]
pub struct Options {
    /// The key of every replacement.
    pub key: Key,
    /// Also replace class, field, method, property and function names and
    /// file paths by pseudonyms (names the analysis itself depends on are
    /// kept; each format says which).
    pub names: bool,
}

/// What a rewriter did, for the user and for tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Values replaced (strings, primitive arrays, V8 string values).
    pub values: u64,
    /// Bytes (or UTF-16 code units for V8) of those values.
    pub value_bytes: u64,
    /// Entries no name or value uses (HPROF UTF8 symbols, V8 strings)
    /// replaced as values: string literals of the VM's symbol table, for one.
    pub unused_scrubbed: u64,
    /// Fingerprints cleared (`java.lang.String.hash`).
    pub hashes_cleared: u64,
    /// Opaque records whose bodies were replaced (records of unknown types).
    pub opaque_records: u64,
    /// Names replaced by pseudonyms (`names` only).
    pub names_replaced: u64,
    /// Names kept because the analysis depends on them or they belong to a
    /// platform class (`names` only).
    pub names_kept: u64,
    /// Every pseudonym given: original name → pseudonym (`names` only).
    pub names_map: BTreeMap<String, String>,
}

/// The keyed permutations of one key. Cheap to share by reference; every
/// method takes `&self`.
#[derive(Clone)]
pub struct Redactor {
    key: [u8; 32],
    hasher: blake3::Hasher,
    /// The single-byte permutations of the two byte classes, precomputed
    /// (one-byte arrays are common).
    single_printable: [u8; 95],
    single_other: [u8; 161],
    /// `add[(byte << 8) | key]`: `byte` with `key` added to its digit,
    /// within its class (the inner loop of every byte round).
    add: Box<[u8]>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redactor(..)")
    }
}

/// Byte classes: printable ASCII (0x20..=0x7E) and everything else.
#[inline]
fn byte_digit(b: u8) -> (bool, u8) {
    match b {
        0x20..=0x7E => (true, b - 0x20),
        0..=0x1F => (false, b),
        _ => (false, b - 95),
    }
}

#[inline]
fn byte_from_digit(printable: bool, d: u8) -> u8 {
    if printable {
        d + 0x20
    } else if d < 0x20 {
        d
    } else {
        d + 95
    }
}

/// UTF-16 symbol classes: (radix, class tag).
const UTF16_PRINTABLE: u32 = 95;
const UTF16_OTHER_BMP: u32 = 65536 - 2048 - 95;
const UTF16_PAIR: u32 = 1 << 20;
const UTF16_LONE: u32 = 2048;

impl Redactor {
    /// The permutations of `key`.
    pub fn new(key: &Key) -> Redactor {
        let hasher = blake3::Hasher::new_keyed(&key.0);
        let add = (0..=u16::MAX)
            .map(|i| {
                let (b, k) = ((i >> 8) as u8, i as u8);
                let (printable, d) = byte_digit(b);
                let radix: u16 = if printable { 95 } else { 161 };
                byte_from_digit(printable, ((u16::from(d) + u16::from(k)) % radix) as u8)
            })
            .collect();
        let mut redactor = Redactor {
            key: key.0,
            hasher,
            single_printable: [0; 95],
            single_other: [0; 161],
            add,
        };
        let mut printable = [0u8; 95];
        for (x, slot) in printable.iter_mut().enumerate() {
            *slot = redactor.permute_single(1, 95, x as u32) as u8;
        }
        let mut other = [0u8; 161];
        for (x, slot) in other.iter_mut().enumerate() {
            *slot = redactor.permute_single(2, 161, x as u32) as u8;
        }
        redactor.single_printable = printable;
        redactor.single_other = other;
        redactor
    }

    /// Replaces `bytes` in place by their keyed permutation: same length,
    /// printable ASCII bytes stay printable ASCII, other bytes stay other
    /// bytes, equal inputs give equal outputs and different inputs
    /// different outputs.
    pub fn replace_bytes(&self, bytes: &mut [u8]) {
        match bytes.len() {
            0 => {}
            1 => {
                if let Some(b) = bytes.first_mut() {
                    let (printable, d) = byte_digit(*b);
                    let table: &[u8] = if printable {
                        &self.single_printable
                    } else {
                        &self.single_other
                    };
                    let p = table.get(usize::from(d)).copied().unwrap_or(d);
                    *b = byte_from_digit(printable, p);
                }
            }
            n => {
                let h = n / 2;
                let mut stream = [0u8; 4096];
                for round in 0..ROUNDS {
                    let (left, right) = bytes.split_at_mut(h);
                    let (target, source): (&mut [u8], &[u8]) = if round % 2 == 0 {
                        (left, right)
                    } else {
                        (right, left)
                    };
                    let mut prefix = [DOMAIN_BYTES, round, 0, 0, 0, 0, 0, 0, 0, 0];
                    prefix[2..].copy_from_slice(&(n as u64).to_le_bytes());
                    if target.len() <= 32 {
                        // Short values (most arrays): one block, one call.
                        let keys = &mut stream[..target.len()];
                        self.keystream(&prefix, source, keys);
                        for (b, &k) in target.iter_mut().zip(keys.iter()) {
                            let at = (usize::from(*b) << 8) | usize::from(k);
                            *b = self.add.get(at).copied().unwrap_or(*b);
                        }
                        continue;
                    }
                    let mut hasher = self.hasher.clone();
                    hasher.update(&prefix);
                    hasher.update(source);
                    let mut xof = hasher.finalize_xof();
                    for chunk in target.chunks_mut(stream.len()) {
                        let keys = &mut stream[..chunk.len()];
                        xof.fill(keys);
                        for (b, &k) in chunk.iter_mut().zip(keys.iter()) {
                            let at = (usize::from(*b) << 8) | usize::from(k);
                            *b = self.add.get(at).copied().unwrap_or(*b);
                        }
                    }
                }
            }
        }
    }

    /// Replaces a UTF-16 string in place by its keyed permutation: the same
    /// number of code units, printable ASCII stays printable ASCII, other
    /// BMP characters stay other BMP characters (never surrogates),
    /// surrogate pairs stay valid pairs and lone surrogates stay lone, so
    /// well-formed text stays well-formed. Injective, like
    /// [`replace_bytes`](Self::replace_bytes).
    pub fn replace_utf16(&self, units: &mut [u16]) {
        // Digits: (value, radix), one per symbol; a pair is one symbol.
        let mut digits: Vec<Digit> = Vec::with_capacity(units.len());
        let mut i = 0;
        while let Some(&u) = units.get(i) {
            let next = units.get(i + 1).copied();
            let u32v = u32::from(u);
            if (0xD800..0xDC00).contains(&u) {
                if let Some(lo) = next.filter(|l| (0xDC00..0xE000).contains(l)) {
                    let cp = ((u32v - 0xD800) << 10) | (u32::from(lo) - 0xDC00);
                    digits.push(Digit::new(cp, UTF16_PAIR));
                    i += 2;
                    continue;
                }
                digits.push(Digit::new(u32v - 0xD800, UTF16_LONE));
            } else if (0xDC00..0xE000).contains(&u) {
                digits.push(Digit::new(u32v - 0xD800, UTF16_LONE));
            } else if (0x20..=0x7E).contains(&u) {
                digits.push(Digit::new(u32v - 0x20, UTF16_PRINTABLE));
            } else if u < 0x20 {
                digits.push(Digit::new(u32v, UTF16_OTHER_BMP));
            } else if u < 0xD800 {
                digits.push(Digit::new(u32v - 95, UTF16_OTHER_BMP));
            } else {
                digits.push(Digit::new(u32v - 95 - 2048, UTF16_OTHER_BMP));
            }
            i += 1;
        }
        self.permute_digits(DOMAIN_UTF16, &mut digits);
        let mut out = 0;
        for Digit { value, radix, .. } in digits {
            let mut put = |unit: u32| {
                if let Some(slot) = units.get_mut(out) {
                    *slot = unit as u16;
                }
                out += 1;
            };
            match radix {
                UTF16_PAIR => {
                    put(0xD800 + (value >> 10));
                    put(0xDC00 + (value & 0x3FF));
                }
                UTF16_LONE => put(0xD800 + value),
                UTF16_PRINTABLE => put(value + 0x20),
                _ => put(if value < 0x20 {
                    value
                } else if value + 95 < 0xD800 {
                    value + 95
                } else {
                    value + 95 + 2048
                }),
            }
        }
    }

    /// A pseudonym for a name: the same length in UTF-8 bytes, separators
    /// (any ASCII character that is not a letter or digit) kept in place,
    /// and each run of letters, digits and non-ASCII characters replaced as
    /// one token by its keyed permutation with lower case kept lower,
    /// upper case upper, digits digits and non-ASCII characters of the same
    /// UTF-8 length. Equal tokens give equal pseudonyms wherever they occur
    /// (`com/acme/A` and `com/acme/B` share a prefix), so the map is
    /// injective and stable for one key.
    pub fn pseudonym(&self, name: &str) -> String {
        let mut out = String::with_capacity(name.len());
        let mut token: Vec<Digit> = Vec::new();
        let flush = |token: &mut Vec<Digit>, out: &mut String| {
            if token.is_empty() {
                return;
            }
            self.permute_digits(DOMAIN_NAME, token);
            for digit in token.iter() {
                out.push(name_char(digit));
            }
            token.clear();
        };
        for c in name.chars() {
            match name_digit(c) {
                Some(digit) => token.push(digit),
                None => {
                    flush(&mut token, &mut out);
                    out.push(c);
                }
            }
        }
        flush(&mut token, &mut out);
        out
    }

    /// [`pseudonym`](Self::pseudonym), walked on (the pseudonym of the
    /// pseudonym, …) while `taken` says the result is a name that must not
    /// be produced (a kept name). Cycle walking keeps the map injective on
    /// the names that are not taken; it ends because the walk is on a cycle
    /// of a permutation that contains `name` itself. Returns `name` if every
    /// step is taken (only when `name` is its own cycle).
    pub fn pseudonym_avoiding(&self, name: &str, taken: &dyn Fn(&str) -> bool) -> String {
        let mut current = self.pseudonym(name);
        // The cycle is finite; bound the walk anyway (a hostile `taken`).
        for _ in 0..1_000_000 {
            if !taken(&current) {
                return current;
            }
            if current == name {
                break;
            }
            current = self.pseudonym(&current);
        }
        current
    }

    /// A pseudonym for a file name or path: every part replaced as by
    /// [`pseudonym_avoiding`](Self::pseudonym_avoiding) except the
    /// extension after the last dot (`Foo.java`, `/srv/app/models.py`).
    pub fn file_pseudonym(&self, name: &str, taken: &dyn Fn(&str) -> bool) -> String {
        match name.rfind('.') {
            Some(dot) if dot > 0 && !name[dot..].contains('/') => {
                let (stem, extension) = name.split_at(dot);
                let stem =
                    self.pseudonym_avoiding(stem, &|s: &str| taken(&format!("{s}{extension}")));
                format!("{stem}{extension}")
            }
            _ => self.pseudonym_avoiding(name, taken),
        }
    }

    /// A copy of `bytes` replaced as by [`replace_bytes`](Self::replace_bytes):
    /// for a name that is not UTF-8 text, which has no pseudonym.
    pub fn replaced(&self, bytes: &[u8]) -> Vec<u8> {
        let mut copy = bytes.to_vec();
        self.replace_bytes(&mut copy);
        copy
    }

    /// The first `out.len()` bytes of keyed BLAKE3's output stream for
    /// `prefix` then `data`. When both fit one 64-byte block and at most 32
    /// bytes are wanted, the one-shot hash gives them: BLAKE3's hash is the
    /// first 32 bytes of its output stream, so the bytes are the same and
    /// the call is several times cheaper than a streaming hasher.
    fn keystream(&self, prefix: &[u8], data: &[u8], out: &mut [u8]) {
        let len = prefix.len() + data.len();
        if out.len() <= 32 && len <= 64 {
            let mut block = [0u8; 64];
            block[..prefix.len()].copy_from_slice(prefix);
            block[prefix.len()..len].copy_from_slice(data);
            let hash = blake3::keyed_hash(&self.key, &block[..len]);
            out.copy_from_slice(&hash.as_bytes()[..out.len()]);
            return;
        }
        let mut hasher = self.hasher.clone();
        hasher.update(prefix);
        hasher.update(data);
        hasher.finalize_xof().fill(out);
    }

    /// The Feistel network over mixed-radix digits.
    fn permute_digits(&self, domain: u8, digits: &mut [Digit]) {
        let n = digits.len();
        if n == 0 {
            return;
        }
        if n == 1 {
            if let Some(d) = digits.first_mut() {
                d.value = self.permute_single(domain, d.radix, d.value);
            }
            return;
        }
        let h = n / 2;
        let mut encoded = Vec::with_capacity(9 * (n - h));
        let mut keys = Vec::with_capacity(8 * (n - h));
        for round in 0..ROUNDS {
            let (left, right) = digits.split_at_mut(h);
            let (target, source): (&mut [Digit], &[Digit]) = if round % 2 == 0 {
                (left, right)
            } else {
                (right, left)
            };
            encoded.clear();
            for digit in source {
                encoded.extend_from_slice(&digit.value.to_le_bytes());
                encoded.extend_from_slice(&digit.radix.to_le_bytes());
                encoded.push(digit.class);
            }
            let mut prefix = [domain, round, 0, 0, 0, 0, 0, 0, 0, 0];
            prefix[2..].copy_from_slice(&(n as u64).to_le_bytes());
            // One keystream read for the whole half (a read per digit
            // costs more than the arithmetic).
            keys.clear();
            keys.resize(8 * target.len(), 0);
            self.keystream(&prefix, &encoded, &mut keys);
            for (digit, k) in target.iter_mut().zip(keys.chunks_exact(8)) {
                let r = u64::from(digit.radix.max(1));
                let k = u64::from_le_bytes(k.try_into().unwrap_or([0; 8]));
                let sum = (u64::from(digit.value) % r + k % r) % r;
                digit.value = sum as u32;
            }
        }
    }

    /// A keyed permutation of `0..radix`: a balanced bit-level Feistel
    /// network over the next power of two, with cycle walking.
    fn permute_single(&self, domain: u8, radix: u32, x: u32) -> u32 {
        if radix <= 1 || x >= radix {
            return x;
        }
        let bits = 32 - (radix - 1).leading_zeros();
        let step = |y: u32| -> u32 {
            let round_value = |round: u8, half: u32| -> u32 {
                let mut input = [DOMAIN_SINGLE, domain, round, 0, 0, 0, 0, 0, 0, 0, 0];
                input[3..7].copy_from_slice(&radix.to_le_bytes());
                input[7..].copy_from_slice(&half.to_le_bytes());
                let mut k = [0u8; 4];
                self.keystream(&input, &[], &mut k);
                u32::from_le_bytes(k)
            };
            if bits == 1 {
                return y ^ (round_value(0, 0) & 1);
            }
            let low_bits = bits / 2;
            let high_bits = bits - low_bits;
            let low_mask = (1u32 << low_bits) - 1;
            let high_mask = (1u32 << high_bits) - 1;
            let mut high = y >> low_bits;
            let mut low = y & low_mask;
            for round in 0..ROUNDS {
                if round % 2 == 0 {
                    high ^= round_value(round, low) & high_mask;
                } else {
                    low ^= round_value(round, high) & low_mask;
                }
            }
            (high << low_bits) | low
        };
        let mut y = step(x);
        // x < radix lies on y's cycle, so this ends within 2^bits steps.
        while y >= radix {
            y = step(y);
        }
        y
    }
}

/// One symbol of a value or name: its index within its class, the class's
/// size and (where two classes have one size) a tag.
#[derive(Clone, Copy, Debug)]
struct Digit {
    value: u32,
    radix: u32,
    class: u8,
}

impl Digit {
    fn new(value: u32, radix: u32) -> Digit {
        Digit {
            value,
            radix,
            class: 0,
        }
    }
}

const LOWER: u8 = 1;
const UPPER: u8 = 2;

/// The digit of a name character, or `None` for a separator.
fn name_digit(c: char) -> Option<Digit> {
    let v = u32::from(c);
    Some(match c {
        'a'..='z' => Digit {
            value: v - u32::from('a'),
            radix: 26,
            class: LOWER,
        },
        'A'..='Z' => Digit {
            value: v - u32::from('A'),
            radix: 26,
            class: UPPER,
        },
        '0'..='9' => Digit::new(v - u32::from('0'), 10),
        _ if v < 0x80 => return None,
        _ if v < 0x800 => Digit::new(v - 0x80, 1920),
        _ if v < 0xD800 => Digit::new(v - 0x800, 61440),
        _ if v < 0x10000 => Digit::new(v - 0x1000, 61440),
        _ => Digit::new(v - 0x10000, 1 << 20),
    })
}

/// The character of a name digit (see [`name_digit`]).
fn name_char(digit: &Digit) -> char {
    let value = digit.value;
    let v = match digit.radix {
        26 if digit.class == UPPER => u32::from('A') + value,
        26 => u32::from('a') + value,
        10 => u32::from('0') + value,
        1920 => value + 0x80,
        61440 => {
            if value + 0x800 < 0xD800 {
                value + 0x800
            } else {
                value + 0x1000
            }
        }
        _ => value + 0x10000,
    };
    char::from_u32(v).unwrap_or('_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn redactor() -> Redactor {
        Redactor::new(&Key::from_salt(b"test salt"))
    }

    #[test]
    fn every_short_byte_string_maps_one_to_one_within_its_class() {
        // Exhaustive over all 1- and 2-byte values: a permutation of each
        // length that keeps every byte's class.
        let r = redactor();
        for len in 1..=2usize {
            let mut seen = HashMap::new();
            let total = 256usize.pow(len as u32);
            for x in 0..total {
                let input: Vec<u8> = (0..len).map(|i| (x >> (8 * i)) as u8).collect();
                let mut out = input.clone();
                r.replace_bytes(&mut out);
                for (a, b) in input.iter().zip(&out) {
                    assert_eq!(byte_digit(*a).0, byte_digit(*b).0);
                }
                assert!(
                    seen.insert(out, input).is_none(),
                    "collision at length {len}"
                );
            }
            assert_eq!(seen.len(), total);
        }
    }

    #[test]
    fn three_byte_printable_strings_never_collide() {
        let r = redactor();
        let mut seen = std::collections::HashSet::new();
        for a in 0x20u8..=0x7E {
            for b in 0x20u8..=0x7E {
                for c in [b'a', b'Z', b'~'] {
                    let mut v = [a, b, c];
                    r.replace_bytes(&mut v);
                    assert!(v.iter().all(|x| (0x20..=0x7E).contains(x)));
                    assert!(seen.insert(v));
                }
            }
        }
    }

    #[test]
    fn keys_differ_and_salts_reproduce() {
        let mut a = *b"hunter2-password";
        let mut b = a;
        let mut c = a;
        Redactor::new(&Key::from_salt(b"one")).replace_bytes(&mut a);
        Redactor::new(&Key::from_salt(b"one")).replace_bytes(&mut b);
        Redactor::new(&Key::from_salt(b"two")).replace_bytes(&mut c);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(&a, b"hunter2-password");
    }

    #[test]
    fn single_utf16_units_are_a_permutation_of_each_class() {
        let r = redactor();
        let mut seen = HashMap::new();
        for u in 0..=0xFFFFu16 {
            let mut v = [u];
            r.replace_utf16(&mut v);
            let lone = (0xD800..0xE000).contains(&u);
            assert_eq!(lone, (0xD800..0xE000).contains(&v[0]), "{u:#x}");
            assert_eq!((0x20..=0x7E).contains(&u), (0x20..=0x7E).contains(&v[0]));
            assert!(seen.insert(v[0], u).is_none());
        }
    }

    #[test]
    fn pseudonyms_keep_shape_and_share_prefixes() {
        let r = redactor();
        let a = r.pseudonym("com/acme/billing/CardVault$Entry");
        let b = r.pseudonym("com/acme/billing/Invoice");
        assert_eq!(a.len(), "com/acme/billing/CardVault$Entry".len());
        assert_eq!(&a[..17], &b[..17]);
        assert_eq!(a.as_bytes()[3], b'/');
        assert_eq!(a.as_bytes()[26], b'$');
        assert!(a.as_bytes()[17].is_ascii_uppercase());
        assert!(a.as_bytes()[18].is_ascii_lowercase());
        assert_ne!(a, "com/acme/billing/CardVault$Entry");
        let unicode = r.pseudonym("café/Ünïcödé_1.py");
        assert_eq!(unicode.len(), "café/Ünïcödé_1.py".len());
        assert!(unicode.ends_with(".py") || unicode.contains('.'));
    }

    #[test]
    fn one_shot_keystream_equals_the_output_stream() {
        let r = redactor();
        for data_len in 0..=60usize {
            let data: Vec<u8> = (0..data_len as u8).collect();
            for out_len in [1usize, 4, 17, 32] {
                let mut short = vec![0u8; out_len];
                r.keystream(b"pre", &data, &mut short);
                let mut hasher = r.hasher.clone();
                hasher.update(b"pre");
                hasher.update(&data);
                let mut long = vec![0u8; out_len];
                hasher.finalize_xof().fill(&mut long);
                assert_eq!(short, long, "{data_len} {out_len}");
            }
        }
    }

    #[test]
    fn file_pseudonyms_keep_the_extension() {
        let r = redactor();
        let p = r.file_pseudonym("/srv/acme/billing.py", &|_| false);
        assert_eq!(p.len(), 20);
        assert!(p.ends_with(".py") && p.starts_with('/'));
        assert!(!p.contains("acme"));
        assert_eq!(r.file_pseudonym("/a.b/c", &|_| false).len(), 6);
        let first = r.file_pseudonym("Foo.java", &|_| false);
        assert_ne!(r.file_pseudonym("Foo.java", &|n| n == first), first);
    }

    #[test]
    fn cycle_walking_avoids_taken_names() {
        let r = redactor();
        let first = r.pseudonym("Foo");
        let walked = r.pseudonym_avoiding("Foo", &|n| n == first);
        assert_ne!(walked, first);
        assert_eq!(walked.len(), 3);
    }

    proptest! {
        #[test]
        fn byte_replacement_is_injective_and_keeps_classes(
            a in proptest::collection::vec(any::<u8>(), 0..40),
            b in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            let r = redactor();
            let (mut ra, mut rb) = (a.clone(), b.clone());
            r.replace_bytes(&mut ra);
            r.replace_bytes(&mut rb);
            prop_assert_eq!(ra.len(), a.len());
            prop_assert_eq!(a == b, ra == rb);
            for (x, y) in a.iter().zip(&ra) {
                prop_assert_eq!(byte_digit(*x).0, byte_digit(*y).0);
            }
        }

        #[test]
        fn utf16_replacement_is_injective_and_well_formed(
            a in proptest::collection::vec(any::<u16>(), 0..20),
            b in proptest::collection::vec(any::<u16>(), 0..20),
        ) {
            let r = redactor();
            let (mut ra, mut rb) = (a.clone(), b.clone());
            r.replace_utf16(&mut ra);
            r.replace_utf16(&mut rb);
            prop_assert_eq!(a == b, ra == rb);
            // Well-formed input stays well-formed.
            if String::from_utf16(&a).is_ok() {
                prop_assert!(String::from_utf16(&ra).is_ok());
            }
        }

        #[test]
        fn pseudonyms_are_injective_and_same_length(a in "[a-zA-Z0-9/$_.é€😀]{0,12}", b in "[a-zA-Z0-9/$_.é€😀]{0,12}") {
            let r = redactor();
            let (pa, pb) = (r.pseudonym(&a), r.pseudonym(&b));
            prop_assert_eq!(pa.len(), a.len());
            prop_assert_eq!(a == b, pa == pb);
        }
    }
}
