//! Prints what the parser found in a `.heapsnapshot` or `.heapprofile`
//! (counts, producer, warnings; for profiles, selfSize versus samples).
//!
//! ```sh
//! cargo run -p heapgraph-v8 --example describe -- FILE
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

fn main() {
    let path = std::env::args().nth(1).expect("usage: describe FILE");
    let bytes = std::fs::read(&path).unwrap();
    let prefix = &bytes[..bytes.len().min(4096)];
    if heapgraph_v8::is_heapprofile(prefix) {
        let profile = heapgraph_v8::parse_heapprofile(&bytes).unwrap();
        println!(
            "heapprofile: {} tree nodes, {} samples ({} at unknown sites); selfSize total {} B, sampled total {} B",
            profile.nodes.len(),
            profile.samples.len(),
            profile.unknown_site_samples,
            profile.total_self_size(),
            profile.total_sampled_size()
        );
    } else if heapgraph_v8::is_heapsnapshot(prefix) {
        let snapshot = heapgraph_v8::parse_snapshot(&bytes).unwrap();
        let graph = &snapshot.graph;
        println!(
            "heapsnapshot by {:?}: {} nodes, {} edges, {} root groups, {} strings, {} trace nodes, {} locations; ids stable: {}",
            snapshot.producer,
            graph.node_count(),
            graph.edge_count(),
            graph.root_groups().len(),
            graph.strings().len(),
            snapshot.trace_nodes.len(),
            snapshot.locations.len(),
            snapshot.ids_stable_across_snapshots()
        );
        for warning in &snapshot.warnings {
            println!("warning: {warning:?}");
        }
    } else {
        println!("neither a .heapsnapshot nor a .heapprofile");
    }
}
