//! Read heap dumps from V8, the JVM and CPython into one object graph.
//!
//! `heapgraph` is the facade Rust users depend on. [`open`] detects the
//! format from the file's first bytes (never its name), decompresses `.gz`
//! transparently, memory-maps plain files, and returns a [`Dump`]: the
//! common [`HeapGraph`] plus the format's own details.
//!
//! ```no_run
//! let dump = heapgraph::open("app.heapsnapshot")?;
//! let graph = dump.graph();
//! println!("{} nodes, {} edges, {} bytes", graph.node_count(), graph.edge_count(),
//!          graph.total_self_size());
//! # Ok::<(), heapgraph::Error>(())
//! ```
//!
//! The graph model lives in [`heapgraph_core`] and is re-exported here as
//! [`core`].

#![deny(missing_docs)]
// A build without every format leaves match arms, helpers and imports that
// only the missing formats use; the full build (the default) keeps every
// lint.
#![cfg_attr(
    not(all(feature = "v8", feature = "hprof", feature = "tracemalloc")),
    allow(
        unreachable_patterns,
        unused_imports,
        unused_variables,
        unused_mut,
        dead_code
    )
)]

#[cfg(not(any(feature = "v8", feature = "hprof", feature = "tracemalloc")))]
compile_error!("heapgraph needs at least one format feature: `v8`, `hprof` or `tracemalloc`");

mod analysed;
#[cfg(feature = "hprof")]
pub mod android;
#[cfg(feature = "hprof")]
pub mod collections;
mod histogram;
pub mod memory;
pub mod redact;
mod sniff;
mod source;
pub mod spill;
#[cfg(feature = "hprof")]
pub mod threads;
pub mod workflows;

use std::path::Path;

pub use analysed::Analysed;
pub use heapgraph_analysis as analysis;
pub use heapgraph_core as core;
pub use heapgraph_core::{Format, HeapGraph};
#[cfg(feature = "hprof")]
pub use heapgraph_hprof as hprof;
#[cfg(feature = "tracemalloc")]
pub use heapgraph_tracemalloc as tracemalloc;
#[cfg(feature = "v8")]
pub use heapgraph_v8 as v8;
pub use histogram::{shallow_histogram, ShallowClassRow, ShallowHistogram};
pub use sniff::{sniff, InputKind, SNIFF_BYTES};
pub use source::Source;

