//! One module per subcommand. Each `--json` document's field names are a
//! stable contract (see the README).

pub mod diff;
pub mod dominators;
pub mod histogram;
pub mod leaks;
pub mod retainers;
pub mod strings;
pub mod summary;
pub mod suspects;
pub mod trend;
