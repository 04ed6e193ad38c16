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

/// Detects the kind of input from its first bytes (a few KiB are plenty).
pub fn sniff(prefix: &[u8]) -> Option<InputKind> {
    if prefix.starts_with(&[0x1F, 0x8B]) {
        return Some(InputKind::Gzip);
    }
    if prefix.starts_with(b"JAVA PROFILE 1.0") {
        return Some(InputKind::Hprof);
    }
    // Pickle protocol 2+ starts with PROTO; protocols 0 and 1 with a GLOBAL
    // opcode naming the class (`c<module>\n<name>\n`).
    if prefix.len() >= 2 && prefix[0] == 0x80 && prefix[1] <= 5 {
        return Some(InputKind::Pickle);
    }
    if prefix.starts_with(b"ccopy_reg\n") || prefix.starts_with(b"ctracemalloc\n") {
        return Some(InputKind::Pickle);
    }
    sniff_json(prefix)
}

/// Looks at the first keys of a JSON object.
fn sniff_json(prefix: &[u8]) -> Option<InputKind> {
    let text = skip_ws(prefix.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(prefix));
    let mut rest = skip_ws(text.strip_prefix(b"{")?);
    // The first key decides for snapshots; profiles may list `samples` first.
    let key = json_key(rest)?;
    match key {
        b"snapshot" => return Some(InputKind::V8HeapSnapshot),
        b"head" | b"samples" => return Some(InputKind::V8HeapProfile),
        _ => {}
    }
    // Otherwise search the prefix for a top-level profile key.
    while let Some(pos) = find(rest, b"\"head\"") {
        let after = skip_ws(&rest[pos + 6..]);
        if after.starts_with(b":") {
            return Some(InputKind::V8HeapProfile);
        }
        rest = &rest[pos + 6..];
    }
    None
}

fn json_key(input: &[u8]) -> Option<&[u8]> {
    let input = input.strip_prefix(b"\"")?;
    let end = input.iter().position(|&b| b == b'"')?;
    Some(&input[..end])
}

fn skip_ws(mut input: &[u8]) -> &[u8] {
    while let [b' ' | b'\n' | b'\r' | b'\t', rest @ ..] = input {
        input = rest;
    }
    input
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
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
}
