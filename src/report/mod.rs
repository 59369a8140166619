//! Reports of a run, all rendered from the same rows: the terminal table, run.json, report.md,
//! report.html (with its timeline chart) and junit.xml; the run history (history.jsonl), its
//! verification, and the quarterly report made from it (Markdown, HTML, JSON).

mod escape;
mod history;
mod html;
mod junit;
mod markdown;
mod partial;
mod quarter;
mod quarter_html;
mod quarter_markdown;
mod quarter_terminal;
mod rows;
mod run_dir;
mod setup;
mod table;
mod verify;

pub use history::{
    FIRST_PREV_SHA256, HISTORY_FILE, HISTORY_FORMAT, HistoryError, HistoryErrorKind, HistoryLine,
    KeyMeasurements, ObjectiveVerdict, RawLine, Reanalysis, append, parse_line, parsed_lines,
    read_history, record_reanalysis, sha256_hex, split_lines,
};
mod timeline;

pub use html::html;
pub use junit::{DRILL_RAN, junit};
pub use markdown::markdown;
pub use partial::{PARTIAL_FORMAT, PartialRun, Reached, partial_markdown, write_partial};
pub use quarter::{
    ChainStatus, FailedRun, Gap, LastRun, Period, PeriodError, QuarterlyReport, ReportOptions,
    RunStats, ScenarioSummary, SignOff, Spread, quarterly_json, quarterly_report,
};
pub use quarter_html::quarterly_html;
pub use quarter_markdown::quarterly_markdown;
pub use quarter_terminal::{quarterly_junit, quarterly_table};
pub use rows::{
    MeasurementRow, ObjectiveRow, StepRow, fmt_duration, measurement_rows, objective_rows,
    restore_rows, step_rows,
};
#[cfg(test)]
pub(crate) use rows::{
    gameday_record, not_judged_record, restore_record, sample_record, steps_record,
};
pub use run_dir::{run_dir_name, write_reports, write_run_dir};
pub use table::table;
pub use timeline::Timeline;
pub use verify::{
    ChainHead, Problem, ProblemKind, StoredRun, Verification, scan_runs, verify_history,
    verify_reports,
};
