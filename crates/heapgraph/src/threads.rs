//! The threads of a Java heap dump (Eclipse MAT's Thread Overview): each
//! thread object with its name and state, its stack (HPROF STACK TRACE and
//! STACK FRAME records) and, on each frame, the objects that frame holds in
//! local variables (JAVA FRAME roots; JNI LOCAL roots too), with retained
//! sizes for the thread and for each frame's locals.

use std::collections::HashSet;

use heapgraph_analysis::HeapAnalysis;
use heapgraph_core::{NodeIndex, RootKind};

use crate::Dump;

/// One thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JavaThreadView {
    /// The thread object.
    pub node: NodeIndex,
    /// Its name (`Thread.name`), where the dump has it.
    pub name: Option<String>,
    /// `Thread.getState()` from `threadStatus`, where the dump has it.
    pub state: Option<&'static str>,
    /// Whether it is a daemon thread, where the dump says.
    pub daemon: Option<bool>,
    /// The thread object's retained size.
    pub retained_size: u64,
    /// Its stack, innermost frame first, with the locals each holds.
    pub frames: Vec<FrameView>,
    /// Locals the dump gives no frame for (frame -1, or past the stack).
    pub unframed_locals: Vec<LocalView>,
}

/// One stack frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameView {
    /// 0 for the innermost frame.
    pub depth: u32,
    /// `package.Class.method`.
    pub function: String,
    /// The source file, or the class when the dump has none.
    pub file: String,
    /// The line, 0 when unknown (native or compiled frames).
    pub line: u32,
    /// The objects this frame holds.
    pub locals: Vec<LocalView>,
    /// Their retained size, each object counted once (a local that another
    /// local of the frame dominates is inside that one's).
    pub locals_retained_size: u64,
}

/// An object a frame holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalView {
    /// The object.
    pub node: NodeIndex,
    /// A JNI local reference rather than a Java local variable.
    pub jni: bool,
    /// Its retained size.
    pub retained_size: u64,
}

/// Every thread of an HPROF dump (the objects of its ROOT THREAD OBJECT
/// records), largest retained size first; empty for other formats.
pub fn java_threads(dump: &Dump, analysis: &HeapAnalysis<'_>) -> Vec<JavaThreadView> {
    let Some(hprof) = dump.hprof() else {
        return Vec::new();
    };
    let graph = dump.graph();
    let mut threads: Vec<NodeIndex> = graph
        .root_groups()
        .iter()
        .filter(|(_, kind)| *kind == RootKind::ThreadObject)
        .flat_map(|&(group, _)| graph.edges(group).map(|e| e.target))
        .collect();
    threads.sort_unstable();
    threads.dedup();
    let stacks = graph.stacks();
    let locals = hprof.thread_locals();
    let mut views: Vec<JavaThreadView> = threads
        .into_iter()
        .map(|thread| {
            let about = hprof.java_thread(dump.bytes(), thread).unwrap_or_default();
            let mut frames: Vec<FrameView> = hprof
                .thread_stack(thread)
                .map(|stack| {
                    stacks
                        .frames_innermost_first(stack)
                        .enumerate()
                        .map(|(depth, id)| {
                            let frame = stacks.frame(id);
                            FrameView {
                                depth: depth as u32,
                                function: graph.strings().get(frame.function).into_owned(),
                                file: graph.strings().get(frame.file).into_owned(),
                                line: frame.line,
                                locals: Vec::new(),
                                locals_retained_size: 0,
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            let mut unframed_locals = Vec::new();
            let first = locals.partition_point(|l| l.thread < thread);
            for local in locals[first..].iter().take_while(|l| l.thread == thread) {
                let view = LocalView {
                    node: local.object,
                    jni: local.jni,
                    retained_size: analysis.retained_size(local.object),
                };
                match local.frame.and_then(|f| frames.get_mut(f as usize)) {
                    Some(frame) => frame.locals.push(view),
                    None => unframed_locals.push(view),
                }
            }
            for frame in &mut frames {
                frame.locals_retained_size = retained_once(analysis, &frame.locals);
            }
            JavaThreadView {
                node: thread,
                name: about.name,
                state: about.state,
                daemon: about.daemon,
                retained_size: analysis.retained_size(thread),
                frames,
                unframed_locals,
            }
        })
        .collect();
    views.sort_by(|a, b| {
        b.retained_size
            .cmp(&a.retained_size)
            .then(a.name.cmp(&b.name))
            .then(a.node.cmp(&b.node))
    });
    views
}

/// The retained size of `locals`, each object once: a local with another
/// of them among its dominators adds nothing.
fn retained_once(analysis: &HeapAnalysis<'_>, locals: &[LocalView]) -> u64 {
    let held: HashSet<NodeIndex> = locals.iter().map(|l| l.node).collect();
    let mut counted: HashSet<NodeIndex> = HashSet::new();
    let mut total = 0u64;
    for local in locals {
        if !counted.insert(local.node) {
            continue;
        }
        let mut dominator = analysis.immediate_dominator(local.node);
        let mut inside = false;
        while let Some(node) = dominator {
            if held.contains(&node) {
                inside = true;
                break;
            }
            dominator = analysis.immediate_dominator(node);
        }
        if !inside {
            total = total.saturating_add(local.retained_size);
        }
    }
    total
}
