//! Scenario files: raw serde types are parsed, then validated into a `Scenario` before any work.

mod error;
mod fault_keys;
mod faults;
#[cfg(test)]
mod fuzz;
mod load;
mod model;
mod raw;
mod selector;
mod settings;
mod size;
mod validate;

pub use error::{Position, ScenarioError, ScenarioErrorKind};
pub use fault_keys::{FaultInput, KeyError};
pub use load::{MAX_FILE_SIZE, load, load_bytes, parse};
pub use model::*;
pub use raw::RawSelectors;
pub use settings::{KindSettings, RawDuration, Settings, SettingsError, SettingsInput, read_json};
pub use size::{EXPECTED as SIZE_EXPECTED, format_size, parse_size};
