//! Tests of `format_size`.

use super::*;

#[test]
fn format_size_matches_python() {
    // Expected strings from CPython 3.11 tracemalloc._format_size.
    let cases: &[(f64, bool, &str)] = &[
        (0.0, false, "0 B"),
        (0.0, true, "+0 B"),
        (10239.0, false, "10239 B"),
        (10240.0, false, "10.0 KiB"),
        (86732.0, false, "84.7 KiB"),
        (108544.0, false, "106 KiB"),
        (102348.0, false, "99.9 KiB"),
        (102349.0, false, "100.0 KiB"),
        (-20000.0, true, "-19.5 KiB"),
        (2.0f64.powi(31), false, "2048 MiB"),
        (2.0f64.powi(50) * 3.0, false, "3072 TiB"),
        (33.5, false, "34 B"),
    ];
    for &(v, sign, want) in cases {
        assert_eq!(format_size(v, sign), want, "{v} {sign}");
    }
}
