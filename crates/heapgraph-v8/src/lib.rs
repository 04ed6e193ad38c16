//! V8 heap snapshots (`.heapsnapshot`) and sampling heap profiles
//! (`.heapprofile`) into the heapgraph object graph.
//!
//! * [`parse_snapshot`] reads a `.heapsnapshot` from Node.js, Chromium,
//!   Electron, Deno or Bun into a [`V8Snapshot`]: the core
//!   [`HeapGraph`](heapgraph_core::HeapGraph) plus V8's side tables
//!   (detachedness, closure locations, allocation traces, scopes). Columns are
//!   resolved by name from `snapshot.meta`; the `nodes` and `edges` integer
//!   arrays are scanned by a hand-written loop straight into the graph
//!   builder, with no JSON tree and no per-node allocation.
//! * [`parse_heapprofile`] reads a `.heapprofile` into a [`HeapProfile`]: the
//!   call tree with V8's per-site `selfSize`, the samples, and a graph of
//!   one allocation block per sample with its call stack.
//! * [`sniff`] recognises either format from the first bytes of a file
//!   ([`is_heapsnapshot`] and [`is_heapprofile`] ask for one); [`parse`]
//!   (options) and [`parse_snapshot`] (defaults) read a snapshot: the parser
//!   contract every heapgraph parser crate shares.
//!
//! Bad input never panics: every failure is a [`V8Error`] naming the byte
//! offset and what the parser expected there.
//!
//! # What the graph holds
//!
//! * Node ordinal *k* of the file is [`NodeIndex`](heapgraph_core::NodeIndex)
//!   *k*, so V8's root (node 0, or `snapshot.root_index` swapped into place)
//!   is the core root. Nodes keep V8's id, self size (as `u64`) and name (the
//!   value for strings, cut at 1024 characters by V8); V8 node types map one
//!   to one onto [`NodeKind`](heapgraph_core::NodeKind) (`hidden` →
//!   `Hidden`, `concatenated string` → `ConsString`, `object shape` →
//!   `ObjectShape`, `wasm object` → `Wasm`, unknown names → `Other`).
//! * Edges keep V8's order, type and label: `element` and `hidden` edges
//!   carry their index, the others a name. Edge type names the reader does
//!   not know become `Internal` with a [`V8Warning`].
//! * The synthetic children of `(GC roots)` are root groups of kind
//!   [`RootKind::Engine`](heapgraph_core::RootKind::Engine) (for Bun, whose
//!   `(GC roots)` holds the roots directly, `(GC roots)` itself is); nothing
//!   else is added, so DevTools' class naming and edge rules can be applied
//!   by the analysis from (kind, name, edges).
//! * V8's string table is appended in order, so V8 string *i* is the
//!   graph's string `i + 1` (0 is heapgraph's empty string). Strings are
//!   decoded to WTF-8: `\uXXXX` escapes, surrogate pairs joined, lone
//!   surrogates kept as their 3-byte encodings; raw bytes (Bun writes UTF-8)
//!   pass through.
//! * Allocation traces (`trace_function_infos` + `trace_tree`) become the
//!   graph's stack table, outermost caller first, without the `(root)`
//!   frame; each node with a `trace_node_id` links to its stack. Trace lines
//!   and columns are 1-based as V8 writes them (0 = unknown).
//! * Header counts are checked against the arrays, which win
//!   ([`V8Warning::CountMismatch`]); the per-node `edge_count`s must add up
//!   to the `edges` array exactly.
//!
//! # Performance
//!
//! The file is walked twice: once to find where each section starts
//! (`memchr` for the end of integer arrays, in pieces on every core), once
//! to read. `nodes` and `edges` are cut at commas into 64 KB chunks whose
//! digits are scanned on every rayon thread, eight bytes per number without
//! a branch per digit, while the records of the previous round go into the
//! builder in file order; with `RAYON_NUM_THREADS=1` one loop does both.
//! The only temporaries are 4 bytes per node of edge counts and about 2 MB
//! of values in flight. On a 548 MB Node 20 snapshot (6.7 M nodes, 19 M
//! edges) a parse takes about 1.8 s on one thread and 1.4 s on two (a busy
//! 2-core VM), and the graph needs less memory than the JSON.
//! [`ParseOptions::on_consumed`] gets the byte ranges of `nodes`,
//! `edges`, `locations` and `strings` as they are consumed, so a caller
//! that memory-mapped the file can drop them from its resident set.
//!
//! [`ParseOptions::limits`] refuses snapshots over a size before reading
//! them (from the header's counts) and stops at the record or string that
//! goes over.
//!
//! ```
//! let json = br#"{"snapshot":{"meta":{
//!     "node_fields":["type","name","id","self_size","edge_count"],
//!     "node_types":[["hidden","object","synthetic"],"string","number","number","number"],
//!     "edge_fields":["type","name_or_index","to_node"],
//!     "edge_types":[["element","property"],"string_or_number","node"]},
//!   "node_count":2,"edge_count":1},
//!   "nodes":[2,1,1,0,1, 1,2,3,24,0],
//!   "edges":[1,3,5],
//!   "strings":["<dummy>","","Order","next"]}"#;
//! let snapshot = heapgraph_v8::parse_snapshot(json)?;
//! let graph = &snapshot.graph;
//! assert_eq!(graph.node_count(), 2);
//! let order = heapgraph_core::NodeIndex::new(1);
//! assert_eq!(graph.name_str(order), "Order");
//! assert_eq!(graph.self_size(order), 24);
//! # Ok::<(), heapgraph_v8::V8Error>(())
//! ```

