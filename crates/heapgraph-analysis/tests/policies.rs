//! Hand-built graphs for each rule of the edge policies: DevTools' page
//! objects, shortcuts, WeakMap pairs, shallow re-attribution, distances and
//! class names; MAT and NetBeans on reference objects; histograms, top
//! dominators and retention paths.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // may panic: not library code

use heapgraph_analysis::{
    EdgePolicy, HeapAnalysis, HistogramOrder, UnreachableNodes, SYSTEM_DISTANCE,
};
use heapgraph_core::{EdgeKind, Format, GraphBuilder, HeapGraph, NodeIndex, NodeKind};

/// A small graph builder keyed by names.
struct G {
    b: GraphBuilder,
    next_id: u64,
}

impl G {
    fn new(format: Format) -> G {
        let mut g = G {
            b: GraphBuilder::new(format),
            next_id: 1,
        };
        g.node(NodeKind::Synthetic, "", 0);
        g
    }

    fn node(&mut self, kind: NodeKind, name: &str, size: u64) -> NodeIndex {
        let name = self.b.intern(name.as_bytes()).unwrap();
        let id = self.next_id;
        self.next_id += 2;
        self.b.add_node(kind, name, id, size).unwrap()
    }

    fn edge(&mut self, from: NodeIndex, to: NodeIndex, kind: EdgeKind, name: &str) {
        if kind.has_index() {
            self.b
                .add_indexed_edge(from, to, kind, name.parse().unwrap())
                .unwrap();
        } else {
            let label = self.b.intern(name.as_bytes()).unwrap();
            self.b.add_named_edge(from, to, kind, label).unwrap();
        }
    }

    fn finish(self) -> HeapGraph {
        self.b.finish().unwrap()
    }
}

const ROOT: NodeIndex = NodeIndex::new(0);

#[test]
fn devtools_ignores_edges_from_system_into_page_objects() {
    let mut g = G::new(Format::V8HeapSnapshot);
    let gc_roots = g.node(NodeKind::Synthetic, "(GC roots)", 0);
    let global = g.node(NodeKind::Object, "Window", 10);
    let debugger = g.node(NodeKind::Hidden, "system / Debugger", 5);
    let page = g.node(NodeKind::Object, "Page", 100);
    g.edge(ROOT, gc_roots, EdgeKind::Element, "1");
    g.edge(ROOT, global, EdgeKind::Shortcut, "global");
    g.edge(gc_roots, debugger, EdgeKind::Element, "0");
    g.edge(debugger, page, EdgeKind::Internal, "held");
    g.edge(global, page, EdgeKind::Property, "page");
    g.edge(gc_roots, global, EdgeKind::Element, "2");
    let graph = g.finish();

    let devtools = HeapAnalysis::new(&graph);
    assert_eq!(devtools.immediate_dominator(page), Some(global));
    assert_eq!(devtools.retained_size(global), 110);
    // Without the page-object rule the debugger would share it.
    let plain = HeapAnalysis::with_policy(&graph, EdgePolicy::strong_only());
    assert_eq!(plain.immediate_dominator(page), Some(ROOT));
}

#[test]
fn devtools_ignores_shortcuts_except_from_the_root_and_self_edges() {
    let mut g = G::new(Format::V8HeapSnapshot);
    let a = g.node(NodeKind::Object, "A", 1);
    let b = g.node(NodeKind::Object, "B", 1);
    let c = g.node(NodeKind::Object, "C", 1);
    g.edge(ROOT, a, EdgeKind::Element, "1");
    g.edge(ROOT, b, EdgeKind::Element, "2");
    g.edge(a, c, EdgeKind::Property, "c");
    g.edge(b, c, EdgeKind::Shortcut, "c");
    g.edge(c, c, EdgeKind::Property, "self");
    let graph = g.finish();
    let analysis = HeapAnalysis::new(&graph);
    assert_eq!(analysis.immediate_dominator(c), Some(a));
    assert_eq!(analysis.retained_size(a), 2);
}

