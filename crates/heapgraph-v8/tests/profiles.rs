//! `.heapprofile` files from Chromium 156 and Node 20, read completely and
//! compared with a plain `serde_json` reader.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{load, testdata};
use heapgraph_core::{Format, NodeIndex, NodeKind, RootKind};
use heapgraph_v8::parse_heapprofile;
use serde_json::Value;

/// The tree in pre-order: (id, selfSize, functionName, url, line, parent position).
fn oracle_nodes(head: &Value) -> Vec<(u64, u64, String, String, i64, Option<usize>)> {
    let mut out = Vec::new();
    let mut stack = vec![(head, None)];
    while let Some((node, parent)) = stack.pop() {
        let me = out.len();
        let frame = &node["callFrame"];
        out.push((
            node["id"].as_u64().unwrap(),
            node["selfSize"].as_u64().unwrap(),
            frame["functionName"].as_str().unwrap().to_string(),
            frame["url"].as_str().unwrap().to_string(),
            frame["lineNumber"].as_i64().unwrap(),
            parent,
        ));
        let children = node["children"].as_array().unwrap();
        for child in children.iter().rev() {
            stack.push((child, Some(me)));
        }
    }
    out
}

fn check(path: &str) {
    let bytes = load(path);
    let json: Value = serde_json::from_slice(&bytes).unwrap();
    let profile = parse_heapprofile(&bytes).unwrap();
    let expected = oracle_nodes(&json["head"]);
    assert_eq!(profile.nodes.len(), expected.len());
    let strings = profile.graph.strings();
    for (node, (id, self_size, function, url, line, parent)) in profile.nodes.iter().zip(&expected)
    {
        assert_eq!(node.id, *id);
        assert_eq!(node.self_size, *self_size);
        assert_eq!(strings.get(node.function_name), function.as_str());
        assert_eq!(strings.get(node.url), url.as_str());
        assert_eq!(node.line, *line);
        assert_eq!(node.parent.map(|p| p as usize), *parent);
    }
    assert_eq!(
        profile.total_self_size(),
        expected.iter().map(|e| e.1).sum::<u64>()
    );

    let samples = json["samples"].as_array().unwrap();
    assert_eq!(profile.samples.len(), samples.len());
    let ids: std::collections::HashSet<u64> = expected.iter().map(|e| e.0).collect();
    let mut unknown = 0;
    for (sample, raw) in profile.samples.iter().zip(samples) {
        assert_eq!(sample.size, raw["size"].as_u64().unwrap());
        assert_eq!(sample.node_id, raw["nodeId"].as_u64().unwrap());
        assert_eq!(sample.ordinal, raw["ordinal"].as_u64().unwrap());
        if !ids.contains(&sample.node_id) {
            unknown += 1;
            assert_eq!(sample.node, None);
        }
    }
    assert_eq!(profile.unknown_site_samples, unknown);

    // The graph: root, one allocation block per sample, the root group.
    let graph = &profile.graph;
    assert_eq!(graph.format(), Format::V8HeapProfile);
    assert_eq!(graph.node_count(), 1 + samples.len() + 1);
    let sampled: u64 = samples.iter().map(|s| s["size"].as_u64().unwrap()).sum();
    assert_eq!(graph.total_self_size(), sampled);
    assert_eq!(profile.total_sampled_size(), sampled);
    assert_eq!(graph.root_groups().len(), 1);
    assert_eq!(graph.root_groups()[0].1, RootKind::Allocation);
    for (i, sample) in profile.samples.iter().enumerate() {
        let block = NodeIndex::new(1 + i as u32);
        assert_eq!(graph.kind(block), NodeKind::AllocationBlock);
        assert_eq!(graph.self_size(block), sample.size);
        assert_eq!(graph.object_id(block), sample.ordinal);
        let site = sample.node.map(|n| &profile.nodes[n as usize]);
        assert_eq!(graph.node_stack(block), site.and_then(|s| s.stack));
        // The stack's frames are the path from head (excluded) to the site.
        if let (Some(site_index), Some(stack)) = (sample.node, graph.node_stack(block)) {
            let mut path = Vec::new();
            let mut at = Some(site_index as usize);
            while let Some(i) = at {
                if expected[i].5.is_some() {
                    path.push(&expected[i]);
                }
                at = expected[i].5;
            }
            let frames: Vec<_> = graph.stacks().frames_innermost_first(stack).collect();
            assert_eq!(frames.len(), path.len());
            for (frame, node) in frames.iter().zip(path) {
                let frame = graph.stacks().frame(*frame);
                assert_eq!(strings.get(frame.function), node.2.as_str());
                // Frames without a script are filed under their function.
                let file = if node.3.is_empty() { &node.2 } else { &node.3 };
                assert_eq!(strings.get(frame.file), file.as_str());
                // 1-based in the stack table, 0 when the file says -1.
                let line = if node.4 < 0 { 0 } else { node.4 as u32 + 1 };
                assert_eq!(frame.line, line);
            }
        }
    }
    // Per-node sample totals agree with summing the samples by hand.
    let totals = profile.sample_totals();
    let counted: u64 = totals.iter().map(|t| t.0).sum();
    assert_eq!(counted, samples.len() as u64 - unknown);
    assert_eq!(graph.info().producer, "V8 sampling heap profiler");
}