#![deny(missing_docs)]

mod error;
mod json;
mod meta;
mod profile;
mod records;
mod snapshot;

pub use error::{V8Error, V8ErrorKind};
pub use meta::SnapshotMeta;
pub use profile::{
    parse_heapprofile, parse_heapprofile_with, HeapProfile, ProfileNode, ProfileSample,
    ProfileSizes,
};
pub use snapshot::redact::{is_platform_name, redact_heapprofile, redact_snapshot, V8RedactError};
pub use snapshot::{
    parse, parse_snapshot, Location, Producer, ScopeSection, ScopeSections, SnapshotHeader,
    TimelineSample, TraceFunctionInfo, TraceNode, V8Snapshot, V8Warning,
};

/// How a snapshot or profile is read.
///
/// ```
/// use heapgraph_core::Limits;
/// let options = heapgraph_v8::ParseOptions::default()
///     .with_limits(Limits::default().with_max_nodes(10_000_000));
/// assert_eq!(options.limits.max_nodes, 10_000_000);
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct ParseOptions {
    /// Bounds on the graph a file may produce. A `.heapsnapshot` whose
    /// header declares more nodes or edges than allowed is refused before
    /// anything else is read (the error names the offset of the count);
    /// one whose arrays hold more than allowed fails at the first record
    /// over the limit; strings beyond `max_string_bytes` in all fail at the
    /// string that went over.
    pub limits: heapgraph_core::Limits,
    /// Called with the byte ranges a snapshot parse has finished reading
    /// (see [`parse`]); a `.heapprofile` is small and reports none.
    /// Default: no hook.
    pub on_consumed: heapgraph_core::OnConsumed,
    /// Leave a snapshot's `locations` section (closure source positions)
    /// unread, so that [`V8Snapshot::locations`] stays empty: no analysis
    /// reads it, and it holds 24 bytes per closure (38 MiB for the 1.65 M
    /// closures of a 546 MB Node snapshot). The section is still located
    /// and skipped over. Default: false (read).
    pub skip_locations: bool,
}

impl ParseOptions {
    /// These options with `limits`.
    pub fn with_limits(mut self, limits: heapgraph_core::Limits) -> Self {
        self.limits = limits;
        self
    }

    /// These options with [`ParseOptions::skip_locations`] set to `skip`.
    pub fn with_skip_locations(mut self, skip: bool) -> Self {
        self.skip_locations = skip;
        self
    }

    /// These options with the `on_consumed` hook (see
    /// [`ParseOptions::on_consumed`]).
    pub fn with_on_consumed(mut self, on_consumed: heapgraph_core::OnConsumed) -> Self {
        self.on_consumed = on_consumed;
        self
    }
}

/// The two formats this crate reads, as [`sniff`] tells them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum V8Input {
    /// A `.heapsnapshot` (read by [`parse`]).
    HeapSnapshot,
    /// A sampling heap profile, `.heapprofile` (read by
    /// [`parse_heapprofile_with`]).
    HeapProfile,
}

/// Which of this crate's formats a file starting with `prefix` (its first
/// few KB) is, judged by the structure of its first JSON keys
/// ([`is_heapsnapshot`], [`is_heapprofile`]); `None` for anything else.
/// Cheap and bounded: it reads nothing past `prefix`.
///
/// ```
/// use heapgraph_v8::{sniff, V8Input};
/// assert_eq!(sniff(b"{\"snapshot\":{\"meta\":{"), Some(V8Input::HeapSnapshot));
/// assert_eq!(sniff(b"{\"head\":{\"callFrame\":{"), Some(V8Input::HeapProfile));
/// assert_eq!(sniff(b"{\"name\":\"package\"}"), None);
/// ```
pub fn sniff(prefix: &[u8]) -> Option<V8Input> {
    if is_heapsnapshot(prefix) {
        Some(V8Input::HeapSnapshot)
    } else if is_heapprofile(prefix) {
        Some(V8Input::HeapProfile)
    } else {
        None
    }
}

