//! firedrill: chaos and failover drills for highly available database stacks.
//!
//! The pipeline: scenario → cluster → history → checkers → reports. Run a scenario file from a
//! test with [`run_file`] and assert on the returned record's verdict.

pub mod analyze;
pub mod check;
pub mod client;
pub mod drill;
pub mod engine;
pub mod fault;
pub mod history;
pub mod image;
pub mod live;
pub mod observe;
pub mod progress;
pub mod record;
pub mod report;
pub mod scenario;
pub mod step;
pub mod store;
pub mod topology;
pub mod workload;

pub use drill::{DrillError, DrillOptions, run, run_file, run_until};
pub use record::RunRecord;
