//! `heapgraph redact` on testdata dumps of every format: the analysis of
//! the redacted dump equals the original's (byte for byte in `--json`,
//! except the replaced values and names), duplicate groups survive, and no
//! planted secret survives in any encoding.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

mod common;
use common::{heapgraph_json, repo};

/// Redacts `input` into `dir` with a fixed salt; returns the output path.
fn redact(input: &Path, dir: &Path, names: bool, suffix: &str) -> PathBuf {
    let name = input.file_name().unwrap().to_str().unwrap();
    let name = name.strip_suffix(".gz").unwrap_or(name);
    let output = dir.join(format!(
        "{}{name}{suffix}",
        if names { "names-" } else { "" }
    ));
    let mut args = vec![
        "redact".to_string(),
        input.to_str().unwrap().to_string(),
        "-o".into(),
        output.to_str().unwrap().to_string(),
        "--salt".into(),
        "test salt".into(),
    ];
    if names {
        args.push("--names".into());
    }
    let report = heapgraph_json(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(report["names"], Value::Bool(names));
    output
}

/// Node kinds whose name is the object's value (V8 string nodes).
const VALUE_KINDS: [&str; 6] = [
    "string",
    "concatenated_string",
    "sliced_string",
    "regexp",
    "number",
    "bigint",
];

/// `value` with the fields redaction may change blanked: the file name,
/// the names of value nodes, and with `names` every name and class.
fn mask(value: &Value, names: bool) -> Value {
    match value {
        Value::Object(map) => {
            let value_node = map
                .get("kind")
                .and_then(Value::as_str)
                .is_some_and(|k| VALUE_KINDS.contains(&k));
            let mut out = serde_json::Map::new();
            for (key, v) in map {
                let blank = key == "file"
                    || (key == "name" && value_node)
                    || (names && matches!(key.as_str(), "name" | "class" | "value"));
                out.insert(
                    key.clone(),
                    if blank { Value::Null } else { mask(v, names) },
                );
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| mask(v, names)).collect()),
        other => other.clone(),
    }
}

/// Rows sorted by their masked JSON text (ties among renamed rows may
/// reorder).
fn sorted(value: &Value) -> Vec<String> {
    let mut rows: Vec<String> = value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.to_string())
        .collect();
    rows.sort();
    rows
}

fn check_analysis_unchanged(input: &Path, output: &Path, names: bool) {
    let (i, o) = (input.to_str().unwrap(), output.to_str().unwrap());
    for command in ["summary", "dominators"] {
        let a = mask(&heapgraph_json(&[command, i]), names);
        let b = mask(&heapgraph_json(&[command, o]), names);
        assert_eq!(a, b, "{command} differs on {i} (names: {names})");
    }
    let a = mask(&heapgraph_json(&["histogram", "--top", "0", i]), names);
    let b = mask(&heapgraph_json(&["histogram", "--top", "0", o]), names);
    if names {
        assert_eq!(
            sorted(&a["classes"]),
            sorted(&b["classes"]),
            "histogram on {i}"
        );
    } else {
        assert_eq!(a, b, "histogram differs on {i}");
    }
}

/// Duplicate-string groups: the same groups (by example ids), counts and
/// sizes; the values themselves differ.
fn check_duplicates_unchanged(input: &Path, output: &Path) {
    let groups = |path: &Path| {
        let v = heapgraph_json(&["strings", "--top", "0", path.to_str().unwrap()]);
        let mut rows: Vec<(Vec<u64>, u64, u64, u64)> = v["strings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                let mut ids: Vec<u64> = g["example_ids"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i.as_u64().unwrap())
                    .collect();
                ids.sort_unstable();
                (
                    ids,
                    g["count"].as_u64().unwrap(),
                    g["total_size"].as_u64().unwrap(),
                    g["wasted_size"].as_u64().unwrap(),
                )
            })
            .collect();
        rows.sort();
        let values: Vec<String> = v["strings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["value"].as_str().unwrap().to_string())
            .collect();
        (rows, v["wasted_size"].clone(), values)
    };
    let (a, wasted_a, values_a) = groups(input);
    let (b, wasted_b, values_b) = groups(output);
    assert!(
        !a.is_empty(),
        "{} has no duplicate strings",
        input.display()
    );
    assert_eq!(a, b, "duplicate groups differ on {}", input.display());
    assert_eq!(wasted_a, wasted_b);
    // Producer markers (`node:internal/…`, `ext:…`) are public and kept.
    let long_values = values_a.iter().filter(|v| {
        v.chars().count() >= 4 && !v.starts_with("node:internal/") && !v.starts_with("ext:")
    });
    for value in long_values {
        assert!(!values_b.contains(value), "{value:?} survived");
    }
}

