//! Android objects whose lifecycle has ended but that are still strongly
//! reachable: what LeakCanary reports, found in one heap dump.
//!
//! The rules are those LeakCanary's Shark documents for its object
//! inspectors (restated here, not its code), each on the object's own
//! fields, read from the dump:
//!
//! | class (or a subclass) | leaking when |
//! |---|---|
//! | `android.app.Activity` | `mDestroyed` is true |
//! | `android.app.Fragment`, `androidx.fragment.app.Fragment`, `android.support.v4.app.Fragment` | `mFragmentManager` is null |
//! | `android.view.View` | `mContext`, unwrapped through `ContextWrapper.mBase`, is a destroyed `Activity` |
//! | `android.app.Dialog` | `mDecor` is null (dismissed) |
//! | `androidx.lifecycle.ViewModel` | `mCleared` is true |
//! | `android.app.Service` | not among `ActivityThread.mServices`' values (when the dump has an `ActivityThread`) |
//!
//! Each leak comes with its shortest strong path from a GC root (no weak,
//! soft or phantom references), and each reference on it is marked when it
//! is one of the framework references Shark calls library leaks
//! ([`ANDROID_LIBRARY_LEAKS`](heapgraph_analysis::leaks::ignore::ANDROID_LIBRARY_LEAKS)):
//! a leak through one is the platform's, not the app's.

use std::collections::HashMap;

use heapgraph_analysis::leaks::ignore::{IgnoreList, TraceStep};
use heapgraph_analysis::HeapAnalysis;
use heapgraph_core::{EdgeKind, EdgeLabel, HeapGraph, NodeIndex, NodeKind};
use heapgraph_hprof::{FieldValue, HprofDump};

use crate::Dump;

/// One object whose lifecycle has ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LifecycleLeak {
    /// The object.
    pub node: NodeIndex,
    /// Its class.
    pub class: String,
    /// The framework class whose rule it broke (`android.app.Activity`, …).
    pub kind: &'static str,
    /// Why it is leaking, as Shark words it (`Activity#mDestroyed is true`).
    pub reason: &'static str,
    /// Its retained size.
    pub retained_size: u64,
    /// The kind of GC root its path starts at, as the dump's root group
    /// is named (`(System Class)`, `(JNI Global)`, …).
    pub gc_root: String,
    /// The shortest strong path from that GC root to it.
    pub path: Vec<LeakReference>,
    /// Whether a reference on the path is a known library leak.
    pub library_leak: bool,
}

/// One reference on a leak's path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeakReference {
    /// The object holding the reference.
    pub source: NodeIndex,
    /// Its class (`class X` for a class object, whose statics these are).
    pub source_class: String,
    /// The field, or `[i]` for an array element.
    pub reference: String,
    /// A known library leak (Shark's matchers).
    pub library_leak: bool,
}

const ACTIVITY: &str = "android.app.Activity";
const FRAGMENTS: [&str; 3] = [
    "android.app.Fragment",
    "androidx.fragment.app.Fragment",
    "android.support.v4.app.Fragment",
];
const VIEW: &str = "android.view.View";
const DIALOG: &str = "android.app.Dialog";
const VIEW_MODEL: &str = "androidx.lifecycle.ViewModel";
const CONTEXT_WRAPPER: &str = "android.content.ContextWrapper";
const SERVICE: &str = "android.app.Service";
const ACTIVITY_THREAD: &str = "android.app.ActivityThread";

