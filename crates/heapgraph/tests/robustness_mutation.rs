//! Mutation test over the real dumps: every file in `testdata/` and
//! `../shared/corpus/` (when present) with a heap-dump extension is cut
//! short at many positions and has random bytes flipped, and each mutant
//! goes through `heapgraph::parse_bytes` (format sniffing included). Each
//! must give `Ok` or an error naming a byte offset inside the input, within
//! a time bound, and never panic.
//!
//! Cuts: every one of the first 64 bytes; the record or section boundaries
//! (HPROF top-level records, V8 top-level JSON keys; ±1 byte); and evenly
//! spread positions. Flips: seeded xorshift picks a position and a new
//! byte value. Large files are sampled to keep the whole test near a
//! minute in the dev profile: each file gets a budget of bytes parsed
//! ([`BYTES_PER_FILE`]), spent on up to 200 spread cuts and up to 300
//! flips, so a 20 KiB pickle gets all of them and an 8 MiB snapshot a
//! handful. `HEAPGRAPH_MUTATION_SCALE=N` multiplies the budget and
//! `HEAPGRAPH_MUTATION_SEED` changes the flips, for longer runs.
//! gzip files are mutated after decompression (their own bytes only get a
//! few cuts: a truncated gzip stream must be an error, not a panic).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // may panic: not library code

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use heapgraph::{Error, OpenOptions};

/// Bytes parsed per file (summed over its mutants), at scale 1.
const BYTES_PER_FILE: u64 = 80 << 20;
/// The most evenly spread cuts per file.
const MAX_SPREAD_CUTS: usize = 200;
/// The most byte flips per file.
const MAX_FLIPS: usize = 300;
/// One parse in the dev profile; the largest dump (8 MiB) parses in well
/// under a second.
const TIME_BOUND: Duration = Duration::from_secs(20);

const EXTENSIONS: &[&str] = &[
    ".heapsnapshot",
    ".heapsnapshot.gz",
    ".heapprofile",
    ".hprof",
    ".hprof.gz",
    ".pickle",
];

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "node_modules" {
                collect(&path, out);
            }
        } else if EXTENSIONS.iter().any(|ext| name.ends_with(ext)) {
            out.push(path);
        }
    }
}

/// Real files that are invalid as their project published them:
/// `external/heapsnapshot/nodesource-small.heapsnapshot` is a hand-cut
/// excerpt whose edges point past its 23 nodes (see the corpus README).
const KNOWN_INVALID: &[&str] = &["nodesource-small.heapsnapshot"];

fn dumps() -> Vec<PathBuf> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    collect(&repo.join("testdata"), &mut files);
    let shared = repo.join("../shared/corpus");
    if shared.is_dir() {
        collect(&shared, &mut files);
    } else {
        skipped("the shared corpus in the mutation test (testdata/ only)");
    }
    files.sort();
    files
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// xorshift64*: small, seeded, good enough to pick positions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Top-level HPROF record boundaries: after the header, then at each
/// `tag u1, time u4, length u4` record.
fn hprof_boundaries(bytes: &[u8]) -> Vec<usize> {
    let mut cuts = Vec::new();
    let Some(nul) = bytes.iter().position(|&b| b == 0) else {
        return cuts;
    };
    let mut at = nul + 1 + 4 + 8;
    while at + 9 <= bytes.len() {
        cuts.push(at);
        cuts.push(at + 9); // just the record header
        let len = u32::from_be_bytes(bytes[at + 5..at + 9].try_into().unwrap()) as usize;
        at += 9 + len;
    }
    cuts.push(at.min(bytes.len()));
    cuts
}

