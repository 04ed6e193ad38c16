//! `filter_traces()`: [`Filter`], [`DomainFilter`] and their compiled forms.

use hashbrown::HashMap;
use heapgraph_core::{FrameId, StackId, StackTable, StringId, StringTable};

use super::allocations::Items;
use super::fnmatch::{code_points, Pattern};
use super::Allocations;

/// `tracemalloc.Filter`: keeps or drops traces by filename pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    /// Keep matching traces (`true`) or drop them (`false`).
    pub inclusive: bool,
    /// An fnmatch pattern (see the module docs); `.pyc` is read as `.py`.
    pub filename_pattern: String,
    /// Only this line, if set.
    pub lineno: Option<u32>,
    /// Test every frame instead of only the most recent one.
    pub all_frames: bool,
    /// Only this domain, if set.
    pub domain: Option<u32>,
    /// Normalise names like Windows' `os.path.normcase` (lower case, `/` →
    /// `\`); `false` is POSIX, where `normcase` does nothing.
    pub windows_paths: bool,
}

impl Filter {
    /// `Filter(inclusive, filename_pattern)` with the other fields unset.
    pub fn new(inclusive: bool, filename_pattern: impl Into<String>) -> Self {
        Filter {
            inclusive,
            filename_pattern: filename_pattern.into(),
            lineno: None,
            all_frames: false,
            domain: None,
            windows_paths: false,
        }
    }
}

/// `tracemalloc.DomainFilter`: keeps or drops traces of one domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DomainFilter {
    /// Keep (`true`) or drop (`false`) the domain's traces.
    pub inclusive: bool,
    /// The domain.
    pub domain: u32,
}

/// Either kind of filter, as `filter_traces` takes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceFilter {
    /// A filename filter.
    Filter(Filter),
    /// A domain filter.
    Domain(DomainFilter),
}

impl From<Filter> for TraceFilter {
    fn from(f: Filter) -> Self {
        TraceFilter::Filter(f)
    }
}

impl From<DomainFilter> for TraceFilter {
    fn from(f: DomainFilter) -> Self {
        TraceFilter::Domain(f)
    }
}

impl<'g> Allocations<'g> {
    /// `Snapshot.filter_traces(filters)`: keeps an allocation if no inclusive
    /// filter exists or any matches, and every exclusive filter matches.
    pub fn filter_traces(&self, filters: &[TraceFilter]) -> Allocations<'g> {
        if filters.is_empty() {
            return self.clone();
        }
        let mut compiled: Vec<CompiledFilter> = filters
            .iter()
            .map(|f| CompiledFilter::new(f, self.stacks))
            .collect();
        let (include, exclude): (Vec<usize>, Vec<usize>) =
            (0..compiled.len()).partition(|&i| compiled[i].inclusive());
        let (strings, stacks) = (self.strings, self.stacks);
        let mut keep = |stack: Option<StackId>, domain: u32| {
            let mut keep = true;
            if !include.is_empty() {
                keep = include
                    .iter()
                    .any(|&f| compiled[f].matches(strings, stacks, stack, domain));
            }
            if keep && !exclude.is_empty() {
                keep = exclude
                    .iter()
                    .all(|&f| compiled[f].matches(strings, stacks, stack, domain));
            }
            keep
        };
        let items = match &self.items {
            Items::Nodes { nodes, .. } => {
                let mut kept_nodes = Vec::new();
                let mut domains = Vec::new();
                let mut i = 0;
                self.visit(|stack, _, domain| {
                    if keep(stack, domain) {
                        if let Some(&node) = nodes.get(i) {
                            kept_nodes.push(node);
                            domains.push(domain);
                        }
                    }
                    i += 1;
                });
                let any_domain = domains.iter().any(|&d| d != 0);
                Items::Nodes {
                    nodes: kept_nodes,
                    domains: any_domain.then_some(domains),
                }
            }
            Items::Columns { columns, rows } => {
                let mut kept = Vec::new();
                match rows {
                    Some(rows) => {
                        for &row in rows {
                            let r = row as usize;
                            if keep(columns.stack(r), columns.domain(r)) {
                                kept.push(row);
                            }
                        }
                    }
                    None => {
                        for r in 0..columns.len() {
                            if keep(columns.stack(r), columns.domain(r)) {
                                kept.push(r as u32);
                            }
                        }
                    }
                }
                Items::Columns {
                    columns: *columns,
                    rows: Some(kept),
                }
            }
        };
        Allocations {
            strings: self.strings,
            stacks: self.stacks,
            graph: self.graph,
            items,
        }
    }
}