/// Every Android object of an HPROF dump whose lifecycle has ended and that
/// a strong path from a GC root still reaches, largest retained size first.
pub fn lifecycle_leaks(dump: &Dump, analysis: &HeapAnalysis<'_>) -> Vec<LifecycleLeak> {
    let Some(hprof) = dump.hprof() else {
        return Vec::new();
    };
    let Some(class_label) = dump.graph().strings().find(b"<class>") else {
        return Vec::new();
    };
    let mut inspector = Inspector {
        hprof,
        graph: dump.graph(),
        file: dump.bytes(),
        hierarchy: Hierarchy::new(dump.graph()),
        class_label,
        running_services: None,
    };
    inspector.running_services = inspector.running_services();
    let library = IgnoreList::new(&[] as &[&str], true);
    let mut leaks = Vec::new();
    for node in dump.graph().nodes() {
        if dump.graph().kind(node) != NodeKind::Object || !analysis.dominator_tree().contains(node)
        {
            continue;
        }
        let Some((kind, reason)) = inspector.leaking(node) else {
            continue;
        };
        let Some(path) = analysis.retention_paths(node, 1).into_iter().next() else {
            continue;
        };
        let graph = dump.graph();
        let gc_root = path
            .steps
            .iter()
            .find(|step| graph.kind(step.source) == NodeKind::RootGroup)
            .map(|step| graph.name_str(step.source).into_owned())
            .unwrap_or_default();
        let path: Vec<LeakReference> = path
            .steps
            .iter()
            .filter(|step| {
                !matches!(
                    graph.kind(step.source),
                    NodeKind::Synthetic | NodeKind::RootGroup
                )
            })
            .map(|step| {
                let source_class = analysis.display_class(step.source);
                let reference = graph.edge_label_str(step.edge).into_owned();
                let library_leak = library.matches(&[TraceStep {
                    source: analysis.class_name(step.source).to_string(),
                    edge: reference.clone(),
                    target: analysis.class_name(step.target).to_string(),
                }]) || library.matches(&[TraceStep {
                    // Statics are on the class object, named for its class.
                    source: graph.name_str(step.source).into_owned(),
                    edge: reference.clone(),
                    target: String::new(),
                }]) && graph.kind(step.source) == NodeKind::Class;
                LeakReference {
                    source: step.source,
                    source_class,
                    reference,
                    library_leak,
                }
            })
            .collect();
        leaks.push(LifecycleLeak {
            node,
            class: analysis.class_name(node).to_string(),
            kind,
            reason,
            retained_size: analysis.retained_size(node),
            library_leak: path.iter().any(|r| r.library_leak),
            gc_root,
            path,
        });
    }
    leaks.sort_by(|a, b| {
        b.retained_size
            .cmp(&a.retained_size)
            .then(a.class.cmp(&b.class))
            .then(a.node.cmp(&b.node))
    });
    leaks
}

/// Each class object's chain of class names, itself first.
struct Hierarchy {
    chains: HashMap<NodeIndex, Vec<String>>,
}

impl Hierarchy {
    fn new(graph: &HeapGraph) -> Hierarchy {
        let super_label = graph.strings().find(b"<super>");
        let mut supers: HashMap<NodeIndex, NodeIndex> = HashMap::new();
        let mut names: HashMap<NodeIndex, String> = HashMap::new();
        for node in graph.nodes() {
            if graph.kind(node) != NodeKind::Class {
                continue;
            }
            names.insert(node, graph.name_str(node).into_owned());
            if let Some(label) = super_label {
                if let Some(e) = graph
                    .edges(node)
                    .find(|e| e.kind == EdgeKind::Internal && e.label == EdgeLabel::Name(label))
                {
                    supers.insert(node, e.target);
                }
            }
        }
        let chains = names
            .keys()
            .map(|&class| {
                let mut chain = Vec::new();
                let mut at = Some(class);
                while let Some(c) = at {
                    if chain.len() > 64 {
                        break; // a cycle in a corrupt dump
                    }
                    if let Some(name) = names.get(&c) {
                        chain.push(name.clone());
                    }
                    at = supers.get(&c).copied();
                }
                (class, chain)
            })
            .collect();
        Hierarchy { chains }
    }
}

struct Inspector<'a> {
    hprof: &'a HprofDump,
    graph: &'a HeapGraph,
    file: &'a [u8],
    hierarchy: Hierarchy,
    /// The `<class>` edges' label (found once: the string table is searched
    /// linearly).
    class_label: heapgraph_core::StringId,
    /// What `ActivityThread.mServices` holds (its map, the map's arrays or
    /// entries, and their elements: three references deep), or `None` when
    /// the dump has no `ActivityThread` to ask.
    running_services: Option<std::collections::HashSet<NodeIndex>>,
}

