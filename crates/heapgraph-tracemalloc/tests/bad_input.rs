//! Hostile and broken input: every failure is an error with an offset,
//! never a panic, a hang or an allocation sized by the file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Read;

use heapgraph_tracemalloc::{
    is_tracemalloc_pickle, parse, parse_reader, ParseOptions, TracemallocError,
    TracemallocErrorKind as Kind,
};

fn testdata(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/tracemalloc"
        ))
        .join(name),
    )
    .unwrap()
}

/// A reader that hands out at most `step` bytes per call.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn parse_err(bytes: &[u8]) -> TracemallocError {
    match parse(bytes, &ParseOptions::default()) {
        Ok(_) => panic!("parsed {:?}", String::from_utf8_lossy(bytes)),
        Err(e) => e,
    }
}

#[test]
fn every_truncation_is_an_error_with_an_offset_inside_the_input() {
    // Every prefix of each file.
    for (name, stride) in [
        ("mixed_1.p5.pickle", 1),
        ("empty.p0.pickle", 1),
        ("mixed_1.p0.pickle", 1),
        ("mixed_1.p2.pickle", 1),
    ] {
        let bytes = testdata(name);
        assert!(parse(&bytes, &ParseOptions::default()).is_ok());
        for cut in (0..bytes.len()).step_by(stride) {
            let e = parse_err(&bytes[..cut]);
            assert!(e.offset <= cut as u64, "{name} cut {cut}: {e}");
            assert!(
                e.to_string().contains(&format!("at byte {}", e.offset)),
                "{e}"
            );
        }
    }
}

#[test]
fn streaming_gives_the_same_result_and_the_same_errors() {
    for name in ["app_a.p5.pickle", "mixed_1.p0.pickle", "mixed_1.p2.pickle"] {
        let bytes = testdata(name);
        let whole = parse(&bytes, &ParseOptions::default()).unwrap();
        for step in [1, 7, 4096] {
            let streamed = parse_reader(
                Trickle { data: &bytes, step },
                None,
                &ParseOptions::default(),
            )
            .unwrap();
            assert_eq!(streamed.trace_count(), whole.trace_count());
            assert!(streamed.traces().eq(whole.traces()));
            assert_eq!(
                streamed.graph().unwrap().self_sizes(),
                whole.graph().unwrap().self_sizes()
            );
            assert_eq!(
                streamed.graph().unwrap().names(),
                whole.graph().unwrap().names()
            );
            assert_eq!(
                streamed.stacks().stack_count(),
                whole.stacks().stack_count()
            );
        }
        for cut in (0..bytes.len()).step_by(97) {
            let a = parse(&bytes[..cut], &ParseOptions::default()).unwrap_err();
            let trickle = Trickle {
                data: &bytes[..cut],
                step: 5,
            };
            let b = parse_reader(trickle, Some(cut as u64), &ParseOptions::default()).unwrap_err();
            assert_eq!(a.offset, b.offset, "{name} cut {cut}: {a} / {b}");
        }
    }
}

