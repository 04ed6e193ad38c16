//! Class-name normalisation to what Eclipse MAT shows.
//!
//! HotSpot writes internal names (`java/lang/String`, `[I`,
//! `[[Ljava/lang/String;`), the JVMTI agent dotted names with `[]`, ART
//! pretty names. All become `java.lang.String`, `int[]`,
//! `java.lang.String[][]`.

/// Normalises a class name (raw bytes, modified UTF-8) for display.
pub fn normalize_class_name(raw: &[u8]) -> Vec<u8> {
    let dims = raw.iter().take_while(|&&b| b == b'[').count();
    if dims == 0 {
        return raw
            .iter()
            .map(|&b| if b == b'/' { b'.' } else { b })
            .collect();
    }
    let rest = raw.get(dims..).unwrap_or(&[]);
    let element: Vec<u8> = match rest {
        [b'L', inner @ .., b';'] => inner
            .iter()
            .map(|&b| if b == b'/' { b'.' } else { b })
            .collect(),
        [code] => match primitive_descriptor_name(*code) {
            Some(name) => name.as_bytes().to_vec(),
            None => return raw.to_vec(),
        },
        _ => {
            return raw
                .iter()
                .map(|&b| if b == b'/' { b'.' } else { b })
                .collect()
        }
    };
    let mut out = element;
    for _ in 0..dims {
        out.extend_from_slice(b"[]");
    }
    out
}

fn primitive_descriptor_name(code: u8) -> Option<&'static str> {
    Some(match code {
        b'Z' => "boolean",
        b'B' => "byte",
        b'C' => "char",
        b'S' => "short",
        b'I' => "int",
        b'J' => "long",
        b'F' => "float",
        b'D' => "double",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::normalize_class_name as n;

    #[test]
    fn normalises_like_mat() {
        assert_eq!(n(b"java/lang/String"), b"java.lang.String");
        assert_eq!(n(b"[I"), b"int[]");
        assert_eq!(n(b"[[J"), b"long[][]");
        assert_eq!(n(b"[Ljava/lang/Object;"), b"java.lang.Object[]");
        assert_eq!(n(b"[[Ljava/lang/String;"), b"java.lang.String[][]");
        assert_eq!(n(b"java.lang.String[]"), b"java.lang.String[]");
        assert_eq!(
            n(b"Foo$$Lambda$14+0x0000000800c01234"),
            b"Foo$$Lambda$14+0x0000000800c01234"
        );
        assert_eq!(n(b"[Q"), b"[Q");
        assert_eq!(n(b""), b"");
    }
}
