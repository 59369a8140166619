//! Scenario files: raw serde types are parsed, then validated into a `Scenario` before any work.

mod model;

pub use model::*;
