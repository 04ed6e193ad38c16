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
//! Memory: dense columns only. The depth-first search holds 12 bytes per
//! node (node → preorder number, and the 8-byte link Semi-NCA starts from:
//! the parent, as ancestor and as first smallest semidominator), 8 per node
//! on its current path (the path's edge cursors), and 4 per edge: each
//! edge's target's first edge, so that reaching a node tells where its
//! edges are without first reading its offsets. As the search looks at an
//! edge it overwrites that with the target's number (`NONE` for its tree
//! edges and the edges it does not follow), so the predecessors are read
//! from this column in order instead of by looking every target's number up
//! again. A first pass folds each predecessor numbered below its target
//! into the target's initial semidominator, counts the ones numbered above
//! (a byte per node, a side table past 255) and moves their targets'
//! numbers to the front of the column, which is then cut to them: 13 bytes
//! per node and the column. A second pass files them into lists (CSR in
//! number space, 4 bytes per node of offsets, which later also receive the
//! finished semidominators): 16 bytes per node plus 8 per listed
//! predecessor while the moved numbers and the lists are both there, then
//! 20 plus 4 per listed predecessor (a dominator column copied from the
//! parents) for the semidominators. Heap dumps have about two edges and one
//! listed predecessor per node, where the last two phases are the peak
//! (before, one phase of 20 bytes per node plus 4 per listed predecessor
//! was; the moved numbers cost the difference). At the end the preorder →
//! node column is built from the node → number column for as long as it
//! takes to group every node's children by dominator; the finished tree
//! keeps 12 bytes per node (the dominator column and that children index,
//! from which retained sizes are summed bottom-up); retained sizes add 4
//! more, and 4 more while they are summed (the tree's breadth-first order).
//!
//! Time: on a synthetic 10^7-node / 3·10^7-edge graph with random edges
//! (`benches/dominators.rs`) 6.6–8.9 s of CPU on the development VM
//! depending on the host (its dependent DRAM access costs 255 ns; 17.8 s
//! before the prefetching below, 9–13 s before the search read its
//! targets' first edges from a column of its own): about 2.5 s for the
//! search, 1.5 s for the predecessor lists, 1.8 s for the semidominators,
//! 0.4 s for retained sizes. Then `eval` compressing by halving in one
//! walk (instead of a walk up and a walk down), the edges not followed
//! marked in the search's own edge column (instead of asking the edge set,
//! a miss per node), the first four links each `eval` reads asked for (not
//! two) and longer prefetch distances for the loops that only gather:
//! 5.4–6.2 s on the random graph and 4.0–4.8 s on the local one, against
//! 7.4–9.5 s and 5.4–7.5 s for interleaved runs of the code before them
//! (the VM's speed varies by that much within an hour). Reading the
//! predecessors from the search's column (which held only first edges
//! before) took their two passes from 1.8–2.3 s to 0.8–1.0 s on the random
//! graph (0.9–1.5 s to 0.6–0.8 s on the local one) in interleaved runs.
//! The search is a chain of cache misses: which node comes next depends on
//! the numbers of the current node's targets. Each node's targets, their
//! numbers and their edges are asked for together as soon as the node is
//! numbered, so the chain waits for about one access per node. The loops
//! that follow are not chains, and ask for the memory they will read
//! `PREFETCH_DISTANCE` steps ahead, so that many misses are in flight at
//! once.
//!
//! Unreachable nodes follow [`UnreachableNodes`]: Chrome DevTools' rule
//! (orphans start their own search under the root, leftover cycles become
//! children of the root), MAT's (no dominator) or NetBeans' (no retained
//! size, but still retainers of what they reference). Whatever the rule,
//! they are listed in [`DominatorTree::unreachable`].

use std::borrow::Cow;
use std::collections::HashMap;

use heapgraph_core::{HeapGraph, NodeIndex, SizeSums, Sizes};

use crate::policy::{EdgeSet, UnreachableNodes};

const NONE: u32 = u32::MAX;

