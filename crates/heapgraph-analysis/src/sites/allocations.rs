//! [`Allocations`]: the set analysed, over graph nodes or a compact
//! allocation table, and its plain accessors.

use heapgraph_core::{HeapGraph, NodeIndex, NodeKind, StackId, StackTable, StringTable};

/// The allocations to analyse, each counted once: graph nodes with stacks,
/// or the rows of an [`AllocationColumns`] table.
#[derive(Clone, Debug)]
pub struct Allocations<'g> {
    pub(super) strings: &'g StringTable,
    pub(super) stacks: &'g StackTable,
    pub(super) graph: Option<&'g HeapGraph>,
    pub(super) items: Items<'g>,
}

#[derive(Clone, Debug)]
pub(super) enum Items<'g> {
    Nodes {
        nodes: Vec<NodeIndex>,
        domains: Option<Vec<u32>>,
    },
    Columns {
        columns: AllocationColumns<'g>,
        /// The kept rows (ascending), or `None` for all of them.
        rows: Option<Vec<u32>>,
    },
}

/// A parser's compact allocation table (tracemalloc's traces), one row per
/// allocation, borrowed as columns of equal length: what
/// [`Allocations::from_columns`] analyses without any graph.
#[derive(Clone, Copy, Debug)]
pub struct AllocationColumns<'a> {
    /// Per row: the [`StackId`] as `u32`, or `u32::MAX` for no stack.
    pub stacks: &'a [u32],
    /// Per row: the size in bytes, or `u32::MAX` when it is `u32::MAX` or
    /// more (then `large_sizes` holds it).
    pub sizes: &'a [u32],
    /// `(row, size)` for the rows whose size is marked `u32::MAX`,
    /// ascending by row.
    pub large_sizes: &'a [(u32, u64)],
    /// Per row: the domain; `None` when all are 0.
    pub domains: Option<&'a [u32]>,
}

impl AllocationColumns<'_> {
    /// The number of rows (the shorter of `stacks` and `sizes`).
    pub fn len(&self) -> usize {
        self.stacks.len().min(self.sizes.len())
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The stack of `row`.
    #[inline]
    pub(super) fn stack(&self, row: usize) -> Option<StackId> {
        match self.stacks.get(row) {
            Some(&s) if s != u32::MAX => Some(StackId::new(s)),
            _ => None,
        }
    }

    /// The size of `row`.
    #[inline]
    fn size(&self, row: usize) -> u64 {
        match self.sizes.get(row) {
            Some(&s) if s != u32::MAX => u64::from(s),
            Some(_) => match self
                .large_sizes
                .binary_search_by_key(&(row as u32), |&(r, _)| r)
            {
                Ok(at) => self
                    .large_sizes
                    .get(at)
                    .map_or(u64::from(u32::MAX), |&(_, size)| size),
                Err(_) => u64::from(u32::MAX),
            },
            None => 0,
        }
    }

    /// The domain of `row`.
    #[inline]
    pub(super) fn domain(&self, row: usize) -> u32 {
        self.domains.and_then(|d| d.get(row).copied()).unwrap_or(0)
    }
}

/// One allocation of an [`Allocations`] set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allocation {
    /// Its stack in the set's stack table, if any.
    pub stack: Option<StackId>,
    /// Its size in bytes.
    pub size: u64,
    /// Its domain (0 when none was attached).
    pub domain: u32,
}

impl<'g> Allocations<'g> {
    /// Every node that is an allocation block or has an allocation stack,
    /// in node order (for tracemalloc: the traces in dump order).
    pub fn new(graph: &'g HeapGraph) -> Self {
        let nodes = graph
            .nodes()
            .filter(|&n| {
                graph.kind(n) == NodeKind::AllocationBlock || graph.node_stack(n).is_some()
            })
            .collect();
        Self::from_nodes(graph, nodes)
    }

    /// The given nodes, in the given order.
    pub fn from_nodes(graph: &'g HeapGraph, nodes: Vec<NodeIndex>) -> Self {
        Allocations {
            strings: graph.strings(),
            stacks: graph.stacks(),
            graph: Some(graph),
            items: Items::Nodes {
                nodes,
                domains: None,
            },
        }
    }

    /// Every row of a compact allocation table whose stacks index `stacks`
    /// and whose frames' files index `strings` (tracemalloc's trace table):
    /// the same statistics as over the graph built from it, without the
    /// graph.
    pub fn from_columns(
        strings: &'g StringTable,
        stacks: &'g StackTable,
        columns: AllocationColumns<'g>,
    ) -> Self {
        Allocations {
            strings,
            stacks,
            graph: None,
            items: Items::Columns {
                columns,
                rows: None,
            },
        }
    }

