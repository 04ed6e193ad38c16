//! Shared helpers: loading test files and an independent plain-serde_json
//! reader of snapshots and profiles used as the oracle.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // may panic: not library code
#![allow(dead_code)]

use std::io::Read;

use serde_json::Value;

/// `testdata/v8/<name>` in this repository.
pub fn testdata(name: &str) -> String {
    format!("{}/../../testdata/v8/{name}", env!("CARGO_MANIFEST_DIR"))
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

/// Encodes a JSON string; with `ascii_only`, every non-ASCII character
/// becomes `\uXXXX` escapes (surrogate pairs above U+FFFF), as V8 writes.
pub fn json_string(s: &str, ascii_only: bool) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if ascii_only && (c as u32) >= 0x7F => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{:04X}", unit));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A tiny snapshot description for synthetic tests.
#[derive(Clone, Debug)]
pub struct MiniSnapshot {
    /// Node field order (a permutation of the 5 required plus optional
    /// `trace_node_id`, `detachedness`).
    pub node_fields: Vec<&'static str>,
    /// Per node: (type index, name string index, id, self size, detachedness).
    pub nodes: Vec<(u64, u64, u64, u64, u64)>,
    /// Per node: its edges (type index, label, target ordinal).
    pub edges: Vec<Vec<(u64, u64, u64)>>,
    pub strings: Vec<String>,
    pub ascii_only: bool,
    pub separator: &'static str,
}

pub const NODE_TYPES: [&str; 16] = [
    "hidden",
    "array",
    "string",
    "object",
    "code",
    "closure",
    "regexp",
    "number",
    "native",
    "synthetic",
    "concatenated string",
    "sliced string",
    "symbol",
    "bigint",
    "object shape",
    "wasm object",
];
pub const EDGE_TYPES: [&str; 7] = [
    "context", "element", "property", "internal", "hidden", "shortcut", "weak",
];

impl MiniSnapshot {
    pub fn to_json(&self) -> Vec<u8> {
        let sep = self.separator;
        let quote = |v: &[&str]| {
            v.iter()
                .map(|s| format!("\"{s}\""))
                .collect::<Vec<_>>()
                .join(",")
        };
        let nf = self.node_fields.len() as u64;
        let mut nodes = Vec::new();
        for (k, &(ty, name, id, size, detached)) in self.nodes.iter().enumerate() {
            for field in &self.node_fields {
                nodes.push(match *field {
                    "type" => ty,
                    "name" => name,
                    "id" => id,
                    "self_size" => size,
                    "edge_count" => self.edges[k].len() as u64,
                    "trace_node_id" => 0,
                    "detachedness" => detached,
                    _ => unreachable!(),
                });
            }
        }
        let mut edges = Vec::new();
        for list in &self.edges {
            for &(ty, label, target) in list {
                edges.extend([ty, label, target * nf]);
            }
        }
        let join = |v: &[u64]| {
            v.iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(&format!(",{sep}"))
        };
        let strings = self
            .strings
            .iter()
            .map(|s| json_string(s, self.ascii_only))
            .collect::<Vec<_>>()
            .join(&format!(",{sep}"));
        format!(
            "{{\"snapshot\":{{\"meta\":{{\"node_fields\":[{}],\"node_types\":[[{}],\"string\",\"number\"],\
             \"edge_fields\":[\"type\",\"name_or_index\",\"to_node\"],\"edge_types\":[[{}],\"string_or_number\",\"node\"],\
             \"unknown_meta\":{{\"x\":[1,{{}}]}}}},\"node_count\":{},\"edge_count\":{}}},{sep}\
             \"nodes\":[{}],{sep}\"edges\":[{}],{sep}\"strings\":[{}]}}",
            quote(&self.node_fields),
            quote(&NODE_TYPES),
            quote(&EDGE_TYPES),
            self.nodes.len(),
            edges.len() / 3,
            join(&nodes),
            join(&edges),
            strings
        )
        .into_bytes()
    }
}
