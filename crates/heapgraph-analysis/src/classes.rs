//! Class names per format, and the class histogram.
//!
//! * **V8** follows Chrome DevTools' Summary view (`calculateObjectNames`):
//!   `hidden` → `(system)`, `code` → `(compiled code)`, `closure` →
//!   `Function`, `regexp` → `RegExp`, `object`/`native` → the node's name
//!   (`<div id="a">` → `<div>`), anything else → `(<V8 type>)` such as
//!   `(string)`, `(array)`, `(concatenated string)`. Plain `Object`s are then
//!   renamed after their properties (`{x, y}`) when at least 2 objects and
//!   one in a thousand plain objects share that shape
//!   (`inferInterfaceDefinitions` / `applyInterfaceDefinitions`).
//!   `Detached ` names need V8's `detachedness` column
//!   ([`ClassTable::for_graph_with_dom_state`]). Not reproduced: DevTools'
//!   split of one class into several rows by allocation location (the
//!   common graph carries no locations).
//! * **HPROF**: the class name; `java.lang.Class` for class objects, as MAT
//!   shows them, in one class with the instances of `java.lang.Class` that
//!   some dumps hold (HotSpot's primitive-type mirrors).
//! * **tracemalloc**: the allocation site (the node's name).
//!
//! The root and root-group nodes belong to no class, except in V8 snapshots,
//! where DevTools files them under `(synthetic)`.

use std::cmp::Ordering;

use hashbrown::HashMap;
use heapgraph_core::{
    DomState, EdgeKind, EdgeLabel, Format, HeapGraph, NodeIndex, NodeKind, Sizes,
};

/// A class in a [`ClassTable`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClassId(pub(crate) u32);

impl ClassId {
    /// The class's position in its table.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

const NO_CLASS: u32 = u32::MAX;

/// The class of every node.
#[derive(Clone, Debug)]
pub struct ClassTable {
    class_of: ClassColumn,
    names: Vec<String>,
}

/// Per node class ids: 2 bytes each while fewer than 65 535 classes exist
/// (every HPROF dump and nearly every snapshot), widened to 4 bytes when
/// the class that does not fit is added.
#[derive(Clone, Debug)]
enum ClassColumn {
    Narrow(Vec<u16>),
    Wide(Vec<u32>),
}

impl ClassColumn {
    /// `len` nodes without a class.
    fn new(len: usize) -> ClassColumn {
        ClassColumn::Narrow(vec![u16::MAX; len])
    }

    /// A 2-byte entry as a class id: `u16::MAX` is the narrow `NO_CLASS`.
    fn widen(narrow: u16) -> u32 {
        if narrow == u16::MAX {
            NO_CLASS
        } else {
            u32::from(narrow)
        }
    }

    #[inline]
    fn get(&self, index: usize) -> Option<u32> {
        let class = match self {
            ClassColumn::Narrow(column) => Self::widen(*column.get(index)?),
            ClassColumn::Wide(column) => *column.get(index)?,
        };
        (class != NO_CLASS).then_some(class)
    }

    /// Sets the class of node `index` (`NO_CLASS` for none).
    #[inline]
    fn set(&mut self, index: usize, class: u32) {
        if let ClassColumn::Narrow(column) = self {
            let narrow = if class == NO_CLASS {
                Some(u16::MAX)
            } else {
                u16::try_from(class).ok().filter(|&c| c != u16::MAX)
            };
            if let Some(narrow) = narrow {
                if let Some(slot) = column.get_mut(index) {
                    *slot = narrow;
                }
                return;
            }
            // A class that needs more than 2 bytes: widen, then set below.
            *self = ClassColumn::Wide(column.iter().map(|&c| Self::widen(c)).collect());
        }
        if let ClassColumn::Wide(column) = self {
            if let Some(slot) = column.get_mut(index) {
                *slot = class;
            }
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            ClassColumn::Narrow(column) => column.capacity() * 2,
            ClassColumn::Wide(column) => column.capacity() * 4,
        }
    }
}

impl ClassTable {
    /// Class names the way the reference tool for the graph's format shows
    /// them (see the [module docs](self)).
    pub fn for_graph(graph: &HeapGraph) -> ClassTable {
        ClassTable::for_graph_with_dom_state(graph, None)
    }

