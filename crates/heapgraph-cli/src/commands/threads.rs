//! `heapgraph threads`: every thread of a Java heap dump with its state, its
//! stack and the objects each frame holds (Eclipse MAT's Thread Overview).

use std::io::Write;
use std::path::Path;

use heapgraph::threads::{java_threads, LocalView};
use serde::Serialize;

use crate::common::{analyse, describe, node_json, open_java_dump, write_json, NodeJson};
use crate::format::{bytes, thousands};
use crate::{GlobalOptions, Outcome};

#[derive(Serialize)]
struct LocalJson {
    #[serde(flatten)]
    node: NodeJson,
    jni: bool,
}

#[derive(Serialize)]
struct FrameJson {
    depth: u32,
    function: String,
    file: String,
    line: u32,
    locals_retained_size: u64,
    locals: Vec<LocalJson>,
}

#[derive(Serialize)]
struct ThreadJson {
    #[serde(flatten)]
    node: NodeJson,
    thread_name: Option<String>,
    state: Option<&'static str>,
    daemon: Option<bool>,
    frames: Vec<FrameJson>,
    unframed_locals: Vec<LocalJson>,
}

#[derive(Serialize)]
struct ThreadsJson {
    file: String,
    format: &'static str,
    thread_count: u64,
    threads: Vec<ThreadJson>,
}

/// How many of a frame's locals the table lists.
const LOCALS_SHOWN: usize = 5;

pub(crate) fn run(
    options: &GlobalOptions,
    file: &Path,
    top: usize,
    out: &mut impl Write,
) -> Result<(), Outcome> {
    let dump = open_java_dump(options, file, "threads")?;
    let analysis = analyse(options, &dump);
    let threads = crate::common::take_top(java_threads(&dump, &analysis), top);
    let local_json = |local: &LocalView| LocalJson {
        node: node_json(&analysis, local.node),
        jni: local.jni,
    };
    if options.json {
        let document = ThreadsJson {
            file: file.display().to_string(),
            format: dump.format().as_str(),
            thread_count: threads.len() as u64,
            threads: threads
                .iter()
                .map(|thread| ThreadJson {
                    node: node_json(&analysis, thread.node),
                    thread_name: thread.name.clone(),
                    state: thread.state,
                    daemon: thread.daemon,
                    frames: thread
                        .frames
                        .iter()
                        .map(|frame| FrameJson {
                            depth: frame.depth,
                            function: frame.function.clone(),
                            file: frame.file.clone(),
                            line: frame.line,
                            locals_retained_size: frame.locals_retained_size,
                            locals: frame.locals.iter().map(local_json).collect(),
                        })
                        .collect(),
                    unframed_locals: thread.unframed_locals.iter().map(local_json).collect(),
                })
                .collect(),
        };
        return write_json(out, &document);
    }
    for thread in &threads {
        writeln!(
            out,
            "\"{}\" {}{}  retained {}  {}",
            thread.name.as_deref().unwrap_or("?"),
            thread.state.unwrap_or("(state unknown)"),
            if thread.daemon == Some(true) {
                " daemon"
            } else {
                ""
            },
            bytes(thread.retained_size),
            describe(&analysis, thread.node)
        )?;
        for frame in &thread.frames {
            let location = if frame.line > 0 {
                format!("{}:{}", frame.file, frame.line)
            } else {
                frame.file.clone()
            };
            write!(out, "    at {}({location})", frame.function)?;
            if frame.locals.is_empty() {
                writeln!(out)?;
            } else {
                writeln!(
                    out,
                    "  holds {} objects, {} retained",
                    thousands(frame.locals.len() as u64),
                    bytes(frame.locals_retained_size)
                )?;
            }
            write_locals(out, &analysis, &frame.locals)?;
        }
        if !thread.unframed_locals.is_empty() {
            writeln!(out, "    (no frame)")?;
            write_locals(out, &analysis, &thread.unframed_locals)?;
        }
        writeln!(out)?;
    }
    writeln!(out, "{} threads", thousands(threads.len() as u64))?;
    Ok(())
}

fn write_locals(
    out: &mut impl Write,
    analysis: &heapgraph::analysis::HeapAnalysis<'_>,
    locals: &[LocalView],
) -> Result<(), Outcome> {
    for local in locals.iter().take(LOCALS_SHOWN) {
        writeln!(
            out,
            "        {:>10}  {}{}",
            bytes(local.retained_size),
            describe(analysis, local.node),
            if local.jni { " (JNI local)" } else { "" }
        )?;
    }
    if locals.len() > LOCALS_SHOWN {
        writeln!(
            out,
            "        … and {} more",
            thousands((locals.len() - LOCALS_SHOWN) as u64)
        )?;
    }
    Ok(())
}
