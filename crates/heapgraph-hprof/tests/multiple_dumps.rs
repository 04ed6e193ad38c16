//! Files with several heap dumps (the JVMTI `hprof` agent writes one per
//! request into the same file): one is read, chosen by
//! `HprofOptions::dump`, never a merge of all.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

mod common;

use common::*;
use heapgraph_core::NodeKind;
use heapgraph_hprof::{parse, shallow_class_histogram, HprofErrorKind, HprofOptions};

/// The top-level records of a dump: (tag, whole record bytes).
fn records(file: &[u8]) -> (usize, Vec<(u8, &[u8])>) {
    let header = file.iter().position(|&b| b == 0).unwrap() + 1 + 12;
    let mut out = Vec::new();
    let mut pos = header;
    while pos < file.len() {
        let len = u32::from_be_bytes(file[pos + 5..pos + 9].try_into().unwrap()) as usize;
        out.push((file[pos], &file[pos..pos + 9 + len]));
        pos += 9 + len;
    }
    (header, out)
}

/// The file with a second heap dump after the first: the first dump's
/// segments again, without the objects of its last segment, and an END.
fn two_dumps(file: &[u8]) -> Vec<u8> {
    let (header, records) = records(file);
    let mut out = file.to_vec();
    let heap: Vec<&[u8]> = records
        .iter()
        .filter(|(tag, _)| *tag == 0x1C)
        .map(|(_, bytes)| *bytes)
        .collect();
    assert!(heap.len() >= 2, "{} segments", heap.len());
    assert!(records.iter().any(|(tag, _)| *tag == 0x2C));
    assert!(header < file.len());
    for segment in &heap[..heap.len() - 1] {
        out.extend_from_slice(segment);
    }
    out.extend_from_slice(&[0x2C, 0, 0, 0, 0, 0, 0, 0, 0]);
    out
}

/// Objects and classes.
fn objects(bytes: &[u8], options: &HprofOptions) -> usize {
    let dump = parse(bytes, options).unwrap();
    let graph = dump.graph();
    graph
        .nodes()
        .filter(|&n| is_object(graph.kind(n)) || graph.kind(n) == NodeKind::Class)
        .count()
}

#[test]
fn the_first_dump_is_read_and_another_can_be_chosen() {
    let one = testdata("android-art-1.0.3.hprof");
    let two = two_dumps(&one);
    let first = HprofOptions::default();
    let second = HprofOptions::default().with_dump(2);

    // Dump 1 is the original file's heap, object for object.
    let whole = objects(&one, &first);
    assert_eq!(objects(&two, &first), whole);
    let dump = parse(&two, &first).unwrap();
    assert_eq!(dump.record_stats().heap_dumps, 2);
    assert_eq!(dump.record_stats().duplicate_ids, 0, "not merged");
    assert_eq!(
        histogram_by_name(dump.graph()),
        histogram_by_name(parse(&one, &first).unwrap().graph())
    );
    assert_eq!(parse(&one, &first).unwrap().record_stats().heap_dumps, 1);

    // Dump 2 lacks the last segment's objects.
    let fewer = objects(&two, &second);
    assert!(fewer > 0 && fewer < whole, "{fewer} of {whole}");

    // The graph-free histogram reads the same dump as the graph path.
    for options in [first, second] {
        let fast = shallow_class_histogram(&two, &options).unwrap();
        assert_eq!(fast.object_count, objects(&two, &options) as u64);
    }

    // There is no dump 3: an error at the end of the file.
    for error in [
        parse(&two, &HprofOptions::default().with_dump(3)).unwrap_err(),
        shallow_class_histogram(&two, &HprofOptions::default().with_dump(3)).unwrap_err(),
    ] {
        assert_eq!(
            error.kind,
            HprofErrorKind::NoSuchHeapDump {
                requested: 3,
                found: 2
            }
        );
        assert_eq!(error.offset, two.len() as u64);
        assert!(error
            .to_string()
            .starts_with("heap dump 3 was asked for but the file holds 2 heap dumps"));
    }
}

/// MAT's two-dump JVMTI files, when the shared corpus is there: dump 1 and
/// dump 2 hold the numbers of objects the corpus README gives.
#[test]
fn jvmti_agent_files_hold_two_dumps() {
    let Some(file) = external("mat-oracle_jdk7_21_hprofagent.hprof") else {
        return;
    };
    let count = |n: u32| {
        let dump = parse(&file, &HprofOptions::default().with_dump(n)).unwrap();
        assert_eq!(dump.record_stats().heap_dumps, 2);
        let graph = dump.graph();
        // Objects and classes, as the README counts them.
        graph
            .nodes()
            .filter(|&n| is_object(graph.kind(n)) || graph.kind(n) == NodeKind::Class)
            .count()
    };
    assert_eq!(count(1), 3_632);
    assert_eq!(count(2), 3_665);
}
