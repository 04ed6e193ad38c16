//! Truncated and corrupt dumps: an error with the offset and record tag,
//! never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

mod common;

use common::*;
use heapgraph_hprof::{parse, HprofErrorKind, HprofLocation, HprofOptions};

/// A tiny HPROF writer for hand-made cases (8-byte ids).
struct Hprof(Vec<u8>);

impl Hprof {
    fn new() -> Self {
        let mut b = b"JAVA PROFILE 1.0.2\0".to_vec();
        b.extend_from_slice(&8u32.to_be_bytes());
        b.extend_from_slice(&0u64.to_be_bytes());
        Hprof(b)
    }
    fn record(mut self, tag: u8, body: &[u8]) -> Self {
        self.0.push(tag);
        self.0.extend_from_slice(&0u32.to_be_bytes());
        self.0.extend_from_slice(&(body.len() as u32).to_be_bytes());
        self.0.extend_from_slice(body);
        self
    }
}

fn id(v: u64) -> [u8; 8] {
    v.to_be_bytes()
}

/// CLASS DUMP: class `cid` with super `sup`, instance fields `fields` (name id, type).
fn class_dump(cid: u64, sup: u64, fields: &[(u64, u8)]) -> Vec<u8> {
    let mut b = vec![0x20];
    b.extend_from_slice(&id(cid));
    b.extend_from_slice(&0u32.to_be_bytes());
    b.extend_from_slice(&id(sup));
    for _ in 0..5 {
        b.extend_from_slice(&id(0));
    }
    b.extend_from_slice(&0u32.to_be_bytes()); // instance size
    b.extend_from_slice(&0u16.to_be_bytes()); // constant pool
    b.extend_from_slice(&0u16.to_be_bytes()); // statics
    b.extend_from_slice(&(fields.len() as u16).to_be_bytes());
    for &(name, ty) in fields {
        b.extend_from_slice(&id(name));
        b.push(ty);
    }
    b
}

fn instance(oid: u64, cid: u64, data: &[u8]) -> Vec<u8> {
    let mut b = vec![0x21];
    b.extend_from_slice(&id(oid));
    b.extend_from_slice(&0u32.to_be_bytes());
    b.extend_from_slice(&id(cid));
    b.extend_from_slice(&(data.len() as u32).to_be_bytes());
    b.extend_from_slice(data);
    b
}

fn err(bytes: &[u8]) -> heapgraph_hprof::HprofError {
    parse(bytes, &HprofOptions::default()).expect_err("must fail")
}