/// Why a dump could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The scratch file a gzip file is decompressed into could not be
    /// created or written (see [`OpenOptions::scratch_dir`]).
    #[error("cannot write the decompressed dump to {path}: {source}")]
    Scratch {
        /// The scratch file.
        path: std::path::PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The gzip stream is corrupt or truncated.
    #[error("corrupt gzip data at compressed byte {offset}: {source}")]
    Gzip {
        /// Where in the compressed bytes decoding failed: how many the
        /// decoder had used, or for a checksum that does not match, where
        /// its member's 8-byte trailer starts.
        offset: u64,
        /// What the decoder said.
        source: std::io::Error,
    },
    /// The decompressed data would exceed the configured size limit.
    #[error("decompressed data exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The configured limit.
        limit: u64,
    },
    /// The content is not a format heapgraph reads.
    #[error(
        "not a supported heap dump: expected a V8 .heapsnapshot or .heapprofile, a Java HPROF \
         dump or a Python tracemalloc pickle, but the file starts with {start}"
    )]
    UnsupportedFormat {
        /// The first bytes, escaped for display.
        start: String,
    },
    /// The format was recognised but this build has no parser for it.
    #[error("{0} files are recognised but not supported by this build of heapgraph yet")]
    NoParser(&'static str),
    /// Building the graph failed (limits exceeded; a tracemalloc snapshot's
    /// graph, see [`Dump::try_graph`]).
    #[error(transparent)]
    Build(#[from] heapgraph_core::BuildError),
    /// The HPROF dump is malformed.
    #[cfg(feature = "hprof")]
    #[error("invalid HPROF dump: {0}")]
    Hprof(#[from] heapgraph_hprof::HprofError),
    /// The V8 snapshot or profile is malformed.
    #[cfg(feature = "v8")]
    #[error("invalid V8 file: {0}")]
    V8(#[from] heapgraph_v8::V8Error),
    /// The pickle is malformed or not a tracemalloc snapshot.
    #[cfg(feature = "tracemalloc")]
    #[error("invalid tracemalloc snapshot: {0}")]
    Tracemalloc(#[from] heapgraph_tracemalloc::TracemallocError),
    /// Snapshots compared by a workflow ([`workflows::diff`],
    /// [`workflows::leaks`]) are not of one format.
    #[error("{}", describe_mismatch(formats))]
    FormatMismatch {
        /// The snapshots' formats, in order.
        formats: Vec<&'static str>,
    },
    /// The dump would need more memory to analyse than this process may
    /// use, and the scratch directory has no room for the part that would
    /// be spilled to it (see [`OpenOptions::spill`]).
    #[error(
        "this {kind} of {} needs about {} of memory to analyse, but only {} is available \
         ({limited_by}), and the scratch directory {dir} has only {} free for the rest; give \
         --scratch a directory with room, or run it where more memory is available",
        memory::human(*input_bytes),
        memory::human(*needed),
        memory::human(*available),
        memory::human(*scratch_free),
        dir = scratch_dir.display()
    )]
    NotEnoughScratch {
        /// The kind of input.
        kind: &'static str,
        /// Its size (decompressed).
        input_bytes: u64,
        /// The estimated peak of a full analysis.
        needed: u64,
        /// What this process may still allocate.
        available: u64,
        /// Where `available` comes from.
        limited_by: &'static str,
        /// The directory scratch files would go to.
        scratch_dir: std::path::PathBuf,
        /// Its free space.
        scratch_free: u64,
    },
    /// Spilling to scratch files was asked for ([`Spill::Always`]) but
    /// cannot start: the program's global allocator is not
    /// [`spill::SpillAllocator`], the platform is not Linux, or the scratch
    /// directory cannot be opened.
    #[error("cannot spill to scratch files in {dir}: {source}")]
    SpillUnavailable {
        /// The scratch directory.
        dir: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The dump would need more memory to analyse than this process may use
    /// (see [`OpenOptions::memory_check`] and [`memory`]): refused before
    /// parsing, instead of being killed by the kernel halfway through.
    #[error(
        "this {kind} of {} needs about {} of memory to analyse{}, but only {} is available \
         ({limited_by}); run it where more memory is available, or skip this check \
         (--no-memory-check) to try anyway",
        memory::human(*input_bytes),
        memory::human(*needed),
        needed_when_spilling
            .map(|bytes| format!(", or {} with the rest spilled to scratch files", memory::human(bytes)))
            .unwrap_or_default(),
        memory::human(*available)
    )]
    NotEnoughMemory {
        /// The kind of input.
        kind: &'static str,
        /// Its size (decompressed).
        input_bytes: u64,
        /// The estimated peak of a full analysis.
        needed: u64,
        /// What it would need with its big columns spilled to scratch
        /// files (see [`OpenOptions::spill`]), where spilling was possible.
        needed_when_spilling: Option<u64>,
        /// What this process may still allocate.
        available: u64,
        /// Where `available` comes from.
        limited_by: &'static str,
    },
    /// The thread pool asked for by [`OpenOptions::threads`] could not be
    /// started.
    #[error("cannot start the thread pool: {0}")]
    Threads(String),
}

/// Primitive arrays of one type with equal contents (see
/// [`Dump::duplicate_arrays`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateArray {
    /// The element type's Java name (`byte`, `int`, …).
    pub element_type: &'static str,
    /// Elements in each copy.
    pub length: u64,
    /// The copies: `value` holds the contents as dumped (big-endian).
    pub copies: heapgraph_analysis::strings::DuplicateString,
}