impl Inspector<'_> {
    fn running_services(&self) -> Option<std::collections::HashSet<NodeIndex>> {
        let thread = self
            .graph
            .nodes()
            .find(|&n| self.graph.kind(n) == NodeKind::Object && self.is_a(n, ACTIVITY_THREAD))?;
        let services = self.reference(thread, "mServices")?;
        let mut held = std::collections::HashSet::new();
        let mut frontier = vec![services];
        for _ in 0..3 {
            let mut next = Vec::new();
            for node in frontier {
                for edge in self.graph.edges(node) {
                    if matches!(edge.kind, EdgeKind::Property | EdgeKind::Element)
                        && held.insert(edge.target)
                    {
                        next.push(edge.target);
                    }
                }
            }
            frontier = next;
        }
        Some(held)
    }

    /// The class object of an instance (its `<class>` edge).
    fn class_of(&self, node: NodeIndex) -> Option<NodeIndex> {
        self.graph
            .edges(node)
            .find(|e| e.kind == EdgeKind::Internal && e.label == EdgeLabel::Name(self.class_label))
            .map(|e| e.target)
    }

    fn is_a(&self, node: NodeIndex, class: &str) -> bool {
        self.class_of(node)
            .and_then(|c| self.hierarchy.chains.get(&c))
            .is_some_and(|chain| chain.iter().any(|name| name == class))
    }

    fn field(&self, node: NodeIndex, name: &str) -> Option<FieldValue> {
        let fields = self.hprof.instance_fields(self.file, node)?;
        let strings = self.graph.strings();
        fields
            .iter()
            .find(|(n, _)| strings.bytes(*n) == name.as_bytes())
            .map(|f| f.1)
    }

    fn is_true(&self, node: NodeIndex, name: &str) -> bool {
        matches!(self.field(node, name), Some(FieldValue::Boolean(true)))
    }

    fn is_null(&self, node: NodeIndex, name: &str) -> bool {
        matches!(self.field(node, name), Some(FieldValue::Object(0)))
    }

    fn reference(&self, node: NodeIndex, name: &str) -> Option<NodeIndex> {
        match self.field(node, name)? {
            FieldValue::Object(id) if id != 0 => self.graph.node_by_object_id(id),
            _ => None,
        }
    }

    fn is_destroyed_activity(&self, node: NodeIndex) -> bool {
        self.is_a(node, ACTIVITY) && self.is_true(node, "mDestroyed")
    }

    /// `(kind, reason)` when `node` is leaking.
    fn leaking(&self, node: NodeIndex) -> Option<(&'static str, &'static str)> {
        let chain = self.hierarchy.chains.get(&self.class_of(node)?)?;
        let is = |class: &str| chain.iter().any(|name| name == class);
        if is(ACTIVITY) {
            return self
                .is_true(node, "mDestroyed")
                .then_some((ACTIVITY, "Activity#mDestroyed is true"));
        }
        if let Some(&fragment) = FRAGMENTS.iter().find(|f| is(f)) {
            return self
                .is_null(node, "mFragmentManager")
                .then_some((fragment, "Fragment#mFragmentManager is null"));
        }
        if is(VIEW) {
            // The view's context, unwrapped through ContextWrapper.mBase.
            let mut context = self.reference(node, "mContext");
            for _ in 0..16 {
                match context {
                    Some(c) if self.is_destroyed_activity(c) => {
                        return Some((VIEW, "View#mContext is a destroyed Activity"));
                    }
                    Some(c) if self.is_a(c, CONTEXT_WRAPPER) && !self.is_a(c, ACTIVITY) => {
                        context = self.reference(c, "mBase");
                    }
                    _ => return None,
                }
            }
            return None;
        }
        if is(DIALOG) {
            return self
                .is_null(node, "mDecor")
                .then_some((DIALOG, "Dialog#mDecor is null"));
        }
        if is(VIEW_MODEL) {
            return self
                .is_true(node, "mCleared")
                .then_some((VIEW_MODEL, "ViewModel#mCleared is true"));
        }
        if is(SERVICE) {
            let running = self.running_services.as_ref()?;
            return (!running.contains(&node))
                .then_some((SERVICE, "Service not held by ActivityThread.mServices"));
        }
        None
    }
}