/// Nodes the dominator edges do not reach from the root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnreachableReport {
    /// Every node not reachable from the root over dominator edges, in
    /// ascending order.
    pub nodes: Vec<NodeIndex>,
    /// The unreached nodes that started a search of their own as a child of
    /// the root: under [`UnreachableNodes::AttachToRoot`] those without any
    /// incoming dominator edge (DevTools: "nodes with only weak retainers"),
    /// under [`UnreachableNodes::KeepAsRetainers`] each one not reached by
    /// an earlier such search.
    pub search_starts: Vec<NodeIndex>,
    /// Under [`UnreachableNodes::AttachToRoot`]: the nodes still unreached
    /// after those searches (cycles held only by each other), made direct
    /// children of the root.
    pub leftovers: Vec<NodeIndex>,
    /// The rule that was applied to them.
    pub rule: UnreachableNodes,
}

impl UnreachableReport {
    fn new(rule: UnreachableNodes) -> Self {
        UnreachableReport {
            nodes: Vec::new(),
            search_starts: Vec::new(),
            leftovers: Vec::new(),
            rule,
        }
    }

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
    /// The children of every node, each node's in the search's preorder.
    children: DominatedNodes,
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
        DominatorTree::compute_from(graph, Cow::Borrowed(edges), unreachable, &[], None)
    }

    /// As [`compute`](Self::compute), with `extra_roots` held directly by
    /// the root as well (as if the root had an edge to each). Under
    /// [`UnreachableNodes::KeepAsRetainers`], `reach_edges` (when given)
    /// decides which nodes count as reachable, instead of `edges`: NetBeans
    /// decides liveness without `Finalizer.referent` but counts it as a
    /// retainer. `edges` is taken so that its bit per edge is freed as soon
    /// as the search is done with it, before the predecessor lists are
    /// built.
    pub fn compute_with_roots(
        graph: &HeapGraph,
        edges: EdgeSet,
        unreachable: UnreachableNodes,
        extra_roots: &[NodeIndex],
        reach_edges: Option<&EdgeSet>,
    ) -> DominatorTree {
        DominatorTree::compute_from(
            graph,
            Cow::Owned(edges),
            unreachable,
            extra_roots,
            reach_edges,
        )
    }

    fn compute_from(
        graph: &HeapGraph,
        edges: Cow<'_, EdgeSet>,
        unreachable: UnreachableNodes,
        extra_roots: &[NodeIndex],
        reach_edges: Option<&EdgeSet>,
    ) -> DominatorTree {
        let n = graph.node_count();
        if n == 0 {
            return DominatorTree {
                idom: Vec::new(),
                children: DominatedNodes {
                    start: vec![0],
                    nodes: Vec::new(),
                },
                unreachable: UnreachableReport::new(unreachable),
                peak_scratch_bytes: 0,
            };
        }
        // Iterative depth-first search in edge order.
        let mut walk = SearchEdges::new(graph, &edges);
        let mut search = Search::new(n);
        search.run(0, 0, &mut walk);
        for &x in extra_roots {
            if x.index() < n && search.pre[x.index()] == NONE {
                search.run(x.as_u32(), 0, &mut walk);
            }
        }
        let reached_from_root = search.numbered as usize;
        let mut report = UnreachableReport::new(unreachable);
        let mut leftover_start = usize::MAX;
        if reached_from_root < n {
            report.nodes = (0..n as u32)
                .filter(|&v| search.pre[v as usize] == NONE)
                .map(NodeIndex::new)
                .collect();
            if unreachable == UnreachableNodes::AttachToRoot {
                let retained = unreached_with_retainers(graph, &edges, &search.pre);
                for v in 0..n {
                    if search.pre[v] == NONE && !retained.contains(v as u32) {
                        report.search_starts.push(NodeIndex::new(v as u32));
                        search.run(v as u32, 0, &mut walk);
                    }
                }
                leftover_start = search.numbered as usize;
                for v in 0..n {
                    if search.pre[v] == NONE {
                        report.leftovers.push(NodeIndex::new(v as u32));
                        search.number(v as u32, 0);
                    }
                }
            } else if unreachable == UnreachableNodes::KeepAsRetainers {
                for v in 0..n {
                    if search.pre[v] == NONE {
                        report.search_starts.push(NodeIndex::new(v as u32));
                        search.run(v as u32, 0, &mut walk);
                    }
                }
            }
        }
        if unreachable == UnreachableNodes::KeepAsRetainers {
            if let Some(reach) = reach_edges {
                report.nodes = unreached_over(graph, reach, extra_roots);
            }
        }
        let search_peak_bytes = search.heap_bytes() + walk.heap_bytes() + edges.heap_bytes();
        // The search's column says which edges it followed from here on.
        drop(edges);
        let Search {
            mut pre,
            mut info,
            numbered,
            path,
        } = search;
        drop(path);
        let count = numbered as usize;
        let limit = leftover_start.min(count) as u32;

        // Semi-NCA, in preorder-number space. Before a node is processed its
        // `best` holds the smallest predecessor numbered below it (its
        // parent at worst): such predecessors are semidominator candidates
        // as they are, so only predecessors numbered above a node go into
        // its list. The parents are in `info` only until the lists are
        // built (then the dominator column is copied from there), so that
        // the lists take the place of a parent column.
        if unreachable == UnreachableNodes::KeepAsRetainers {
            // The root points to every unreached node.
            for v in &report.nodes {
                if let Some(link) = info.get_mut(pre[v.index()] as usize) {
                    link.best = 0;
                }
            }
        }
        for &x in extra_roots {
            if let Some(&j) = pre.get(x.index()) {
                if let Some(link) = info.get_mut(j as usize) {
                    link.best = 0;
                }
            }
        }
        let SearchEdges {
            target_starts: numbers,
            ..
        } = walk;
        let column_bytes = numbers.capacity() * 4;
        let (mut pred_start, later) = count_predecessors(graph, &pre, numbers, limit, &mut info);
        let node_columns_bytes = 4 * pre.capacity() + info.capacity() * std::mem::size_of::<Link>();
        // The pass itself (a byte per count), then the lists being filled.
        let count_peak_bytes = search_peak_bytes
            .max(node_columns_bytes + info.len() + column_bytes + later.marked.heap_bytes())
            .max(
                node_columns_bytes
                    + 4 * pred_start.capacity()
                    + later.heap_bytes()
                    + later.targets.capacity() * 4,
            );
        let pred_source = later.fill(graph, &pre, limit, &mut pred_start);
        let mut idom: Vec<u32> = info.iter().map(|link| link.ancestor).collect();
        let peak_scratch_bytes = count_peak_bytes.max(
            pre.capacity() * 4
                + info.capacity() * std::mem::size_of::<Link>()
                + idom.capacity() * 4
                + pred_start.capacity() * 4
                + pred_source.capacity() * 4,
        );
        // Nodes in decreasing preorder: node `i`'s semidominator is the
        // smallest `best` that `eval` finds above its later predecessors.
        // It goes into `pred_start[i + 1]`, which nothing reads once `i`'s
        // list has been walked (the lists are walked downwards), so the
        // finished semidominators need no column of their own.
        for i in (1..count).rev() {
            if i >= leftover_start {
                // A leftover: its semidominator (and dominator) is the root.
                info[i].best = 0;
                pred_start[i + 1] = 0;
                continue;
            }
            let mut s = info[i].best;
            for k in (pred_start[i] as usize..pred_start[i + 1] as usize).rev() {
                // Four stages, walking down the lists (each list too, so
                // that `k - d` is always the predecessor `d` steps on): the
                // first four links `eval` reads (a predecessor's, then each
                // ancestor's in turn, where halving goes), each asked for
                // when the link naming it should be in cache.
                for (distance, steps) in EVAL_PREFETCH_STAGES {
                    if let Some(x) = pred_source
                        .get(k.wrapping_sub(distance))
                        .and_then(|&p| link_above(&info, p, steps))
                    {
                        prefetch(&info, x as usize);
                    }
                }
                s = s.min(eval(pred_source[k], i as u32 + 1, &mut info));
            }
            info[i].best = s;
            pred_start[i + 1] = s;
        }
        drop(pred_source);
        drop(info);
        let semi = |i: usize| pred_start[i + 1];
        for i in 1..count {
            let sd = semi(i);
            let mut candidate = idom[i];
            while candidate > sd {
                candidate = idom[candidate as usize];
            }
            idom[i] = candidate;
        }
        drop(pred_start);

        // Back to node space: the number → node column again, from `pre`;
        // `idom` turns into dominator nodes in number order (it is read in
        // order, and a dominator is numbered below, usually near, its
        // node), then `pre` becomes the node → dominator column.
        let mut vertex = vec![0u32; count];
        for (v, &j) in pre.iter().enumerate() {
            if let Some(slot) = vertex.get_mut(j as usize) {
                *slot = v as u32;
            }
        }
        for d in idom.iter_mut() {
            *d = vertex[*d as usize];
        }
        for (&v, &d) in vertex.iter().zip(&idom) {
            pre[v as usize] = d;
        }
        // Each node's children, grouped by dominator in preorder: the tree's
        // index for browsing and for the bottom-up sums, built while the
        // preorder is at hand so that the tree need not keep it.
        let (start, nodes) = heapgraph_core::csr::group_by_key(n, || {
            idom.iter().zip(&vertex).skip(1).map(|(&d, &v)| (d, v))
        });
        drop(vertex);
        drop(idom);
        DominatorTree {
            idom: pre,
            children: DominatedNodes { start, nodes },
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
        self.idom.capacity() * 4 + self.children.heap_bytes()
    }

    /// Retained sizes from shallow sizes, in one bottom-up sweep: in
    /// reverse breadth-first order, each node adds its total into its
    /// dominator once its subtree is done. Nodes outside the tree, and unreached nodes
    /// kept as retainers, get 0. Sums saturate at `u64::MAX`.
    pub fn retained_sizes(&self, shallow: &Sizes) -> Sizes {
        let mut retained = SizeSums::zeroed(self.idom.len());
        for (v, &d) in self.idom.iter().enumerate() {
            if d != NONE {
                retained.set(v, shallow.get(v));
            }
        }
        if self.unreachable.rule == UnreachableNodes::KeepAsRetainers {
            for v in &self.unreachable.nodes {
                retained.set(v.index(), 0);
            }
        }
        // Each node after its dominator in breadth-first order, so walking
        // that order backwards finishes every subtree before its dominator
        // reads it. Unlike a depth-first walk, the nodes to come are known
        // ahead, so their dominators, their sums and their dominators' sums
        // can be asked for early.
        let order = self.children.breadth_first_order();
        for j in (1..order.len()).rev() {
            if let Some(&ahead) = order.get(j.wrapping_sub(2 * PREFETCH_DISTANCE)) {
                prefetch(&self.idom, ahead as usize);
                prefetch(retained.narrow_entries(), ahead as usize);
            }
            if let Some(&ahead) = order.get(j.wrapping_sub(PREFETCH_DISTANCE)) {
                if let Some(&d) = self.idom.get(ahead as usize) {
                    prefetch(retained.narrow_entries(), d as usize);
                }
            }
            let v = order[j] as usize;
            retained.add(self.idom[v] as usize, retained.get(v));
        }
        retained.finish()
    }

    /// The children of every node in the tree, for browsing it.
    pub fn children(&self) -> &DominatedNodes {
        &self.children
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
    /// Walks the tree below `root` depth first, calling `visit(node, true)`
    /// on each node before its children and `visit(node, false)` after
    /// them. The stack holds one entry per level (a node and how far
    /// through its children the walk is), not every pending sibling, so
    /// wide trees cost nothing extra.
    pub fn walk(&self, root: NodeIndex, mut visit: impl FnMut(NodeIndex, bool)) {
        let Some(&first) = self.start.get(root.index()) else {
            return;
        };
        visit(root, true);
        let mut stack: Vec<(NodeIndex, u32)> = vec![(root, first)];
        while let Some(top) = stack.last_mut() {
            let (node, cursor) = *top;
            let end = self.start.get(node.index() + 1).copied().unwrap_or(cursor);
            if cursor < end {
                top.1 += 1;
                let child = NodeIndex::new(self.nodes[cursor as usize]);
                visit(child, true);
                let child_start = self.start.get(child.index()).copied().unwrap_or(0);
                stack.push((child, child_start));
            } else {
                stack.pop();
                visit(node, false);
            }
        }
    }

    /// Heap bytes the index holds.
    pub fn heap_bytes(&self) -> usize {
        self.start.capacity() * 4 + self.nodes.capacity() * 4
    }

    /// The tree's nodes in breadth-first order from the root (node 0), each
    /// node's children in preorder. The queue is the order itself, so the
    /// nodes whose children come next are known ahead and their offsets and
    /// children are asked for before they are read.
    fn breadth_first_order(&self) -> Vec<u32> {
        if self.start.len() < 2 {
            return Vec::new();
        }
        let mut order: Vec<u32> = Vec::with_capacity(self.nodes.len() + 1);
        order.push(0);
        let mut i = 0;
        while let Some(&v) = order.get(i) {
            if let Some(&ahead) = order.get(i + 2 * PREFETCH_DISTANCE) {
                prefetch(&self.start, ahead as usize);
            }
            if let Some(&ahead) = order.get(i + PREFETCH_DISTANCE) {
                if let Some(&first) = self.start.get(ahead as usize) {
                    prefetch(&self.nodes, first as usize);
                }
            }
            let v = v as usize;
            if let (Some(&a), Some(&b)) = (self.start.get(v), self.start.get(v + 1)) {
                order.extend_from_slice(self.nodes.get(a as usize..b as usize).unwrap_or(&[]));
            }
            i += 1;
        }
        order
    }

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
    /// Preorder number → Semi-NCA's link: the parent's preorder number, as
    /// the ancestor and as the first `best`. Pushed here rather than
    /// converted from a parent column later, when the search's edge column
    /// is still there.
    info: Vec<Link>,
    /// The nodes numbered so far.
    numbered: u32,
    /// The path from the search's start to the current node. Only nodes on
    /// the path need to know how far through their edges the search is, so
    /// that lives here rather than in a column per node.
    path: Vec<PathStep>,
}

/// A node on the search's path: how far through its edges the search is.
/// Its number is not kept: the top's is at hand, and each node below it is
/// the parent of the one above (8 bytes per step, so a path as long as the
/// graph, a linked list of millions, costs what the per-node columns it
/// replaces did).
#[derive(Clone, Copy)]
struct PathStep {
    /// The next of its edges to look at.
    cursor: u32,
    /// The end of its edges.
    end: u32,
}

impl Search {
    fn new(n: usize) -> Self {
        Search {
            pre: vec![NONE; n],
            info: Vec::with_capacity(n),
            numbered: 0,
            path: Vec::new(),
        }
    }

    /// Gives `node` the next number, as a child of number `parent`.
    fn number(&mut self, node: u32, parent: u32) -> u32 {
        let k = self.numbered;
        self.pre[node as usize] = k;
        self.info.push(Link {
            ancestor: parent,
            best: parent,
        });
        self.numbered += 1;
        k
    }

    /// Searches from `start`, which becomes a child of number `parent`.
    fn run(&mut self, start: u32, parent: u32, walk: &mut SearchEdges<'_>) {
        // The number of the node on top of the path.
        let mut current = self.number(start, parent);
        let cursor = walk.starts[start as usize];
        walk.prefetch_targets(&self.pre, cursor, start);
        self.path.clear();
        self.path.push(PathStep {
            cursor,
            end: walk.starts[start as usize + 1],
        });
        while let Some(step) = self.path.last_mut() {
            let mut e = step.cursor;
            let mut next = NONE;
            let mut next_cursor = 0;
            while e < step.end {
                let edge = e as usize;
                e += 1;
                let target_first = walk.target_starts[edge];
                if target_first == NONE {
                    continue; // not followed
                }
                let w = walk.targets[edge].as_u32();
                let number = self.pre[w as usize];
                if number == NONE {
                    // The tree edge: `w`'s parent is known without it.
                    walk.target_starts[edge] = NONE;
                    next = w;
                    next_cursor = target_first;
                    break;
                }
                walk.target_starts[edge] = number;
            }
            step.cursor = e;
            if next == NONE {
                self.path.pop();
                current = self.info[current as usize].ancestor;
                continue;
            }
            current = self.number(next, current);
            let end = walk.prefetch_targets(&self.pre, next_cursor, next);
            self.path.push(PathStep {
                cursor: next_cursor,
                end,
            });
        }
    }

    /// Heap bytes this holds.
    fn heap_bytes(&self) -> usize {
        4 * self.pre.capacity()
            + self.info.capacity() * std::mem::size_of::<Link>()
            + self.path.capacity() * std::mem::size_of::<PathStep>()
    }
}

/// The graph's edges as the depth-first search reads them: beside each
/// edge's target, the target's first edge. Reaching a node through an edge
/// then tells where its edges are at once, so that looking at a node's
/// targets can ask for their edges too (and not only for their numbers):
/// the search waits for one memory access per node instead of two.
struct SearchEdges<'a> {
    starts: &'a [u32],
    targets: &'a [NodeIndex],
    /// Per edge: `starts[target]`, or `NONE` (never an edge offset: a graph
    /// has at most `u32::MAX - 1` edges) for an edge not in the edge set.
    /// The search then learns whether to follow an edge from the line it
    /// reads anyway, instead of from the edge set's word for it, which for
    /// each node it reaches was a cache miss of its own. Once the search has
    /// looked at an edge, its entry holds the target's preorder number
    /// instead (`NONE` for a tree edge), which is what
    /// [`count_predecessors`] reads.
    target_starts: Vec<u32>,
}