#[test]
fn devtools_weakmap_value_is_retained_by_its_key() {
    let mut g = G::new(Format::V8HeapSnapshot);
    let holder = g.node(NodeKind::Object, "Holder", 8);
    let table = g.node(NodeKind::Array, "(object properties)", 40);
    let key = g.node(NodeKind::Object, "Key", 16);
    let value = g.node(NodeKind::Object, "Value", 1000);
    g.edge(ROOT, holder, EdgeKind::Element, "1");
    g.edge(holder, table, EdgeKind::Internal, "table");
    g.edge(holder, key, EdgeKind::Property, "key");
    let table_id = graph_id(table);
    let pair = format!(
        " / part of key (Key @{}) -> value (Value @{}) pair in WeakMap (table @{table_id})",
        graph_id(key),
        graph_id(value)
    );
    g.edge(table, value, EdgeKind::Internal, &format!("3{pair}"));
    g.edge(key, value, EdgeKind::Internal, &format!("4{pair}"));
    let graph = g.finish();
    assert_eq!(graph.object_id(table), table_id);
    let analysis = HeapAnalysis::new(&graph);
    assert_eq!(analysis.immediate_dominator(value), Some(key));
    let plain = HeapAnalysis::with_policy(&graph, EdgePolicy::strong_only());
    assert_eq!(plain.immediate_dominator(value), Some(holder));
    // Distances: the value is one further than the later of its two halves.
    assert_eq!(analysis.distance(holder), Some(1));
    assert_eq!(analysis.distance(key), Some(2));
    assert_eq!(analysis.distance(value), Some(3));
}

/// The id `G` gives node `n` (1 for the root, then 3, 5, ...).
fn graph_id(n: NodeIndex) -> u64 {
    2 * n.as_u32() as u64 + 1
}

#[test]
fn devtools_moves_owned_internals_into_their_owner() {
    let mut g = G::new(Format::V8HeapSnapshot);
    let map = g.node(NodeKind::Object, "Map", 32);
    let table = g.node(NodeKind::Array, "(object elements)", 400);
    let inner = g.node(NodeKind::Hidden, "system / Foo", 7);
    let other = g.node(NodeKind::Object, "Other", 8);
    let shared = g.node(NodeKind::Array, "(shared)", 50);
    g.edge(ROOT, map, EdgeKind::Element, "1");
    g.edge(ROOT, other, EdgeKind::Element, "2");
    g.edge(map, table, EdgeKind::Internal, "table");
    g.edge(table, inner, EdgeKind::Internal, "x");
    g.edge(map, shared, EdgeKind::Internal, "s");
    g.edge(other, shared, EdgeKind::Internal, "s");
    let graph = g.finish();
    let analysis = HeapAnalysis::new(&graph);
    assert_eq!(analysis.shallow_size(map), 32 + 400 + 7);
    assert_eq!(analysis.shallow_size(table), 0);
    assert_eq!(analysis.shallow_size(inner), 0);
    assert_eq!(analysis.shallow_size(shared), 50);
    assert_eq!(
        analysis.shallow_sizes().iter().sum::<u64>(),
        graph.total_self_size()
    );
    assert_eq!(analysis.retained_size(ROOT), graph.total_self_size());
    // Raw sizes elsewhere.
    let plain = HeapAnalysis::with_policy(&graph, EdgePolicy::strong_only());
    assert_eq!(plain.shallow_size(map), 32);
}

#[test]
fn devtools_distances_put_system_objects_far_away() {
    let mut g = G::new(Format::V8HeapSnapshot);
    let gc_roots = g.node(NodeKind::Synthetic, "(GC roots)", 0);
    let user = g.node(NodeKind::Object, "User", 1);
    let system = g.node(NodeKind::Hidden, "system / X", 1);
    let weak_only = g.node(NodeKind::Object, "WeakOnly", 1);
    g.edge(ROOT, user, EdgeKind::Element, "1");
    g.edge(ROOT, gc_roots, EdgeKind::Element, "2");
    g.edge(gc_roots, system, EdgeKind::Element, "1");
    g.edge(user, weak_only, EdgeKind::Weak, "w");
    let graph = g.finish();
    let analysis = HeapAnalysis::new(&graph);
    assert_eq!(analysis.distance(user), Some(1));
    assert_eq!(analysis.distance(ROOT), Some(SYSTEM_DISTANCE));
    assert_eq!(analysis.distance(gc_roots), Some(SYSTEM_DISTANCE + 1));
    assert_eq!(analysis.distance(system), Some(SYSTEM_DISTANCE + 2));
    assert_eq!(analysis.distance(weak_only), None);
    // The weakly held node has no essential retainer: it starts its own
    // search under the root, as DevTools does.
    assert_eq!(analysis.immediate_dominator(weak_only), Some(ROOT));
    assert_eq!(analysis.unreachable().search_starts, vec![weak_only]);
}

