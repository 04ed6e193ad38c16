//! Tests of the shallow histogram's parallel pass and vote.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use super::*;

fn read(path: &str) -> Vec<u8> {
    use std::io::Read;
    let path = format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap();
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        bytes
    }
}

/// Tiny units (one segment each) give the same histogram as one unit,
/// including the Android dump whose sub-records continue across
/// segments (units decoded again from the cut) and the dumps whose
/// compressed-reference vote needs the narrow second pass.
#[test]
fn unit_size_does_not_change_the_result() {
    for path in [
        "testdata/hprof/android-art-1.0.3-split.hprof",
        "testdata/hprof/android-art-1.0.3.hprof",
        "testdata/hprof/hotspot-jdk17-shapes.hprof.gz",
        "testdata/hprof/hotspot-jdk17-uncompressed.hprof.gz",
        "../shared/corpus/hprof/netbeans-jdk8-64bit.hprof",
    ] {
        if path.starts_with("../shared/")
            && !std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared"))
                .is_dir()
        {
            use std::io::Write;
            // Straight to stderr: libtest does not capture it.
            let _ = writeln!(
                std::io::stderr(),
                "skipped: {path} (../shared/corpus is not beside this clone)"
            );
            continue;
        }
        let bytes = read(path);
        for model in [SizeModel::Mat, SizeModel::Raw] {
            let options = HprofOptions::default().with_size_model(model);
            let whole = histogram_with_unit_target(
                &bytes,
                &options,
                Some(usize::MAX),
                CANDIDATE_CAP,
                &|_| {},
            )
            .unwrap();
            let tiny =
                histogram_with_unit_target(&bytes, &options, Some(1), CANDIDATE_CAP, &|_| {})
                    .unwrap();
            assert_eq!(whole.rows, tiny.rows, "{path}");
            assert_eq!(whole.stats, tiny.stats, "{path}");
            assert_eq!(whole.compressed_references, tiny.compressed_references);
            assert_eq!(whole.object_count, tiny.object_count);
        }
    }
}

/// A sub-record cut at the end of the heap: an error naming where it
/// starts, or (lenient) a truncation, with tiny units too.
#[test]
fn cut_inside_the_last_sub_record() {
    let bytes = read("testdata/hprof/android-art-1.0.3-split.hprof");
    for cut in [bytes.len() - 3, bytes.len() / 2] {
        let prefix = &bytes[..cut];
        let expected = crate::parse(prefix, &HprofOptions::default()).unwrap_err();
        for unit in [Some(1), None] {
            let error = histogram_with_unit_target(
                prefix,
                &HprofOptions::default(),
                unit,
                CANDIDATE_CAP,
                &|_| {},
            )
            .unwrap_err();
            assert_eq!(error, expected);
        }
    }
}

/// The vote decides as the graph path's on both JDK 17 dumps (one with
/// compressed oops, one without), also when it has to widen.
#[test]
fn vote_is_the_graph_paths() {
    for path in [
        "testdata/hprof/hotspot-jdk17-shapes.hprof.gz",
        "testdata/hprof/hotspot-jdk17-uncompressed.hprof.gz",
    ] {
        let bytes = read(path);
        let dump = crate::parse(&bytes, &HprofOptions::default()).unwrap();
        let fast = shallow_class_histogram(&bytes, &HprofOptions::default()).unwrap();
        assert_eq!(fast.compressed_references, dump.compressed_references());
        // Few arrays kept per unit, tiny units: the vote widens its
        // prefix and collects more arrays, and still decides the same.
        for cap in [1, 3, 50] {
            for unit in [Some(1), None] {
                let small = histogram_with_unit_target(
                    &bytes,
                    &HprofOptions::default(),
                    unit,
                    cap,
                    &|_| {},
                )
                .unwrap();
                assert_eq!(small.compressed_references, dump.compressed_references());
                assert_eq!(small.rows, fast.rows);
            }
        }
    }
}