/// Where the top-level sections of a V8 file start and end: each
/// `"key":` of the formats, and the byte before each.
fn json_boundaries(bytes: &[u8]) -> Vec<usize> {
    let keys: &[&[u8]] = &[
        b"\"snapshot\"",
        b"\"meta\"",
        b"\"node_count\"",
        b"\"nodes\"",
        b"\"edges\"",
        b"\"trace_function_infos\"",
        b"\"trace_tree\"",
        b"\"samples\"",
        b"\"locations\"",
        b"\"strings\"",
        b"\"scopes\"",
        b"\"head\"",
        b"\"callFrame\"",
        b"\"children\"",
    ];
    let mut cuts = Vec::new();
    for key in keys {
        if let Some(pos) = bytes.windows(key.len()).position(|w| w == *key) {
            // Before the key, inside it, after it, after the colon and the
            // first value byte.
            cuts.extend([
                pos,
                pos + 1,
                pos + key.len(),
                pos + key.len() + 1,
                pos + key.len() + 2,
            ]);
        }
    }
    cuts
}

/// What an error from a mutant must look like: a parser error naming an
/// offset inside the input, or (when the first bytes were changed) an
/// unrecognised format.
fn check_error(e: &Error, len: usize, mutated_at: usize) -> Result<(), String> {
    let message = e.to_string();
    let offset = match e {
        Error::V8(e) => e.offset,
        Error::Hprof(e) => e.offset,
        Error::Tracemalloc(e) => e.offset,
        Error::UnsupportedFormat { .. } if mutated_at < 64 => return Ok(()),
        _ => return Err(format!("error without an offset: {message}")),
    };
    if offset > len as u64 {
        return Err(format!("offset {offset} beyond the {len} bytes: {message}"));
    }
    if !message.contains(" at byte ") {
        return Err(format!("message names no byte: {message}"));
    }
    Ok(())
}

struct Totals {
    mutants: usize,
    ok: usize,
    bytes: u64,
    failures: Vec<String>,
}

impl Totals {
    /// Parses one mutant; `what` describes it for failure messages.
    fn run(&mut self, file: &str, what: &str, mutant: Vec<u8>, mutated_at: usize) {
        let len = mutant.len();
        let options = OpenOptions::default();
        let start = Instant::now();
        let outcome = std::panic::catch_unwind(move || {
            heapgraph::parse_bytes(mutant, &options).map(|dump| dump.graph().node_count())
        });
        let took = start.elapsed();
        self.mutants += 1;
        self.bytes += len as u64;
        let problem = match outcome {
            Err(panic) => Some(format!(
                "panicked: {}",
                panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            )),
            Ok(_) if took > TIME_BOUND => Some(format!("took {took:?}")),
            Ok(Ok(_)) => {
                self.ok += 1;
                None
            }
            Ok(Err(e)) => check_error(&e, len, mutated_at).err(),
        };
        if let Some(problem) = problem {
            self.failures.push(format!("{file} {what}: {problem}"));
        }
    }
}

fn load(path: &Path) -> (Vec<u8>, Option<Vec<u8>>) {
    let raw = std::fs::read(path).unwrap();
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .unwrap();
        (out, Some(raw))
    } else {
        (raw, None)
    }
}

