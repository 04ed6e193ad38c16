//! The hook through which a parser reports the input it has finished reading.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

/// A callback a parser calls with byte ranges of its input that it has
/// finished reading, part of every parser's options (`on_consumed`).
///
/// A caller that memory-mapped the input drops those pages from its
/// resident set there (`MADV_DONTNEED` on a file mapping: the pages fault
/// back in from the page cache if read again), so a multi-gigabyte dump is
/// never resident whole next to the graph being built. Parsers may read a
/// reported range again (a second pass, the offset of an error, lazy
/// readers), so the callback may only make the bytes slower to read, never
/// change or unmap them.
///
/// Ranges come in order within a pass, never overlap within a pass, and
/// may come from any thread of the parse. The default hook does nothing.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use heapgraph_core::OnConsumed;
///
/// let seen = Arc::new(Mutex::new(0usize));
/// let counter = Arc::clone(&seen);
/// let hook = OnConsumed::new(move |range| {
///     if let Ok(mut total) = counter.lock() {
///         *total += range.len();
///     }
/// });
/// hook.consumed(0..4096);
/// hook.consumed(4096..6000);
/// assert_eq!(*seen.lock().unwrap(), 6000);
/// assert!(!OnConsumed::default().is_set());
/// ```
#[derive(Clone, Default)]
pub struct OnConsumed(Option<Arc<dyn Fn(Range<usize>) + Send + Sync>>);

impl OnConsumed {
    /// A hook that calls `callback` with each range.
    pub fn new(callback: impl Fn(Range<usize>) + Send + Sync + 'static) -> Self {
        OnConsumed(Some(Arc::new(callback)))
    }

    /// Reports that the parser is done with `range` of its input.
    pub fn consumed(&self, range: Range<usize>) {
        if let Some(callback) = &self.0 {
            callback(range);
        }
    }

    /// Whether a callback is set (the default hook has none).
    pub fn is_set(&self) -> bool {
        self.0.is_some()
    }
}

impl fmt::Debug for OnConsumed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_set() {
            "OnConsumed(set)"
        } else {
            "OnConsumed(none)"
        })
    }
}

/// Two hooks are equal when both are unset or both are the same callback,
/// so options that differ only by a fresh hook compare unequal.
impl PartialEq for OnConsumed {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for OnConsumed {}

// Parsers only call the hook and never read state through it, so a panic
// inside it cannot leave a parser's invariants broken: options that carry a
// hook stay usable across `catch_unwind`, as options without one are.
impl std::panic::UnwindSafe for OnConsumed {}
impl std::panic::RefUnwindSafe for OnConsumed {}
