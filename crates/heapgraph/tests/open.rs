//! `heapgraph::open` on every kind of input: formats sniffed from content,
//! gzip read transparently, memory-mapped or read, and clear errors for
//! files that are not dumps.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // may panic: not library code

use std::path::{Path, PathBuf};

use heapgraph::{Error, Format, InputKind, OpenOptions};

fn testdata(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(path)
}

#[test]
fn every_format_is_sniffed_from_its_content() {
    let cases = [
        (
            "hprof/hotspot-jdk17-shapes.hprof.gz",
            Format::Hprof,
            InputKind::Hprof,
        ),
        (
            "hprof/android-art-1.0.3.hprof",
            Format::Hprof,
            InputKind::Hprof,
        ),
        (
            "v8/node20-planted.heapsnapshot.gz",
            Format::V8HeapSnapshot,
            InputKind::V8HeapSnapshot,
        ),
        (
            "v8/node20-sampling.heapprofile",
            Format::V8HeapProfile,
            InputKind::V8HeapProfile,
        ),
        (
            "tracemalloc/mixed_1.p0.pickle",
            Format::Tracemalloc,
            InputKind::Pickle,
        ),
        (
            "tracemalloc/mixed_1.p5.pickle",
            Format::Tracemalloc,
            InputKind::Pickle,
        ),
    ];
    for (file, format, input) in cases {
        let dump = heapgraph::open(testdata(file)).unwrap();
        assert_eq!(dump.format(), format, "{file}");
        assert_eq!(dump.input_kind(), input, "{file}");
        assert!(dump.graph().node_count() > 1, "{file}");
        assert!(!dump.producer().is_empty(), "{file}");
    }
}

#[test]
fn mapped_and_read_files_give_the_same_graph() {
    let file = testdata("tracemalloc/mixed_1.p5.pickle");
    let mapped = heapgraph::open(&file).unwrap();
    let mut options = OpenOptions::default();
    options.memory_map = false;
    let read = heapgraph::open_with(&file, &options).unwrap();
    assert_eq!(mapped.bytes(), read.bytes());
    assert_eq!(mapped.graph().node_count(), read.graph().node_count());
    assert_eq!(
        mapped.graph().total_self_size(),
        read.graph().total_self_size()
    );
}

#[test]
fn gzip_and_plain_files_give_the_same_graph() {
    let dump = heapgraph::open(testdata("v8/node20-planted.heapsnapshot.gz")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.heapsnapshot");
    std::fs::write(&plain, dump.bytes()).unwrap();
    let again = heapgraph::open(&plain).unwrap();
    assert_eq!(again.graph().node_count(), dump.graph().node_count());
    assert_eq!(again.graph().edge_count(), dump.graph().edge_count());
}

#[test]
fn non_dumps_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "just some text\n").unwrap();
    let err = heapgraph::open(&text).unwrap_err();
    assert!(matches!(err, Error::UnsupportedFormat { .. }), "{err}");
    assert!(err.to_string().contains("\"just some text\\n\""), "{err}");

    // A pickle that is not a tracemalloc snapshot is refused, not executed.
    let pickle = dir.path().join("other.pickle");
    std::fs::write(
        &pickle,
        b"\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00]\x94(K\x01K\x02e.",
    )
    .unwrap();
    let err = heapgraph::open(&pickle).unwrap_err();
    assert!(matches!(err, Error::Tracemalloc(_)), "{err}");
    assert!(err.to_string().contains("byte"), "{err}");

    let missing = heapgraph::open(dir.path().join("missing.hprof")).unwrap_err();
    assert!(matches!(missing, Error::Io { .. }));
    assert!(missing.to_string().contains("missing.hprof"), "{missing}");

    let empty = dir.path().join("empty");
    std::fs::write(&empty, b"").unwrap();
    let err = heapgraph::open(&empty).unwrap_err();
    assert!(
        err.to_string().ends_with("nothing (the file is empty)"),
        "{err}"
    );
}

#[test]
fn truncated_dumps_name_the_offset() {
    let dir = tempfile::tempdir().unwrap();
    for file in [
        "hprof/hotspot-jdk17-shapes.hprof.gz",
        "v8/node20-planted.heapsnapshot.gz",
        "tracemalloc/mixed_1.p5.pickle",
    ] {
        let dump = heapgraph::open(testdata(file)).unwrap();
        let bytes = dump.bytes();
        let cut = dir.path().join("cut");
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        let err = heapgraph::open(&cut).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("at byte"), "{file}: {message}");
    }
}