impl<'a> SearchEdges<'a> {
    fn new(graph: &'a HeapGraph, edges: &EdgeSet) -> Self {
        let starts = graph.edge_starts();
        let targets = graph.edge_targets();
        let target_starts = (0..targets.len())
            .map(|e| {
                if let Some(ahead) = targets.get(e + GATHER_PREFETCH_DISTANCE) {
                    prefetch(starts, ahead.index());
                }
                if edges.contains(e as u32) {
                    starts.get(targets[e].index()).copied().unwrap_or(0)
                } else {
                    NONE
                }
            })
            .collect();
        SearchEdges {
            starts,
            targets,
            target_starts,
        }
    }

    /// Heap bytes this holds.
    fn heap_bytes(&self) -> usize {
        self.target_starts.capacity() * 4
    }

    /// Asks for the memory that looking at `node`'s targets will read (their
    /// numbers, their edges and where those end) all at once, instead of one
    /// miss at a time as the search reaches each. `first_edge` is `node`'s;
    /// returns the end of `node`'s edges.
    fn prefetch_targets(&self, pre: &[u32], first_edge: u32, node: u32) -> u32 {
        let end = self.starts.get(node as usize + 1).copied().unwrap_or(0);
        for e in first_edge as usize..end as usize {
            let (Some(target), Some(&target_first)) =
                (self.targets.get(e), self.target_starts.get(e))
            else {
                break;
            };
            if target_first == NONE {
                continue;
            }
            prefetch(pre, target.index());
            prefetch(self.starts, target.index() + 1);
            prefetch(self.targets, target_first as usize);
            prefetch(&self.target_starts, target_first as usize);
        }
        end
    }
}

