//! The up-front memory check: a dump whose analysis cannot fit in the
//! memory available is refused before it is parsed, with the estimate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

use std::io::Write;

/// A sparse file of `len` bytes that starts like an HPROF dump: nothing
/// past the header is ever read, and the filesystem stores no zeros.
fn sparse_hprof(dir: &std::path::Path, len: u64) -> Option<std::path::PathBuf> {
    let path = dir.join("huge.hprof");
    let mut file = std::fs::File::create(&path).unwrap();
    file.write_all(b"JAVA PROFILE 1.0.2\0").unwrap();
    file.write_all(&8u32.to_be_bytes()).unwrap();
    file.write_all(&0u64.to_be_bytes()).unwrap();
    match file.set_len(len) {
        Ok(()) => Some(path),
        Err(e) => {
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "skipped: this filesystem cannot hold a sparse file of {len} bytes ({e})"
            );
            None
        }
    }
}

#[test]
fn a_dump_larger_than_memory_is_refused_before_parsing() {
    let Some(available) = heapgraph::memory::available_memory() else {
        let _ = writeln!(
            std::io::stderr(),
            "skipped: available memory cannot be read on this system"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // Four times what is available, and at least 1 TiB.
    let len = (available.bytes.saturating_mul(4)).max(1 << 40);
    let Some(path) = sparse_hprof(dir.path(), len) else {
        return;
    };
    let started = std::time::Instant::now();
    match heapgraph::open(&path) {
        Err(heapgraph::Error::NotEnoughMemory {
            needed,
            available: left,
            input_bytes,
            ..
        }) => {
            assert_eq!(input_bytes, len);
            assert!(needed >= len, "{needed} < {len}");
            assert!(left <= available.bytes.saturating_mul(2), "{left}");
        }
        other => panic!("expected NotEnoughMemory, got {other:?}"),
    }
    // Refused from the first bytes: nothing of the terabyte was read.
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