    /// As [`for_graph`](Self::for_graph), with V8's per-node `detachedness`
    /// column (0 unknown, 1 attached, 2 detached; the V8 reader keeps it in
    /// its side tables). DevTools propagates the state from each native node
    /// that knows it to the native nodes below it (`propagateDOMState`:
    /// attached wins, never through JavaScript objects, not over hidden or
    /// weak edges) and prefixes the names of detached ones with `Detached `.
    pub fn for_graph_with_dom_state(
        graph: &HeapGraph,
        detachedness: Option<&[DomState]>,
    ) -> ClassTable {
        match graph.format() {
            Format::V8HeapSnapshot => devtools_classes(graph, detachedness),
            Format::Hprof => named_classes(graph, |kind| {
                (kind == NodeKind::Class).then_some("java.lang.Class")
            }),
            _ => named_classes(graph, |_| None),
        }
    }

    /// The class of `node`, if it has one.
    pub fn class_of(&self, node: NodeIndex) -> Option<ClassId> {
        self.class_of.get(node.index()).map(ClassId)
    }

    /// A class's name.
    pub fn name(&self, class: ClassId) -> &str {
        self.names.get(class.index()).map_or("", String::as_str)
    }

    /// `(class, count, summed shallow size)` for every class of the table,
    /// in [`ClassId`] order, over the `nodes` that have a class, with sizes from
    /// `shallow` (indexed by node; sums saturate). The histogram's first
    /// half, shared by [`HeapAnalysis::class_histogram`](crate::HeapAnalysis::class_histogram)
    /// (over its instances) and the facade's shallow histogram (over every
    /// node [`listed_in_histogram`] accepts).
    pub fn sum_by_class(
        &self,
        shallow: &Sizes,
        nodes: impl IntoIterator<Item = NodeIndex>,
    ) -> Vec<(ClassId, u64, u64)> {
        let mut sums: Vec<(ClassId, u64, u64)> =
            (0..self.len() as u32).map(|i| (ClassId(i), 0, 0)).collect();
        for node in nodes {
            let Some(class) = self.class_of(node) else {
                continue;
            };
            if let Some(sum) = sums.get_mut(class.index()) {
                sum.1 += 1;
                sum.2 = sum.2.saturating_add(shallow.get(node.index()));
            }
        }
        sums
    }

    /// The number of classes.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no classes.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Finds classes by name (several V8 classes may share one name, as in
    /// DevTools, where a synthesized `Function` differs from an object named
    /// `Function`).
    pub fn find<'a>(&'a self, name: &'a str) -> impl Iterator<Item = ClassId> + 'a {
        self.names
            .iter()
            .enumerate()
            .filter(move |(_, n)| n.as_str() == name)
            .map(|(i, _)| ClassId(i as u32))
    }

    /// Heap bytes the table's per-node column holds (2 or 4 per node).
    pub fn column_heap_bytes(&self) -> usize {
        self.class_of.heap_bytes()
    }
}

/// Interns class names; `synthesized` names (made up by the tool) and raw
/// node names are kept apart, as DevTools keeps them apart. Looking up a
/// name allocates nothing; only a new class copies its name.
struct Interner {
    synthesized: HashMap<String, u32>,
    raw: HashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    fn new() -> Self {
        Interner {
            synthesized: HashMap::new(),
            raw: HashMap::new(),
            names: Vec::new(),
        }
    }

    fn intern(&mut self, name: &str, synthesized: bool) -> u32 {
        let map = if synthesized {
            &mut self.synthesized
        } else {
            &mut self.raw
        };
        if let Some(&id) = map.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.to_owned());
        map.insert(name.to_owned(), id);
        id
    }
}

fn is_root_like(graph: &HeapGraph, node: NodeIndex) -> bool {
    node.index() == 0 || graph.kind(node) == NodeKind::RootGroup
}

