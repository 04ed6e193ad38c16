//! Leaks across dumps whose object ids are not stable (HotSpot, Android,
//! tracemalloc, V8 snapshots of different processes): objects are matched
//! by their *retention signature* instead of their id.
//!
//! An object's signature is its shortest retention path from the root with
//! everything that names one object rather than a shape dropped: the
//! classes along it and the field or property names, with element indices
//! and other numeric names folded to `[]` (the same normalisation as leak
//! traces). `sessions → ArrayList → Object[] → Session` is one signature
//! for every session in the list, in every dump of the process. Counting
//! objects per signature in each dump shows which paths keep growing, even
//! when a busier path holding the same class churns at a steady size.
//!
//! Dumps of allocation sites rather than of an object graph (tracemalloc
//! snapshots, `.heapprofile`s) keep no references: there an object's
//! signature is its allocation traceback, frame by frame from the
//! outermost, which is how tracemalloc's own `compare_to('traceback')`
//! matches traces between snapshots.

use std::collections::HashMap;

use heapgraph_core::{EdgeIndex, Format, FrameId, HeapGraph, NodeIndex, StackId, StringId};

use super::{IgnoreList, TraceStep};
use crate::HeapAnalysis;

/// Sentinel for "no signature" (nodes no path reaches).
const NONE: u32 = u32::MAX;

/// The retention signature of every node of one dump, as a trie: each
/// signature extends its path's parent signature by one edge and class.
pub struct RetentionSignatures {
    /// Per node: its signature, or `NONE` when no path reaches it.
    of_node: Vec<u32>,
    signatures: Vec<Signature>,
}

struct Signature {
    /// The signature one step shorter (`NONE` for the root's).
    parent: u32,
    /// The first node found with it, for naming it.
    example: NodeIndex,
    /// That node's edge from its path parent (`None` for the root and for
    /// traceback signatures).
    edge: Option<EdgeIndex>,
    /// For traceback signatures: the innermost frame.
    frame: Option<FrameId>,
    /// A hash of the signature's text, equal across dumps for equal text.
    key: u64,
}

impl RetentionSignatures {
    /// Computes signatures along shortest paths (breadth-first from the
    /// root over the analysis' path edges, first found wins).
    pub fn compute(analysis: &HeapAnalysis<'_>) -> RetentionSignatures {
        let graph = analysis.graph();
        let n = graph.node_count();
        let mut of_node = vec![NONE; n];
        let mut signatures: Vec<Signature> = Vec::new();
        if n == 0 {
            return RetentionSignatures {
                of_node,
                signatures,
            };
        }
        let path_edges = analysis.policy().path_edges(graph);
        signatures.push(Signature {
            parent: NONE,
            example: NodeIndex::new(0),
            edge: None,
            frame: None,
            key: mix(FNV_OFFSET, b"(root)"),
        });
        of_node[0] = 0;
        if matches!(graph.format(), Format::Tracemalloc | Format::V8HeapProfile) {
            return Self::from_tracebacks(graph, of_node, signatures);
        }
        // (parent signature, label, class) → signature. Labels and classes
        // are keyed by their text's hash, so one table serves any dump.
        let mut interned: HashMap<(u32, u64, u64), u32> = HashMap::new();
        let mut label_hash: HashMap<String, u64> = HashMap::new();
        let mut queue: Vec<NodeIndex> = vec![NodeIndex::new(0)];
        let mut head = 0;
        while let Some(&v) = queue.get(head) {
            head += 1;
            let sv = of_node[v.index()];
            for e in graph.edge_range(v) {
                if !path_edges.contains(e) {
                    continue;
                }
                let edge = EdgeIndex::new(e);
                let t = graph.edge_target(edge);
                if of_node[t.index()] != NONE {
                    continue;
                }
                let label = super::normalized_label(graph, edge);
                let lh = *label_hash
                    .entry(label.into_owned())
                    .or_insert_with_key(|l| mix(FNV_OFFSET, l.as_bytes()));
                let class = super::class_or_name(analysis, t);
                let ch = mix(FNV_OFFSET ^ 0x9e37_79b9, class.as_bytes());
                let next = signatures.len() as u32;
                let s = *interned.entry((sv, lh, ch)).or_insert_with(|| {
                    let parent_key = signatures[sv as usize].key;
                    let key = mix(
                        mix(mix(parent_key, &lh.to_le_bytes()), b"->"),
                        &ch.to_le_bytes(),
                    );
                    signatures.push(Signature {
                        parent: sv,
                        example: t,
                        edge: Some(edge),
                        frame: None,
                        key,
                    });
                    next
                });
                of_node[t.index()] = s;
                queue.push(t);
            }
        }
        RetentionSignatures {
            of_node,
            signatures,
        }
    }

