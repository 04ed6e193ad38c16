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
//! Memory: the search keeps dense `u32` columns only. The depth-first
//! search holds 16 bytes per node (node → preorder number, preorder →
//! node, parent, edge cursor). Then the preorder → node column is freed
//! (it is rebuilt from the other at the end) and the semidominator phase
//! holds 20 bytes per node (node → number, parent, an 8-byte link of
//! ancestor and smallest semidominator, predecessor offsets, which also
//! receive the finished semidominators) plus 4 bytes per counted edge that
//! points to a node numbered lower than its source (predecessors numbered
//! lower are folded into the initial semidominator), plus one bit per edge
//! for the edge set. At the end the preorder → node column comes back for
//! as long as it takes to group every node's children by dominator; the
//! finished tree keeps 12 bytes per node (the dominator column and that
//! children index, from which retained sizes are summed bottom-up); retained
//! sizes add 4 more, also while they are summed.
//!
//! Time: on a synthetic 10^7-node / 3·10^7-edge graph with random edges
//! (`benches/dominators.rs`) 7–12 s of CPU on the development VM depending
//! on the host's load (its dependent DRAM access costs 255 ns; 17.8 s
//! before the prefetching below): about 4 s for the search, 1.5 s for the
//! predecessor lists, 2–3 s for the semidominators.
//! The search is a chain of cache misses (a node's edge offsets, then its
//! targets, then their numbers); the loops that follow are not, and ask for
//! the memory they will read `PREFETCH_DISTANCE` steps ahead, so that many
//! misses are in flight at once.
//!
//! Unreachable nodes follow [`UnreachableNodes`]: Chrome DevTools' rule
//! (orphans start their own search under the root, leftover cycles become
//! children of the root), MAT's (no dominator) or NetBeans' (no retained
//! size, but still retainers of what they reference). Whatever the rule,
//! they are listed in [`DominatorTree::unreachable`].

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
        DominatorTree::compute_with_roots(graph, edges, unreachable, &[], None)
    }

    /// As [`compute`](Self::compute), with `extra_roots` held directly by
    /// the root as well (as if the root had an edge to each). Under
    /// [`UnreachableNodes::KeepAsRetainers`], `reach_edges` (when given)
    /// decides which nodes count as reachable, instead of `edges`: NetBeans
    /// decides liveness without `Finalizer.referent` but counts it as a
    /// retainer.
    pub fn compute_with_roots(
        graph: &HeapGraph,
        edges: &EdgeSet,
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
        let starts = graph.edge_starts();
        let targets = graph.edge_targets();

        // Iterative depth-first search in edge order.
        let mut search = Search {
            pre: vec![NONE; n],
            vertex: Vec::with_capacity(n),
            parent: Vec::with_capacity(n),
            cursor: Vec::with_capacity(n),
        };
        search.run(0, 0, starts, targets, edges);
        for &x in extra_roots {
            if x.index() < n && search.pre[x.index()] == NONE {
                search.run(x.as_u32(), 0, starts, targets, edges);
            }
        }
        let reached_from_root = search.vertex.len();
        let mut report = UnreachableReport::new(unreachable);
        let mut leftover_start = usize::MAX;
        if reached_from_root < n {
            report.nodes = (0..n as u32)
                .filter(|&v| search.pre[v as usize] == NONE)
                .map(NodeIndex::new)
                .collect();
            if unreachable == UnreachableNodes::AttachToRoot {
                let retained = unreached_with_retainers(graph, edges, &search.pre);
                for v in 0..n {
                    if search.pre[v] == NONE && !retained.contains(v as u32) {
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
            } else if unreachable == UnreachableNodes::KeepAsRetainers {
                for v in 0..n {
                    if search.pre[v] == NONE {
                        report.search_starts.push(NodeIndex::new(v as u32));
                        search.run(v as u32, 0, starts, targets, edges);
                    }
                }
            }
        }
        if unreachable == UnreachableNodes::KeepAsRetainers {
            if let Some(reach) = reach_edges {
                report.nodes = unreached_over(graph, reach, extra_roots);
            }
        }
        let Search {
            mut pre,
            vertex,
            parent,
            cursor,
        } = search;
        let count = vertex.len();
        // The number → node column is not needed again until the end, where
        // `pre` gives it back: freeing it now takes 4 bytes per node off the
        // peak below.
        drop(vertex);

        // Semi-NCA, in preorder-number space. Before a node is processed its
        // `best` holds the smallest predecessor numbered below it (its
        // parent at worst): such predecessors are semidominator candidates
        // as they are, so only predecessors numbered above a node go into
        // its list.
        let mut info: Vec<Link> = parent
            .iter()
            .map(|&p| Link {
                ancestor: p,
                best: p,
            })
            .collect();
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
        let mut idom = parent;
        let (mut pred_start, pred_source) =
            later_predecessors(graph, edges, &pre, leftover_start, &mut info, cursor);
        let peak_scratch_bytes = pre.capacity() * 4
            + info.capacity() * std::mem::size_of::<Link>()
            + idom.capacity() * 4
            + pred_start.capacity() * 4
            + pred_source.capacity() * 4
            + edges.heap_bytes();
        // Nodes in decreasing preorder: node `i`'s semidominator is the
        // smallest `best` that `eval` finds above its later predecessors.
        // It goes into `pred_start[i + 1]`, which nothing reads once `i`'s
        // list has been walked (the lists are walked downwards), so the
        // finished semidominators need no column of their own.
        let mut stack: Vec<u32> = Vec::new();
        for i in (1..count).rev() {
            if i >= leftover_start {
                // A leftover: its semidominator (and dominator) is the root.
                info[i].best = 0;
                pred_start[i + 1] = 0;
                continue;
            }
            let mut s = info[i].best;
            for k in pred_start[i] as usize..pred_start[i + 1] as usize {
                // Two stages, walking down the lists: a predecessor's link
                // first, then the ancestor it names once the link has had
                // time to arrive.
                if let Some(&ahead) = pred_source.get(k.wrapping_sub(2 * PREFETCH_DISTANCE)) {
                    prefetch(&info, ahead as usize);
                }
                if let Some(&ahead) = pred_source.get(k.wrapping_sub(PREFETCH_DISTANCE)) {
                    if let Some(link) = info.get(ahead as usize) {
                        prefetch(&info, link.ancestor as usize);
                    }
                }
                s = s.min(eval(pred_source[k], i as u32 + 1, &mut info, &mut stack));
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

        // Back to node space: the number → node column again, from `pre`,
        // then `pre` itself becomes the node → dominator column.
        let mut vertex = vec![0u32; count];
        for (v, &j) in pre.iter().enumerate() {
            if let Some(slot) = vertex.get_mut(j as usize) {
                *slot = v as u32;
            }
        }
        for slot in pre.iter_mut() {
            if *slot != NONE {
                *slot = vertex[idom[*slot as usize] as usize];
            }
        }
        drop(idom);
        // Each node's children, grouped by dominator in preorder: the tree's
        // index for browsing and for the bottom-up sums, built while the
        // preorder is at hand so that the tree need not keep it.
        let (start, nodes) = heapgraph_core::csr::group_by_key(n, || {
            vertex.iter().skip(1).map(|&v| (pre[v as usize], v))
        });
        drop(vertex);
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

    /// Retained sizes from shallow sizes, in one bottom-up sweep: walking
    /// the tree depth first, each node adds its total into its dominator
    /// once its subtree is done. Nodes outside the tree, and unreached nodes
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
        let root = NodeIndex::new(0);
        self.children.walk(root, |node, entering| {
            if !entering && node != root {
                let v = node.index();
                retained.add(self.idom[v] as usize, retained.get(v));
            }
        });
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
            let c = current as usize;
            let v = self.vertex[c] as usize;
            let end = starts[v + 1];
            let mut e = self.cursor[c];
            let mut next = NONE;
            while e < end {
                let edge = e;
                e += 1;
                if !edges.contains(edge) {
                    continue;
                }
                let w = targets[edge as usize].as_u32();
                if self.pre[w as usize] == NONE {
                    next = w;
                    break;
                }
            }
            self.cursor[c] = e;
            if next != NONE {
                current = self.number(next, current, starts[next as usize]);
                self.prefetch_targets(next, starts, targets);
            } else if current == first {
                break;
            } else {
                current = self.parent[c];
            }
        }
    }

    /// Asks for the memory that looking at `node`'s targets will read (their
    /// numbers and edge offsets) all at once, instead of one miss at a time
    /// as the search reaches each.
    fn prefetch_targets(&self, node: u32, starts: &[u32], targets: &[NodeIndex]) {
        let (Some(&a), Some(&b)) = (starts.get(node as usize), starts.get(node as usize + 1))
        else {
            return;
        };
        for target in targets.get(a as usize..b as usize).unwrap_or(&[]) {
            prefetch(&self.pre, target.index());
            prefetch(starts, target.index());
        }
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

/// Predecessor lists in preorder-number space (CSR), keeping only
/// predecessors numbered above their target. Predecessors numbered below
/// lower the target's initial `semi` instead. Edges from or into leftovers
/// are skipped (DevTools ignores them). `start` is a spare column of
/// `count` entries reused for the offsets.
fn later_predecessors(
    graph: &HeapGraph,
    edges: &EdgeSet,
    pre: &[u32],
    leftover_start: usize,
    info: &mut [Link],
    mut start: Vec<u32>,
) -> (Vec<u32>, Vec<u32>) {
    let count = info.len();
    let limit = leftover_start.min(count) as u32;
    let targets = graph.edge_targets();
    start.clear();
    start.resize(count + 1, 0);
    for v in graph.nodes() {
        let js = pre[v.index()];
        if js >= limit {
            continue;
        }
        for e in graph.edge_range(v) {
            ask_ahead(e as usize, targets, pre, |jt| {
                prefetch(info, jt);
                prefetch(&start, jt + 1);
            });
            if !edges.contains(e) {
                continue;
            }
            let jt = pre[targets[e as usize].index()];
            if jt >= limit || jt == js {
                continue;
            }
            if js < jt {
                let best = &mut info[jt as usize].best;
                *best = (*best).min(js);
            } else {
                start[jt as usize + 1] += 1;
            }
        }
    }
    for i in 0..count {
        start[i + 1] += start[i];
    }
    let mut source = vec![0u32; start[count] as usize];
    for v in graph.nodes() {
        let js = pre[v.index()];
        if js >= limit {
            continue;
        }
        for e in graph.edge_range(v) {
            ask_ahead(e as usize, targets, pre, |jt| prefetch(&start, jt));
            if !edges.contains(e) {
                continue;
            }
            let jt = pre[targets[e as usize].index()];
            if jt >= limit || jt >= js {
                continue;
            }
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
    (start, source)
}

/// How far ahead (in edges or predecessors) the loops ask for memory they
/// will read at random: far enough to cover a DRAM access, near enough that
/// the lines are still in L1 when used.
const PREFETCH_DISTANCE: usize = 16;

/// For a loop over edges in order: prefetches the preorder number of the
/// target `2 · PREFETCH_DISTANCE` edges ahead, and hands the number of the
/// target `PREFETCH_DISTANCE` ahead (prefetched earlier, so in cache by now)
/// to `then`, which prefetches what the loop will index with it.
#[inline(always)]
fn ask_ahead(e: usize, targets: &[NodeIndex], pre: &[u32], then: impl FnOnce(usize)) {
    if let Some(t) = targets.get(e + 2 * PREFETCH_DISTANCE) {
        prefetch(pre, t.index());
    }
    if let Some(t) = targets.get(e + PREFETCH_DISTANCE) {
        if let Some(&jt) = pre.get(t.index()) {
            if jt != NONE {
                then(jt as usize);
            }
        }
    }
}

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

/// Semi-NCA's `eval`: the smallest semidominator on the path from `v` up
/// to (excluding) the first ancestor numbered below `last_linked`,
/// compressing the path on the way. Every node on the path has been
/// processed, so its `best` is final up to compression.
fn eval(v: u32, last_linked: u32, info: &mut [Link], stack: &mut Vec<u32>) -> u32 {
    let first = info[v as usize];
    if first.ancestor < last_linked {
        return first.best;
    }
    stack.clear();
    let mut x = v;
    loop {
        stack.push(x);
        x = info[x as usize].ancestor;
        if info[x as usize].ancestor < last_linked {
            break;
        }
    }
    // Down from the top: each node's ancestor becomes the top's, and its
    // `best` the smallest of its own and those above it.
    let root_ancestor = info[x as usize].ancestor;
    let mut above = info[x as usize].best;
    while let Some(y) = stack.pop() {
        let link = &mut info[y as usize];
        link.ancestor = root_ancestor;
        if above < link.best {
            link.best = above;
        } else {
            above = link.best;
        }
    }
    info[v as usize].best
}
