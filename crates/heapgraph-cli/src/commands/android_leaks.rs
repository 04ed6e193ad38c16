//! `heapgraph android-leaks`: Android objects whose lifecycle has ended but
//! that are still strongly reachable (what LeakCanary reports), each with
//! its shortest strong path from a GC root and the library leaks on it.

use std::io::Write;
use std::path::Path;

use heapgraph::android::lifecycle_leaks;
use serde::Serialize;

use crate::common::{analyse, describe, display_id, open_java_dump, write_json};
use crate::format::{bytes, thousands};
use crate::{GlobalOptions, Outcome};

#[derive(Serialize)]
struct ReferenceJson {
    source_id: u64,
    source_class: String,
    reference: String,
    library_leak: bool,
}

#[derive(Serialize)]
struct LeakJson {
    id: u64,
    class: String,
    kind: &'static str,
    reason: &'static str,
    retained_size: u64,
    library_leak: bool,
    gc_root: String,
    path: Vec<ReferenceJson>,
}

#[derive(Serialize)]
struct AndroidLeaksJson {
    file: String,
    format: &'static str,
    leak_count: u64,
    library_leak_count: u64,
    leaks: Vec<LeakJson>,
}

pub(crate) fn run(
    options: &GlobalOptions,
    file: &Path,
    out: &mut impl Write,
) -> Result<(), Outcome> {
    let dump = open_java_dump(options, file, "android-leaks")?;
    let analysis = analyse(options, &dump);
    let graph = dump.graph();
    let leaks = lifecycle_leaks(&dump, &analysis);
    let library = leaks.iter().filter(|l| l.library_leak).count() as u64;
    if options.json {
        let document = AndroidLeaksJson {
            file: file.display().to_string(),
            format: dump.format().as_str(),
            leak_count: leaks.len() as u64,
            library_leak_count: library,
            leaks: leaks
                .iter()
                .map(|leak| LeakJson {
                    id: graph.object_id(leak.node),
                    class: leak.class.clone(),
                    kind: leak.kind,
                    reason: leak.reason,
                    retained_size: leak.retained_size,
                    library_leak: leak.library_leak,
                    gc_root: leak.gc_root.clone(),
                    path: leak
                        .path
                        .iter()
                        .map(|r| ReferenceJson {
                            source_id: graph.object_id(r.source),
                            source_class: r.source_class.clone(),
                            reference: r.reference.clone(),
                            library_leak: r.library_leak,
                        })
                        .collect(),
                })
                .collect(),
        };
        return write_json(out, &document);
    }
    writeln!(
        out,
        "{} leaking objects ({} through a known library leak)",
        thousands(leaks.len() as u64),
        thousands(library)
    )?;
    for leak in &leaks {
        writeln!(out)?;
        writeln!(
            out,
            "{}  retained {}  {}{}",
            describe(&analysis, leak.node),
            bytes(leak.retained_size),
            leak.reason,
            if leak.library_leak {
                "  [library leak]"
            } else {
                ""
            }
        )?;
        writeln!(out, "    GC root {}", leak.gc_root)?;
        for r in &leak.path {
            writeln!(
                out,
                "    {} {} .{}{}",
                r.source_class,
                display_id(graph.format(), graph.object_id(r.source)),
                r.reference,
                if r.library_leak {
                    "  <- library leak"
                } else {
                    ""
                }
            )?;
        }
    }
    Ok(())
}
