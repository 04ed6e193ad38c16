//! `heapgraph`: heap-dump analysis at the terminal.
//!
//! Exit codes: 0 success, 1 unreadable or invalid input, 2 usage error.

mod commands;
mod common;
mod format;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Big allocations can move to scratch files when a dump does not fit in
/// memory (`--spill`; `heapgraph::spill`).
#[global_allocator]
static ALLOCATOR: heapgraph::spill::SpillAllocator = heapgraph::spill::SpillAllocator;

/// Read V8, Java HPROF and CPython tracemalloc heap dumps and answer what is
/// big, what keeps it alive, and what grew.
///
/// Any subcommand takes any supported dump; the format is detected from the
/// content and `.gz` files are read transparently.
#[derive(Parser, Debug)]
#[command(name = "heapgraph", version, about, long_about = None)]
#[command(after_help = "Examples:\n  \
    heapgraph summary app.heapsnapshot\n  \
    heapgraph histogram --sort retained --top 20 heap.hprof.gz\n  \
    heapgraph retainers heap.hprof 0x7f3a0c2d8\n  \
    heapgraph --json diff before.heapsnapshot after.heapsnapshot")]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalOptions,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every subcommand takes.
#[derive(Args, Debug, Clone)]
pub(crate) struct GlobalOptions {
    /// Print one JSON document on stdout instead of tables.
    #[arg(long, global = true)]
    pub(crate) json: bool,

    /// Print no progress spinners or warnings on stderr.
    #[arg(long, short, global = true)]
    pub(crate) quiet: bool,

    /// HPROF shallow sizes: `mat` (Eclipse MAT's model of a 64-bit JVM with
    /// compressed oops, matches `jcmd GC.class_histogram`) or `raw`
    /// (NetBeans/VisualVM: fields as written, no alignment).
    #[arg(long, global = true, value_enum, default_value_t = SizeModelArg::Mat)]
    pub(crate) size_model: SizeModelArg,

    /// HPROF weak/soft/phantom/final referents: `count` them for retained
    /// sizes (Eclipse MAT) or `ignore` them (NetBeans/VisualVM). Paths to GC
    /// roots never follow them.
    #[arg(long, global = true, value_enum, default_value_t = WeakReferents::Count)]
    pub(crate) weak_referents: WeakReferents,

    /// HPROF files holding several heap dumps (the JVMTI `hprof` agent
    /// writes one per request): which one to read, from 1 (as jhat's
    /// `file#N`).
    #[arg(long, global = true, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) dump: u32,

