use super::markdown;
use crate::record::RunRecord;
use std::path::{Path, PathBuf};

/// `<UTC start, file-name safe>-<scenario>`, e.g. `2026-11-22T06-10-03Z-patroni-primary-crash`.
pub fn run_dir_name(record: &RunRecord) -> String {
    format!(
        "{}-{}",
        record.history.started_wall.replace(':', "-"),
        record.scenario.name
    )
}

/// Writes `run.json` and `report.md` into `<reports>/runs/<run_dir_name>/` (suffixed with the
/// run id if that directory exists) and returns the directory.
pub fn write_run_dir(record: &RunRecord, reports: &Path) -> std::io::Result<PathBuf> {
    let runs = reports.join("runs");
    let mut dir = runs.join(run_dir_name(record));
    if dir.exists() {
        dir = runs.join(format!("{}-{}", run_dir_name(record), record.run_id));
    }
    std::fs::create_dir_all(&dir)?;
    let json = serde_json::to_string_pretty(record).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("run.json"), json + "\n")?;
    std::fs::write(dir.join("report.md"), markdown(record))?;
    Ok(dir)
}