#[test]
fn devtools_class_names() {
    let mut g = G::new(Format::V8HeapSnapshot);
    let f = g.node(NodeKind::Closure, "handler", 32);
    let s = g.node(NodeKind::String, "hello", 16);
    let h = g.node(NodeKind::Hidden, "system / Context", 16);
    let div = g.node(NodeKind::Native, "<div id=\"main\" class=\"x\">", 64);
    let cons = g.node(NodeKind::ConsString, "ab", 16);
    let code = g.node(NodeKind::Code, "foo", 16);
    let points: Vec<NodeIndex> = (0..3)
        .map(|_| g.node(NodeKind::Object, "Object", 24))
        .collect();
    let lonely = g.node(NodeKind::Object, "Object", 24);
    let x = g.node(NodeKind::Number, "heap number", 16);
    for (i, &n) in [f, s, h, div, cons, code, lonely].iter().enumerate() {
        g.edge(ROOT, n, EdgeKind::Element, &i.to_string());
    }
    for &p in &points {
        g.edge(ROOT, p, EdgeKind::Element, "9");
        g.edge(p, x, EdgeKind::Property, "y");
        g.edge(p, x, EdgeKind::Property, "x");
        g.edge(p, x, EdgeKind::Property, "__proto__");
    }
    g.edge(lonely, x, EdgeKind::Property, "z");
    let graph = g.finish();
    let analysis = HeapAnalysis::new(&graph);
    assert_eq!(analysis.class_name(f), "Function");
    assert_eq!(analysis.class_name(s), "(string)");
    assert_eq!(analysis.class_name(h), "(system)");
    assert_eq!(analysis.class_name(div), "<div>");
    assert_eq!(analysis.class_name(cons), "(concatenated string)");
    assert_eq!(analysis.class_name(code), "(compiled code)");
    assert_eq!(analysis.class_name(x), "(number)");
    // Three objects share a shape: named after it, in property order.
    assert_eq!(analysis.class_name(points[0]), "{y, x}");
    // One object alone keeps "Object".
    assert_eq!(analysis.class_name(lonely), "Object");
    assert_eq!(analysis.class_name(ROOT), "(synthetic)");
}

#[test]
fn devtools_detached_names_follow_dom_state() {
    let mut g = G::new(Format::V8HeapSnapshot);
    let div = g.node(NodeKind::Native, "<div id=\"gone\">", 64);
    let text = g.node(NodeKind::Native, "Text", 32);
    let span = g.node(NodeKind::Native, "<span class=x>", 48);
    let shared = g.node(NodeKind::Native, "CSSStyle", 16);
    let js = g.node(NodeKind::Object, "Wrapper", 16);
    let behind_js = g.node(NodeKind::Native, "Inner", 8);
    for (i, &n) in [div, span].iter().enumerate() {
        g.edge(ROOT, n, EdgeKind::Element, &i.to_string());
    }
    g.edge(div, text, EdgeKind::Property, "firstChild");
    g.edge(div, shared, EdgeKind::Property, "style");
    g.edge(span, shared, EdgeKind::Property, "style");
    g.edge(div, js, EdgeKind::Property, "wrapper");
    g.edge(js, behind_js, EdgeKind::Property, "inner");
    let graph = g.finish();
    let mut states = vec![heapgraph_core::DomState::Unknown; graph.node_count()];
    states[div.index()] = heapgraph_core::DomState::Detached;
    states[span.index()] = heapgraph_core::DomState::Attached;
    let analysis = HeapAnalysis::new(&graph).with_dom_state(&states);
    assert_eq!(analysis.class_name(div), "Detached <div>");
    assert_eq!(analysis.class_name(text), "Detached Text");
    // Attached wins; JavaScript objects stop the propagation.
    assert_eq!(analysis.class_name(shared), "CSSStyle");
    assert_eq!(analysis.class_name(span), "<span>");
    assert_eq!(analysis.class_name(js), "Wrapper");
    assert_eq!(analysis.class_name(behind_js), "Inner");
    // Without the column there is nothing to go by.
    assert_eq!(HeapAnalysis::new(&graph).class_name(div), "<div>");
}

#[test]
fn histogram_counts_nested_instances_once() {
    // root -> a1 (List) -> a2 (List) -> leaf; root -> b (List)
    let mut g = G::new(Format::Hprof);
    let a1 = g.node(NodeKind::Object, "List", 10);
    let a2 = g.node(NodeKind::Object, "List", 20);
    let leaf = g.node(NodeKind::Object, "Leaf", 5);
    let b = g.node(NodeKind::Object, "List", 40);
    g.edge(ROOT, a1, EdgeKind::Root, "r");
    g.edge(ROOT, b, EdgeKind::Root, "r");
    g.edge(a1, a2, EdgeKind::Property, "next");
    g.edge(a2, leaf, EdgeKind::Property, "v");
    let graph = g.finish();
    let analysis = HeapAnalysis::new(&graph);
    let mut histogram = analysis.class_histogram();
    let list = analysis.class_of(a1).unwrap();
    let row = histogram.get(list).unwrap();
    assert_eq!(
        (row.count, row.shallow_size, row.retained_size),
        (3, 70, 75)
    );
    assert_eq!(analysis.instances_of(list), vec![a1, a2, b]);
    histogram.sort_by(HistogramOrder::Count);
    assert_eq!(histogram.rows()[0].class, list);
    assert_eq!(analysis.top_dominators(ROOT, 10), vec![b, a1]);
    assert_eq!(analysis.top_dominators(ROOT, 1), vec![b]);
}

