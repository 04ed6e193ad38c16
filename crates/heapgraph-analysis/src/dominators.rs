//! The dominator tree and retained sizes.
//!
//! Node `d` *dominates* node `v` when every path from the root to `v` passes
//! through `d`; the *immediate dominator* of `v` is its closest strict
//! dominator. Freeing `d` frees everything `d` dominates, so the *retained
//! size* of `d` is the sum of the shallow sizes of the nodes it dominates
//! (itself included).
//!
//! The tree is computed with the Semi-NCA algorithm (Georgiadis; the variant
//! LLVM uses): an iterative depth-first search numbers the nodes, an
//! iterative path-compressing `eval` finds semidominators in decreasing
//! preorder, and a walk up the partial tree turns each semidominator into the
//! immediate dominator. Nothing recurses, so chains of millions of nodes are
//! fine.
//!
//! Memory: the search keeps dense `u32` columns only. At its peak it holds 28
//! bytes per node (node → preorder number, preorder → node, ancestor, partial
//! dominator, semidominator, label, predecessor offsets) plus 4 bytes per
//! counted edge (the predecessor lists) and one bit per edge (the edge set).
//! The finished tree keeps 8 bytes per node; retained sizes add 8 more.
//!
//! Unreachable nodes follow [`UnreachableNodes`]: either Chrome DevTools'
//! rule (orphans start their own search under the root, leftover cycles
//! become children of the root) or MAT's (no dominator, reported). Either
//! way they are listed in [`DominatorTree::unreachable`].

use heapgraph_core::{HeapGraph, NodeIndex};

use crate::policy::{EdgeSet, UnreachableNodes};

const NONE: u32 = u32::MAX;

/// Nodes the dominator edges do not reach from the root.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnreachableReport {
    /// Every node not reachable from the root over dominator edges, in
    /// ascending order.
    pub nodes: Vec<NodeIndex>,
    /// Under [`UnreachableNodes::AttachToRoot`]: the unreached nodes without
    /// any incoming dominator edge, each of which started its own search as
    /// a child of the root (DevTools: "nodes with only weak retainers").
    pub search_starts: Vec<NodeIndex>,
    /// Under [`UnreachableNodes::AttachToRoot`]: the nodes still unreached
    /// after those searches (cycles held only by each other), made direct
    /// children of the root.
    pub leftovers: Vec<NodeIndex>,
    /// Whether the unreached nodes were attached to the root (and so have a
    /// dominator and a retained size) or excluded.
    pub attached: bool,
}

impl UnreachableReport {
    /// The number of unreachable nodes.
    pub fn count(&self) -> usize {
        self.nodes.len()
    }
}

/// The immediate dominator of every node, and the search order that produced
/// it.
#[derive(Clone, Debug)]
pub struct DominatorTree {
    /// Per node: its immediate dominator; the root holds itself, excluded
    /// unreachable nodes hold `NONE`.
    idom: Vec<u32>,
    /// Depth-first preorder: position `i` holds the node numbered `i`; the
    /// root is first. Every node with a dominator appears once, after its
    /// dominator.
    order: Vec<u32>,
    unreachable: UnreachableReport,
    peak_scratch_bytes: usize,
}