#[test]
fn header_errors() {
    assert_eq!(
        err(b"JAVA PROFILE 9.9\0xxxxxxxxxxxx").kind,
        HprofErrorKind::NotHprof
    );
    assert_eq!(err(b"GIF89a").kind, HprofErrorKind::NotHprof);
    for bad in [0u32, 3, 16] {
        let mut file = Hprof::new().0;
        file[19..23].copy_from_slice(&bad.to_be_bytes());
        let e = err(&file);
        assert_eq!(
            (e.offset, e.kind.clone()),
            (19, HprofErrorKind::BadIdSize(bad))
        );
        assert!(e.to_string().ends_with("at byte 19"), "{e}");
    }
    // Cut inside the header.
    let file = Hprof::new().0;
    let e = err(&file[..25]);
    assert!(
        matches!(
            e.kind,
            HprofErrorKind::Truncated {
                location: HprofLocation::Header,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn record_and_sub_record_errors() {
    // A record length past the end names the tag and the record's offset.
    let mut file = Hprof::new().record(0x01, &[0; 12]).0;
    file.truncate(file.len() - 4);
    let e = err(&file);
    assert_eq!(e.offset, 31);
    assert!(
        matches!(
            e.kind,
            HprofErrorKind::LengthPastEnd {
                tag: 0x01,
                length: 12,
                available: 8
            }
        ),
        "{e}"
    );

    // Unknown sub-record tag, at its offset.
    let file = Hprof::new().record(0x1C, &[0x42, 0, 0]).0;
    let e = err(&file);
    assert_eq!(
        (e.offset, e.kind.clone()),
        (40, HprofErrorKind::UnknownSubRecord(0x42)),
        "{e}"
    );

    // Bad basic type in a primitive array.
    let mut sub = vec![0x23];
    sub.extend_from_slice(&id(0x100));
    sub.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, 3]);
    let e = err(&Hprof::new().record(0x1C, &sub).0);
    assert!(
        matches!(
            e.kind,
            HprofErrorKind::BadBasicType {
                location: HprofLocation::SubRecord(0x23),
                code: 3
            }
        ),
        "{e}"
    );
    assert_eq!(e.offset, 40 + 1 + 8 + 8);

    // Class chain needs more bytes than the instance has.
    let body = [
        class_dump(0x10, 0, &[(1, 10), (2, 11)]),
        instance(0x20, 0x10, &[0; 6]),
    ]
    .concat();
    let e = err(&Hprof::new().record(0x1C, &body).0);
    assert!(
        matches!(
            e.kind,
            HprofErrorKind::ClassChainTooShort {
                class_id: 0x10,
                needed: 12,
                available: 6
            }
        ),
        "{e}"
    );

    // Superclass cycle.
    let body = [class_dump(0x10, 0x18, &[]), class_dump(0x18, 0x10, &[])].concat();
    let e = err(&Hprof::new().record(0x1C, &body).0);
    assert!(
        matches!(e.kind, HprofErrorKind::SuperclassCycle { .. }),
        "{e}"
    );

    // A sub-record cut by the end of the last segment.
    let body = instance(0x20, 0x10, &[0; 6]);
    let e = err(&Hprof::new().record(0x1C, &body[..10]).0);
    assert!(
        matches!(
            e.kind,
            HprofErrorKind::Truncated {
                location: HprofLocation::SubRecord(0x21),
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.offset, 40);

    // A huge array length does not allocate: it is a short read.
    let mut sub = vec![0x22];
    sub.extend_from_slice(&id(0x100));
    sub.extend_from_slice(&[0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
    sub.extend_from_slice(&id(0x10));
    let e = err(&Hprof::new().record(0x1C, &sub).0);
    assert!(
        matches!(
            e.kind,
            HprofErrorKind::Truncated {
                location: HprofLocation::SubRecord(0x22),
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn shadowed_fields_and_dangling_references() {
    // B extends A; both declare `x` (shadowing). Instance bytes: B.x, A.x (refs).
    let body = [
        class_dump(0x10, 0, &[(1, 2)]),
        class_dump(0x18, 0x10, &[(1, 2)]),
        instance(0x20, 0x18, &[id(0x20), id(0x999)].concat()),
    ]
    .concat();
    let file = Hprof::new()
        .record(0x01, &[id(1).as_slice(), b"x"].concat())
        .record(0x1C, &body)
        .0;
    let dump = parse(&file, &HprofOptions::default()).unwrap();
    let graph = dump.graph();
    let node = graph.node_by_object_id(0x20).unwrap();
    let x_edges: Vec<_> = graph.edges(node).collect();
    // <class> + B.x (self); A.x dangles and is counted.
    assert_eq!(x_edges.len(), 2);
    assert_eq!(graph.diagnostics().unresolved_references, 1);
    // Instance fields come back with both `x` values, own class first.
    let fields = dump.instance_fields(&file, node).unwrap();
    assert_eq!(fields.len(), 2);
}

/// Offsets of every top-level record in a well-formed file.
fn record_boundaries(file: &[u8]) -> Vec<usize> {
    let nul = file.iter().position(|&b| b == 0).unwrap();
    let mut pos = nul + 13;
    let mut out = vec![pos];
    while pos < file.len() {
        let len = u32::from_be_bytes(file[pos + 5..pos + 9].try_into().unwrap()) as usize;
        pos += 9 + len;
        out.push(pos);
    }
    out
}

fn check_prefix(file: &[u8], cut: usize, boundaries: &[usize]) {
    match parse(&file[..cut], &HprofOptions::default()) {
        Ok(_) => assert!(
            boundaries.contains(&cut),
            "prefix {cut} parsed but is not at a record boundary"
        ),
        Err(e) => {
            assert!(
                e.offset <= cut as u64,
                "offset {} beyond prefix {cut}",
                e.offset
            );
            assert!(e.to_string().ends_with(&format!(" at byte {}", e.offset)));
        }
    }
}

#[test]
fn truncation_at_every_record_boundary_and_many_prefixes() {
    let mut files = vec![
        ("android", testdata("android-art-1.0.3.hprof")),
        ("android-split", testdata("android-art-1.0.3-split.hprof")),
    ];
    files.extend(corpus("jhat-jdk6-32bit.hprof").map(|f| ("jhat", f)));
    files.extend(corpus("netbeans-jdk8-64bit.hprof").map(|f| ("netbeans", f)));
    for (name, file) in files {
        let boundaries = record_boundaries(&file);
        // At and around every record boundary (every one for the small
        // files, an even spread of 500 for the 3 MB NetBeans dump).
        let stride = if file.len() > 1 << 20 {
            (boundaries.len() / 500).max(1)
        } else {
            1
        };
        for &b in boundaries.iter().step_by(stride) {
            for cut in [b.saturating_sub(1), b, b + 1, b + 5, b + 9, b + 10] {
                if cut <= file.len() {
                    check_prefix(&file, cut, &boundaries);
                }
            }
        }
        // Every prefix of small files, a spread of prefixes of big ones.
        let step = (file.len() / 1000).max(1);
        let mut cut = 0;
        while cut < file.len() {
            check_prefix(&file, cut, &boundaries);
            cut += step;
        }
        eprintln!("{name}: {} records", boundaries.len());
    }
}

#[test]
fn random_byte_flips_never_panic() {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    // HEAPGRAPH_FLIP_ITERATIONS raises the count for a longer local run.
    let iterations: usize = std::env::var("HEAPGRAPH_FLIP_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let mut files = vec![testdata("android-art-1.0.3-split.hprof")];
    files.extend(corpus("jhat-jdk6-32bit.hprof"));
    for file in files {
        let mut failures = 0;
        for _ in 0..iterations {
            let mut copy = file.clone();
            for _ in 0..1 + next() % 4 {
                let i = (next() % copy.len() as u64) as usize;
                copy[i] ^= 1 << (next() % 8);
            }
            if let Err(e) = parse(&copy, &HprofOptions::default()) {
                assert!(e.offset <= copy.len() as u64, "{e}");
                failures += 1;
            }
        }
        eprintln!("{failures}/{iterations} flipped copies rejected");
    }
}

#[test]
fn lenient_mode_keeps_what_a_cut_dump_holds() {
    lenient_cuts(&testdata("hotspot-jdk17-shapes.hprof.gz"));
    if let Some(file) = corpus("netbeans-jdk8-64bit.hprof") {
        lenient_cuts(&file);
    }
    // Cut at every Android segment boundary ± a few bytes: never an error.
    let lenient = HprofOptions::default().with_lenient(true);
    let android = testdata("android-art-1.0.3-split.hprof");
    for cut in (40..android.len()).step_by(97) {
        let dump = parse(&android[..cut], &lenient).unwrap();
        assert!(dump.record_stats().truncation.is_some() || cut == android.len());
    }
}

fn lenient_cuts(file: &[u8]) {
    let whole = parse(file, &HprofOptions::default()).unwrap();
    let whole_objects = whole
        .graph()
        .nodes()
        .filter(|&n| is_object(whole.graph().kind(n)))
        .count();
    let lenient = HprofOptions::default().with_lenient(true);
    // Cuts inside the heap dump (at 85 %: the JDK 17 dump spends its first
    // 66 % on symbols and classes), at the last byte, and 100 KB before it.
    for cut in [file.len() * 85 / 100, file.len() - 1, file.len() - 100_000] {
        let strict = parse(&file[..cut], &HprofOptions::default()).unwrap_err();
        let dump = parse(&file[..cut], &lenient).unwrap();
        let truncation = dump.record_stats().truncation.clone().expect("flagged");
        assert_eq!(truncation, strict, "lenient mode reports the strict error");
        let objects = dump
            .graph()
            .nodes()
            .filter(|&n| is_object(dump.graph().kind(n)))
            .count();
        assert!(
            objects > 0 && objects <= whole_objects,
            "{objects} of {whole_objects}"
        );
        if cut < file.len() - 10_000 {
            assert!(objects < whole_objects, "{objects} of {whole_objects}");
        }
    }
    // Cut in the string table, before the heap: no objects, still flagged.
    let dump = parse(&file[..5000], &lenient).unwrap();
    assert!(dump.record_stats().truncation.is_some());
    // A complete file is not flagged.
    assert!(parse(file, &lenient)
        .unwrap()
        .record_stats()
        .truncation
        .is_none());
}