#[test]
fn mat_keeps_referents_netbeans_drops_them() {
    // root -> cache (SoftReference) -soft-> payload; root -> holder -> cache
    let mut g = G::new(Format::Hprof);
    let cache = g.node(NodeKind::Object, "java.lang.ref.SoftReference", 32);
    let payload = g.node(NodeKind::PrimitiveArray, "byte[]", 1000);
    let strong = g.node(NodeKind::Object, "Holder", 16);
    let shared = g.node(NodeKind::Object, "Shared", 100);
    g.edge(ROOT, cache, EdgeKind::Root, "r");
    g.edge(ROOT, strong, EdgeKind::Root, "r");
    g.edge(cache, payload, EdgeKind::Soft, "referent");
    g.edge(strong, shared, EdgeKind::Property, "s");
    g.edge(payload, shared, EdgeKind::Property, "s");
    let graph = g.finish();

    let mat = HeapAnalysis::new(&graph);
    assert_eq!(mat.retained_size(cache), 1032);
    assert_eq!(mat.immediate_dominator(shared), Some(ROOT));
    // Paths skip the referent: the payload has none.
    assert!(mat.retention_paths(payload, 3).is_empty());
    let paths = mat.retention_paths(shared, 3);
    assert_eq!(paths.len(), 1);
    assert_eq!(paths[0].nodes(), vec![ROOT, strong, shared]);
    let retainers = mat.retainers(payload);
    assert_eq!(retainers.len(), 1);
    assert!(!retainers[0].is_path_edge);
    assert_eq!(graph.edge_label_str(retainers[0].edge), "referent");

    let netbeans = HeapAnalysis::with_policy(&graph, EdgePolicy::netbeans());
    assert_eq!(netbeans.retained_size(cache), 32);
    assert_eq!(netbeans.retained_size(payload), 0);
    // The unreachable payload still holds `shared`: no reachable owner.
    assert_eq!(netbeans.immediate_dominator(shared), Some(ROOT));
    assert_eq!(netbeans.retained_size(strong), 16);
    assert_eq!(netbeans.unreachable().nodes, vec![payload]);
    assert_eq!(netbeans.retained_size(ROOT), 32 + 16 + 100);
    let excluded = HeapAnalysis::with_policy(
        &graph,
        EdgePolicy::netbeans().with_unreachable(UnreachableNodes::Exclude),
    );
    assert_eq!(excluded.immediate_dominator(shared), Some(strong));
    assert_eq!(excluded.retained_size(strong), 116);
    let attached = HeapAnalysis::with_policy(
        &graph,
        EdgePolicy::netbeans().with_unreachable(UnreachableNodes::AttachToRoot),
    );
    assert_eq!(attached.retained_size(payload), 1000);
}

#[test]
fn retention_paths_are_distinct_and_shortest_first() {
    // root -> a -> t ; root -> b -> c -> t ; root -> b -> t (two edges)
    let mut g = G::new(Format::Synthetic);
    let a = g.node(NodeKind::Object, "A", 1);
    let b = g.node(NodeKind::Object, "B", 1);
    let c = g.node(NodeKind::Object, "C", 1);
    let t = g.node(NodeKind::Object, "T", 1);
    g.edge(ROOT, a, EdgeKind::Root, "a");
    g.edge(ROOT, b, EdgeKind::Root, "b");
    g.edge(a, t, EdgeKind::Property, "t");
    g.edge(b, c, EdgeKind::Property, "c");
    g.edge(c, t, EdgeKind::Property, "t");
    g.edge(b, t, EdgeKind::Property, "t1");
    g.edge(b, t, EdgeKind::Property, "t2");
    g.edge(t, a, EdgeKind::Property, "back");
    let graph = g.finish();
    let analysis = HeapAnalysis::new(&graph);
    let paths = analysis.retention_paths(t, 10);
    let lens: Vec<usize> = paths.iter().map(|p| p.len()).collect();
    assert_eq!(lens, vec![2, 2, 2, 3]);
    for (i, p) in paths.iter().enumerate() {
        assert_eq!(p.nodes().first(), Some(&ROOT));
        assert_eq!(p.nodes().last(), Some(&t));
        for q in &paths[..i] {
            assert_ne!(p, q);
        }
    }
    assert_eq!(analysis.retention_paths(t, 1).len(), 1);
    assert!(paths[3].display(&graph).contains("-[c]-> C"));
}