/// Options for [`open_with`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct OpenOptions {
    /// Memory-map plain files instead of reading them into memory
    /// (default: true). See [`Source`] for what mapping assumes.
    pub memory_map: bool,
    /// The largest decompressed size accepted for gzip input, in bytes
    /// (default: unlimited).
    pub max_decompressed_bytes: u64,
    /// Where a gzip file is decompressed to before it is mapped (see
    /// [`Source`]); default: the system's temporary directory. It needs
    /// room for the decompressed dump.
    pub scratch_dir: Option<std::path::PathBuf>,
    /// How HPROF dumps are read (size model, compressed references).
    #[cfg(feature = "hprof")]
    pub hprof: heapgraph_hprof::HprofOptions,
    /// Bounds on the graph a dump may produce (nodes, edges, string
    /// bytes); a dump beyond them is refused with
    /// [`Error::Build`]`(`[`BuildError::LimitExceeded`](heapgraph_core::BuildError::LimitExceeded)`)`
    /// or the parser's own error naming the offset, as soon as the parser
    /// knows, before the graph is complete. Default: the model's limits.
    /// For HPROF the stricter of these and `hprof.limits` applies.
    pub limits: heapgraph_core::Limits,
    /// Whether HPROF weak, soft, phantom and final referents count for
    /// retained sizes ([`WeakReferents::Count`], Eclipse MAT, the default)
    /// or not ([`WeakReferents::Ignore`], NetBeans/VisualVM); used by
    /// [`Dump::analyse`]. Paths to GC roots never follow them either way.
    pub weak_referents: WeakReferents,
    /// Threads for the work that splits: the parsers' parallel passes (in
    /// a pool of this size) and the analysis's second thread (only when
    /// more than one). `None` (default): rayon's global pool, one thread
    /// per core, and a second analysis thread when the machine has two
    /// cores.
    pub threads: Option<std::num::NonZeroUsize>,
    /// Refuse, before parsing, a dump whose full analysis is estimated to
    /// need more memory than this process may use (the machine's available
    /// memory, or its memory cgroup's limit), with
    /// [`Error::NotEnoughMemory`] saying how much it needs, rather than be
    /// killed by the kernel partway (default: true). The estimate is per
    /// byte of input, measured on real dumps (see [`memory`]).
    pub memory_check: bool,
    /// When the graph's big columns go to file-backed scratch memory in
    /// [`scratch_dir`](Self::scratch_dir), which the kernel can write out
    /// and drop under memory pressure, so that a dump larger than the
    /// memory given can still be analysed (see [`spill`]; takes effect
    /// only in programs whose global allocator is
    /// [`spill::SpillAllocator`], as the `heapgraph` command line's is).
    /// Default [`Spill::Auto`].
    pub spill: Spill,
    /// tracemalloc: keep only each traceback's innermost frame (default
    /// false), which reads dumps of deep, distinct tracebacks much faster
    /// and is exact for site statistics by line or file without
    /// `cumulative` and for filters on the innermost frame (see
    /// `heapgraph_tracemalloc::ParseOptions::innermost_frame_only`). Other
    /// formats ignore it.
    pub innermost_frame_only: bool,
    /// V8 snapshots: read the `locations` section (closure source
    /// positions) into [`heapgraph_v8::V8Snapshot::locations`] (default
    /// false). Nothing in heapgraph's analysis or output reads them, and
    /// they cost 24 bytes per closure, so they are skipped unless asked for.
    pub v8_locations: bool,
}

/// When big allocations go to scratch files (see [`OpenOptions::spill`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Spill {
    /// When the memory check finds that a dump's analysis does not fit in
    /// the memory available, and the spilling allocator is installed;
    /// otherwise the dump is refused as [`Error::NotEnoughMemory`].
    #[default]
    Auto,
    /// From the start of every parse (the output is the same, the speed
    /// the disk's); fails with [`Error::SpillUnavailable`] where it
    /// cannot.
    Always,
    /// Never: a dump that does not fit is refused.
    Never,
}

/// Whether weak referents count for retained sizes (see
/// [`OpenOptions::weak_referents`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum WeakReferents {
    /// They count, as in Eclipse MAT.
    #[default]
    Count,
    /// They do not, as in NetBeans and VisualVM.
    Ignore,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            memory_map: true,
            max_decompressed_bytes: u64::MAX,
            scratch_dir: None,
            #[cfg(feature = "hprof")]
            hprof: heapgraph_hprof::HprofOptions::default(),
            limits: heapgraph_core::Limits::default(),
            weak_referents: WeakReferents::Count,
            threads: None,
            memory_check: true,
            spill: Spill::Auto,
            innermost_frame_only: false,
            v8_locations: false,
        }
    }
}

impl OpenOptions {
    /// [`scratch_dir`](Self::scratch_dir), or the system's temporary
    /// directory.
    pub fn scratch_dir_or_temp(&self) -> std::path::PathBuf {
        self.scratch_dir.clone().unwrap_or_else(std::env::temp_dir)
    }

    /// Runs `work` with the threads these options allow: in a rayon pool of
    /// [`threads`](Self::threads) threads when set, else as it is.
    fn with_threads<T: Send>(&self, work: impl FnOnce() -> T + Send) -> Result<T, Error> {
        match self.threads {
            None => Ok(work()),
            Some(threads) => {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads.get())
                    .build()
                    .map_err(|e| Error::Threads(e.to_string()))?;
                Ok(pool.install(work))
            }
        }
    }
}