/// `OpenOptions::limits` reaches every parser: a dump within the limits
/// opens; one node fewer than it needs, or a tiny string budget, is refused
/// with a message that says which limit.
#[test]
fn limits_reach_every_parser() {
    let files = [
        "hprof/hotspot-jdk17-shapes.hprof.gz",
        "hprof/android-art-1.0.3.hprof",
        "v8/node20-planted.heapsnapshot.gz",
        "v8/node20-sampling.heapprofile",
        "tracemalloc/mixed_1.p0.pickle",
        "tracemalloc/mixed_1.p5.pickle",
    ];
    for file in files {
        let dump = heapgraph::open(testdata(file)).unwrap();
        let graph = dump.graph();
        let nodes = graph.node_count() as u64;
        let string_bytes = graph
            .strings()
            .iter()
            .map(|(_, s)| s.len() as u64)
            .sum::<u64>();
        drop(dump);

        let exact = heapgraph::core::Limits::default()
            .with_max_nodes(nodes)
            .with_max_string_bytes(string_bytes);
        let mut options = OpenOptions::default();
        options.limits = exact;
        let reopened = heapgraph::open_with(testdata(file), &options)
            .unwrap_or_else(|e| panic!("{file} within its exact limits: {e}"));
        assert_eq!(reopened.graph().node_count() as u64, nodes, "{file}");

        for (limits, what) in [
            (exact.with_max_nodes(nodes - 1), "nodes"),
            // Every one of these dumps has far more than 16 bytes of names
            // (each parser's own tests check its limits to the byte).
            (exact.with_max_string_bytes(16), "string bytes"),
        ] {
            let mut options = OpenOptions::default();
            options.limits = limits;
            let err = heapgraph::open_with(testdata(file), &options)
                .map(|_| ())
                .expect_err(&format!("{file}: {what}"))
                .to_string();
            assert!(
                err.contains(what) && err.contains("limit"),
                "{file}: {what}: {err}"
            );
        }
    }
}

/// A `.gz` file is decompressed into a scratch file that is mapped, never
/// into the process's memory: the scratch directory is empty again as soon
/// as the dump is open (the file was unlinked at once), the bytes equal
/// the in-memory decompression, and errors name the compressed byte, the
/// limit, or the scratch file.
#[test]
fn gzip_files_are_decompressed_to_a_mapped_scratch_file() {
    let gz = testdata("hprof/hotspot-jdk17-shapes.hprof.gz");
    let scratch = tempfile::tempdir().unwrap();
    let mut options = OpenOptions::default();
    options.scratch_dir = Some(scratch.path().to_path_buf());
    let mapped = heapgraph::open_with(&gz, &options).unwrap();
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0);
    let mut in_memory = OpenOptions::default();
    in_memory.memory_map = false;
    let owned = heapgraph::open_with(&gz, &in_memory).unwrap();
    assert_eq!(mapped.bytes(), owned.bytes());
    assert_eq!(mapped.graph().node_count(), owned.graph().node_count());
    assert!(format!("{:?}", mapped).contains("mapped"), "{mapped:?}");

    // The limit still holds, and a corrupt checksum names its trailer.
    let mut limited = options.clone();
    limited.max_decompressed_bytes = 1000;
    assert!(matches!(
        heapgraph::open_with(&gz, &limited).unwrap_err(),
        Error::TooLarge { limit: 1000 }
    ));
    let mut bytes = std::fs::read(&gz).unwrap();
    let crc = bytes.len() - 8;
    bytes[crc] ^= 1;
    let bad = scratch.path().join("bad.gz");
    std::fs::write(&bad, &bytes).unwrap();
    match heapgraph::open_with(&bad, &options).unwrap_err() {
        Error::Gzip { offset, .. } => assert_eq!(offset, crc as u64),
        other => panic!("{other}"),
    }
    std::fs::remove_file(&bad).unwrap();
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0);

    // A scratch directory that does not exist is a clear error.
    options.scratch_dir = Some(scratch.path().join("missing"));
    let err = heapgraph::open_with(&gz, &options).unwrap_err();
    assert!(matches!(err, Error::Scratch { .. }), "{err}");
    assert!(err.to_string().contains("missing"), "{err}");
}

/// A V8 snapshot's closure locations are read only when asked for; the
/// graph does not depend on it, and what is read equals the V8 reader's own.
#[cfg(feature = "v8")]
#[test]
fn v8_locations_are_read_when_asked_for() {
    let path = testdata("v8/node20-planted.heapsnapshot.gz");
    let skipped = heapgraph::open(&path).unwrap();
    let mut options = OpenOptions::default();
    options.v8_locations = true;
    let read = heapgraph::open_with(&path, &options).unwrap();
    let (skipped, read) = (skipped.v8_snapshot().unwrap(), read.v8_snapshot().unwrap());
    assert!(skipped.locations.is_empty());
    assert!(read.locations.len() > 1000, "{}", read.locations.len());
    assert_eq!(skipped.graph.edge_targets(), read.graph.edge_targets());
    assert_eq!(skipped.graph.self_sizes(), read.graph.self_sizes());

    let bytes = {
        use std::io::Read;
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap())
            .read_to_end(&mut out)
            .unwrap();
        out
    };
    let direct = heapgraph::v8::parse(&bytes, &heapgraph::v8::ParseOptions::default()).unwrap();
    assert_eq!(direct.locations, read.locations);
}