    /// Signatures from allocation tracebacks: one per stack of the dump's
    /// stack table that some node was allocated at (and its callers).
    fn from_tracebacks(
        graph: &HeapGraph,
        mut of_node: Vec<u32>,
        mut signatures: Vec<Signature>,
    ) -> RetentionSignatures {
        let stacks = graph.stacks();
        let mut of_stack: HashMap<StackId, u32> = HashMap::new();
        let mut chain: Vec<StackId> = Vec::new();
        for node in graph.nodes().skip(1) {
            let Some(stack) = graph.node_stack(node) else {
                continue;
            };
            // The stack and its callers not seen yet, innermost first.
            chain.clear();
            let mut s = Some(stack);
            while let Some(id) = s {
                if of_stack.contains_key(&id) || chain.len() > stacks.stack_count() {
                    break;
                }
                chain.push(id);
                s = stacks.parent(id);
            }
            for &id in chain.iter().rev() {
                let parent = stacks
                    .parent(id)
                    .and_then(|p| of_stack.get(&p).copied())
                    .unwrap_or(0);
                let frame = stacks.innermost_frame(id);
                let key = mix(
                    mix(signatures[parent as usize].key, b"=>"),
                    frame_text(graph, frame).as_bytes(),
                );
                of_stack.insert(id, signatures.len() as u32);
                signatures.push(Signature {
                    parent,
                    example: node,
                    edge: None,
                    frame: Some(frame),
                    key,
                });
            }
            if let Some(&sig) = of_stack.get(&stack) {
                of_node[node.index()] = sig;
            }
        }
        RetentionSignatures {
            of_node,
            signatures,
        }
    }

    /// The signature of `node` (an index into this dump's signatures), or
    /// `None` when no path reaches it.
    pub fn of(&self, node: NodeIndex) -> Option<u32> {
        self.of_node
            .get(node.index())
            .copied()
            .filter(|&s| s != NONE)
    }

    /// How many distinct signatures the dump has.
    pub fn len(&self) -> usize {
        self.signatures.len()
    }

    /// Whether the dump has none (an empty graph).
    pub fn is_empty(&self) -> bool {
        self.signatures.is_empty()
    }

    /// The signature as text, `(root) -[field]-> Class -[[]]-> Class …`.
    pub fn text(&self, analysis: &HeapAnalysis<'_>, signature: u32) -> String {
        let mut text = String::from("(root)");
        for step in self.steps(analysis, signature) {
            if step.edge.is_empty() {
                text.push_str(&format!(" → {}", step.target));
            } else {
                text.push_str(&format!(" -[{}]-> {}", step.edge, step.target));
            }
        }
        text
    }

    /// The signature's steps, from the root.
    pub fn steps(&self, analysis: &HeapAnalysis<'_>, signature: u32) -> Vec<TraceStep> {
        let graph = analysis.graph();
        let mut reversed = Vec::new();
        let mut s = signature;
        while let Some(sig) = self.signatures.get(s as usize) {
            if let Some(edge) = sig.edge {
                reversed.push((
                    super::normalized_label(graph, edge).into_owned(),
                    super::class_or_name(analysis, sig.example),
                ));
            } else if let Some(frame) = sig.frame {
                reversed.push((String::new(), frame_text(graph, frame)));
            }
            s = sig.parent;
        }
        let mut holder = "(root)".to_string();
        reversed
            .into_iter()
            .rev()
            .map(|(edge, target)| TraceStep {
                source: std::mem::replace(&mut holder, target.clone()),
                edge,
                target,
            })
            .collect()
    }

    /// Per signature: member count, shallow bytes and retained bytes.
    ///
    /// Retained sizes simply add up: no member dominates another member of
    /// its signature. A dominator of a node lies on every path to it, the
    /// shortest included, at a smaller depth, so its signature is shorter.
    pub fn totals(&self, analysis: &HeapAnalysis<'_>) -> Vec<PathTotals> {
        let mut totals = vec![PathTotals::default(); self.signatures.len()];
        let tree = analysis.dominator_tree();
        for (i, &s) in self.of_node.iter().enumerate() {
            let node = NodeIndex::new(i as u32);
            if s == NONE || !tree.contains(node) {
                continue;
            }
            let t = &mut totals[s as usize];
            t.count += 1;
            t.shallow_size = t.shallow_size.saturating_add(analysis.shallow_size(node));
            t.retained_size = t.retained_size.saturating_add(analysis.retained_size(node));
        }
        totals
    }
}

/// What one signature holds in one dump.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PathTotals {
    /// Objects with the signature.
    pub count: u64,
    /// Their shallow sizes.
    pub shallow_size: u64,
    /// Their retained sizes (disjoint: none of them dominates another).
    pub retained_size: u64,
}

/// A retention path whose object count grew in every dump of a series.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrowingPath {
    /// The signature as text: `(root) -[field]-> Class …`, numeric edge
    /// names as `[]`.
    pub shape: String,
    /// The class at its end.
    pub class: String,
    /// Per dump, in order (zero where the path is absent).
    pub totals: Vec<PathTotals>,
    /// An object with the signature in the last dump.
    pub example: NodeIndex,
}