/// The nodes not reachable over `edges` from the root and `extra_roots`,
/// ascending.
fn unreached_over(graph: &HeapGraph, edges: &EdgeSet, extra_roots: &[NodeIndex]) -> Vec<NodeIndex> {
    let n = graph.node_count();
    let mut seen = EdgeSet::none(n);
    let mut stack: Vec<u32> = Vec::new();
    let targets = graph.edge_targets();
    for start in std::iter::once(NodeIndex::new(0)).chain(extra_roots.iter().copied()) {
        if start.index() < n && !seen.contains(start.as_u32()) {
            seen.insert(start.as_u32());
            stack.push(start.as_u32());
        }
        while let Some(v) = stack.pop() {
            for e in graph.edge_range(NodeIndex::new(v)) {
                let t = targets[e as usize].as_u32();
                if edges.contains(e) && !seen.contains(t) {
                    seen.insert(t);
                    stack.push(t);
                }
            }
        }
    }
    (0..n as u32)
        .filter(|&v| !seen.contains(v))
        .map(NodeIndex::new)
        .collect()
}

/// The unreached nodes (`pre` = `NONE`) that have a counted edge coming in
/// from another node. Only unreached nodes can point to unreached nodes.
fn unreached_with_retainers(graph: &HeapGraph, edges: &EdgeSet, pre: &[u32]) -> EdgeSet {
    let mut retained = EdgeSet::none(graph.node_count());
    let targets = graph.edge_targets();
    for v in graph.nodes() {
        if pre[v.index()] != NONE {
            continue;
        }
        for e in graph.edge_range(v) {
            let t = targets[e as usize];
            if t != v && edges.contains(e) {
                retained.insert(t.as_u32());
            }
        }
    }
    retained
}