impl DominatorTree {
    /// Computes the dominator tree of `graph` from its root (node 0),
    /// following only the edges in `edges`.
    pub fn compute(
        graph: &HeapGraph,
        edges: &EdgeSet,
        unreachable: UnreachableNodes,
    ) -> DominatorTree {
        let n = graph.node_count();
        if n == 0 {
            return DominatorTree {
                idom: Vec::new(),
                order: Vec::new(),
                unreachable: UnreachableReport::default(),
                peak_scratch_bytes: 0,
            };
        }
        let starts = graph.edge_starts();
        let targets = graph.edge_targets();

        // Predecessor lists over counted edges, CSR in node space.
        let (pred_start, pred_source) = predecessors(graph, edges);

        // Iterative depth-first search in edge order.
        let mut search = Search {
            pre: vec![NONE; n],
            vertex: Vec::with_capacity(n),
            parent: Vec::with_capacity(n),
            cursor: Vec::with_capacity(n),
        };
        search.run(0, 0, starts, targets, edges);
        let reached_from_root = search.vertex.len();
        let mut report = UnreachableReport {
            attached: unreachable == UnreachableNodes::AttachToRoot,
            ..UnreachableReport::default()
        };
        let mut leftover_start = usize::MAX;
        if reached_from_root < n {
            report.nodes = (0..n as u32)
                .filter(|&v| search.pre[v as usize] == NONE)
                .map(NodeIndex::new)
                .collect();
            if unreachable == UnreachableNodes::AttachToRoot {
                for v in 0..n {
                    if search.pre[v] == NONE && pred_start[v] == pred_start[v + 1] {
                        report.search_starts.push(NodeIndex::new(v as u32));
                        search.run(v as u32, 0, starts, targets, edges);
                    }
                }
                leftover_start = search.vertex.len();
                for v in 0..n {
                    if search.pre[v] == NONE {
                        report.leftovers.push(NodeIndex::new(v as u32));
                        search.number(v as u32, 0, 0);
                    }
                }
            }
        }
        let Search {
            mut pre,
            vertex,
            parent,
            cursor,
        } = search;
        drop(cursor);
        let count = vertex.len();

        // Semi-NCA, in preorder-number space.
        let mut ancestor = parent.clone();
        let mut idom = parent;
        let mut semi: Vec<u32> = (0..count as u32).collect();
        let mut label: Vec<u32> = (0..count as u32).collect();
        let peak_scratch_bytes = pre.capacity() * 4
            + vertex.capacity() * 4
            + ancestor.capacity() * 4
            + idom.capacity() * 4
            + semi.capacity() * 4
            + label.capacity() * 4
            + pred_start.capacity() * 4
            + pred_source.capacity() * 4
            + edges.heap_bytes();
        let mut stack: Vec<u32> = Vec::new();
        for i in (1..count).rev() {
            if i >= leftover_start {
                // A leftover: its semidominator (and dominator) is the root.
                semi[i] = 0;
                continue;
            }
            let w = vertex[i] as usize;
            let mut s = idom[i];
            for &p in &pred_source[pred_start[w] as usize..pred_start[w + 1] as usize] {
                let j = pre[p as usize];
                if j == NONE || j as usize >= leftover_start {
                    continue;
                }
                let u = eval(
                    j,
                    i as u32 + 1,
                    &mut ancestor,
                    &mut label,
                    &semi,
                    &mut stack,
                );
                s = s.min(semi[u as usize]);
            }
            semi[i] = s;
        }
        drop(ancestor);
        drop(label);
        drop(pred_source);
        drop(pred_start);
        for i in 1..count {
            let sd = semi[i];
            let mut candidate = idom[i];
            while candidate > sd {
                candidate = idom[candidate as usize];
            }
            idom[i] = candidate;
        }
        drop(semi);

        // Back to node space, reusing the node → number column.
        for slot in pre.iter_mut() {
            if *slot != NONE {
                *slot = vertex[idom[*slot as usize] as usize];
            }
        }
        DominatorTree {
            idom: pre,
            order: vertex,
            unreachable: report,
            peak_scratch_bytes,
        }
    }

    /// The number of nodes the tree was computed for.
    pub fn node_count(&self) -> usize {
        self.idom.len()
    }

    /// The immediate dominator of `node`: `None` for the root and for
    /// excluded unreachable nodes.
    pub fn immediate_dominator(&self, node: NodeIndex) -> Option<NodeIndex> {
        if node.index() == 0 {
            return None;
        }
        match self.idom.get(node.index()) {
            Some(&d) if d != NONE => Some(NodeIndex::new(d)),
            _ => None,
        }
    }

    /// Whether `node` has a place in the tree (the root, reachable nodes, and
    /// unreachable ones when attached to the root).
    pub fn contains(&self, node: NodeIndex) -> bool {
        self.idom.get(node.index()).is_some_and(|&d| d != NONE)
    }

    /// The immediate-dominator column: the root holds 0, excluded unreachable
    /// nodes `u32::MAX`.
    pub fn immediate_dominators(&self) -> &[u32] {
        &self.idom
    }

    /// The nodes in the tree in depth-first preorder of the search (root
    /// first; every node after its dominator).
    pub fn preorder(&self) -> &[u32] {
        &self.order
    }

    /// The nodes not reached from the root.
    pub fn unreachable(&self) -> &UnreachableReport {
        &self.unreachable
    }

    /// Scratch memory the computation held at its peak, in bytes (the
    /// predecessor lists, the edge set and the `u32` columns), not counting
    /// the graph.
    pub fn peak_scratch_bytes(&self) -> usize {
        self.peak_scratch_bytes
    }

    /// Heap bytes the finished tree holds.
    pub fn heap_bytes(&self) -> usize {
        self.idom.capacity() * 4 + self.order.capacity() * 4
    }

    /// Retained sizes from shallow sizes, in one bottom-up sweep: each node
    /// in decreasing preorder adds its total into its dominator. Nodes
    /// outside the tree get 0. Sums saturate at `u64::MAX`.
    pub fn retained_sizes(&self, shallow: &[u64]) -> Vec<u64> {
        let mut retained: Vec<u64> = self
            .idom
            .iter()
            .enumerate()
            .map(|(v, &d)| {
                if d == NONE {
                    0
                } else {
                    shallow.get(v).copied().unwrap_or(0)
                }
            })
            .collect();
        for &v in self.order.iter().skip(1).rev() {
            let v = v as usize;
            let d = self.idom[v] as usize;
            retained[d] = retained[d].saturating_add(retained[v]);
        }
        retained
    }

