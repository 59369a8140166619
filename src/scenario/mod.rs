//! Scenario files: raw serde types are parsed, then validated into a `Scenario` before any work.

mod error;
mod faults;
#[cfg(test)]
mod fuzz;
mod hand;
mod keys;
mod load;
mod model;
mod raw;
mod selector;
mod settings;
mod shipped;
mod size;
mod steps;
mod validate;

pub use error::{Position, ScenarioError, ScenarioErrorKind};
pub use hand::{HandFault, HandFaultError, hand_fault};
pub use keys::{FaultInput, KeyError, KeyInput, StepInput};
pub use load::{MAX_FILE_SIZE, load, load_bytes, parse};
pub use model::*;
pub use raw::RawSelectors;
pub use settings::{KindSettings, RawDuration, Settings, SettingsError, SettingsInput, read_json};
pub use shipped::{DEFAULT, SHIPPED, built_in_path, open, shipped, shipped_text};
pub use size::{EXPECTED as SIZE_EXPECTED, format_size, parse_size};