/// The first pass of the predecessor lists, over the numbers the search
/// left in its edge column (read in order, so the only random accesses are
/// the counts and `best`s they index): each predecessor numbered below its
/// target (other than the parent, whose tree edge the search left out)
/// lowers the target's `best`; each one numbered above is counted and kept
/// for the second pass, its edge marked and its target's number moved to
/// the front of the column, which is then cut to those. Returns where each
/// list starts (`count + 1` entries, the last one the total). Edges from or
/// into leftovers (numbered `limit` and above) are skipped (DevTools ignores
/// them).
///
/// The counts are bytes while the column is whole (a count that reaches 255
/// goes on in a side table), so that this pass holds 1 byte per node for
/// them instead of the offsets' 4.
fn count_predecessors(
    graph: &HeapGraph,
    pre: &[u32],
    mut numbers: Vec<u32>,
    limit: u32,
    info: &mut [Link],
) -> (Vec<u32>, LaterPredecessors) {
    let count = info.len();
    let mut counts = vec![0u8; count];
    let mut overflow: HashMap<u32, u32> = HashMap::new();
    // The target whose count last went past 255, and how many more it has
    // had since.
    let mut hot = (NONE, 0u32);
    let mut marked = EdgeSet::none(numbers.len());
    let mut kept = 0;
    for v in graph.nodes() {
        let js = pre[v.index()];
        if js >= limit {
            continue;
        }
        for e in graph.edge_range(v) {
            let e = e as usize;
            if let Some(&ahead) = numbers.get(e + EDGE_PREFETCH_DISTANCE) {
                prefetch(info, ahead as usize);
                prefetch(&counts, ahead as usize);
            }
            // Every edge of a searched node holds its target's number, or
            // `NONE` for a tree edge or one not followed (`NONE` is above
            // every `limit`).
            let jt = numbers[e];
            if jt >= limit || jt == js {
                continue;
            }
            if js < jt {
                let best = &mut info[jt as usize].best;
                *best = (*best).min(js);
            } else {
                let c = &mut counts[jt as usize];
                if *c < u8::MAX {
                    *c += 1;
                } else if jt == hot.0 {
                    hot.1 += 1;
                } else {
                    // Many predecessors usually come in a row (a class's
                    // instances), so the side table is asked once per run.
                    if hot.1 > 0 {
                        *overflow.entry(hot.0).or_insert(0) += hot.1;
                    }
                    hot = (jt, 1);
                }
                marked.insert(e as u32);
                numbers[kept] = jt;
                kept += 1;
            }
        }
    }
    if hot.1 > 0 {
        *overflow.entry(hot.0).or_insert(0) += hot.1;
    }
    numbers.truncate(kept);
    numbers.shrink_to_fit();
    let mut start = Vec::with_capacity(count + 1);
    let mut total = 0u32;
    start.push(0);
    for (t, &c) in counts.iter().enumerate() {
        total += u32::from(c);
        if c == u8::MAX {
            total += overflow.get(&(t as u32)).copied().unwrap_or(0);
        }
        start.push(total);
    }
    (
        start,
        LaterPredecessors {
            marked,
            targets: numbers,
        },
    )
}