#[test]
fn chrome_heapprofile() {
    check(&testdata("chrome.heapprofile"));
    // A known site: the page's `Order` constructor.
    let profile = parse_heapprofile(&load(&testdata("chrome.heapprofile"))).unwrap();
    let strings = profile.graph.strings();
    let order = profile
        .nodes
        .iter()
        .find(|n| strings.get(n.function_name) == "Order")
        .unwrap();
    assert_eq!((order.line, order.column), (60, 13));
    assert_eq!(order.self_size, 520_040);
    let graph = &profile.graph;
    assert!(graph.nodes().any(|n| graph
        .name_str(n)
        .starts_with("Order http://127.0.0.1:37109/index.html:61")));
}

#[test]
fn node_heapprofile() {
    check(&testdata("node.heapprofile"));
}

#[test]
fn node20_inspector_sampling_profile() {
    check(&testdata("node20-sampling.heapprofile"));
}

#[test]
fn unknown_sites_and_lenient_numbers() {
    let json = br#"{"head":{"callFrame":{"functionName":"(root)","scriptId":"0","url":"","lineNumber":-1,"columnNumber":-1},
        "selfSize":0,"id":1,"children":[{"id":2,"selfSize":1.6e1,"children":[],
        "callFrame":{"functionName":"f","scriptId":"3","url":"a.js","lineNumber":4,"columnNumber":2}}]},
        "samples":[{"size":16,"nodeId":2,"ordinal":7},{"size":8,"nodeId":99,"ordinal":8}]}"#;
    let profile = parse_heapprofile(json).unwrap();
    assert_eq!(profile.nodes.len(), 2);
    assert_eq!(profile.nodes[1].self_size, 16);
    assert_eq!(profile.unknown_site_samples, 1);
    let graph = &profile.graph;
    // Site names carry 1-based lines (the file's lineNumber 4 is line 5).
    assert_eq!(graph.name_str(NodeIndex::new(1)), "f a.js:5");
    assert_eq!(graph.name_str(NodeIndex::new(2)), "(unknown site)");
    assert_eq!(graph.node_stack(NodeIndex::new(2)), None);
}

/// Strips `samples` and every node `id` from a JSON profile: the format of
/// Chrome before 76 and Node before 12 (only the `head` tree with
/// `selfSize`).
fn old_format(json: &Value) -> Vec<u8> {
    fn strip(node: &mut Value) {
        if let Some(object) = node.as_object_mut() {
            object.remove("id");
        }
        if let Some(children) = node["children"].as_array_mut() {
            children.iter_mut().for_each(strip);
        }
    }
    let mut json = json.clone();
    json.as_object_mut().unwrap().remove("samples");
    strip(&mut json["head"]);
    serde_json::to_vec(&json).unwrap()
}

/// Without `samples`, the tree's `selfSize` makes the blocks: one per site
/// with a non-zero size, on that site's stack, adding up to Σ selfSize.
#[test]
fn profiles_without_samples_use_the_tree() {
    use heapgraph_v8::ProfileSizes;
    for name in ["chrome.heapprofile", "node20-sampling.heapprofile"] {
        let bytes = load(&testdata(name));
        let json: Value = serde_json::from_slice(&bytes).unwrap();
        let new = parse_heapprofile(&bytes).unwrap();
        assert_eq!(new.sizes, ProfileSizes::Samples);
        let old = parse_heapprofile(&old_format(&json)).unwrap();
        assert_eq!(old.sizes, ProfileSizes::Tree, "{name}");
        assert!(old.samples.is_empty());

        let expected = oracle_nodes(&json["head"]);
        let sites: Vec<_> = expected.iter().filter(|n| n.1 > 0).collect();
        let graph = &old.graph;
        let blocks: Vec<NodeIndex> = graph
            .nodes()
            .filter(|&n| graph.kind(n) == NodeKind::AllocationBlock)
            .collect();
        assert_eq!(blocks.len(), sites.len(), "{name}");
        assert!(blocks.len() >= 5, "{name}: {}", blocks.len());
        let total: u64 = blocks.iter().map(|&n| graph.self_size(n)).sum();
        assert_eq!(total, expected.iter().map(|n| n.1).sum::<u64>());
        assert_eq!(total, old.total_self_size());
        assert_eq!(total, new.total_self_size());
        // Block k is the k-th site in pre-order, named and stacked as the
        // same site is in the new format.
        let positions: Vec<usize> = (0..expected.len()).filter(|&i| expected[i].1 > 0).collect();
        for (&block, &position) in blocks.iter().zip(&positions) {
            assert_eq!(graph.object_id(block), position as u64);
            assert_eq!(old.nodes[position].id, position as u64);
            let stack = graph.node_stack(block).expect("a site has a stack");
            let new_stack = new.nodes[position].stack.unwrap();
            let frames = |g: &heapgraph_core::HeapGraph, s| {
                g.stacks()
                    .frames_innermost_first(s)
                    .map(|f| {
                        let f = g.stacks().frame(f);
                        (g.strings().get(f.function).to_string(), f.line)
                    })
                    .collect::<Vec<_>>()
            };
            assert_eq!(frames(graph, stack), frames(&new.graph, new_stack));
        }
    }
}