/// Skips a UTF-8 byte-order mark and JSON whitespace.
fn skip_ws(bytes: &[u8], mut pos: usize) -> usize {
    if pos == 0 && bytes.starts_with(b"\xEF\xBB\xBF") {
        pos = 3;
    }
    while matches!(bytes.get(pos), Some(b' ' | b'\n' | b'\r' | b'\t')) {
        pos += 1;
    }
    pos
}

/// Whether `bytes[pos..]` starts with the key `"name"` and its `:` (or is a
/// prefix of that, for a short input). Returns the position after `:`.
fn key_at(bytes: &[u8], pos: usize, name: &[u8]) -> Option<usize> {
    let mut want = Vec::with_capacity(name.len() + 2);
    want.push(b'"');
    want.extend_from_slice(name);
    want.push(b'"');
    let rest = bytes.get(pos..).unwrap_or_default();
    if rest.len() < want.len() {
        return if want.starts_with(rest) && !rest.is_empty() {
            Some(bytes.len())
        } else {
            None
        };
    }
    if !rest.starts_with(&want) {
        return None;
    }
    let after = skip_ws(bytes, pos + want.len());
    match bytes.get(after) {
        Some(b':') => Some(skip_ws(bytes, after + 1)),
        None => Some(bytes.len()),
        Some(_) => None,
    }
}

/// Whether a file starting with `prefix` (its first few KB) looks like a
/// `.heapsnapshot`: a JSON object whose first key is `"snapshot"`, holding
/// an object.
pub fn is_heapsnapshot(prefix: &[u8]) -> bool {
    let pos = skip_ws(prefix, 0);
    if prefix.get(pos) != Some(&b'{') {
        return false;
    }
    let pos = skip_ws(prefix, pos + 1);
    match key_at(prefix, pos, b"snapshot") {
        Some(value) => value >= prefix.len() || prefix.get(value) == Some(&b'{'),
        None => false,
    }
}

/// Whether a file starting with `prefix` (its first few KB) looks like a
/// `.heapprofile`: a JSON object whose first key is `"head"` holding a call
/// tree node (an object with `"callFrame"`), or whose first key is
/// `"samples"` holding a list of samples (`{"size": ...}`) or an empty list.
pub fn is_heapprofile(prefix: &[u8]) -> bool {
    let pos = skip_ws(prefix, 0);
    if prefix.get(pos) != Some(&b'{') {
        return false;
    }
    let pos = skip_ws(prefix, pos + 1);
    if let Some(value) = key_at(prefix, pos, b"head") {
        if value >= prefix.len() {
            return true;
        }
        if prefix.get(value) != Some(&b'{') {
            return false;
        }
        let inner = skip_ws(prefix, value + 1);
        // V8 writes callFrame first; accept the other node keys too.
        return [&b"callFrame"[..], b"selfSize", b"id", b"children"]
            .iter()
            .any(|k| key_at(prefix, inner, k).is_some());
    }
    if let Some(value) = key_at(prefix, pos, b"samples") {
        if prefix.get(value) != Some(&b'[') {
            return false;
        }
        let first = skip_ws(prefix, value + 1);
        return match prefix.get(first) {
            Some(b']') => true,
            Some(b'{') => {
                let inner = skip_ws(prefix, first + 1);
                [&b"size"[..], b"nodeId", b"ordinal"]
                    .iter()
                    .any(|k| key_at(prefix, inner, k).is_some())
            }
            _ => false,
        };
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffers() {
        assert!(is_heapsnapshot(b"{\"snapshot\":{\"meta\":{"));
        assert!(is_heapsnapshot(b"\xEF\xBB\xBF {\n \"snapshot\" : {"));
        assert!(is_heapsnapshot(b"{\"snaps"));
        assert!(!is_heapsnapshot(b"{\"head\":{"));
        assert!(!is_heapsnapshot(b"{\"snapshot\":3"));
        assert!(!is_heapsnapshot(b"JAVA PROFILE 1.0.2\0"));
        assert!(!is_heapsnapshot(b""));
        assert!(is_heapprofile(
            b"{\"head\":{\"callFrame\":{\"functionName\":\"(root)\""
        ));
        assert!(is_heapprofile(b"{\"head\""));
        assert!(is_heapprofile(b"{\"samples\":[],\"head\":{}}"));
        assert!(!is_heapprofile(b"{\"head\":{\"foo\":1}}"));
        assert!(!is_heapprofile(b"{\"snapshot\":{}}"));
        assert!(!is_heapprofile(b"{\"samples\":[1]}"));
        assert!(!is_heapprofile(b"[1,2]"));
    }
}

/// The examples of this crate's README, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