    /// Attaches a domain to each node (tracemalloc: `snapshot.node_domain`).
    /// Sets built [`from_columns`](Self::from_columns) keep their own
    /// domains.
    pub fn with_domains(mut self, domain_of: impl Fn(NodeIndex) -> u32) -> Self {
        if let Items::Nodes { nodes, domains } = &mut self.items {
            let all: Vec<u32> = nodes.iter().map(|&n| domain_of(n)).collect();
            *domains = all.iter().any(|&d| d != 0).then_some(all);
        }
        self
    }

    /// The graph the allocations belong to; `None` for a set built
    /// [`from_columns`](Self::from_columns).
    pub fn graph(&self) -> Option<&'g HeapGraph> {
        self.graph
    }

    /// The string table the stacks' frames name their files in.
    pub fn strings(&self) -> &'g StringTable {
        self.strings
    }

    /// The stack table the allocations' stacks index.
    pub fn stacks(&self) -> &'g StackTable {
        self.stacks
    }

    /// The allocation nodes, in order; empty for a set built
    /// [`from_columns`](Self::from_columns) (see [`rows`](Self::rows)).
    pub fn nodes(&self) -> &[NodeIndex] {
        match &self.items {
            Items::Nodes { nodes, .. } => nodes,
            Items::Columns { .. } => &[],
        }
    }

    /// The table rows in the set, in order, for a set built
    /// [`from_columns`](Self::from_columns) (for tracemalloc: trace
    /// indices); `None` for a set of graph nodes.
    pub fn rows(&self) -> Option<Vec<u32>> {
        match &self.items {
            Items::Nodes { .. } => None,
            Items::Columns { columns, rows } => Some(match rows {
                Some(rows) => rows.clone(),
                None => (0..columns.len() as u32).collect(),
            }),
        }
    }

    /// The number of allocations.
    pub fn len(&self) -> usize {
        match &self.items {
            Items::Nodes { nodes, .. } => nodes.len(),
            Items::Columns {
                rows: Some(rows), ..
            } => rows.len(),
            Items::Columns {
                columns,
                rows: None,
            } => columns.len(),
        }
    }

    /// Whether there are no allocations.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The domain of the `i`-th allocation (0 when none was attached).
    pub fn domain(&self, i: usize) -> u32 {
        match &self.items {
            Items::Nodes { domains, .. } => domains
                .as_ref()
                .and_then(|d| d.get(i).copied())
                .unwrap_or(0),
            Items::Columns {
                columns,
                rows: Some(rows),
            } => rows.get(i).map_or(0, |&r| columns.domain(r as usize)),
            Items::Columns {
                columns,
                rows: None,
            } => columns.domain(i),
        }
    }

    /// The allocations, in order.
    pub fn iter(&self) -> impl Iterator<Item = Allocation> + '_ {
        let mut out = Vec::with_capacity(self.len());
        self.visit(|stack, size, domain| {
            out.push(Allocation {
                stack,
                size,
                domain,
            })
        });
        out.into_iter()
    }

    /// Calls `f(stack, size, domain)` for each allocation, in order.
    #[inline]
    pub(super) fn visit(&self, mut f: impl FnMut(Option<StackId>, u64, u32)) {
        match &self.items {
            Items::Nodes { nodes, domains } => {
                let graph = self.graph;
                for (i, &node) in nodes.iter().enumerate() {
                    let domain = domains
                        .as_ref()
                        .and_then(|d| d.get(i).copied())
                        .unwrap_or(0);
                    let (stack, size) = match graph {
                        Some(g) => (g.node_stack(node), g.self_size(node)),
                        None => (None, 0),
                    };
                    f(stack, size, domain);
                }
            }
            Items::Columns {
                columns,
                rows: Some(rows),
            } => {
                for &row in rows {
                    let row = row as usize;
                    f(columns.stack(row), columns.size(row), columns.domain(row));
                }
            }
            Items::Columns {
                columns,
                rows: None,
            } => {
                let n = columns.len();
                let stacks = columns.stacks.get(..n).unwrap_or_default();
                let sizes = columns.sizes.get(..n).unwrap_or_default();
                for (row, (&stack, &size)) in stacks.iter().zip(sizes).enumerate() {
                    let stack = (stack != u32::MAX).then(|| StackId::new(stack));
                    let size = if size == u32::MAX {
                        columns.size(row)
                    } else {
                        u64::from(size)
                    };
                    f(stack, size, columns.domain(row));
                }
            }
        }
    }

    /// The sum of the sizes. Here and in every statistic, sums saturate at
    /// `u64::MAX`: only a crafted dump can declare sizes that add up past
    /// 2^64 bytes (Python would print the exact integer).
    pub fn total_size(&self) -> u64 {
        let mut total = 0u64;
        self.visit(|_, size, _| total = total.saturating_add(size));
        total
    }
}