/// The predecessors numbered above their targets, as the first pass found
/// them: their edges marked, their targets' numbers in edge order.
struct LaterPredecessors {
    marked: EdgeSet,
    targets: Vec<u32>,
}

impl LaterPredecessors {
    fn heap_bytes(&self) -> usize {
        self.marked.heap_bytes() + self.targets.capacity() * 4
    }

    /// The second pass: the predecessor lists (CSR in preorder-number
    /// space; `start` as [`count_predecessors`] left it, each list's start
    /// again on return), each list in edge order.
    fn fill(self, graph: &HeapGraph, pre: &[u32], limit: u32, start: &mut [u32]) -> Vec<u32> {
        let count = start.len() - 1;
        let targets = self.targets;
        let mut source = vec![0u32; targets.len()];
        let mut next = 0;
        for v in graph.nodes() {
            let js = pre[v.index()];
            if js >= limit {
                continue;
            }
            for e in graph.edge_range(v) {
                if !self.marked.contains(e) {
                    continue;
                }
                if let Some(&ahead) = targets.get(next + 2 * PREFETCH_DISTANCE) {
                    prefetch(start, ahead as usize);
                }
                if let Some(&ahead) = targets.get(next + PREFETCH_DISTANCE) {
                    if let Some(&slot) = start.get(ahead as usize) {
                        prefetch(&source, slot as usize);
                    }
                }
                let jt = targets[next];
                next += 1;
                let slot = &mut start[jt as usize];
                source[*slot as usize] = js;
                *slot += 1;
            }
        }
        // Each start[t] now holds the end of t's list; shift back.
        for t in (1..=count).rev() {
            start[t] = start[t - 1];
        }
        start[0] = 0;
        source
    }
}