/// A parsed dump: the common graph plus the format's own details.
#[derive(Debug)]
pub struct Dump {
    source: std::sync::Arc<Source>,
    parsed: Parsed,
    input: InputKind,
    detached: Option<Vec<bool>>,
    /// The heap dump of an HPROF file that was read (from 1).
    #[cfg(feature = "hprof")]
    hprof_dump: u32,
    weak_referents: WeakReferents,
    threads: Option<std::num::NonZeroUsize>,
    /// What [`Dump::graph`] shows when the graph could not be built.
    root_only: std::sync::OnceLock<HeapGraph>,
}

/// A graph of the root alone, for [`Dump::graph`] when the real one could
/// not be built.
fn root_only_graph() -> HeapGraph {
    let builder = heapgraph_core::GraphBuilder::new(Format::Tracemalloc);
    #[allow(clippy::expect_used)]
    // An empty builder interns one string and adds one node at `finish`: no
    // bound can be exceeded and no input is involved.
    builder.finish().expect("an empty graph always builds")
}

/// What a format's parser returned.
#[derive(Debug)]
#[non_exhaustive]
pub enum Parsed {
    /// An HPROF dump with its side tables.
    #[cfg(feature = "hprof")]
    Hprof(Box<heapgraph_hprof::HprofDump>),
    /// A V8 heap snapshot with its side tables.
    #[cfg(feature = "v8")]
    V8Snapshot(Box<heapgraph_v8::V8Snapshot>),
    /// A V8 sampling heap profile.
    #[cfg(feature = "v8")]
    V8Profile(Box<heapgraph_v8::HeapProfile>),
    /// A tracemalloc snapshot.
    #[cfg(feature = "tracemalloc")]
    Tracemalloc(Box<heapgraph_tracemalloc::TracemallocSnapshot>),
}

impl Dump {
    /// The object graph. A tracemalloc snapshot's is built from its trace
    /// table on first use, which can fail (see [`try_graph`](Self::try_graph),
    /// which front ends call first); should it have failed, this is a graph
    /// of the root alone.
    pub fn graph(&self) -> &HeapGraph {
        match self.try_graph() {
            Ok(graph) => graph,
            Err(_) => self.root_only.get_or_init(root_only_graph),
        }
    }

    /// The object graph, or why it could not be built (only a tracemalloc
    /// snapshot's graph is built after the file was read: see
    /// [`TracemallocSnapshot::graph`](heapgraph_tracemalloc::TracemallocSnapshot::graph)).
    ///
    /// # Errors
    ///
    /// [`Error::Build`] with the graph builder's refusal.
    pub fn try_graph(&self) -> Result<&HeapGraph, Error> {
        match &self.parsed {
            #[cfg(feature = "hprof")]
            Parsed::Hprof(dump) => Ok(dump.graph()),
            #[cfg(feature = "v8")]
            Parsed::V8Snapshot(snapshot) => Ok(&snapshot.graph),
            #[cfg(feature = "v8")]
            Parsed::V8Profile(profile) => Ok(&profile.graph),
            #[cfg(feature = "tracemalloc")]
            Parsed::Tracemalloc(snapshot) => Ok(snapshot.graph()?),
        }
    }

