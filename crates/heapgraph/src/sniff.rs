//! Format detection from a file's first bytes (never from its name).

/// The kinds of input heapgraph recognises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InputKind {
    /// A V8 `.heapsnapshot` (JSON object whose first key is `snapshot`).
    V8HeapSnapshot,
    /// A V8 sampling heap profile (JSON object with `head` and `samples`).
    V8HeapProfile,
    /// A Java HPROF dump (`JAVA PROFILE 1.0.x` header).
    Hprof,
    /// A Python pickle, possibly a tracemalloc snapshot.
    Pickle,
    /// gzip-compressed data (`1F 8B`).
    Gzip,
}

impl InputKind {
    /// A short name for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            InputKind::V8HeapSnapshot => "V8 heap snapshot",
            InputKind::V8HeapProfile => "V8 sampling heap profile",
            InputKind::Hprof => "HPROF heap dump",
            InputKind::Pickle => "Python pickle",
            InputKind::Gzip => "gzip data",
        }
    }
}

/// How many bytes of a file [`sniff`] looks at: the formats are told apart
/// by their first bytes, so a large file that is none of them is refused
/// without being read.
pub const SNIFF_BYTES: usize = 4096;

/// Detects the kind of input from its first bytes (at most [`SNIFF_BYTES`]
/// of `bytes` are read), with the sniffer of each parser this build has
/// (one cargo feature per format, all on by default):
/// the HPROF magic, a pickle's first opcode, and for JSON the structure of
/// its first keys (`{"snapshot": {` for snapshots; `{"head": {"callFrame"`
/// or `{"samples": [{"size"` for profiles).
pub fn sniff(bytes: &[u8]) -> Option<InputKind> {
    let prefix = bytes.get(..SNIFF_BYTES).unwrap_or(bytes);
    if prefix.starts_with(&[0x1F, 0x8B]) {
        return Some(InputKind::Gzip);
    }
    #[cfg(feature = "hprof")]
    if heapgraph_hprof::sniff(prefix) {
        return Some(InputKind::Hprof);
    }
    // Any pickle goes to the tracemalloc reader, which refuses one that is
    // not a snapshot by what it holds (a clearer message than "unknown").
    #[cfg(feature = "tracemalloc")]
    if heapgraph_tracemalloc::sniff(prefix) {
        return Some(InputKind::Pickle);
    }
    #[cfg(feature = "v8")]
    match heapgraph_v8::sniff(prefix) {
        Some(heapgraph_v8::V8Input::HeapSnapshot) => return Some(InputKind::V8HeapSnapshot),
        Some(heapgraph_v8::V8Input::HeapProfile) => return Some(InputKind::V8HeapProfile),
        None => {}
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_each_format_by_content() {
        assert_eq!(
            sniff(b"{\"snapshot\":{\"meta\":{}}}"),
            Some(InputKind::V8HeapSnapshot)
        );
        assert_eq!(
            sniff(b"\n {\n  \"snapshot\" : {"),
            Some(InputKind::V8HeapSnapshot)
        );
        assert_eq!(
            sniff(b"{\"head\":{\"callFrame\":{}}}"),
            Some(InputKind::V8HeapProfile)
        );
        assert_eq!(
            sniff(b"{\"samples\":[],\"head\":{}}"),
            Some(InputKind::V8HeapProfile)
        );
        assert_eq!(
            sniff(b"JAVA PROFILE 1.0.2\0\0\0\0\x08"),
            Some(InputKind::Hprof)
        );
        assert_eq!(sniff(b"\x80\x05\x95"), Some(InputKind::Pickle));
        assert_eq!(
            sniff(b"ccopy_reg\n_reconstructor\n"),
            Some(InputKind::Pickle)
        );
        assert_eq!(sniff(b"\x1f\x8b\x08\x00"), Some(InputKind::Gzip));
    }

    #[test]
    fn rejects_other_content() {
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(b"hello world"), None);
        assert_eq!(sniff(b"{\"name\":\"package\"}"), None);
        assert_eq!(sniff(b"\x7fELF"), None);
        assert_eq!(sniff(b"{"), None);
    }

    /// Any JSON with a `"head":` key is not a profile: the key must be the
    /// first, holding a call-tree node; and only the first bytes are read.
    #[test]
    fn json_is_judged_by_its_structure_within_a_bounded_prefix() {
        assert_eq!(sniff(br#"{"name":"x","head":{"callFrame":{}}}"#), None);
        assert_eq!(sniff(br#"{"head":"main","samples":[]}"#), None);
        assert_eq!(sniff(br#"{"samples":[1,2,3],"head":{}}"#), None);
        assert_eq!(
            sniff(br#"{"samples":[{"size":16,"nodeId":2,"ordinal":1}],"head":{}}"#),
            Some(InputKind::V8HeapProfile)
        );
        // A profile key past the prefix is never seen: a large JSON file
        // is refused from its first bytes.
        let mut big = br#"{"data":""#.to_vec();
        big.resize(10 * SNIFF_BYTES, b'a');
        big.extend_from_slice(br#"","head":{"callFrame":{}}}"#);
        assert_eq!(sniff(&big), None);
        let mut snapshot = br#"{"snapshot":{"meta":{"#.to_vec();
        snapshot.resize(10 * SNIFF_BYTES, b' ');
        assert_eq!(sniff(&snapshot), Some(InputKind::V8HeapSnapshot));
    }
}