#[test]
fn analysis_of_redacted_dumps_equals_the_original() {
    let dir = tempfile::tempdir().unwrap();
    for dump in [
        "testdata/hprof/secrets/hotspot-jdk17-secrets.hprof.gz",
        "testdata/hprof/collections/hotspot-jdk17-collections.hprof.gz",
        "testdata/v8/node20-planted.heapsnapshot.gz",
        "testdata/v8/chromium-orders/orders-target.heapsnapshot.gz",
        "testdata/v8/deno2-orders.heapsnapshot.gz",
        "testdata/v8/bun-baseline.heapsnapshot.gz",
    ] {
        let input = repo().join(dump);
        for names in [false, true] {
            let output = redact(&input, dir.path(), names, "");
            check_analysis_unchanged(&input, &output, names);
            if !names {
                check_duplicates_unchanged(&input, &output);
            }
        }
    }
}

#[test]
fn redacted_hprof_keeps_duplicate_arrays_and_java_views() {
    let dir = tempfile::tempdir().unwrap();
    let input = repo().join("testdata/hprof/loaders/hotspot-jdk17-plugins.hprof.gz");
    let output = redact(&input, dir.path(), false, ".gz");
    let (i, o) = (input.to_str().unwrap(), output.to_str().unwrap());
    let arrays = |p: &str| {
        let v = heapgraph_json(&["strings", "--arrays", "--top", "0", p]);
        mask(&v, false)
    };
    let (mut a, mut b) = (arrays(i), arrays(o));
    let contents = |v: &mut Value| -> Vec<Value> {
        v["arrays"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .map(|row| row["contents_hex"].take())
            .collect()
    };
    let (ca, cb) = (contents(&mut a), contents(&mut b));
    // Same groups; every non-empty content replaced.
    assert_eq!(a["arrays"], b["arrays"]);
    for (x, y) in ca.iter().zip(&cb) {
        assert_eq!(x == y, x == "", "{x} -> {y}");
    }
    assert!(!a["arrays"].as_array().unwrap().is_empty());
    for command in ["collections", "histogram"] {
        let a = mask(&heapgraph_json(&[command, i]), false);
        let b = mask(&heapgraph_json(&[command, o]), false);
        assert_eq!(a, b, "{command}");
    }
}

#[test]
fn profiles_and_tracemalloc_snapshots_keep_their_statistics() {
    let dir = tempfile::tempdir().unwrap();
    for dump in [
        "testdata/v8/chrome.heapprofile",
        "testdata/v8/node.heapprofile",
        "testdata/tracemalloc/secrets/python-secrets.pickle",
        "testdata/tracemalloc/mixed_1.p5.pickle",
        "testdata/tracemalloc/mixed_1.p2.pickle",
    ] {
        let input = repo().join(dump);
        // Without names these formats hold nothing to replace: unchanged.
        let plain = redact(&input, dir.path(), false, "");
        assert_eq!(
            std::fs::read(&input).unwrap(),
            std::fs::read(&plain).unwrap()
        );
        let named = redact(&input, dir.path(), true, "");
        assert_ne!(
            std::fs::read(&input).unwrap(),
            std::fs::read(&named).unwrap()
        );
        let (i, o) = (input.to_str().unwrap(), named.to_str().unwrap());
        let sites = |p: &str| {
            let v = heapgraph_json(&["sites", "--top", "0", p]);
            let mut rows: Vec<(u64, u64)> = v["statistics"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| (s["size"].as_u64().unwrap(), s["count"].as_u64().unwrap()))
                .collect();
            rows.sort_unstable();
            rows
        };
        assert_eq!(sites(i), sites(o), "sites of {dump}");
        check_analysis_unchanged(&input, &named, true);
    }
    // A redacted pickle still loads in Python, if there is one.
    let named = dir.path().join("names-python-secrets.pickle");
    if let Ok(status) = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, tracemalloc; s = tracemalloc.Snapshot.load(sys.argv[1]); \
             assert len(s.traces) == 4522, len(s.traces)",
            named.to_str().unwrap(),
        ])
        .status()
    {
        assert!(status.success(), "python3 cannot load the redacted pickle");
    } else {
        eprintln!("skipped: no python3 to load the redacted pickle");
    }
}