/// How far ahead (in edges or predecessors) the loops ask for memory they
/// will read at random: far enough to cover a DRAM access, near enough that
/// the lines are still in L1 when used.
const PREFETCH_DISTANCE: usize = 16;

/// How far ahead a loop that only gathers (one random read per step, no
/// other work) asks for memory: its steps are so short that
/// `PREFETCH_DISTANCE` of them do not cover a DRAM access. Building the
/// search's edge column with 64 instead of 16 took it from 0.18–0.5 s to
/// 0.15 s on the random 10^7-node graph, 0.12 to 0.074 s on the local one.
const GATHER_PREFETCH_DISTANCE: usize = 64;

/// How far ahead the counting pass over the search's edge column asks for
/// the count and the `best` a target's number indexes. (When the passes
/// still looked each target's number up, asking for it 64 edges ahead and
/// for what it indexes 32 ahead, rather than 32 and 16, took them from
/// 0.81–0.82 s to 0.67 s on the local 10^7-node graph.)
const EDGE_PREFETCH_DISTANCE: usize = 32;

/// Hints the CPU to bring `slice[index]` into cache; out of range does
/// nothing.
#[inline(always)]
fn prefetch<T>(slice: &[T], index: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(item) = slice.get(index) {
        // SAFETY: `_mm_prefetch` is unsafe only because it is a
        // `#[target_feature(enable = "sse")]` function, and SSE is part of
        // the x86_64 baseline, so the instruction exists on every CPU this
        // code runs on. A prefetch is a hint with no architectural effect: it
        // never faults, and the program cannot observe it reading or writing
        // memory; the pointer comes from a live reference anyway.
        #[allow(unsafe_code)]
        unsafe {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(item).cast::<i8>());
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (slice, index);
}

/// Semi-NCA's per-node state, indexed by preorder number: 8 bytes, so
/// that eight share a cache line.
#[derive(Clone, Copy)]
struct Link {
    /// The ancestor in the path-compressed forest (starts as the parent).
    ancestor: u32,
    /// Before the node is processed, the smallest predecessor numbered below
    /// it; after, the smallest semidominator on its compressed path (its own
    /// at first). Keeping the value rather than the node that has it (the
    /// textbook's `label`) saves `eval` a second random read per step.
    best: u32,
}

/// The semidominator loop's prefetch stages: how many predecessors ahead,
/// and how many links up from that predecessor the node asked for is.
const EVAL_PREFETCH_STAGES: [(usize, usize); 4] = [
    (3 * PREFETCH_DISTANCE, 0),
    (2 * PREFETCH_DISTANCE, 1),
    (PREFETCH_DISTANCE, 2),
    (PREFETCH_DISTANCE / 2, 3),
];

/// The node `steps` links above `node` in the forest as it stands now
/// (`None` where a link leads out of `info`).
#[inline(always)]
fn link_above(info: &[Link], node: u32, steps: usize) -> Option<u32> {
    let mut x = node;
    for _ in 0..steps {
        x = info.get(x as usize)?.ancestor;
    }
    Some(x)
}

/// Semi-NCA's `eval`: the smallest semidominator on the path from `v` up
/// to (excluding) the first ancestor numbered below `last_linked`. Every
/// node on the path has been processed, so its `best` is final up to
/// compression.
///
/// The path is compressed by halving, in the one walk up: each node visited
/// skips its ancestor (and takes in its `best`), and the walk goes on from
/// the ancestor's ancestor. A node's link then still covers exactly the
/// path it skips, and the walk reads each link once, with no stack and no
/// second walk down.
fn eval(v: u32, last_linked: u32, info: &mut [Link]) -> u32 {
    let mut x = v;
    let mut smallest = u32::MAX;
    loop {
        let link = info[x as usize];
        if link.ancestor < last_linked {
            return smallest.min(link.best);
        }
        let above = info[link.ancestor as usize];
        let best = link.best.min(above.best);
        info[x as usize] = Link {
            ancestor: above.ancestor,
            best,
        };
        smallest = smallest.min(best);
        if above.ancestor < last_linked {
            return smallest;
        }
        x = above.ancestor;
    }
}