    /// Analyses the dump under its format's reference rules (DevTools for
    /// V8, Eclipse MAT for HPROF, with weak referents as
    /// [`OpenOptions::weak_referents`] says), with V8 detachedness applied
    /// to class names.
    pub fn analyse(&self) -> heapgraph_analysis::HeapAnalysis<'_> {
        self.analyse_with(self.policy())
    }

    /// The edge policy [`analyse`](Self::analyse) uses: the format's
    /// reference rules, NetBeans' for HPROF when weak referents are ignored.
    pub fn policy(&self) -> heapgraph_analysis::EdgePolicy {
        use heapgraph_analysis::EdgePolicy;
        match (self.format(), self.weak_referents) {
            (Format::Hprof, WeakReferents::Ignore) => EdgePolicy::netbeans(),
            (format, _) => EdgePolicy::for_format(format),
        }
    }

    /// Analyses the dump under `policy` (e.g. `EdgePolicy::netbeans()` to
    /// ignore referents for retained sizes).
    pub fn analyse_with(
        &self,
        policy: heapgraph_analysis::EdgePolicy,
    ) -> heapgraph_analysis::HeapAnalysis<'_> {
        let detachedness = self.detachedness();
        let threads = match self.threads {
            Some(threads) => threads.get(),
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        heapgraph_analysis::HeapAnalysis::with_threads(self.graph(), policy, detachedness, threads)
    }

    /// V8's DOM states per node (`detachedness`, as the file has it), for
    /// snapshots that record them.
    pub fn detachedness(&self) -> Option<&[heapgraph_core::DomState]> {
        match &self.parsed {
            #[cfg(feature = "v8")]
            Parsed::V8Snapshot(snapshot) => snapshot.detachedness.as_deref(),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// Duplicate strings: V8 flat strings, or Java `java.lang.String`
    /// instances (their text read lazily from the file, each copy costing
    /// the `String` plus its `value` array under `analysis`' shallow sizes).
    /// `None` for formats without string objects (tracemalloc, profiles).
    pub fn duplicate_strings(
        &self,
        analysis: &heapgraph_analysis::HeapAnalysis<'_>,
    ) -> Option<Vec<heapgraph_analysis::strings::DuplicateString>> {
        use heapgraph_analysis::strings::{duplicate_strings, v8_strings};
        match &self.parsed {
            #[cfg(feature = "v8")]
            Parsed::V8Snapshot(snapshot) => Some(duplicate_strings(v8_strings(&snapshot.graph))),
            #[cfg(feature = "hprof")]
            Parsed::Hprof(hprof) => {
                let strings = hprof.java_strings(self.bytes(), analysis.shallow_sizes());
                Some(duplicate_strings(
                    strings.iter().map(|(n, v, s)| (*n, v.as_slice(), *s)),
                ))
            }
            _ => None,
        }
    }

    /// Duplicate primitive arrays of an HPROF dump (as Perfetto reports
    /// them next to duplicate strings): arrays of one element type with
    /// equal contents, as `(element type, group)` with each group's value
    /// the raw big-endian contents, most wasted bytes first. The arrays
    /// behind `java.lang.String`s are left to [`duplicate_strings`](Self::duplicate_strings).
    /// Contents are read in place from the dump, not copied. `None` for
    /// other formats.
    #[cfg(feature = "hprof")]
    pub fn duplicate_arrays(
        &self,
        analysis: &heapgraph_analysis::HeapAnalysis<'_>,
    ) -> Option<Vec<DuplicateArray>> {
        use heapgraph_core::{EdgeLabel, NodeKind};
        let hprof = self.hprof()?;
        let graph = hprof.graph();
        // The String values: `value` targets of java.lang.String instances.
        let value = graph.strings().find(b"value");
        let mut string_values = std::collections::HashSet::new();
        for node in graph.nodes() {
            if graph.kind(node) == NodeKind::Object && graph.name_str(node) == "java.lang.String" {
                for edge in graph.edges(node) {
                    if value.is_some_and(|v| edge.label == EdgeLabel::Name(v)) {
                        string_values.insert(edge.target);
                    }
                }
            }
        }
        type Arrays<'b> = Vec<(heapgraph_core::NodeIndex, &'b [u8], u64)>;
        let mut by_type: std::collections::BTreeMap<(&'static str, u8), Arrays<'_>> =
            std::collections::BTreeMap::new();
        for node in graph.nodes() {
            if graph.kind(node) != NodeKind::PrimitiveArray
                || string_values.contains(&node)
                || !analysis.dominator_tree().contains(node)
            {
                continue;
            }
            if let Some((ty, contents)) = hprof.primitive_array(self.bytes(), node) {
                let width = ty.file_size(hprof.id_size()).max(1);
                by_type.entry((ty.java_name(), width)).or_default().push((
                    node,
                    contents,
                    analysis.shallow_size(node),
                ));
            }
        }
        let mut groups: Vec<DuplicateArray> = by_type
            .into_iter()
            .flat_map(|((element_type, width), arrays)| {
                heapgraph_analysis::strings::duplicate_strings(arrays)
                    .into_iter()
                    .map(move |copies| DuplicateArray {
                        element_type,
                        length: copies.value.len() as u64 / u64::from(width),
                        copies,
                    })
            })
            .collect();
        groups.sort_by(|a, b| {
            b.copies
                .wasted_bytes
                .cmp(&a.copies.wasted_bytes)
                .then(b.copies.count.cmp(&a.copies.count))
                .then(a.element_type.cmp(b.element_type))
                .then_with(|| a.copies.value.cmp(&b.copies.value))
        });
        Some(groups)
    }

    /// The format's own details (side tables beyond the common graph).
    pub fn parsed(&self) -> &Parsed {
        &self.parsed
    }

    /// The HPROF details, if this is an HPROF dump.
    #[cfg(feature = "hprof")]
    pub fn hprof(&self) -> Option<&heapgraph_hprof::HprofDump> {
        match &self.parsed {
            Parsed::Hprof(dump) => Some(dump),
            _ => None,
        }
    }

    /// Per node: whether it is a detached DOM node (V8 snapshots with
    /// `detachedness`); `None` for formats without a DOM.
    pub fn detached_nodes(&self) -> Option<&[bool]> {
        self.detached.as_deref()
    }

    /// The V8 snapshot details, if this is a V8 heap snapshot.
    #[cfg(feature = "v8")]
    pub fn v8_snapshot(&self) -> Option<&heapgraph_v8::V8Snapshot> {
        match &self.parsed {
            Parsed::V8Snapshot(snapshot) => Some(snapshot),
            _ => None,
        }
    }

    /// The tracemalloc details, if this is a tracemalloc snapshot.
    #[cfg(feature = "tracemalloc")]
    pub fn tracemalloc(&self) -> Option<&heapgraph_tracemalloc::TracemallocSnapshot> {
        match &self.parsed {
            Parsed::Tracemalloc(snapshot) => Some(snapshot),
            _ => None,
        }
    }

    /// The allocations of the dump, for site statistics: tracemalloc traces
    /// (with their domains), `.heapprofile` samples, and the objects of V8
    /// snapshots taken with allocation tracking. Empty for dumps without
    /// allocation stacks.
    pub fn allocations(&self) -> heapgraph_analysis::sites::Allocations<'_> {
        use heapgraph_analysis::sites::Allocations;
        match &self.parsed {
            // The trace table alone: the graph is not built.
            #[cfg(feature = "tracemalloc")]
            Parsed::Tracemalloc(snapshot) => {
                let columns = snapshot.columns();
                Allocations::from_columns(
                    snapshot.strings(),
                    snapshot.stacks(),
                    heapgraph_analysis::sites::AllocationColumns {
                        stacks: &columns.stacks,
                        sizes: &columns.sizes,
                        large_sizes: &columns.large_sizes,
                        domains: columns.domains.as_deref(),
                    },
                )
            }
            _ => Allocations::new(self.graph()),
        }
    }

    /// Whether object ids identify the same object across two snapshots of
    /// one process (true for V8 snapshots from Node, Chrome and Deno; false
    /// for HPROF, whose ids are addresses that move, for Bun, and for
    /// tracemalloc, which has no ids).
    pub fn ids_are_stable(&self) -> bool {
        match &self.parsed {
            #[cfg(feature = "v8")]
            Parsed::V8Snapshot(snapshot) => snapshot.ids_stable_across_snapshots(),
            _ => false,
        }
    }

    /// What building the graph noticed (dangling edges, unresolved
    /// references). A tracemalloc dump's graph never has any, so this does
    /// not build it.
    pub fn diagnostics(&self) -> &heapgraph_core::BuildDiagnostics {
        static NONE: heapgraph_core::BuildDiagnostics = heapgraph_core::BuildDiagnostics {
            dangling_edges: 0,
            first_dangling_edge: None,
            duplicate_roots: 0,
            unresolved_references: 0,
        };
        match &self.parsed {
            #[cfg(feature = "tracemalloc")]
            Parsed::Tracemalloc(snapshot) if !snapshot.graph_is_built() => &NONE,
            _ => self.graph().diagnostics(),
        }
    }

    /// The file format.
    pub fn format(&self) -> Format {
        match &self.parsed {
            #[cfg(feature = "tracemalloc")]
            Parsed::Tracemalloc(_) => Format::Tracemalloc,
            _ => self.graph().format(),
        }
    }

    /// The producer the file names, e.g. `"Node.js (V8)"`.
    pub fn producer(&self) -> &str {
        match &self.parsed {
            #[cfg(feature = "tracemalloc")]
            Parsed::Tracemalloc(snapshot) => snapshot.producer(),
            _ => &self.graph().info().producer,
        }
    }

    /// What the parser noticed that a reader of the results should know,
    /// one sentence each: V8 header counts that disagree with the arrays,
    /// unlisted node types, Julia's unrecorded roots, old profiles without
    /// samples, HPROF files with several heap dumps (and which was read),
    /// duplicate object ids, classes missing from the dump, lengths that
    /// had wrapped. Empty when there is nothing to say.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        match &self.parsed {
            #[cfg(feature = "v8")]
            Parsed::V8Snapshot(snapshot) => {
                out.extend(snapshot.warnings.iter().map(ToString::to_string));
            }
            #[cfg(feature = "v8")]
            Parsed::V8Profile(profile) if profile.sizes == heapgraph_v8::ProfileSizes::Tree => {
                out.push(
                    "the profile has no samples list (Chrome before 76, Node before 12): \
                     sizes are V8's estimates from the call tree's selfSize"
                        .to_string(),
                );
            }
            #[cfg(feature = "hprof")]
            Parsed::Hprof(hprof) => {
                let stats = hprof.record_stats();
                if stats.heap_dumps > 1 {
                    out.push(format!(
                        "the file holds {} heap dumps; dump {} was read (choose another \
                         with --dump N, or open(path, dump=N) in Python)",
                        stats.heap_dumps, self.hprof_dump
                    ));
                }
                if stats.duplicate_ids > 0 {
                    out.push(format!(
                        "{} objects reuse the id of an earlier object; references resolve to \
                         the first",
                        stats.duplicate_ids
                    ));
                }
                if stats.missing_classes > 0 {
                    out.push(format!(
                        "{} objects are of classes the dump does not describe",
                        stats.missing_classes
                    ));
                }
                if stats.overflowed_lengths > 0 {
                    out.push(format!(
                        "{} HEAP DUMP record lengths had wrapped past 4 GiB and were taken \
                         to the end of the file",
                        stats.overflowed_lengths
                    ));
                }
                if let Some(cut) = &stats.truncation {
                    out.push(format!("the dump is cut short: {cut}"));
                }
            }
            #[allow(unreachable_patterns)]
            _ => {}
        }
        out
    }

    /// The number of GC roots: distinct objects that the root groups hold,
    /// whatever their kind and however many root records name them. As in
    /// Eclipse MAT, HPROF thread-local roots (Java frames, JNI locals) of a
    /// known thread are references from the thread, not roots, and the
    /// boot loader's classes are roots when a dump names no sticky classes;
    /// roots naming objects missing from the dump are not counted.
    pub fn root_count(&self) -> u64 {
        let graph = self.graph();
        let mut seen = vec![false; graph.node_count()];
        let mut count = 0u64;
        for &(group, _) in graph.root_groups() {
            for edge in graph.edges(group) {
                if let Some(slot) = seen.get_mut(edge.target.index()) {
                    if !*slot {
                        *slot = true;
                        count += 1;
                    }
                }
            }
        }
        count
    }

    /// The kind of input that was read.
    pub fn input_kind(&self) -> InputKind {
        self.input
    }

    /// The (decompressed) bytes of the file, which some formats read lazily
    /// (HPROF primitive arrays).
    pub fn bytes(&self) -> &[u8] {
        self.source.bytes()
    }
}

