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
//! * [`is_heapsnapshot`] and [`is_heapprofile`] recognise the formats from
//!   the first bytes of a file.
//!
//! Bad input never panics: every failure is a [`V8Error`] naming the byte
//! offset and what the parser expected there.
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
mod snapshot;

pub use error::{V8Error, V8ErrorKind};
pub use meta::SnapshotMeta;
pub use profile::{parse_heapprofile, HeapProfile, ProfileNode, ProfileSample, UNKNOWN_POSITION};
pub use snapshot::{
    parse_snapshot, Location, Producer, ScopeSection, ScopeSections, SnapshotHeader,
    TimelineSample, TraceFunctionInfo, TraceNode, V8Snapshot, V8Warning,
};

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
/// `"samples"` followed by `"head"` within the prefix.
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
        if value >= prefix.len() {
            return false;
        }
        return prefix.get(value) == Some(&b'[')
            && memchr::memmem::find(prefix, b"\"head\"").is_some();
    }
    false
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
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
