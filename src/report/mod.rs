//! Reports of a run, all rendered from the same rows: the terminal table, run.json, report.md.

mod markdown;
mod rows;
mod run_dir;
mod table;

pub use markdown::markdown;
pub use rows::{MeasurementRow, ObjectiveRow, fmt_duration, measurement_rows, objective_rows};
pub use run_dir::{run_dir_name, write_run_dir};
pub use table::table;