/// Opens and parses a heap dump with default options.
pub fn open(path: impl AsRef<Path>) -> Result<Dump, Error> {
    open_with(path, &OpenOptions::default())
}

/// Opens and parses a heap dump.
pub fn open_with(path: impl AsRef<Path>, options: &OpenOptions) -> Result<Dump, Error> {
    let source = Source::open(path.as_ref(), options)?;
    parse_source(std::sync::Arc::new(source), options)
}

/// Parses a dump already in memory (gzip is decompressed first).
pub fn parse_bytes(bytes: Vec<u8>, options: &OpenOptions) -> Result<Dump, Error> {
    let source = Source::from_vec(bytes, options)?;
    parse_source(std::sync::Arc::new(source), options)
}

fn parse_source(source: std::sync::Arc<Source>, options: &OpenOptions) -> Result<Dump, Error> {
    options.with_threads(|| parse_in_pool(source, options))?
}

fn parse_in_pool(source: std::sync::Arc<Source>, options: &OpenOptions) -> Result<Dump, Error> {
    let bytes = source.bytes();
    let input = sniff(bytes).ok_or_else(|| Error::UnsupportedFormat {
        start: describe_start(bytes),
    })?;
    if options.spill == Spill::Always && !spill::is_enabled() {
        let dir = options.scratch_dir_or_temp();
        spill::enable(&dir).map_err(|source| Error::SpillUnavailable { dir, source })?;
    }
    if options.memory_check {
        memory::check(input, bytes.len() as u64, !source.is_mapped(), options)?;
    }
    let parsed = match input {
        #[cfg(feature = "hprof")]
        InputKind::Hprof => {
            // Both passes hand back the ranges they are done with, so a
            // mapped multi-gigabyte dump is never resident all at once.
            let hprof = options
                .hprof
                .clone()
                .with_limits(options.hprof.limits.tightest(options.limits))
                .with_on_consumed(Source::on_consumed(&source));
            Parsed::Hprof(Box::new(heapgraph_hprof::parse(bytes, &hprof)?))
        }
        #[cfg(feature = "v8")]
        InputKind::V8HeapSnapshot => {
            // The arrays and strings are handed back as they are read, so
            // the mapped JSON is not resident next to the finished graph.
            let v8 = heapgraph_v8::ParseOptions::default()
                .with_limits(options.limits)
                .with_skip_locations(!options.v8_locations)
                .with_on_consumed(Source::on_consumed(&source));
            Parsed::V8Snapshot(Box::new(heapgraph_v8::parse(bytes, &v8)?))
        }
        #[cfg(feature = "v8")]
        InputKind::V8HeapProfile => {
            let v8 = heapgraph_v8::ParseOptions::default().with_limits(options.limits);
            Parsed::V8Profile(Box::new(heapgraph_v8::parse_heapprofile_with(bytes, &v8)?))
        }
        #[cfg(feature = "tracemalloc")]
        InputKind::Pickle => {
            // Stream a mapped pickle through the parser's small window
            // rather than faulting the whole mapping in: the snapshot's
            // tables are all it keeps, so the file never sits in memory.
            let tm_options = heapgraph_tracemalloc::ParseOptions::default()
                .with_limits(options.limits)
                .with_innermost_frame_only(options.innermost_frame_only);
            let snapshot = match source.stream() {
                Some(file) => heapgraph_tracemalloc::parse_reader(
                    file,
                    Some(bytes.len() as u64),
                    &tm_options,
                )?,
                None => heapgraph_tracemalloc::parse(bytes, &tm_options)?,
            };
            Parsed::Tracemalloc(Box::new(snapshot))
        }
        // Source::open decompresses gzip, so nested gzip is the only way here.
        InputKind::Gzip => return Err(Error::NoParser("nested gzip")),
        // `sniff` recognises only the formats this build reads.
        #[allow(unreachable_patterns)]
        other => return Err(Error::NoParser(other.as_str())),
    };
    source.release_resident_pages();
    let detached = match &parsed {
        #[cfg(feature = "v8")]
        Parsed::V8Snapshot(snapshot) => snapshot.detachedness.as_ref().map(|d| {
            d.iter()
                .map(|&state| state == heapgraph_core::DomState::Detached)
                .collect()
        }),
        #[allow(unreachable_patterns)]
        _ => None,
    };
    Ok(Dump {
        source,
        parsed,
        input,
        detached,
        #[cfg(feature = "hprof")]
        hprof_dump: options.hprof.dump,
        weak_referents: options.weak_referents,
        threads: options.threads,
        root_only: std::sync::OnceLock::new(),
    })
}