fn named_classes(
    graph: &HeapGraph,
    special: impl Fn(NodeKind) -> Option<&'static str>,
) -> ClassTable {
    let mut by_string: HashMap<u32, u32> = HashMap::new();
    let mut interner = Interner::new();
    let mut class_of = ClassColumn::new(graph.node_count());
    for node in graph.nodes() {
        if is_root_like(graph, node) {
            continue;
        }
        let kind = graph.kind(node);
        let class = match special(kind) {
            // One class per name: HotSpot writes the primitive types'
            // mirrors (`int.class`, ...) as plain instances of
            // `java.lang.Class`, which belong with the class objects.
            Some(name) => interner.intern(name, false),
            None => {
                let name = graph.name(node);
                *by_string
                    .entry(name.as_u32())
                    .or_insert_with(|| interner.intern(&graph.strings().get(name), false))
            }
        };
        class_of.set(node.index(), class);
    }
    ClassTable {
        class_of,
        names: interner.names,
    }
}

/// `<div id="a">` → `<div>`; `Detached <div id="a">` → `Detached <div>`.
fn shorten_tag(name: &str) -> Option<String> {
    if name.starts_with('<') {
        return Some(match name.find(' ') {
            Some(space) => format!("{}>", &name[..space]),
            None => name.to_owned(),
        });
    }
    if name.starts_with("Detached <") {
        let after = "Detached <".len();
        return Some(match name[after..].find(' ') {
            Some(space) => format!("{}>", &name[..after + space]),
            None => name.to_owned(),
        });
    }
    None
}

/// DevTools' `propagateDOMState`: which native nodes end up detached.
fn detached_nodes(graph: &HeapGraph, detachedness: &[DomState]) -> Vec<bool> {
    const ATTACHED: DomState = DomState::Attached;
    const DETACHED: DomState = DomState::Detached;
    let n = graph.node_count();
    let mut state: Vec<DomState> = (0..n)
        .map(|i| detachedness.get(i).copied().unwrap_or_default())
        .collect();
    let mut visited = vec![false; n];
    let mut attached: Vec<u32> = Vec::new();
    let mut detached: Vec<u32> = Vec::new();
    let mut renamed = vec![false; n];
    let kinds = graph.kinds();
    let mut process = |v: usize,
                       new_state: DomState,
                       state: &mut [DomState],
                       attached: &mut Vec<u32>,
                       detached: &mut Vec<u32>| {
        if visited[v] {
            return;
        }
        visited[v] = true;
        if kinds[v] != NodeKind::Native {
            return;
        }
        state[v] = new_state;
        if new_state == ATTACHED {
            attached.push(v as u32);
        } else if new_state == DETACHED {
            renamed[v] = true;
            detached.push(v as u32);
        }
    };
    for v in 0..n {
        let s = state[v];
        if s != DomState::Unknown {
            process(v, s, &mut state, &mut attached, &mut detached);
        }
    }
    let children = |v: u32| {
        graph
            .edges(NodeIndex::new(v))
            .filter(|e| !matches!(e.kind, EdgeKind::Hidden | EdgeKind::Weak))
            .map(|e| e.target.index())
            .collect::<Vec<_>>()
    };
    while let Some(v) = attached.pop() {
        for child in children(v) {
            process(child, ATTACHED, &mut state, &mut attached, &mut detached);
        }
    }
    while let Some(v) = detached.pop() {
        if state[v as usize] == ATTACHED {
            continue;
        }
        for child in children(v) {
            process(child, DETACHED, &mut state, &mut attached, &mut detached);
        }
    }
    renamed
}

