//! One module per subcommand. Each `--json` document's field names are a
//! stable contract (see the README).

pub mod android_leaks;
pub mod collections;
pub mod diff;
pub mod dominators;
pub mod export;
pub mod flamegraph;
pub mod histogram;
pub mod leaks;
#[cfg(feature = "sql")]
pub mod query;
pub mod redact;
pub mod report;
pub mod retainers;
pub mod sites;
pub mod strings;
pub mod summary;
pub mod suspects;
pub mod threads;
pub mod trend;