/// "cannot compare v8 with hprof and v8: all three snapshots must be of the
/// same format".
fn describe_mismatch(formats: &[&str]) -> String {
    match formats {
        [old, new] => {
            format!("cannot diff {old} with {new}: both snapshots must be of the same format")
        }
        [first, rest @ ..] => {
            let count = match formats.len() {
                3 => "three".to_string(),
                n => n.to_string(),
            };
            format!(
                "cannot compare {first} with {}: all {count} snapshots must be of the same format",
                rest.join(" and ")
            )
        }
        [] => "no snapshots to compare".to_string(),
    }
}

/// The first bytes of a file, escaped, for error messages.
fn describe_start(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "nothing (the file is empty)".to_string();
    }
    let head = &bytes[..bytes.len().min(16)];
    format!("\"{}\"", head.escape_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_dump_content_is_a_clear_error() {
        let err = parse_bytes(b"hello, world\n".to_vec(), &OpenOptions::default()).unwrap_err();
        assert!(matches!(err, Error::UnsupportedFormat { .. }));
        assert_eq!(
            err.to_string(),
            "not a supported heap dump: expected a V8 .heapsnapshot or .heapprofile, a Java \
             HPROF dump or a Python tracemalloc pickle, but the file starts with \"hello, world\\n\""
        );
        let empty = parse_bytes(Vec::new(), &OpenOptions::default()).unwrap_err();
        assert!(empty.to_string().ends_with("nothing (the file is empty)"));
    }
}

/// The examples of this crate's README, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The Rust examples of the repository's top README, compiled as doctests so
/// that they stay true. The file is outside this package, so this exists only
/// in the repository (`cfg(doctest)` is never set when the package is built).
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct TopReadmeDoctests;
