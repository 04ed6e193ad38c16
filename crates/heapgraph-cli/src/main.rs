//! `heapgraph`: heap-dump analysis at the terminal.
//!
//! Exit codes: 0 success, 1 unreadable or invalid input, 2 usage error.

mod commands;
mod format;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Read V8, Java HPROF and CPython tracemalloc heap dumps and answer what is
/// big, what keeps it alive, and what grew.
///
/// Any subcommand takes any supported dump; the format is detected from the
/// content and `.gz` files are read transparently.
#[derive(Parser, Debug)]
#[command(name = "heapgraph", version, about, long_about = None)]
#[command(
    after_help = "Examples:\n  heapgraph summary app.heapsnapshot\n  heapgraph summary --json heap.hprof.gz"
)]
pub struct Cli {
    /// Print one JSON document on stdout instead of tables.
    #[arg(long, global = true)]
    pub json: bool,

    /// Print no progress or warnings on stderr.
    #[arg(long, short, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Format, producer, counts, total size and the top classes of a dump.
    ///
    /// Example: heapgraph summary testdata/hprof/small.hprof
    Summary {
        /// The dump to read.
        file: PathBuf,
        /// How many classes to list.
        #[arg(long, default_value_t = 10)]
        top: usize,
    },
}

/// An error that ends the program with exit code 1.
#[derive(Debug)]
pub struct Failure(String);

impl Failure {
    fn in_file(file: &std::path::Path, error: impl std::fmt::Display) -> Failure {
        Failure(format!("{}: {error}", file.display()))
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut stdout = std::io::stdout().lock();
    let result = match &cli.command {
        Command::Summary { file, top } => commands::summary::run(&cli, file, *top, &mut stdout),
    };
    match result {
        Ok(()) => match stdout.flush() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("heapgraph: error: cannot write output: {e}");
                ExitCode::from(1)
            }
        },
        Err(Outcome::Failed(Failure(message))) => {
            eprintln!("heapgraph: error: {message}");
            ExitCode::from(1)
        }
        Err(Outcome::BrokenPipe) => ExitCode::SUCCESS,
    }
}

/// How a command ended other than successfully.
pub enum Outcome {
    /// Invalid input or another error to report.
    Failed(Failure),
    /// stdout was closed by the reader (e.g. `| head`): end quietly.
    BrokenPipe,
}

impl From<Failure> for Outcome {
    fn from(failure: Failure) -> Outcome {
        Outcome::Failed(failure)
    }
}

impl From<std::io::Error> for Outcome {
    fn from(e: std::io::Error) -> Outcome {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Outcome::BrokenPipe
        } else {
            Outcome::Failed(Failure(format!("cannot write output: {e}")))
        }
    }
}

/// Opens a dump, turning errors into messages that name the file.
pub fn open_dump(file: &std::path::Path) -> Result<heapgraph::Dump, Failure> {
    heapgraph::open(file).map_err(|e| match e {
        // The I/O error already names the path.
        heapgraph::Error::Io { .. } => Failure(e.to_string()),
        other => Failure::in_file(file, other),
    })
}

/// Writes `value` as pretty JSON followed by a newline.
pub fn write_json(out: &mut impl Write, value: &impl serde::Serialize) -> Result<(), Outcome> {
    serde_json::to_writer_pretty(&mut *out, value)
        .map_err(|e| Outcome::from(std::io::Error::from(e)))?;
    writeln!(out)?;
    Ok(())
}
