//! Helpers shared by the command-line tests that read `--json`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;

/// The repository's root (testdata is under it).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `heapgraph --json ARGS` and returns its document; fails the test
/// (with stderr) if the command fails.
pub fn heapgraph_json(args: &[&str]) -> Value {
    let output = Command::cargo_bin("heapgraph")
        .unwrap()
        .args(["--json", "--quiet"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "heapgraph {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}