    /// Where `.gz` dumps are decompressed to before they are mapped (a
    /// scratch file removed at once; it needs room for the decompressed
    /// dump); default: the system's temporary directory.
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) scratch: Option<std::path::PathBuf>,

    /// Threads to use where the work splits (V8 arrays, the HPROF shallow
    /// histogram, the analysis's side work); default: one per core.
    #[arg(long, global = true, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) threads: Option<u16>,

    /// Open V8 and HPROF dumps even when their analysis is estimated to need
    /// more memory than is available (the machine's, or the memory
    /// cgroup's limit); by default such a dump is refused up front with
    /// the estimate, rather than killed by the kernel partway.
    #[arg(long, global = true)]
    pub(crate) no_memory_check: bool,

    /// When the big columns (graph, index, dominator search) go to
    /// file-backed scratch files in --scratch, which the kernel can write
    /// out under memory pressure: `auto` when the dump's analysis does not
    /// fit in the memory available (instead of refusing it), `always`, or
    /// `never`. The output is the same either way.
    #[arg(long, global = true, value_enum, default_value_t = SpillArg::Auto, value_name = "WHEN")]
    pub(crate) spill: SpillArg,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SpillArg {
    Auto,
    Always,
    Never,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SizeModelArg {
    Mat,
    Raw,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WeakReferents {
    Count,
    Ignore,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GroupBy {
    Class,
    Package,
    Classloader,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SortKey {
    Count,
    Shallow,
    Retained,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SiteKey {
    Lineno,
    Filename,
    Traceback,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FlameBy {
    Allocations,
    Retained,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExportWhat {
    Nodes,
    Edges,
    Classes,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Format, producer, counts, sizes, top classes, top dominators and leak
    /// suspects of a dump, on one page.
    ///
    /// Example: heapgraph summary testdata/hprof/hotspot-jdk17-shapes.hprof.gz
    Summary {
        /// The dump to read.
        file: PathBuf,
        /// How many rows each list shows.
        #[arg(long, default_value_t = 10)]
        top: usize,
    },
    /// Instances, shallow and retained size per class.
    ///
    /// A class's retained size counts each instance once: instances dominated
    /// by another instance of the same class are not added again.
    ///
    /// Example: heapgraph histogram --sort retained --class 'java.util.*' heap.hprof
    ///
    /// Example: heapgraph histogram --shallow --top 20 heap.hprof
    Histogram {
        /// The dump to read.
        file: PathBuf,
        /// Sort order (largest first) [default: retained, or shallow with
        /// --shallow].
        #[arg(long, value_enum)]
        sort: Option<SortKey>,
        /// Count and shallow size only, without dominators: several times
        /// faster and lighter (HPROF dumps are read in one parallel pass
        /// without building the graph). Counts every object in the dump,
        /// reachable from a GC root or not, where the default histogram
        /// leaves unreachable HPROF objects out (as Eclipse MAT does). The
        /// retained column is left out; in --json, `retained_size` is null.
        #[arg(long)]
        shallow: bool,
        /// How many classes to show (0 = all).
        #[arg(long, default_value_t = 25)]
        top: usize,
        /// Only classes whose name matches this glob (`*` and `?`); with
        /// --by package or classloader, only groups whose name matches.
        #[arg(long)]
        class: Option<String>,
        /// Group by class (the default), by the package of the class name,
        /// or by the class loader that defined the class (HPROF; Eclipse
        /// MAT's Top Consumers): instances, shallow and retained size per
        /// group, each object counted once.
        #[arg(long, value_enum, default_value_t = GroupBy::Class, conflicts_with = "shallow")]
        by: GroupBy,
    },
    /// The dominator tree from the top-level objects down, largest retained
    /// size first; with --of-class, the immediate dominators of a class's
    /// instances grouped by class (Eclipse MAT's "Immediate Dominators").
    ///
    /// Example: heapgraph dominators --top 5 --depth 3 app.heapsnapshot
    ///
    /// Example: heapgraph dominators --of-class 'byte[]' --skip 'java.*' heap.hprof
    Dominators {
        /// The dump to read.
        file: PathBuf,
        /// How many children to show per node (with --of-class: how many
        /// rows, 0 = all).
        #[arg(long, default_value_t = 10)]
        top: usize,
        /// How many levels to show.
        #[arg(long, default_value_t = 2)]
        depth: usize,
        /// Group the immediate dominators of the instances of the classes
        /// whose name matches this glob (`*` and `?`) by class: how many
        /// objects of each class keep them alive, how many instances they
        /// keep, and what both retain, each object counted once.
        #[arg(long, value_name = "GLOB")]
        of_class: Option<String>,
        /// With --of-class: look through dominators whose class matches
        /// this glob to their own dominator (MAT's -skip; e.g. `java.*`
        /// charges a collection's contents to the object that holds the
        /// collection). Repeatable.
        #[arg(long, value_name = "GLOB", requires = "of_class")]
        skip: Vec<String>,
    },
    /// Android objects whose lifecycle has ended but that are still strongly
    /// reachable, as LeakCanary decides it (destroyed Activity, Fragment
    /// without a FragmentManager, View of a destroyed Activity, dismissed
    /// Dialog, cleared ViewModel, Service no longer in
    /// ActivityThread.mServices), each with its shortest strong path from a
    /// GC root and the known library leaks on it.
    ///
    /// Example: heapgraph android-leaks app.hprof
    AndroidLeaks {
        /// The dump to read (HPROF, usually Android's 1.0.3).
        file: PathBuf,
    },
    /// Java collections (maps, sets, lists, deques, string builders, object
    /// arrays): size, capacity, fill ratio and the bytes unused capacity
    /// wastes, by class and by the field that holds them, most wasted first.
    ///
    /// Example: heapgraph collections --top 20 heap.hprof
    Collections {
        /// The dump to read (HPROF).
        file: PathBuf,
        /// How many groups to show (0 = all).
        #[arg(long, default_value_t = 25)]
        top: usize,
    },
    /// Every thread of a Java heap dump: name, state, stack, the objects
    /// each frame holds in local variables, and what the thread and those
    /// locals retain (Eclipse MAT's Thread Overview), largest first.
    ///
    /// Example: heapgraph threads --top 5 heap.hprof
    Threads {
        /// The dump to read (HPROF).
        file: PathBuf,
        /// How many threads to show (0 = all).
        #[arg(long, default_value_t = 0)]
        top: usize,
    },
    /// What references an object, and its shortest paths from GC roots
    /// (weak references are not followed).
    ///
    /// ID is the object's id as the dump writes it: a V8 node id, an HPROF
    /// address (decimal or 0x-hex), a tracemalloc trace index.
    ///
    /// Example: heapgraph retainers --paths 3 heap.hprof 0x7f3a0c2d8
    Retainers {
        /// The dump to read.
        file: PathBuf,
        /// The object's id.
        id: String,
        /// How many shortest paths to show.
        #[arg(long, default_value_t = 3)]
        paths: usize,
    },
    /// Per class changes between two snapshots: counts, shallow and retained
    /// sizes, and new and deleted objects where ids are stable.
    ///
    /// Example: heapgraph diff before.heapsnapshot after.heapsnapshot
    Diff {
        /// The earlier snapshot.
        old: PathBuf,
        /// The later snapshot.
        new: PathBuf,
        /// How many classes to show (0 = all).
        #[arg(long, default_value_t = 25)]
        top: usize,
    },
    /// Leaks from three snapshots (memlab's method): objects allocated
    /// between BASELINE and TARGET that are still alive in FINAL, kept by
    /// memlab's leak filter (detached DOM, unmounted React Fibers, ...),
    /// grouped by retainer trace.
    ///
    /// Example: heapgraph leaks s1.heapsnapshot s2.heapsnapshot s3.heapsnapshot
    Leaks {
        /// Before the action.
        baseline: PathBuf,
        /// After the action.
        target: PathBuf,
        /// After undoing the action.
        #[arg(value_name = "FINAL")]
        final_: PathBuf,
        /// How many clusters to show (0 = all).
        #[arg(long, default_value_t = 10)]
        top: usize,
        /// Report every object allocated between BASELINE and TARGET that
        /// is still alive and retains something, not only what memlab's
        /// default filter keeps (memlab's --trace-all-objects).
        #[arg(long)]
        all_objects: bool,
        /// Leave out leaks whose trace has a class or edge name matching
        /// this glob (`*`, `?`), or, as `CLASS#FIELD`, a reference named
        /// like FIELD out of a class like CLASS. Repeatable.
        #[arg(long, value_name = "PATTERN")]
        ignore: Vec<String>,
        /// Do not leave out the built-in known leaks and noise (objects
        /// only the DevTools front end keeps; Android library leaks).
        #[arg(long)]
        no_builtin_ignores: bool,
    },
    /// Growth per class over a series of snapshots: slope, R², monotonic
    /// growth.
    ///
    /// Example: heapgraph trend day1.hprof day2.hprof day3.hprof
    Trend {
        /// The snapshots, oldest first (at least 2).
        #[arg(num_args = 2.., required = true)]
        files: Vec<PathBuf>,
        /// How many classes to show (0 = all).
        #[arg(long, default_value_t = 25)]
        top: usize,
    },
    /// Objects and classes retaining at least 10% of the heap (Eclipse MAT's
    /// leak suspects), with accumulation points and paths from GC roots.
    ///
    /// Example: heapgraph suspects heap.hprof
    Suspects {
        /// The dump to read.
        file: PathBuf,
        /// The share of the heap that makes a suspect, in percent.
        #[arg(long, default_value_t = 10.0)]
        threshold: f64,
    },
    /// Allocation-site statistics with Python tracemalloc's exact semantics,
    /// for tracemalloc dumps, .heapprofile files and V8 snapshots taken with
    /// allocation tracking.
    ///
    /// `--python` prints exactly the lines Python prints for `print(stat)`
    /// over `snapshot.statistics(...)` (or `compare_to`), one per line.
    ///
    /// Example: heapgraph sites --by lineno --top 10 --python snapshot.pickle
    Sites {
        /// The dump to read.
        file: PathBuf,
        /// Group by the most recent frame (`lineno`), its file
        /// (`filename`) or the whole stack (`traceback`).
        #[arg(long, value_enum, default_value_t = SiteKey::Lineno)]
        by: SiteKey,
        /// Count every frame of each stack (Python's `cumulative=True`).
        #[arg(long)]
        cumulative: bool,
        /// Compare with an older dump (Python's `compare_to`).
        #[arg(long, value_name = "OLD")]
        compare: Option<PathBuf>,
        /// Keep only allocations whose most recent frame's file matches this
        /// fnmatch pattern (repeatable; any may match).
        #[arg(long, value_name = "PAT")]
        include: Vec<String>,
        /// Drop allocations whose most recent frame's file matches this
        /// fnmatch pattern (repeatable).
        #[arg(long, value_name = "PAT")]
        exclude: Vec<String>,
        /// How many statistics to show (0 = all).
        #[arg(long, default_value_t = 0)]
        top: usize,
        /// Print Python's `str(stat)` lines and nothing else.
        #[arg(long, conflicts_with = "json")]
        python: bool,
    },
    /// An SVG flame graph of the allocation stacks, or an icicle of the
    /// dominator tree by retained size.
    ///
    /// Example: heapgraph flamegraph -o alloc.svg snapshot.pickle
    Flamegraph {
        /// The dump to read.
        file: PathBuf,
        /// The SVG file to write.
        #[arg(short, long)]
        output: PathBuf,
        /// What the bars measure: `allocations` (call stacks, the default
        /// when the dump has them) or `retained` (dominator tree).
        #[arg(long, value_enum)]
        by: Option<FlameBy>,
    },
    /// One self-contained HTML page of the analysis: overview, class
    /// histogram, dominator tree, leak suspects, duplicate strings and a
    /// flame graph, to open in a browser or send to someone. Opening it
    /// fetches nothing. With two dumps (OLD NEW) the page starts with what
    /// changed; with three (BASELINE TARGET FINAL) with the leaks; the rest
    /// describes the last.
    ///
    /// Example: heapgraph report heap.hprof -o report.html
    Report {
        /// One dump, or OLD NEW, or BASELINE TARGET FINAL.
        #[arg(required = true, num_args = 1..=3)]
        files: Vec<PathBuf>,
        /// The HTML file to write.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Nodes, edges or the class histogram as CSV or Parquet (chosen by the
    /// output's extension), for notebooks, DuckDB, Polars or Spark.
    ///
    /// nodes: index, id, kind, name, self_size, shallow_size, retained_size,
    /// dominator_id, distance. edges: source_index, source_id, target_index,
    /// target_id, kind, name. classes: class, count, shallow_size,
    /// retained_size.
    ///
    /// Example: heapgraph export -o nodes.parquet heap.hprof
    Export {
        /// The dump to read (with --dataset, one or more dumps).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The file to write (`.csv` or `.parquet`).
        #[arg(
            short,
            long,
            required_unless_present = "dataset",
            conflicts_with = "dataset"
        )]
        output: Option<PathBuf>,
        /// Which table.
        #[arg(long, value_enum, default_value_t = ExportWhat::Nodes)]
        what: ExportWhat,
        /// Add the dumps to the Hive-partitioned Parquet dataset in DIR
        /// (created if missing): every table of each dump under
        /// DIR/dump=NAME/, one dump at a time; query it with `heapgraph
        /// query --dataset DIR`, DuckDB or Spark.
        #[cfg(feature = "sql")]
        #[arg(long, value_name = "DIR")]
        dataset: Option<PathBuf>,
        /// The dump's name in the dataset (one dump only); default: the file
        /// name without its extensions.
        #[cfg(feature = "sql")]
        #[arg(long, requires = "dataset")]
        name: Option<String>,
    },
    /// Answer a question in SQL (Apache DataFusion) over a dump's tables:
    /// nodes, edges, classes, roots, strings, sites, collections; and the
    /// table functions retainers(id), path_to_root(id, k), dominated_by(id).
    /// With --dataset, over a dataset written by `export --dataset`, every
    /// table with a `dump` column, plus `dumps`. Tables and recipes:
    /// docs/sql.md.
    ///
    /// Example: heapgraph query heap.hprof "SELECT class, count FROM classes ORDER BY count DESC LIMIT 5"
    #[cfg(feature = "sql")]
    Query {
        /// The dump and the query, or with --dataset the query alone.
        #[arg(required = true, num_args = 1..=2, value_names = ["DUMP", "SQL"])]
        args: Vec<String>,
        /// Query the dataset in DIR instead of one dump.
        #[arg(long, value_name = "DIR")]
        dataset: Option<PathBuf>,
        /// Print CSV instead of a table.
        #[arg(long, conflicts_with = "output")]
        csv: bool,
        /// Write the rows to a `.parquet` or `.csv` file.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Duplicate strings: equal values held by several objects, with the
    /// bytes that sharing one copy would save.
    ///
    /// Example: heapgraph strings --top 20 heap.hprof
    Strings {
        /// The dump to read.
        file: PathBuf,
        /// How many values to show (0 = all).
        #[arg(long, default_value_t = 25)]
        top: usize,
        /// Duplicate primitive arrays instead (HPROF): arrays of one element
        /// type with equal contents, other than the strings' own values.
        #[arg(long)]
        arrays: bool,
    },
    /// Write a copy of a dump that can be shared without its secrets: every
    /// string value and primitive array (Java), string value (V8) and
    /// unused symbol replaced by a keyed permutation of the same length,
    /// so equal values stay equal (`strings` finds the same duplicates)
    /// and everything else (objects, references, sizes, ids, roots,
    /// stacks) is unchanged. --names also replaces class, field, function,
    /// property and file names by stable pseudonyms (platform names kept).
    /// The key is random unless --salt is given; it is never written.
    ///
    /// Example: heapgraph redact heap.hprof -o heap-redacted.hprof --names
    Redact {
        /// The dump to redact (HPROF, .heapsnapshot, .heapprofile,
        /// tracemalloc pickle; .gz too).
        file: PathBuf,
        /// The file to write (same format; `.gz` to compress it).
        #[arg(short, long)]
        output: PathBuf,
        /// Also replace names (classes, fields, methods, properties,
        /// functions, file paths) by pseudonyms.
        #[arg(long)]
        names: bool,
        /// Write the pseudonym mapping (original -> pseudonym) to this JSON
        /// file; keep it private.
        #[arg(long, value_name = "FILE", requires = "names")]
        names_map: Option<PathBuf>,
        /// Derive the key from this secret instead of a random one, so that
        /// several dumps redacted with it can be compared (diff, leaks).
        /// Whoever has it can test guesses of redacted values.
        #[arg(long)]
        salt: Option<String>,
    },
}

/// An error that ends the program with exit code 1.
#[derive(Debug)]
pub(crate) struct Failure(pub(crate) String);

/// How a command ended other than successfully.
pub(crate) enum Outcome {
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut stdout = std::io::stdout().lock();
    let g = &cli.global;
    let result = match &cli.command {
        Command::Summary { file, top } => commands::summary::run(g, file, *top, &mut stdout),
        Command::Histogram {
            file,
            sort,
            top,
            class,
            by: by @ (GroupBy::Package | GroupBy::Classloader),
            ..
        } => commands::histogram::run_grouped(
            g,
            file,
            *by,
            sort.unwrap_or(SortKey::Retained),
            *top,
            class.as_deref(),
            &mut stdout,
        ),
        Command::Histogram {
            file,
            sort,
            top,
            class,
            shallow,
            by: GroupBy::Class,
        } => {
            if *shallow && *sort == Some(SortKey::Retained) {
                use clap::CommandFactory;
                Cli::command()
                    .error(
                        clap::error::ErrorKind::ArgumentConflict,
                        "--sort retained needs retained sizes, which --shallow does not compute",
                    )
                    .exit();
            }
            commands::histogram::run(
                g,
                file,
                *sort,
                *top,
                class.as_deref(),
                *shallow,
                &mut stdout,
            )
        }
        Command::Dominators {
            file,
            top,
            depth,
            of_class: None,
            ..
        } => commands::dominators::run(g, file, *top, *depth, &mut stdout),
        Command::Dominators {
            file,
            top,
            of_class: Some(class),
            skip,
            ..
        } => commands::dominators::run_by_class(g, file, class, skip, *top, &mut stdout),
        Command::AndroidLeaks { file } => commands::android_leaks::run(g, file, &mut stdout),
        Command::Collections { file, top } => {
            commands::collections::run(g, file, *top, &mut stdout)
        }
        Command::Threads { file, top } => commands::threads::run(g, file, *top, &mut stdout),
        Command::Retainers { file, id, paths } => {
            commands::retainers::run(g, file, id, *paths, &mut stdout)
        }
        Command::Diff { old, new, top } => commands::diff::run(g, old, new, *top, &mut stdout),
        Command::Leaks {
            baseline,
            target,
            final_,
            top,
            all_objects,
            ignore,
            no_builtin_ignores,
        } => commands::leaks::run(
            g,
            [baseline, target, final_],
            *top,
            &heapgraph::workflows::LeakSettings {
                filter: if *all_objects {
                    heapgraph::analysis::leaks::LeakFilter::AllObjects
                } else {
                    heapgraph::analysis::leaks::LeakFilter::Memlab
                },
                ignore: ignore.clone(),
                builtin_ignores: !*no_builtin_ignores,
            },
            &mut stdout,
        ),
        Command::Trend { files, top } => commands::trend::run(g, files, *top, &mut stdout),
        Command::Suspects { file, threshold } => {
            commands::suspects::run(g, file, *threshold, &mut stdout)
        }
        Command::Strings {
            file,
            top,
            arrays: false,
        } => commands::strings::run(g, file, *top, &mut stdout),
        Command::Strings {
            file,
            top,
            arrays: true,
        } => commands::strings::run_arrays(g, file, *top, &mut stdout),
        #[cfg(feature = "sql")]
        Command::Export {
            files,
            dataset: Some(dir),
            name,
            ..
        } => commands::export::run_dataset(g, files, dir, name.as_deref(), &mut stdout),
        Command::Export {
            files,
            output,
            what,
            ..
        } => commands::export::run_single(g, files, output.as_deref(), *what, &mut stdout),
        #[cfg(feature = "sql")]
        Command::Query {
            args,
            dataset,
            csv,
            output,
        } => commands::query::run_args(
            g,
            args,
            dataset.as_deref(),
            *csv,
            output.as_deref(),
            &mut stdout,
        ),
        Command::Report { files, output } => commands::report::run(g, files, output, &mut stdout),
        Command::Redact {
            file,
            output,
            names,
            names_map,
            salt,
        } => commands::redact::run(
            g,
            &commands::redact::RedactArgs {
                input: file,
                output,
                names: *names,
                names_map: names_map.as_deref(),
                salt: salt.as_deref(),
            },
            &mut stdout,
        ),
        Command::Flamegraph { file, output, by } => {
            commands::flamegraph::run(g, file, output, *by, &mut stdout)
        }
        Command::Sites {
            file,
            by,
            cumulative,
            compare,
            include,
            exclude,
            top,
            python,
        } => commands::sites::run(
            g,
            &commands::sites::SitesArgs {
                file,
                by: *by,
                cumulative: *cumulative,
                compare: compare.as_deref(),
                include,
                exclude,
                top: *top,
                python: *python,
            },
            &mut stdout,
        ),
    };
    match result.and_then(|()| stdout.flush().map_err(Outcome::from)) {
        Ok(()) | Err(Outcome::BrokenPipe) => ExitCode::SUCCESS,
        Err(Outcome::Failed(Failure(message))) => {
            eprintln!("heapgraph: error: {message}");
            ExitCode::from(1)
        }
    }
}