fn devtools_classes(graph: &HeapGraph, detachedness: Option<&[DomState]>) -> ClassTable {
    let mut interner = Interner::new();
    // Object and native nodes: class by name string (the class is a
    // function of the name alone), and whether the name is `Object`.
    let mut by_name: HashMap<u32, (u32, bool)> = HashMap::new();
    // Plain `Object`s, in node order, for the interface inference.
    let mut plain_objects: Vec<u32> = Vec::new();
    // Every other kind: one class per kind, interned on first sight (in
    // node order, so class ids come out as if interned per node).
    let mut by_kind = [NO_CLASS; 256];
    let mut class_of = ClassColumn::new(graph.node_count());
    let detached = detachedness.map(|d| detached_nodes(graph, d));
    let kinds = graph.kinds();
    let names = graph.names();
    for (index, (&kind, &name_id)) in kinds.iter().zip(names).enumerate() {
        if let Some(true) = detached.as_ref().and_then(|d| d.get(index)) {
            let name = format!("Detached {}", graph.strings().get(name_id));
            let class = match shorten_tag(&name) {
                Some(short) => short,
                None => name,
            };
            class_of.set(index, interner.intern(&class, true));
            continue;
        }
        let class = match kind {
            NodeKind::Object | NodeKind::Native => {
                let (class, named_object) = *by_name.entry(name_id.as_u32()).or_insert_with(|| {
                    let bytes = graph.strings().bytes(name_id);
                    let name = String::from_utf8_lossy(bytes);
                    let class = match shorten_tag(&name) {
                        Some(short) => interner.intern(&short, true),
                        None => interner.intern(&name, false),
                    };
                    (class, bytes == b"Object")
                });
                // Detached nodes (handled above) are native, never plain.
                if kind == NodeKind::Object && named_object {
                    plain_objects.push(index as u32);
                }
                class
            }
            other => {
                let slot = &mut by_kind[usize::from(other.code())];
                if *slot == NO_CLASS {
                    *slot = match other {
                        NodeKind::Hidden => interner.intern("(system)", true),
                        NodeKind::Code => interner.intern("(compiled code)", true),
                        NodeKind::Closure => interner.intern("Function", true),
                        NodeKind::RegExp => interner.intern("RegExp", true),
                        other => interner.intern(&format!("({})", other.v8_type_name()), true),
                    };
                }
                *slot
            }
        };
        class_of.set(index, class);
    }
    apply_interfaces(graph, &plain_objects, &mut class_of, &mut interner);
    ClassTable {
        class_of,
        names: interner.names,
    }
}

fn property_names(graph: &HeapGraph, node: NodeIndex) -> impl Iterator<Item = String> + '_ {
    graph
        .edges(node)
        .filter_map(move |edge| match (edge.kind, edge.label) {
            (EdgeKind::Property, EdgeLabel::Name(id)) => Some(graph.strings().get(id).into_owned()),
            (EdgeKind::Property, EdgeLabel::Index(i)) => Some(i.to_string()),
            _ => None,
        })
}

/// JavaScript string order (UTF-16 code units).
fn js_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