#[test]
fn other_pickles_are_refused_by_name_without_running_them() {
    // pickle.dumps(os.system) at protocol 2, and a protocol-0 REDUCE of it.
    let e = parse_err(b"\x80\x02cposix\nsystem\nq\x00.");
    assert_eq!(e.offset, 2);
    assert!(
        e.to_string()
            .contains("pickle of posix.system, not a tracemalloc Snapshot"),
        "{e}"
    );
    let e = parse_err(b"cos\nsystem\n(S'echo hi'\ntR.");
    assert!(matches!(e.kind, Kind::NotASnapshot { .. }), "{e}");
    // STACK_GLOBAL of builtins.eval.
    let e = parse_err(b"\x80\x04\x8c\x08builtins\x8c\x04eval\x93.");
    assert_eq!(e.offset, 18);
    assert!(e.to_string().contains("builtins.eval"), "{e}");
    // A plain list and an int are pickles, not snapshots.
    let e = parse_err(b"\x80\x05]\x94.");
    assert!(matches!(e.kind, Kind::NotASnapshot { .. }), "{e}");
    assert_eq!(e.offset, 4);
    let e = parse_err(b"K\x05.");
    assert!(matches!(e.kind, Kind::NotASnapshot { .. }), "{e}");
    // Opcodes that could run code or need a generic object model.
    for op in [b'i', b'o', b'P', b'Q', 0x82, 0x92, b'F', b'S'] {
        let e = parse_err(&[0x80, 0x05, op, b'\n', b'\n', b'.']);
        assert_eq!(e.kind, Kind::ForbiddenOpcode, "{op:#x}");
        assert_eq!((e.offset, e.opcode), (2, Some(op)));
    }
    let e = parse_err(b"\x80\x05\xff.");
    assert_eq!(e.kind, Kind::UnknownOpcode(0xff));
    let e = parse_err(b"\x80\x06.");
    assert_eq!(e.kind, Kind::UnsupportedProtocol(6));
}

#[test]
fn huge_declared_lengths_are_refused_before_allocating() {
    // BINUNICODE8 declaring 2**62 bytes, BINUNICODE 4 GiB, FRAME 2**60, LONG4.
    let cases: &[&[u8]] = &[
        b"\x80\x05\x8d\x00\x00\x00\x00\x00\x00\x00\x40abc",
        b"\x80\x05X\xff\xff\xff\xffabc",
        b"\x80\x05\x95\x00\x00\x00\x00\x00\x00\x00\x10",
        b"\x80\x05\x8b\xff\xff\xff\x7f\x01",
    ];
    for case in cases {
        let e = parse_err(case);
        assert!(matches!(e.kind, Kind::LengthTooLarge { .. }), "{e}");
        assert_eq!(e.offset, 3, "{e}");
        // Streaming without a known size: the data runs out instead.
        let e = parse_reader(*case, None, &ParseOptions::default()).unwrap_err();
        assert!(matches!(e.kind, Kind::Truncated { .. }), "{e}");
    }
    // A 17-byte LONG1 does not fit the model.
    let mut long = b"\x80\x05\x8a\x11".to_vec();
    long.extend_from_slice(&[1; 17]);
    long.push(b'.');
    assert!(matches!(parse_err(&long).kind, Kind::BadInteger { .. }));
}

#[test]
fn memo_abuse_is_refused() {
    // GET of an index never stored.
    let e = parse_err(b"\x80\x05h\x07.");
    assert_eq!((e.kind.clone(), e.offset), (Kind::MissingMemo(7), 2));
    let e = parse_err(b"\x80\x05j\x00\x00\x00\x01.");
    assert_eq!(e.kind, Kind::MissingMemo(1 << 24));
    // PUT far beyond what the input could hold would need a huge memo.
    let e = parse_err(b"\x80\x05Nr\xff\xff\xff\xff.");
    assert_eq!(
        (e.kind.clone(), e.offset),
        (Kind::MemoIndexTooLarge(u32::MAX.into()), 3)
    );
    let e = parse_err(b"Np99999999999\n.");
    assert!(matches!(e.kind, Kind::MemoIndexTooLarge(_)), "{e}");
    // MEMOIZE on an empty stack, APPEND to a non-list, deep MARK nesting.
    assert_eq!(parse_err(b"\x80\x05\x94.").kind, Kind::StackUnderflow);
    assert!(matches!(
        parse_err(b"\x80\x05K\x01K\x02a.").kind,
        Kind::Unexpected { .. }
    ));
    let deep = [b"\x80\x05".as_slice(), &[b'('; 70_000]].concat();
    assert!(matches!(parse_err(&deep).kind, Kind::LimitExceeded { .. }));
    // A frame tuple memoized 70000 entries before its GET is no longer kept
    // (CPython never shares frames); one 60000 entries back still is.
    let frames = |n: usize, get: u32| {
        let mut b = b"\x80\x04\x8c\x01f\x94K\x01\x86\x94".to_vec();
        for _ in 0..n {
            b.extend_from_slice(b"h\x00K\x01\x86\x94");
        }
        b.push(b'j');
        b.extend_from_slice(&get.to_le_bytes());
        b.push(b'.');
        b
    };
    let e = parse_err(&frames(70_000, 1));
    assert_eq!(e.kind, Kind::MemoNotKept(1), "{e}");
    let e = parse_err(&frames(70_000, 10_000));
    assert!(matches!(e.kind, Kind::NotASnapshot { .. }), "{e}");
    // TUPLE without MARK.
    assert_eq!(parse_err(b"\x80\x05K\x01t.").kind, Kind::MissingMark);
}

