//! Tests of the VM's internals: the fast paths, shared traceback paths and
//! `UNICODE` decoding.

use super::execute::decode_raw_unicode_escape;
use super::*;
use heapgraph_core::StringId;

/// Runs the VM with or without the fast paths; the trace table or the
/// error.
fn run_with(data: &[u8], fast_paths: bool) -> Result<String, TracemallocError> {
    let options = ParseOptions::default();
    let len = Some(data.len() as u64);
    let mut vm = Vm::<std::io::Empty>::new(Cow::Borrowed(data), None, len, &options);
    vm.fast_paths = fast_paths;
    vm.execute()?;
    let snap = vm.finish()?;
    let traces: Vec<_> = snap.traces().collect();
    Ok(format!(
        "{traces:?} {} {} {:?}",
        snap.stacks().stack_count(),
        snap.strings().len(),
        (0..snap.trace_count())
            .map(|i| snap.total_nframe(i))
            .collect::<Vec<_>>()
    ))
}

/// The fast paths give exactly what running every opcode gives: the
/// same tables on real dumps, the same error (offset, opcode, kind) on
/// every truncation and on thousands of byte flips.
#[test]
fn fast_paths_agree_with_the_opcode_by_opcode_path() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/tracemalloc/");
    let mut flips = 0;
    for name in ["app_a.p5.pickle", "mixed_1.p5.pickle", "mixed_1.p2.pickle"] {
        let bytes = std::fs::read(format!("{dir}{name}")).unwrap();
        let fast = run_with(&bytes, true).unwrap();
        assert_eq!(fast, run_with(&bytes, false).unwrap(), "{name}");
        assert!(fast.len() > 100);
        let step = (bytes.len() / 1500).max(1);
        for cut in (0..bytes.len()).step_by(step) {
            let prefix = &bytes[..cut];
            assert_eq!(
                run_with(prefix, true),
                run_with(prefix, false),
                "{name} cut {cut}"
            );
        }
        // Byte flips, biased to values the fast paths look at.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..1500 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let at = (seed % bytes.len() as u64) as usize;
            let values = [
                b'K', b'M', b'J', b'h', b'j', b't', 0x86, 0x94, b'(', 0xff, 0,
            ];
            let value = values[(seed >> 40) as usize % values.len()];
            let mut mutated = bytes.clone();
            mutated[at] = value;
            let fast = run_with(&mutated, true);
            assert_eq!(
                fast,
                run_with(&mutated, false),
                "{name}: {value:#x} at {at}"
            );
            flips += 1;
        }
    }
    assert_eq!(flips, 4500);
}

/// Reusing the previous traceback's path gives the same stacks as
/// walking every traceback from its outermost frame.
#[test]
fn tracebacks_sharing_callers_get_the_stacks_a_full_walk_gives() {
    let options = ParseOptions::default();
    let new_vm = || Vm::<std::io::Empty>::new(Cow::Borrowed(&[][..]), None, Some(0), &options);
    let (mut reusing, mut walking) = (new_vm(), new_vm());
    let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
    let mut shared = 0;
    for _ in 0..5_000 {
        let mut items = Vec::new();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        // Innermost first; the outer frames vary little, so consecutive
        // tracebacks often share callers, then diverge and rejoin.
        for depth in (0..seed % 9).rev() {
            let line = (depth as u32) * 4 + ((seed >> (depth * 3)) % (1 + depth % 4)) as u32;
            let a = reusing.frame(StringId::new(1), line).unwrap();
            let b = walking.frame(StringId::new(1), line).unwrap();
            assert_eq!(a, b);
            items.insert(0, Val::Frame(a));
        }
        shared += usize::from(!reusing.last_path.is_empty() && items.len() > 1);
        walking.last_path.clear();
        let (Val::Traceback(a), Val::Traceback(b)) = (
            reusing.make_traceback(&items).unwrap(),
            walking.make_traceback(&items).unwrap(),
        ) else {
            panic!("not tracebacks");
        };
        assert_eq!(
            reusing.tracebacks[a as usize].stack,
            walking.tracebacks[b as usize].stack
        );
        assert_eq!(reusing.tracebacks[a as usize].depth, items.len() as u32);
    }
    let (a, b) = (reusing.stack_table.table(), walking.stack_table.table());
    assert_eq!(a.stack_count(), b.stack_count());
    assert!(a.stack_count() > 200, "{}", a.stack_count());
    assert!(shared > 1_000);
    for id in 0..a.stack_count() as u32 {
        let id = StackId::new(id);
        assert_eq!(a.frames_outermost_first(id), b.frames_outermost_first(id));
    }
}

#[test]
fn raw_unicode_escape_decodes_latin1_escapes_and_surrogates() {
    let mut out = Vec::new();
    decode_raw_unicode_escape(b"a\xe9\\u005c\\udcff\\U0001f600\\\\u", &mut out).unwrap();
    let mut expected = b"a\xc3\xa9\\\xed\xb3\xbf\xf0\x9f\x98\x80".to_vec();
    expected.extend_from_slice(b"\\\\u");
    assert_eq!(out, expected);
    assert!(decode_raw_unicode_escape(b"\\u12", &mut Vec::new()).is_err());
    assert!(decode_raw_unicode_escape(b"\\U00110000", &mut Vec::new()).is_err());
}
