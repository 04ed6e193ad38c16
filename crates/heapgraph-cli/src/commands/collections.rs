//! `heapgraph collections`: Java collections, their fill ratios and the
//! bytes their unused capacity wastes, by class and holding field.

use std::io::Write;
use std::path::Path;

use heapgraph::collections::{collections, group};
use serde::Serialize;

use crate::common::{analyse, open_java_dump, write_json};
use crate::format::{bytes, thousands, Align, Table};
use crate::{GlobalOptions, Outcome};

#[derive(Serialize)]
struct GroupJson {
    class: String,
    holder: String,
    count: u64,
    empty: u64,
    size: u64,
    capacity: u64,
    fill_ratio: f64,
    wasted_bytes: u64,
}

#[derive(Serialize)]
struct CollectionsJson {
    file: String,
    format: &'static str,
    collection_count: u64,
    wasted_bytes: u64,
    groups: Vec<GroupJson>,
}

pub(crate) fn run(
    options: &GlobalOptions,
    file: &Path,
    top: usize,
    out: &mut impl Write,
) -> Result<(), Outcome> {
    let dump = open_java_dump(options, file, "collections")?;
    let analysis = analyse(options, &dump);
    let found = collections(&dump, &analysis);
    let wasted = heapgraph::collections::total_wasted_bytes(&found);
    let groups = crate::common::take_top(group(&found), top);
    if options.json {
        let document = CollectionsJson {
            file: file.display().to_string(),
            format: dump.format().as_str(),
            collection_count: found.len() as u64,
            wasted_bytes: wasted,
            groups: groups
                .into_iter()
                .map(|g| GroupJson {
                    class: g.class,
                    holder: g.holder,
                    count: g.count,
                    empty: g.empty,
                    size: g.size,
                    capacity: g.capacity,
                    fill_ratio: g.fill_ratio,
                    wasted_bytes: g.wasted_bytes,
                })
                .collect(),
        };
        return write_json(out, &document);
    }
    let mut table = Table::new(&[
        ("wasted", Align::Right),
        ("count", Align::Right),
        ("empty", Align::Right),
        ("size", Align::Right),
        ("capacity", Align::Right),
        ("fill", Align::Right),
        ("class", Align::Left),
        ("held by", Align::Left),
    ]);
    for g in groups {
        table.row(vec![
            bytes(g.wasted_bytes),
            thousands(g.count),
            thousands(g.empty),
            thousands(g.size),
            thousands(g.capacity),
            format!("{:.0}%", g.fill_ratio * 100.0),
            g.class,
            g.holder,
        ]);
    }
    write!(out, "{}", table.render())?;
    writeln!(
        out,
        "{} collections, {} wasted in unused capacity",
        thousands(found.len() as u64),
        bytes(wasted)
    )?;
    Ok(())
}
