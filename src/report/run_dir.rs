use super::history::{self, HistoryLine};
use super::{html, junit, markdown};
use crate::record::RunRecord;
use std::path::{Path, PathBuf};

/// `<UTC start, file-name safe>-<scenario>`, e.g. `2026-11-22T06-10-03Z-patroni-primary-crash`.
pub fn run_dir_name(record: &RunRecord) -> String {
    dir_name(&record.history.started_wall, &record.scenario.name)
}

/// `<UTC start, to the second, file-name safe>-<scenario>` from an RFC 3339 UTC instant.
pub(crate) fn dir_name(started_wall: &str, scenario: &str) -> String {
    // To the second: "2026-11-22T06:10:03.123Z" → "2026-11-22T06-10-03Z".
    let seconds = started_wall
        .split('.')
        .next()
        .unwrap_or(started_wall)
        .trim_end_matches('Z');
    format!("{}Z-{scenario}", seconds.replace(':', "-"))
}

/// Writes the record (`run.json.gz`) and the reports into `<reports>/runs/<run_dir_name>/`
/// (suffixed with the
/// run id if that directory exists), appends the run to `<reports>/history.jsonl` (see
/// [`super::append`]) and returns the directory. If the history refuses the line, the
/// error says the directory was written but not added to the history.
pub fn write_run_dir(record: &RunRecord, reports: &Path) -> std::io::Result<PathBuf> {
    let runs = reports.join("runs");
    let mut dir = runs.join(run_dir_name(record));
    if dir.exists() {
        dir = runs.join(format!("{}-{}", run_dir_name(record), record.run_id));
    }
    std::fs::create_dir_all(&dir)?;
    write_reports(record, &dir)?;
    let stored = std::fs::read(dir.join(crate::store::RECORD_FILE))?;
    let name = dir.file_name().unwrap_or_default().to_string_lossy();
    let line = HistoryLine::new(record, &format!("runs/{name}"), &stored);
    history::append(reports, line).map_err(|e| {
        std::io::Error::other(format!(
            "{} was written but not added to the run history: {e}",
            dir.display()
        ))
    })?;
    Ok(dir)
}

/// Writes (or rewrites) the record (`run.json.gz`, see [`crate::store::write`]) and every
/// report of the run in `dir`.
pub fn write_reports(record: &RunRecord, dir: &Path) -> std::io::Result<()> {
    crate::store::write(dir, record)?;
    std::fs::write(dir.join("report.md"), markdown(record))?;
    std::fs::write(dir.join("report.html"), html(record))?;
    std::fs::write(dir.join("junit.xml"), junit(record)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_directories_are_named_to_the_second() {
        let mut record = crate::report::sample_record();
        record.history.started_wall = "2026-11-22T06:10:03.123Z".into();
        assert_eq!(run_dir_name(&record), "2026-11-22T06-10-03Z-sample");
        record.history.started_wall = "2026-11-22T06:10:03Z".into();
        assert_eq!(run_dir_name(&record), "2026-11-22T06-10-03Z-sample");
    }

    #[test]
    fn every_report_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let record = crate::report::sample_record();
        write_reports(&record, dir.path()).unwrap();
        let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert_eq!(read("report.html"), crate::report::html(&record));
        assert_eq!(read("junit.xml"), crate::report::junit(&record).unwrap());
        assert_eq!(read("report.md"), markdown(&record));
        let stored = crate::store::load(&dir.path().join("run.json.gz")).unwrap();
        assert_eq!(stored, record);
    }

    /// tests/fixtures/sample-run/run.json.gz, which the command line's tests analyze, is the
    /// sample record. `FIREDRILL_UPDATE_FIXTURES=1` rewrites it after the sample changed.
    #[test]
    fn the_command_line_fixture_is_the_sample_record() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sample-run");
        let record = crate::report::sample_record();
        if std::env::var_os("FIREDRILL_UPDATE_FIXTURES").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            crate::store::write(&dir, &record).unwrap();
        }
        // compared as the JSON it holds: another gzip version may compress it otherwise
        let path = dir.join(crate::store::RECORD_FILE);
        let stored = std::fs::read(&path).unwrap_or_default();
        let json = crate::store::decompressed(&path, &stored).unwrap_or_default();
        assert!(
            *json == crate::store::stored_json(&record).unwrap()[..],
            "{} is not the sample record: rerun with FIREDRILL_UPDATE_FIXTURES=1",
            path.display()
        );
    }
}