/// Every encoding a secret could be stored in.
fn encodings(secret: &str) -> Vec<Vec<u8>> {
    let mut forms = vec![secret.as_bytes().to_vec()];
    let units: Vec<u16> = secret.encode_utf16().collect();
    forms.push(units.iter().flat_map(|u| u.to_le_bytes()).collect());
    forms.push(units.iter().flat_map(|u| u.to_be_bytes()).collect());
    if secret.chars().all(|c| (c as u32) < 0x100) {
        forms.push(secret.chars().map(|c| c as u8).collect());
    }
    // JSON's escapes of non-ASCII characters, in either case of hex.
    for upper in [false, true] {
        let escaped: String = secret
            .chars()
            .map(|c| {
                if c.is_ascii() {
                    c.to_string()
                } else {
                    c.encode_utf16(&mut [0; 2])
                        .iter()
                        .map(|u| {
                            if upper {
                                format!("\\u{u:04X}")
                            } else {
                                format!("\\u{u:04x}")
                            }
                        })
                        .collect()
                }
            })
            .collect();
        forms.push(escaped.into_bytes());
    }
    forms
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn read_maybe_gz(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap();
    if bytes.starts_with(&[0x1F, 0x8B]) {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut out)
            .unwrap();
        out
    } else {
        bytes
    }
}

fn check_secrets(input: &Path, output: &Path, secrets: &[&str]) {
    let before = read_maybe_gz(input);
    let after = read_maybe_gz(output);
    for secret in secrets {
        let forms = encodings(secret);
        assert!(
            forms.iter().any(|f| contains(&before, f)),
            "{secret:?} is not in {} to begin with",
            input.display()
        );
        for form in &forms {
            assert!(
                !contains(&after, form),
                "{secret:?} ({} bytes) survived in {}",
                form.len(),
                output.display()
            );
        }
    }
}

#[test]
fn planted_secrets_leave_no_trace() {
    let dir = tempfile::tempdir().unwrap();
    let java = repo().join("testdata/hprof/secrets/hotspot-jdk17-secrets.hprof.gz");
    let java_secrets = [
        "hunter2-PLANTED-password-7Q4z",
        "pässwörd-PLANTED-€-ünïcødé-3Kx9",
        "tok_PLANTED_9f8e7d6c5b4a3928",
        "PIN-PLANTED-55173",
        "sess_PLANTED_a1b2c3d4e5f6",
        "key_PLANTED_0a9b8c7d6e5f",
        "dup-PLANTED-value",
    ];
    for names in [false, true] {
        let output = redact(&java, dir.path(), names, ".gz");
        check_secrets(&java, &output, &java_secrets);
        if names {
            // The application's own names go too; the platform's stay.
            check_secrets(&java, &output, &["passphrase", "Secrets.java"]);
            assert!(contains(&read_maybe_gz(&output), b"java/util/HashMap"));
        }
    }

    // Node: the planted strings (a 5000-character string V8 cuts at 1024,
    // and one with an emoji and a lone surrogate).
    let node = repo().join("testdata/v8/node20-planted.heapsnapshot.gz");
    let long_run = "L".repeat(64);
    for names in [false, true] {
        let output = redact(&node, dir.path(), names, "");
        // (Node 20 wrote the emoji as `\uF600` and the surrogate as `???`.)
        check_secrets(
            &node,
            &output,
            &[long_run.as_str(), "emoji \u{F600} lone ??? end 17"],
        );
        if names {
            check_secrets(&node, &output, &["plantedOrders", "counterClosure"]);
        }
    }

    // Python: the planted module's path, replaced with --names.
    let python = repo().join("testdata/tracemalloc/secrets/python-secrets.pickle");
    let output = redact(&python, dir.path(), true, "");
    check_secrets(
        &python,
        &output,
        &["heapgraph-secret-acme-corp", "planted_secret_module"],
    );
}

