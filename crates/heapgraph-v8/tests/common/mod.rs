//! Shared helpers: loading test files and an independent plain-serde_json
//! reader of snapshots and profiles used as the oracle.

#![allow(dead_code)]

use std::io::Read;

use serde_json::Value;

/// `testdata/v8/<name>` in this repository.
pub fn testdata(name: &str) -> String {
    format!("{}/../../testdata/v8/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/corpus/v8/<name>` beside the repository.
pub fn corpus(name: &str) -> String {
    format!(
        "{}/../../../shared/corpus/v8/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Reads a file, gunzipping `.gz` files.
pub fn load(path: &str) -> Vec<u8> {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    if path.ends_with(".gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        raw
    }
}

/// A snapshot read the slow, obvious way.
pub struct Oracle {
    pub node_fields: Vec<String>,
    pub edge_fields: Vec<String>,
    pub node_types: Vec<String>,
    pub edge_types: Vec<String>,
    pub nodes: Vec<u64>,
    pub edges: Vec<u64>,
    pub strings: Vec<String>,
    pub json: Value,
}

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

impl Oracle {
    pub fn new(bytes: &[u8]) -> Self {
        let json: Value = serde_json::from_slice(bytes).unwrap();
        let meta = &json["snapshot"]["meta"];
        let nums = |v: &Value| -> Vec<u64> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_u64().unwrap())
                .collect()
        };
        Oracle {
            node_fields: names(&meta["node_fields"]),
            edge_fields: names(&meta["edge_fields"]),
            node_types: names(&meta["node_types"][0]),
            edge_types: names(&meta["edge_types"][0]),
            nodes: nums(&json["nodes"]),
            edges: nums(&json["edges"]),
            // serde_json replaces lone surrogates; the tests compare
            // strings only where that cannot matter.
            strings: names(&json["strings"]),
            json,
        }
    }

    pub fn nf(&self) -> usize {
        self.node_fields.len()
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len() / self.nf()
    }

    pub fn edge_count(&self) -> usize {
        self.edges.len() / self.edge_fields.len()
    }

    pub fn node_field(&self, ordinal: usize, field: &str) -> u64 {
        let c = self.node_fields.iter().position(|f| f == field).unwrap();
        self.nodes[ordinal * self.nf() + c]
    }

    pub fn node_type(&self, ordinal: usize) -> &str {
        &self.node_types[self.node_field(ordinal, "type") as usize]
    }

    pub fn node_name(&self, ordinal: usize) -> &str {
        &self.strings[self.node_field(ordinal, "name") as usize]
    }

    /// Every edge as (source ordinal, type name, label (string or index), target ordinal).
    pub fn edge_list(&self) -> Vec<(usize, String, String, usize)> {
        let ef = self.edge_fields.len();
        let ct = self.edge_fields.iter().position(|f| f == "type").unwrap();
        let cl = self
            .edge_fields
            .iter()
            .position(|f| f == "name_or_index")
            .unwrap();
        let cn = self
            .edge_fields
            .iter()
            .position(|f| f == "to_node")
            .unwrap();
        let mut out = Vec::new();
        let mut e = 0;
        for n in 0..self.node_count() {
            for _ in 0..self.node_field(n, "edge_count") {
                let rec = &self.edges[e * ef..(e + 1) * ef];
                let ty = self.edge_types[rec[ct] as usize].clone();
                let label = if ty == "element" || ty == "hidden" {
                    rec[cl].to_string()
                } else {
                    self.strings[rec[cl] as usize].clone()
                };
                out.push((n, ty, label, rec[cn] as usize / self.nf()));
                e += 1;
            }
        }
        out
    }
}