    /// The children of every node in the tree, for browsing it.
    pub fn children(&self) -> DominatedNodes {
        let n = self.idom.len();
        let mut start = vec![0u32; n + 1];
        for &v in self.order.iter().skip(1) {
            start[self.idom[v as usize] as usize + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut nodes = vec![0u32; self.order.len().saturating_sub(1)];
        for &v in self.order.iter().skip(1) {
            let d = self.idom[v as usize] as usize;
            nodes[fill[d] as usize] = v;
            fill[d] += 1;
        }
        DominatedNodes { start, nodes }
    }
}

/// The children of each node in a dominator tree (CSR; each node's children
/// in preorder).
#[derive(Clone, Debug)]
pub struct DominatedNodes {
    start: Vec<u32>,
    nodes: Vec<u32>,
}

impl DominatedNodes {
    /// The nodes `node` immediately dominates.
    pub fn of(&self, node: NodeIndex) -> impl ExactSizeIterator<Item = NodeIndex> + '_ {
        let i = node.index();
        let range = match (self.start.get(i), self.start.get(i + 1)) {
            (Some(&a), Some(&b)) => a as usize..b as usize,
            _ => 0..0,
        };
        self.nodes[range].iter().map(|&v| NodeIndex::new(v))
    }
}

/// The iterative depth-first search that numbers nodes in preorder.
struct Search {
    /// Node → preorder number (`NONE` = unvisited).
    pre: Vec<u32>,
    /// Preorder number → node.
    vertex: Vec<u32>,
    /// Preorder number → the parent's preorder number.
    parent: Vec<u32>,
    /// Preorder number → the next edge to look at.
    cursor: Vec<u32>,
}

impl Search {
    fn number(&mut self, node: u32, parent: u32, cursor: u32) -> u32 {
        let k = self.vertex.len() as u32;
        self.pre[node as usize] = k;
        self.vertex.push(node);
        self.parent.push(parent);
        self.cursor.push(cursor);
        k
    }

    /// Searches from `start`, which becomes a child of number `parent`.
    fn run(
        &mut self,
        start: u32,
        parent: u32,
        starts: &[u32],
        targets: &[NodeIndex],
        edges: &EdgeSet,
    ) {
        let first = self.number(start, parent, starts[start as usize]);
        let mut current = first;
        loop {
            let v = self.vertex[current as usize] as usize;
            let end = starts[v + 1];
            let mut next = None;
            while self.cursor[current as usize] < end {
                let e = self.cursor[current as usize];
                self.cursor[current as usize] = e + 1;
                if !edges.contains(e) {
                    continue;
                }
                let w = targets[e as usize].as_u32();
                if self.pre[w as usize] == NONE {
                    next = Some(self.number(w, current, starts[w as usize]));
                    break;
                }
            }
            match next {
                Some(child) => current = child,
                None if current == first => break,
                None => current = self.parent[current as usize],
            }
        }
    }
}

/// Builds predecessor lists (CSR) over the counted edges, skipping self
/// edges.
fn predecessors(graph: &HeapGraph, edges: &EdgeSet) -> (Vec<u32>, Vec<u32>) {
    let n = graph.node_count();
    let targets = graph.edge_targets();
    let mut start = vec![0u32; n + 1];
    for v in graph.nodes() {
        for e in graph.edge_range(v) {
            let t = targets[e as usize];
            if t != v && edges.contains(e) {
                start[t.index() + 1] += 1;
            }
        }
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut source = vec![0u32; start[n] as usize];
    for v in graph.nodes() {
        for e in graph.edge_range(v) {
            let t = targets[e as usize];
            if t != v && edges.contains(e) {
                let slot = &mut start[t.index()];
                source[*slot as usize] = v.as_u32();
                *slot += 1;
            }
        }
    }
    // Each start[t] now holds the end of t's list; shift back.
    for t in (1..=n).rev() {
        start[t] = start[t - 1];
    }
    start[0] = 0;
    (start, source)
}

/// Semi-NCA's `eval`: the node of minimum semidominator on the path from
/// `v` up to (excluding) the first ancestor numbered below `last_linked`,
/// compressing the path on the way.
fn eval(
    v: u32,
    last_linked: u32,
    ancestor: &mut [u32],
    label: &mut [u32],
    semi: &[u32],
    stack: &mut Vec<u32>,
) -> u32 {
    if ancestor[v as usize] < last_linked {
        return label[v as usize];
    }
    stack.clear();
    let mut x = v;
    loop {
        stack.push(x);
        x = ancestor[x as usize];
        if ancestor[x as usize] < last_linked {
            break;
        }
    }
    let mut p = x;
    let mut p_label = label[p as usize];
    while let Some(y) = stack.pop() {
        let yi = y as usize;
        ancestor[yi] = ancestor[p as usize];
        let y_label = label[yi];
        if semi[p_label as usize] < semi[y_label as usize] {
            label[yi] = p_label;
        } else {
            p_label = y_label;
        }
        p = y;
    }
    label[v as usize]
}