fn js_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// DevTools' `formatPropertyName`: names with `,'"{}` are JSON-quoted.
fn format_property_name(name: &str) -> String {
    if !name.contains([',', '\'', '"', '{', '}']) {
        return name.to_owned();
    }
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

const MAX_INTERFACE_NAME_LENGTH: usize = 120;
const MIN_OBJECT_COUNT_PER_INTERFACE: f64 = 2.0;
const MIN_OBJECT_PROPORTION_PER_INTERFACE: f64 = 1000.0;

struct Interface {
    name: String,
    properties: Vec<String>,
    count: u64,
}

/// DevTools' interface inference for plain `Object`s.
fn infer_interfaces(graph: &HeapGraph, plain_objects: &[u32]) -> Vec<Interface> {
    let mut candidates: Vec<Interface> = Vec::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut total_objects = 0u64;
    for &node in plain_objects {
        let node = NodeIndex::new(node);
        total_objects += 1;
        let mut name = String::from("{");
        let mut name_len = 1usize;
        let mut properties = Vec::new();
        for property in property_names(graph, node) {
            if property == "__proto__" {
                continue;
            }
            let formatted = format_property_name(&property);
            let formatted_len = js_len(&formatted);
            if name_len > 1 && name_len + formatted_len > MAX_INTERFACE_NAME_LENGTH {
                break;
            }
            if name_len != 1 {
                name.push_str(", ");
                name_len += 2;
            }
            name.push_str(&formatted);
            name_len += formatted_len;
            properties.push(property);
        }
        if properties.is_empty() {
            continue;
        }
        name.push('}');
        match by_name.get(&name) {
            Some(&i) => candidates[i].count += 1,
            None => {
                by_name.insert(name.clone(), candidates.len());
                candidates.push(Interface {
                    name,
                    properties,
                    count: 1,
                });
            }
        }
    }
    // Stable, like JavaScript's sort: ties keep first-seen order.
    candidates.sort_by_key(|c| std::cmp::Reverse(c.count));
    let min_count = MIN_OBJECT_COUNT_PER_INTERFACE
        .max(total_objects as f64 / MIN_OBJECT_PROPORTION_PER_INTERFACE);
    candidates
        .into_iter()
        .take_while(|c| c.count as f64 >= min_count)
        .collect()
}

struct TreeNode {
    next: HashMap<String, usize>,
    /// `(property count, definition index)` of the interface ending here.
    matched: Option<(usize, usize)>,
    greatest_next: Option<String>,
}

fn better(a: (usize, usize), b: Option<(usize, usize)>) -> (usize, usize) {
    match b {
        None => a,
        Some(b) if b.0 > a.0 || (b.0 == a.0 && b.1 < a.1) => b,
        Some(_) => a,
    }
}

/// `plain_objects`: the plain `Object`s (kind object, named `Object`), in
/// node order.
fn apply_interfaces(
    graph: &HeapGraph,
    plain_objects: &[u32],
    class_of: &mut ClassColumn,
    interner: &mut Interner,
) {
    let definitions = infer_interfaces(graph, plain_objects);
    if definitions.is_empty() {
        return;
    }
    let mut tree = vec![TreeNode {
        next: HashMap::new(),
        matched: None,
        greatest_next: None,
    }];
    for (index, definition) in definitions.iter().enumerate() {
        let mut properties = definition.properties.clone();
        properties.sort_by(|a, b| js_cmp(a, b));
        let mut current = 0usize;
        for property in properties {
            let existing = tree[current].next.get(&property).copied();
            current = match existing {
                Some(next) => next,
                None => {
                    let next = tree.len();
                    tree.push(TreeNode {
                        next: HashMap::new(),
                        matched: None,
                        greatest_next: None,
                    });
                    let node = &mut tree[current];
                    if node
                        .greatest_next
                        .as_deref()
                        .is_none_or(|g| js_cmp(g, &property) == Ordering::Less)
                    {
                        node.greatest_next = Some(property.clone());
                    }
                    node.next.insert(property, next);
                    next
                }
            };
        }
        if tree[current].matched.is_none() {
            tree[current].matched = Some((definition.properties.len(), index));
        }
    }
    // (property count 0, index "infinity") stands for "plain Object".
    let fallback = (0usize, usize::MAX);
    let mut states: Vec<usize> = Vec::new();
    for &node in plain_objects {
        let node = NodeIndex::new(node);
        let mut properties: Vec<String> = property_names(graph, node).collect();
        properties.sort_by(|a, b| js_cmp(a, b));
        states.clear();
        states.push(0);
        let mut best = better(fallback, tree[0].matched);
        for property in &properties {
            // Literal emulation of DevTools' insertion-ordered `Set`.
            let snapshot = states.clone();
            for state in snapshot {
                let tree_node = &tree[state];
                let exhausted = tree_node
                    .greatest_next
                    .as_deref()
                    .is_none_or(|g| js_cmp(property, g) != Ordering::Less);
                if exhausted {
                    states.retain(|&s| s != state);
                }
                if let Some(&next) = tree_node.next.get(property) {
                    if !states.contains(&next) {
                        states.push(next);
                    }
                    best = better(best, tree[next].matched);
                }
            }
        }
        if best != fallback {
            let name = &definitions[best.1].name;
            class_of.set(node.index(), interner.intern(name, true));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_shortened() {
        assert_eq!(shorten_tag("<div id=\"a\">").as_deref(), Some("<div>"));
        assert_eq!(shorten_tag("<div>").as_deref(), Some("<div>"));
        assert_eq!(
            shorten_tag("Detached <span class=x>").as_deref(),
            Some("Detached <span>")
        );
        assert_eq!(shorten_tag("Object"), None);
    }

    /// Past 65 534 classes the column widens to 4 bytes and keeps every
    /// class already set; none and every class read back as set.
    #[test]
    fn class_column_widens_when_classes_outgrow_two_bytes() {
        let mut column = ClassColumn::new(70_010);
        for i in 0..70_000u32 {
            column.set(i as usize, i);
        }
        column.set(70_005, NO_CLASS);
        assert!(matches!(column, ClassColumn::Wide(_)));
        for i in 0..70_000u32 {
            assert_eq!(column.get(i as usize), Some(i));
        }
        assert_eq!(column.get(70_005), None);
        assert_eq!(column.get(70_009), None);
        assert_eq!(column.get(70_010), None);

        let mut narrow = ClassColumn::new(3);
        narrow.set(0, 65_534);
        narrow.set(1, 7);
        narrow.set(1, NO_CLASS);
        assert!(matches!(narrow, ClassColumn::Narrow(_)));
        assert_eq!(
            (narrow.get(0), narrow.get(1), narrow.get(2)),
            (Some(65_534), None, None)
        );
    }

    /// A graph with more distinct names than two bytes can number gets
    /// every node's class right.
    #[test]
    fn many_classes() {
        let mut b = heapgraph_core::GraphBuilder::new(Format::Synthetic);
        for i in 0..70_000u64 {
            let name = b.intern(format!("C{i}").as_bytes()).unwrap();
            b.add_node(NodeKind::Object, name, i + 1, 8).unwrap();
        }
        let graph = b.finish().unwrap();
        let table = ClassTable::for_graph(&graph);
        let last = graph.node_count() as u32 - 1;
        assert!(last >= 69_999);
        for node in [1u32, 2, 65_534, 65_535, 65_536, 69_998, last] {
            let node = NodeIndex::new(node);
            let class = table.class_of(node).unwrap();
            assert_eq!(table.name(class), graph.strings().get(graph.name(node)));
        }
        assert_eq!(table.column_heap_bytes(), graph.node_count() * 4);
    }

    #[test]
    fn property_names_are_quoted_like_json() {
        assert_eq!(format_property_name("x"), "x");
        assert_eq!(format_property_name("a,b"), "\"a,b\"");
        assert_eq!(format_property_name("say \"hi\""), "\"say \\\"hi\\\"\"");
    }
}

/// Whether a node of this shown shallow size is listed in a class
/// histogram under `semantics`: DevTools lists no empty objects; the other
/// tools list every instance.
pub fn listed_in_histogram(semantics: crate::Semantics, shallow_size: u64) -> bool {
    semantics != crate::Semantics::DevTools || shallow_size != 0
}

/// Whether a class name matches a shell-style pattern: `*` matches any run
/// of characters (including none), `?` exactly one; everything else matches
/// itself. Used to pick classes by name (`java.util.*`, `*Map`).
pub fn class_name_matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    // Where the last `*` was, and how much of the name it has eaten.
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some(&c) if c == '?' || c == n[ni] => {
                pi += 1;
                ni += 1;
            }
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            _ => match star {
                Some((star_at, eaten)) => {
                    pi = star_at + 1;
                    ni = eaten + 1;
                    star = Some((star_at, eaten + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_none_or(|rest| rest.iter().all(|&c| c == '*'))
}

#[cfg(test)]
mod glob_tests {
    use super::class_name_matches;

    #[test]
    fn class_patterns_match_like_shell_globs() {
        assert!(class_name_matches("java.util.*", "java.util.HashMap"));
        assert!(class_name_matches("*Map", "java.util.HashMap"));
        assert!(class_name_matches("*", ""));
        assert!(class_name_matches("?ap", "Map"));
        assert!(!class_name_matches("java.util.*", "java.lang.String"));
        assert!(class_name_matches("*a*b*", "xxaxxbxx"));
        assert!(!class_name_matches("*a*b", "xxaxxbxa"));
        assert!(class_name_matches("HeapShapes$*", "HeapShapes$ChainNode"));
    }
}
