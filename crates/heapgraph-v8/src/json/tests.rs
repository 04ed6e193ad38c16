//! Tests of the JSON reader.

#![allow(clippy::unwrap_used)]

use super::*;

fn decode(json: &str) -> Result<Vec<u8>, V8Error> {
    let mut out = Vec::new();
    Cursor::new(json.as_bytes(), 0, "test").string(&mut out)?;
    Ok(out)
}

#[test]
fn strings_decode_escapes_pairs_and_lone_surrogates() {
    assert_eq!(decode(r#""a\"b\\c\/d\n\t""#).unwrap(), b"a\"b\\c/d\n\t");
    assert_eq!(decode(r#""\u00e9""#).unwrap(), "é".as_bytes());
    assert_eq!(decode(r#""\ud83d\ude00!""#).unwrap(), "😀!".as_bytes());
    // Lone high surrogate, then a normal escape.
    assert_eq!(decode(r#""\ud800\u0041""#).unwrap(), b"\xED\xA0\x80A");
    // Lone low surrogate.
    assert_eq!(decode(r#""x\udc00""#).unwrap(), b"x\xED\xB0\x80");
    // High surrogate at the end of the string.
    assert_eq!(decode(r#""\uD83D""#).unwrap(), b"\xED\xA0\xBD");
    // Raw UTF-8 passes through.
    assert_eq!(decode("\"日本\"").unwrap(), "日本".as_bytes());
    assert!(decode(r#""\x""#).is_err());
    assert!(decode(r#""\u12""#).is_err());
    let err = decode(r#""abc"#).unwrap_err();
    assert_eq!(err.offset, 4);
    assert!(matches!(err.kind, V8ErrorKind::Truncated { .. }));
}

#[test]
fn uint_arrays_report_offsets() {
    let mut seen = Vec::new();
    let n = Cursor::new(b"[1, 2,\n3 ,4]", 0, "nodes")
        .uint_array(|v, _| {
            seen.push(v);
            Ok(())
        })
        .unwrap();
    assert_eq!((n, seen), (4, vec![1, 2, 3, 4]));
    assert_eq!(
        Cursor::new(b" [ ]", 0, "x")
            .uint_array(|_, _| Ok(()))
            .unwrap(),
        0
    );
    let err = Cursor::new(b"[1,2", 0, "nodes")
        .uint_array(|_, _| Ok(()))
        .unwrap_err();
    assert_eq!(err.offset, 4);
    assert_eq!(
        err.to_string(),
        "truncated in section `nodes`: expected `,` or `]` at byte 4"
    );
    let err = Cursor::new(b"[1,-2]", 0, "nodes")
        .uint_array(|_, _| Ok(()))
        .unwrap_err();
    assert_eq!(err.offset, 3);
    let err = Cursor::new(b"[99999999999999999999999]", 0, "nodes")
        .uint_array(|_, _| Ok(()))
        .unwrap_err();
    assert!(matches!(err.kind, V8ErrorKind::NumberTooLarge { .. }));
}

#[test]
fn swar_digits_match_a_plain_parse() {
    let separators: &[u8] = b",] \n\"-.x\xFF\x00/:";
    let mut state = 1u64;
    for _ in 0..200_000 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let len = (state >> 60) as usize % 9;
        let number: String = (0..len)
            .map(|i| char::from(b'0' + ((state >> (i * 4)) % 10) as u8))
            .collect();
        let mut text = number.clone().into_bytes();
        text.push(separators[(state >> 40) as usize % separators.len()]);
        text.extend_from_slice(b"12345678");
        match swar_digits(&text, 0) {
            Some((value, digits)) => {
                assert_eq!(digits, number.len(), "{number}");
                if digits > 0 {
                    assert_eq!(value, number.parse::<u64>().unwrap(), "{number}");
                }
            }
            None => assert!(number.len() >= 8),
        }
    }
    assert_eq!(swar_digits(b"1234567", 0), None, "fewer than 8 bytes");
    assert_eq!(swar_digits(b"9999999,", 0), Some((9_999_999, 7)));
    assert_eq!(swar_digits(b"0000001]", 0), Some((1, 7)));
}

#[test]
fn uint_records_group_values_and_find_offsets() {
    let text = b"[1,2,3,\n 40,5,60]";
    let mut records = Vec::new();
    let n = Cursor::new(text, 0, "edges")
        .uint_records(3, |r, start| {
            records.push((r.to_vec(), start));
            Ok(())
        })
        .unwrap();
    assert_eq!(n, 6);
    assert_eq!(records, vec![(vec![1, 2, 3], 1), (vec![40, 5, 60], 9)]);
    assert_eq!(value_offset(text, 9, 2), 14);
    let err = Cursor::new(b"[1,2,3,4]", 0, "edges")
        .uint_records(3, |_, _| Ok(()))
        .unwrap_err();
    assert!(matches!(
        err.kind,
        V8ErrorKind::RaggedArray {
            len: 4,
            width: 3,
            ..
        }
    ));
    assert_eq!(err.offset, 7);
    let big = Cursor::new(b"[18446744073709551615,00000000000000000000001]", 0, "x")
        .uint_records(1, |r, _| {
            assert!(r[0] == u64::MAX || r[0] == 1);
            Ok(())
        })
        .unwrap();
    assert_eq!(big, 2);
    assert!(Cursor::new(b"[18446744073709551616]", 0, "x")
        .uint_records(1, |_, _| Ok(()))
        .is_err());
    let mut c = Cursor::new(b"[\"a\", \"b\\\"]\"] ", 0, "strings");
    assert_eq!(c.skip_string_array_releasing(&|_| {}).unwrap(), 2);
    assert_eq!(c.pos(), 13);
}

#[test]
fn find_first_matches_memchr() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let mut haystack = vec![b'1'; 20 << 20];
    assert_eq!(pool.install(|| find_first(b']', &haystack)), None);
    for at in [haystack.len() - 1, 13 << 20, (3 << 20) + 5, 7, 0] {
        haystack[at] = b']';
        let expected = memchr::memchr(b']', &haystack);
        assert_eq!(expected, Some(at));
        assert_eq!(pool.install(|| find_first(b']', &haystack)), expected);
    }
}

#[test]
fn signed_and_lenient_numbers() {
    let mut seen = Vec::new();
    Cursor::new(b"[-2, 0, 7]", 0, "scopes")
        .int_array(|v| {
            seen.push(v);
            Ok(())
        })
        .unwrap();
    assert_eq!(seen, vec![-2, 0, 7]);
    assert_eq!(
        Cursor::new(b"-9223372036854775808", 0, "x").int().unwrap(),
        i64::MIN
    );
    assert!(Cursor::new(b"9223372036854775808", 0, "x").int().is_err());
    assert_eq!(Cursor::new(b"1.5e3", 0, "x").int_lenient().unwrap(), 1500);
    assert_eq!(Cursor::new(b"1e400", 0, "x").int_lenient().ok(), None);
    assert_eq!(Cursor::new(b"1.e", 0, "x").int_lenient().ok(), None);
    assert_eq!(Cursor::new(b"12.75", 0, "x").int_lenient().unwrap(), 12);
}

#[test]
fn skip_value_handles_nesting_and_strings() {
    let text = br#"{"a":[1,{"b":"]}\"x"}],"c":null} ,"#;
    let mut cursor = Cursor::new(text, 0, "x");
    cursor.skip_value().unwrap();
    assert_eq!(cursor.pos(), text.len() - 2);
    assert!(Cursor::new(b"[1,[2]", 0, "x").skip_value().is_err());
    assert!(Cursor::new(b"[1}", 0, "x").skip_value().is_err());
}