#[test]
fn wrong_shapes_and_trailing_bytes_are_refused() {
    let good = testdata("app_a.p5.pickle");
    let mut trailing = good.clone();
    trailing.extend_from_slice(b"junk");
    let e = parse_err(&trailing);
    assert_eq!(e.kind, Kind::TrailingBytes(4));
    assert_eq!(e.offset, good.len() as u64);
    let e = parse_reader(trailing.as_slice(), None, &ParseOptions::default()).unwrap_err();
    assert_eq!(e.kind, Kind::TrailingBytes(4));

    // A Snapshot whose state lacks traces.
    let e = parse_err(
        b"\x80\x05\x8c\x0btracemalloc\x8c\x08Snapshot\x93)\x81}\x8c\x0ftraceback_limit\x8c\x01xsb.",
    );
    assert!(matches!(e.kind, Kind::Unexpected { .. }), "{e}");
    // A negative size in a trace.
    let e = parse_err(b"\x80\x05(K\x00J\xff\xff\xff\xff\x8c\x01fK\x01\x86\x85K\x01t.");
    assert_eq!(e.kind, Kind::BadInteger { what: "trace size" });
}

#[test]
fn sniffing_recognises_every_protocol() {
    for name in [
        "app_a.p5.pickle",
        "app_a.p2.pickle",
        "mixed_1.p0.pickle",
        "mixed_1.t3.pickle",
    ] {
        assert!(is_tracemalloc_pickle(&testdata(name)[..64]), "{name}");
    }
    assert!(!is_tracemalloc_pickle(b"\x80\x05]\x94."));
    assert!(!is_tracemalloc_pickle(b"JAVA PROFILE 1.0.2\0"));
    assert!(!is_tracemalloc_pickle(b"{\"snapshot\":{}}"));
    assert!(!is_tracemalloc_pickle(b""));
}

mod mutations {
    use super::*;
    use proptest::prelude::*;

    fn seeds() -> Vec<Vec<u8>> {
        ["mixed_1.p5.pickle", "mixed_1.p0.pickle", "app_a.p2.pickle"]
            .iter()
            .map(|n| testdata(n))
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Random byte edits of real dumps: the in-memory and streaming
        /// readers agree, errors point inside the input, nothing panics.
        #[test]
        fn mutated_dumps_never_panic(
            seed in 0usize..3,
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
        ) {
            let mut bytes = seeds()[seed].clone();
            for (at, byte, how) in edits {
                let i = at.index(bytes.len());
                match how {
                    0 => bytes[i] = byte,
                    1 => bytes.insert(i, byte),
                    _ => { bytes.remove(i); }
                }
            }
            let whole = parse(&bytes, &ParseOptions::default());
            let streamed = parse_reader(Trickle { data: &bytes, step: 3 }, Some(bytes.len() as u64), &ParseOptions::default());
            match (whole, streamed) {
                (Ok(a), Ok(b)) => prop_assert_eq!(a.trace_count(), b.trace_count()),
                (Err(a), Err(b)) => {
                    prop_assert!(a.offset <= bytes.len() as u64, "{}", a);
                    prop_assert_eq!(a.offset, b.offset);
                }
                (a, b) => prop_assert!(false, "disagree: {:?} / {:?}", a.err(), b.err()),
            }
        }
    }
}