#[test]
fn names_map_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let input = repo().join("testdata/hprof/secrets/hotspot-jdk17-secrets.hprof.gz");
    let output = dir.path().join("out.hprof");
    let map = dir.path().join("map.json");
    Command::cargo_bin("heapgraph")
        .unwrap()
        .args(["redact", "--quiet", "--names", "--salt", "s"])
        .arg(&input)
        .arg("-o")
        .arg(&output)
        .arg("--names-map")
        .arg(&map)
        .assert()
        .success();
    let map: Value = serde_json::from_slice(&std::fs::read(&map).unwrap()).unwrap();
    let names = map["names"].as_array().unwrap();
    let secrets_class = names
        .iter()
        .find(|n| n["original"] == "Secrets")
        .expect("the class Secrets is in the map");
    let pseudonym = secrets_class["pseudonym"].as_str().unwrap();
    assert_eq!(pseudonym.len(), "Secrets".len());
    assert!(!names
        .iter()
        .any(|n| n["original"].as_str().unwrap().starts_with("java/")));
    // The redacted dump names the class by its pseudonym, and the class's
    // object is still found under it.
    let bytes = std::fs::read(&output).unwrap();
    assert!(contains(&bytes, pseudonym.as_bytes()));
    let dominators = heapgraph_json(&["dominators", "--top", "0", output.to_str().unwrap()]);
    assert!(dominators.to_string().contains(pseudonym));

    // Writing over the input is refused; a malformed input names the offset
    // and leaves no output.
    Command::cargo_bin("heapgraph")
        .unwrap()
        .args(["redact", "--quiet"])
        .arg(&output)
        .arg("-o")
        .arg(&output)
        .assert()
        .failure();
    let cut = dir.path().join("cut.hprof");
    let bytes = read_maybe_gz(&input);
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let target = dir.path().join("cut-out.hprof");
    let failed = Command::cargo_bin("heapgraph")
        .unwrap()
        .args(["redact", "--quiet"])
        .arg(&cut)
        .arg("-o")
        .arg(&target)
        .output()
        .unwrap();
    assert!(!failed.status.success());
    let message = String::from_utf8_lossy(&failed.stderr);
    assert!(
        message.contains("offset") || message.contains("byte"),
        "{message}"
    );
    assert!(!target.exists());
    assert!(!dir.path().join("cut-out.hprof.partial").exists());
}

/// A gzip input is decompressed into `--scratch`, like every other command
/// reads one: a scratch directory that does not exist fails the gzip input
/// with its path named, and does not matter to a plain one.
#[test]
fn gzip_input_goes_through_the_scratch_directory() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-scratch-dir");
    let plain = repo().join("testdata/tracemalloc/secrets/python-secrets.pickle");
    let plain_output = dir.path().join("plain.pickle");
    Command::cargo_bin("heapgraph")
        .unwrap()
        .args(["redact", "--quiet", "--salt", "s", "--scratch"])
        .arg(&missing)
        .arg(&plain)
        .arg("-o")
        .arg(&plain_output)
        .assert()
        .success();
    let input = repo().join("testdata/hprof/secrets/hotspot-jdk17-secrets.hprof.gz");
    let output = dir.path().join("out.hprof");
    let failed = Command::cargo_bin("heapgraph")
        .unwrap()
        .args(["redact", "--quiet", "--salt", "s", "--scratch"])
        .arg(&missing)
        .arg(&input)
        .arg("-o")
        .arg(&output)
        .output()
        .unwrap();
    assert!(!failed.status.success());
    let message = String::from_utf8_lossy(&failed.stderr);
    assert!(message.contains("no-such-scratch-dir"), "{message}");
    assert!(!output.exists());
    // With a scratch directory that exists, the same input redacts.
    Command::cargo_bin("heapgraph")
        .unwrap()
        .args(["redact", "--quiet", "--salt", "s", "--scratch"])
        .arg(dir.path())
        .arg(&input)
        .arg("-o")
        .arg(&output)
        .assert()
        .success();
    assert!(output.exists());
}
