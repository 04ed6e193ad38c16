//! `heapgraph redact`: a dump rewritten without its secrets.

use std::io::Write;
use std::path::Path;

use heapgraph::redact::{Key, Options, Report};
use serde::Serialize;

use crate::common::write_json;
use crate::format::thousands;
use crate::{Failure, GlobalOptions, Outcome};

#[derive(Serialize)]
struct RedactJson<'a> {
    input: String,
    output: String,
    names: bool,
    salted: bool,
    values: u64,
    value_bytes: u64,
    unused_scrubbed: u64,
    hashes_cleared: u64,
    opaque_records: u64,
    names_replaced: u64,
    names_kept: u64,
    names_map: Option<&'a str>,
}

#[derive(Serialize)]
struct NameJson<'a> {
    original: &'a str,
    pseudonym: &'a str,
}

/// The arguments of `heapgraph redact`.
pub(crate) struct RedactArgs<'a> {
    pub input: &'a Path,
    pub output: &'a Path,
    pub names: bool,
    pub names_map: Option<&'a Path>,
    pub salt: Option<&'a str>,
}

pub(crate) fn run(
    options: &GlobalOptions,
    args: &RedactArgs<'_>,
    out: &mut impl Write,
) -> Result<(), Outcome> {
    let key = match args.salt {
        Some(salt) => Key::from_salt(salt.as_bytes()),
        None => Key::random().map_err(|e| Failure(e.to_string()))?,
    };
    let redact_options = Options {
        key,
        names: args.names,
    };
    let report = crate::common::with_progress(
        options,
        format!("redacting {}", args.input.display()),
        || {
            heapgraph::redact::redact_file_with(
                args.input,
                args.output,
                &redact_options,
                &crate::common::open_options(options),
            )
        },
    )
    .map_err(|e| Failure(format!("{}: {e}", args.input.display())))?;
    if let Some(path) = args.names_map {
        write_names_map(path, &report)?;
    }
    if options.json {
        return write_json(
            out,
            &RedactJson {
                input: args.input.display().to_string(),
                output: args.output.display().to_string(),
                names: args.names,
                salted: args.salt.is_some(),
                values: report.values,
                value_bytes: report.value_bytes,
                unused_scrubbed: report.unused_scrubbed,
                hashes_cleared: report.hashes_cleared,
                opaque_records: report.opaque_records,
                names_replaced: report.names_replaced,
                names_kept: report.names_kept,
                names_map: args.names_map.and_then(|p| p.to_str()),
            },
        );
    }
    writeln!(out, "{} -> {}", args.input.display(), args.output.display())?;
    writeln!(
        out,
        "  values replaced:        {} ({} bytes or UTF-16 units)",
        thousands(report.values),
        thousands(report.value_bytes)
    )?;
    if report.unused_scrubbed > 0 {
        writeln!(
            out,
            "  unused strings scrubbed: {} (symbols and strings nothing names or holds)",
            thousands(report.unused_scrubbed)
        )?;
    }
    if report.hashes_cleared > 0 {
        writeln!(
            out,
            "  String.hash cleared:    {}",
            thousands(report.hashes_cleared)
        )?;
    }
    if report.opaque_records > 0 {
        writeln!(
            out,
            "  unknown records scrubbed: {}",
            thousands(report.opaque_records)
        )?;
    }
    if args.names {
        writeln!(
            out,
            "  names replaced:         {} ({} platform names kept)",
            thousands(report.names_replaced),
            thousands(report.names_kept)
        )?;
    } else {
        writeln!(
            out,
            "  names kept (class, field, function and file names; --names replaces them)"
        )?;
    }
    if report.values == 0 && !args.names {
        writeln!(
            out,
            "  note: this file holds no values, only names: use --names to replace them"
        )?;
    }
    if args.salt.is_none() {
        writeln!(
            out,
            "  key: random, not kept (redact with the same --salt to compare two dumps)"
        )?;
    }
    Ok(())
}

fn write_names_map(path: &Path, report: &Report) -> Result<(), Failure> {
    let names: Vec<NameJson<'_>> = report
        .names_map
        .iter()
        .map(|(original, pseudonym)| NameJson {
            original,
            pseudonym,
        })
        .collect();
    let text = serde_json::to_string_pretty(&serde_json::json!({ "names": names }))
        .map_err(|e| Failure(e.to_string()))?;
    std::fs::write(path, text + "\n")
        .map_err(|e| Failure(format!("cannot write {}: {e}", path.display())))
}
