//! A dump that owns its analysis, for front ends that keep both alive
//! together (the Python binding, the SQL tables).

use std::sync::Arc;

use heapgraph_analysis::HeapAnalysis;

use crate::Dump;

type Analysis<'a> = HeapAnalysis<'a>;

self_cell::self_cell!(
    struct DumpAndAnalysis {
        owner: Arc<Dump>,
        #[covariant]
        dependent: Analysis,
    }
);

/// A shared [`Dump`] together with its [`HeapAnalysis`] (which borrows the
/// dump's graph), in one value that can be stored and sent between threads.
pub struct Analysed(DumpAndAnalysis);

impl Analysed {
    /// Analyses `dump` under its format's reference rules
    /// ([`Dump::analyse`]).
    pub fn new(dump: Arc<Dump>) -> Analysed {
        Analysed(DumpAndAnalysis::new(dump, |dump| dump.analyse()))
    }

    /// The dump.
    pub fn dump(&self) -> &Dump {
        self.0.borrow_owner()
    }

    /// The shared handle of the dump.
    pub fn shared_dump(&self) -> &Arc<Dump> {
        self.0.borrow_owner()
    }

    /// The analysis.
    pub fn analysis(&self) -> &HeapAnalysis<'_> {
        self.0.borrow_dependent()
    }
}

impl std::fmt::Debug for Analysed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analysed")
            .field("format", &self.dump().format())
            .field("nodes", &self.dump().graph().node_count())
            .finish_non_exhaustive()
    }
}
