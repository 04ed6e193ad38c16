//! Who wrote a snapshot: [`Producer`], guessed from its strings and meta.

use crate::meta::SnapshotMeta;

/// The program that wrote a snapshot, guessed from its contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Producer {
    /// Node.js (strings name `node:internal/...` modules).
    Node,
    /// Chromium / Chrome (Blink: `(Document DOM trees)`, `Window`, DOM
    /// nodes), with no sign of Node.js.
    Chromium,
    /// Electron: both Blink and Node.js markers.
    Electron,
    /// Deno (`ext:core/...`, `ext:deno_...` scripts, the `Deno` global).
    Deno,
    /// Bun (JavaScriptCore writing V8's format: string 0 is not `<dummy>`).
    Bun,
    /// Julia's `Profile.take_heap_snapshot`, which writes V8's format with
    /// node types of its own and `from_node` as the edges' target type.
    Julia,
    /// A V8 snapshot with no recognisable embedder.
    UnknownV8,
}

impl Producer {
    /// A display name, also stored in the graph's
    /// [`GraphInfo::producer`](heapgraph_core::GraphInfo::producer).
    pub fn as_str(self) -> &'static str {
        match self {
            Producer::Node => "Node.js (V8)",
            Producer::Chromium => "Chromium (V8)",
            Producer::Electron => "Electron (V8)",
            Producer::Deno => "Deno (V8)",
            Producer::Bun => "Bun (JavaScriptCore)",
            Producer::Julia => "Julia",
            Producer::UnknownV8 => "V8",
        }
    }

    /// Whether object ids are stable across snapshots of one process, so
    /// that id-based diffs and three-snapshot leak detection make sense.
    /// False for Bun, whose ids are renumbered for every snapshot, and for
    /// Julia, whose ids are addresses that a freed object's successor may
    /// reuse.
    pub fn ids_stable_across_snapshots(self) -> bool {
        !matches!(self, Producer::Bun | Producer::Julia)
    }
}

/// Whether a snapshot was written by Julia: its edges' target column is
/// typed `from_node` (V8, Bun and every other writer say `node`), or its
/// node types are Julia's C types (`jl_datatype_t`, ...).
pub(super) fn is_julia(meta: &SnapshotMeta) -> bool {
    meta.edge_value_types.iter().any(|t| t == "from_node")
        || meta.node_types.iter().any(|t| t.starts_with("jl_"))
}

/// Strings that betray the embedder.
#[derive(Default)]
pub(super) struct ProducerMarkers {
    pub(super) first_is_dummy: bool,
    node: bool,
    blink: bool,
    deno: bool,
}

impl ProducerMarkers {
    pub(super) fn observe(&mut self, s: &[u8]) {
        // Cheap first-byte filter: most strings match none of these.
        if s.len() < 6 || !matches!(s.first(), Some(b'n' | b'e' | b'(' | b'W' | b'H')) {
            return;
        }
        if s.starts_with(b"node:internal/") {
            self.node = true;
        } else if s.starts_with(b"ext:core/") || s.starts_with(b"ext:deno_") {
            self.deno = true;
        } else if s == b"(Document DOM trees)"
            || s == b"Window"
            || s.starts_with(b"Window / ")
            || s == b"HTMLDocument"
        {
            self.blink = true;
        }
    }

    pub(super) fn producer(&self) -> Producer {
        if !self.first_is_dummy {
            Producer::Bun
        } else if self.deno {
            Producer::Deno
        } else if self.node && self.blink {
            Producer::Electron
        } else if self.node {
            Producer::Node
        } else if self.blink {
            Producer::Chromium
        } else {
            Producer::UnknownV8
        }
    }
}