/// A filter with its pattern compiled and per-file / per-stack caches.
enum CompiledFilter {
    Filename {
        filter: Filter,
        pattern: Pattern,
        /// Per file string id: 0 unknown, 1 no match, 2 match.
        file_cache: HashMap<StringId, bool>,
        /// Per stack (all_frames): 0 unknown, 1 no hit, 2 some frame hits.
        stack_cache: Vec<u8>,
        scratch: Vec<u32>,
    },
    Domain(DomainFilter),
}

impl CompiledFilter {
    fn new(filter: &TraceFilter, stacks: &StackTable) -> Self {
        match filter {
            TraceFilter::Domain(d) => CompiledFilter::Domain(*d),
            TraceFilter::Filter(f) => {
                let mut cps = Vec::new();
                code_points(f.filename_pattern.as_bytes(), &mut cps);
                let normalized = normalize_filename(&cps, f.windows_paths);
                CompiledFilter::Filename {
                    filter: f.clone(),
                    pattern: Pattern::new(&normalized),
                    file_cache: HashMap::new(),
                    stack_cache: if f.all_frames {
                        vec![0; stacks.stack_count()]
                    } else {
                        Vec::new()
                    },
                    scratch: Vec::new(),
                }
            }
        }
    }

    fn inclusive(&self) -> bool {
        match self {
            CompiledFilter::Filename { filter, .. } => filter.inclusive,
            CompiledFilter::Domain(d) => d.inclusive,
        }
    }

    /// `filter._match(trace)`.
    fn matches(
        &mut self,
        strings: &StringTable,
        stacks: &StackTable,
        stack: Option<StackId>,
        domain: u32,
    ) -> bool {
        match self {
            // (domain == d) XOR not inclusive
            CompiledFilter::Domain(d) => (domain == d.domain) == d.inclusive,
            CompiledFilter::Filename {
                filter,
                pattern,
                file_cache,
                stack_cache,
                scratch,
            } => {
                let mut frame_hit = |frame: FrameId| -> bool {
                    let fr = stacks.frame(frame);
                    let file_ok = *file_cache.entry(fr.file).or_insert_with(|| {
                        code_points(strings.bytes(fr.file), scratch);
                        let name = normalize_filename(scratch, filter.windows_paths);
                        pattern.matches(&name)
                    });
                    file_ok && filter.lineno.is_none_or(|l| l == fr.line)
                };
                let res = if filter.all_frames {
                    let any = match stack {
                        None => false,
                        Some(s) => any_frame_hits(s, stacks, stack_cache, &mut frame_hit),
                    };
                    if any {
                        filter.inclusive
                    } else {
                        !filter.inclusive
                    }
                } else {
                    let hit = match stack {
                        Some(s) => frame_hit(stacks.innermost_frame(s)),
                        None => false,
                    };
                    // hit XOR not inclusive
                    hit == filter.inclusive
                };
                match filter.domain {
                    None => res,
                    Some(d) if filter.inclusive => res && domain == d,
                    Some(d) => res || domain != d,
                }
            }
        }
    }
}

/// Whether any frame of `stack` hits, memoized per trie node.
fn any_frame_hits(
    stack: StackId,
    stacks: &heapgraph_core::StackTable,
    cache: &mut [u8],
    frame_hit: &mut impl FnMut(FrameId) -> bool,
) -> bool {
    // Walk up to the first cached ancestor, then fill the path downwards.
    let mut path = Vec::new();
    let mut current = Some(stack);
    let mut known = false;
    while let Some(s) = current {
        match cache.get(s.index()).copied() {
            Some(1) => break,
            Some(2) => {
                known = true;
                break;
            }
            _ => {
                path.push(s);
                current = stacks.parent(s);
            }
        }
    }
    for &s in path.iter().rev() {
        known = known || frame_hit(stacks.innermost_frame(s));
        if let Some(slot) = cache.get_mut(s.index()) {
            *slot = if known { 2 } else { 1 };
        }
    }
    known
}

/// `tracemalloc._normalize_filename`: `os.path.normcase`, then `.pyc` → `.py`.
fn normalize_filename(name: &[u32], windows: bool) -> Vec<u32> {
    let mut out: Vec<u32> = if windows {
        name.iter()
            .flat_map(|&c| {
                let ch = char::from_u32(c);
                match ch {
                    Some('/') => vec![u32::from('\\')],
                    Some(ch) => ch.to_lowercase().map(u32::from).collect(),
                    None => vec![c],
                }
            })
            .collect()
    } else {
        name.to_vec()
    };
    let pyc: Vec<u32> = ".pyc".chars().map(u32::from).collect();
    if out.ends_with(&pyc) {
        out.pop();
    }
    out
}