impl GrowingPath {
    /// Objects added per dump on average (last minus first, over the
    /// number of steps).
    pub fn count_per_dump(&self) -> f64 {
        let (Some(first), Some(last)) = (self.totals.first(), self.totals.last()) else {
            return 0.0;
        };
        let steps = self.totals.len().saturating_sub(1).max(1) as f64;
        (last.count as f64 - first.count as f64) / steps
    }
}

/// The retention paths whose object count grows from every dump to the
/// next (`analyses` in the order the dumps were taken, at least two),
/// largest retained-size growth first. A growing path under another
/// growing path (what each leaked session holds, under the sessions) is not
/// listed on its own; paths `ignore` matches are not listed at all.
pub fn growing_paths(analyses: &[&HeapAnalysis<'_>], ignore: &IgnoreList) -> Vec<GrowingPath> {
    let mut series = PathSeries::new();
    for analysis in analyses {
        series.add(analysis);
    }
    match analyses.last() {
        Some(last) => series.growing(last, ignore),
        None => Vec::new(),
    }
}

/// Per-signature totals gathered one dump at a time, so that a long series
/// needs only one dump in memory at once (what `growing_paths` does with
/// all of them at hand).
#[derive(Default)]
pub struct PathSeries {
    /// Per signature key: totals in each dump added so far.
    by_key: HashMap<u64, Vec<PathTotals>>,
    dumps: usize,
    /// The signatures of the dump added last, without the per-node column
    /// (`growing` names paths from them).
    last: Option<RetentionSignatures>,
}

impl PathSeries {
    /// An empty series.
    pub fn new() -> PathSeries {
        PathSeries::default()
    }

    /// Adds the next dump of the series.
    pub fn add(&mut self, analysis: &HeapAnalysis<'_>) {
        let signatures = RetentionSignatures::compute(analysis);
        let totals = signatures.totals(analysis);
        let i = self.dumps;
        self.dumps += 1;
        for row in self.by_key.values_mut() {
            row.push(PathTotals::default());
        }
        for (sig, t) in signatures.signatures.iter().zip(&totals) {
            if t.count == 0 {
                continue;
            }
            let dumps = self.dumps;
            let row = self
                .by_key
                .entry(sig.key)
                .or_insert_with(|| vec![PathTotals::default(); dumps]);
            row[i] = *t;
        }
        self.last = Some(RetentionSignatures {
            of_node: Vec::new(),
            signatures: signatures.signatures,
        });
    }

    /// How many dumps were added.
    pub fn len(&self) -> usize {
        self.dumps
    }

    /// Whether none was.
    pub fn is_empty(&self) -> bool {
        self.dumps == 0
    }

    /// The paths that grew from every dump to the next, named from `last`,
    /// which must be the analysis of the last dump added (see
    /// [`growing_paths`]).
    pub fn growing(&self, last: &HeapAnalysis<'_>, ignore: &IgnoreList) -> Vec<GrowingPath> {
        let Some(signatures) = self.last.as_ref().filter(|_| self.dumps >= 2) else {
            return Vec::new();
        };
        let grows = |key: u64| {
            self.by_key
                .get(&key)
                .is_some_and(|row| row.windows(2).all(|w| w[1].count > w[0].count))
        };
        let mut out = Vec::new();
        for (index, sig) in signatures.signatures.iter().enumerate() {
            if !grows(sig.key) {
                continue;
            }
            // Skip paths under a growing path.
            let mut parent = sig.parent;
            let mut nested = false;
            while let Some(p) = signatures.signatures.get(parent as usize) {
                if grows(p.key) {
                    nested = true;
                    break;
                }
                parent = p.parent;
            }
            if nested
                || (!ignore.is_empty() && ignore.matches(&signatures.steps(last, index as u32)))
            {
                continue;
            }
            let totals = self.by_key.get(&sig.key).cloned().unwrap_or_default();
            out.push(GrowingPath {
                shape: signatures.text(last, index as u32),
                class: match sig.frame {
                    Some(frame) => frame_text(last.graph(), frame),
                    None => super::class_or_name(last, sig.example),
                },
                totals,
                example: sig.example,
            });
        }
        let growth = |p: &GrowingPath| {
            let first = p.totals.first().map_or(0, |t| t.retained_size);
            let last = p.totals.last().map_or(0, |t| t.retained_size);
            last.saturating_sub(first)
        };
        out.sort_by(|a, b| {
            growth(b)
                .cmp(&growth(a))
                .then_with(|| a.shape.cmp(&b.shape))
        });
        out
    }
}

/// A frame as text: `file:line`, or `function (file:line)` where the
/// producer records functions.
fn frame_text(graph: &HeapGraph, frame: FrameId) -> String {
    let f = graph.stacks().frame(frame);
    let file = graph.strings().get(f.file);
    if f.function == StringId::EMPTY {
        format!("{file}:{}", f.line)
    } else {
        format!("{} ({file}:{})", graph.strings().get(f.function), f.line)
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a over `bytes`, continuing from `state`.
fn mix(mut state: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        state ^= u64::from(b);
        state = state.wrapping_mul(0x0100_0000_01b3);
    }
    state
}