#[test]
fn cut_and_flipped_real_dumps_give_ok_or_an_offset_error() {
    let scale = env_number("HEAPGRAPH_MUTATION_SCALE", 1).max(1);
    let seed = env_number("HEAPGRAPH_MUTATION_SEED", 0x5EED_F00D_1234_5678) | 1;
    let budget = BYTES_PER_FILE * scale;
    let files = dumps();
    assert!(files.len() >= 10, "too few dumps found: {files:?}");
    let mut totals = Totals {
        mutants: 0,
        ok: 0,
        bytes: 0,
        failures: Vec::new(),
    };
    let started = Instant::now();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (bytes, gz) = load(path);
        let len = bytes.len();
        let file_start = Instant::now();
        let before = totals.mutants;

        // The original must parse: otherwise the mutants test nothing. The
        // one real file that is invalid as published must be refused.
        let original = heapgraph::parse_bytes(bytes.clone(), &OpenOptions::default());
        if KNOWN_INVALID.contains(&name.as_str()) {
            let error = original.expect_err(&name).to_string();
            assert!(error.contains(" at byte "), "{name}: {error}");
            continue;
        }
        assert!(original.is_ok(), "{name}: {:?}", original.err());

        // Structured cuts, always: the first 64 bytes, then boundaries.
        let mut cuts: Vec<usize> = (0..=64.min(len)).collect();
        if bytes.starts_with(b"JAVA PROFILE") {
            cuts.extend(hprof_boundaries(&bytes).into_iter().take(2_000));
        } else if bytes.first() != Some(&0x80) {
            cuts.extend(json_boundaries(&bytes));
        }
        // Evenly spread cuts, as many as the budget allows (a cut at p
        // costs about p bytes; on average len / 2).
        let spread = ((budget / 2) / (len as u64 / 2).max(1)) as usize;
        let spread = spread.clamp(8, MAX_SPREAD_CUTS);
        cuts.extend((1..=spread).map(|i| len * i / (spread + 1)));
        cuts.sort_unstable();
        cuts.dedup();
        for &cut in &cuts {
            if cut < len {
                totals.run(&name, &format!("cut at {cut}"), bytes[..cut].to_vec(), cut);
            }
        }

        // Seeded byte flips over the whole file.
        let flips = ((budget / 2) / (len as u64).max(1)) as usize;
        let flips = flips.clamp(4, MAX_FLIPS);
        let mut rng = Rng(seed ^ (len as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        for _ in 0..flips {
            let at = rng.below(len);
            let value = (rng.next() & 0xFF) as u8;
            let mut mutant = bytes.clone();
            mutant[at] = if value == mutant[at] { !value } else { value };
            let what = format!("byte {at} {:#04x}->{:#04x}", bytes[at], mutant[at]);
            totals.run(&name, &what, mutant, at);
        }

        // A truncated gzip stream is an error (it has no parser offset).
        if let Some(gz) = gz {
            for cut in [0, 1, 2, 10, 100, gz.len() / 2, gz.len() - 1] {
                let outcome = std::panic::catch_unwind(|| {
                    heapgraph::parse_bytes(gz[..cut].to_vec(), &OpenOptions::default()).is_ok()
                });
                match outcome {
                    Ok(false) => {}
                    Ok(true) => totals
                        .failures
                        .push(format!("{name}: gzip cut at {cut} parsed")),
                    Err(_) => totals
                        .failures
                        .push(format!("{name}: gzip cut at {cut} panicked")),
                }
            }
        }
        eprintln!(
            "{name}: {len} bytes, {} mutants ({} cuts, {flips} flips) in {:.2?}",
            totals.mutants - before,
            cuts.len(),
            file_start.elapsed()
        );
    }
    eprintln!(
        "{} files, {} mutants ({} parsed Ok), {:.0} MB parsed in {:.1?}",
        files.len(),
        totals.mutants,
        totals.ok,
        totals.bytes as f64 / 1e6,
        started.elapsed()
    );
    assert!(
        totals.failures.is_empty(),
        "{} of {} mutants broke the contract:\n{}",
        totals.failures.len(),
        totals.mutants,
        totals.failures.join("\n")
    );
}

#[test]
fn boundary_finders_find_records_and_keys() {
    // A header, one 3-byte UTF8 record, one empty record.
    let mut hprof = b"JAVA PROFILE 1.0.2\0\0\0\0\x08".to_vec();
    hprof.extend([0u8; 8]);
    let start = hprof.len();
    hprof.extend([1, 0, 0, 0, 0, 0, 0, 0, 3, b'a', b'b', b'c']);
    hprof.extend([0x2C, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(
        hprof_boundaries(&hprof),
        vec![start, start + 9, start + 12, start + 21, start + 21]
    );
    let json = br#"{"snapshot":{"meta":{}},"nodes":[1]}"#;
    let cuts = json_boundaries(json);
    assert!(cuts.contains(&1) && cuts.contains(&24) && cuts.contains(&31));
}

/// Says on the terminal that `what` was skipped. Written straight to stderr,
/// which libtest does not capture, so the line shows in every run.
pub fn skipped(what: &str) {
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "skipped: {what} (../shared/corpus is not beside this clone)"
    );
}
