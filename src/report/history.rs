//! The run history: `<reports>/history.jsonl`, one JSON line per run, appended after the run's
//! directory is written. Each line holds the sha256 of the bytes of the run's record file
//! (`run.json.gz`; `run.json` for a run written before format 6) and the sha256 of the line
//! before it, so the lines form a hash chain: an edited, removed, inserted or reordered line, or
//! an edited record, shows (see [`super::verify_history`]).

use crate::check::MeasuredValue;
use crate::record::RunRecord;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The history's file name in the reports directory.
pub const HISTORY_FILE: &str = "history.jsonl";

/// Version of the history line layout; bumped on any incompatible change.
pub const HISTORY_FORMAT: u32 = 1;

/// The previous-line digest of the first line: 64 zeros.
pub const FIRST_PREV_SHA256: &str =
    "0000000000000000000000000000000000000000000000000000000000000000";

/// One line of `history.jsonl`: a run, or a run judged again by `firedrill analyze`.
///
/// Durations are humantime strings exact to the nanosecond, as in run.json ("8s 512ms 345us"),
/// `null` when not measured. Digests are lower-case hexadecimal sha256.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryLine {
    /// [`HISTORY_FORMAT`] of the firedrill that wrote the line.
    pub format: u32,
    /// The line's number in the file, from 1.
    pub seq: u64,
    pub run_id: String,
    pub scenario: String,
    /// The runbook procedure the scenario rehearses, `null` if it names none.
    pub runbook: Option<String>,
    /// The run's start, the history's `started_wall` (RFC 3339, UTC, to the millisecond).
    pub started: String,
    /// The run directory, relative to the reports directory, `/`-separated (`runs/<name>`).
    pub run_dir: String,
    /// Whether every objective held (and the run had no problem). False for a run not judged
    /// (no objectives); lines written before "not judged" existed say true there: read it
    /// through [`HistoryLine::counts_as_passed`].
    pub passed: bool,
    /// Whether people drove the run by hand (`firedrill up` … `down`): a game day. Absent when
    /// false, so that lines of scripted runs, and lines written before game days, are as they
    /// were.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub game_day: bool,
    pub measurements: KeyMeasurements,
    /// Every objective as judged, in the scenario's order.
    pub objectives: Vec<ObjectiveVerdict>,
    /// sha256 of the bytes of the run's record file as written: `<run_dir>/run.json.gz`
    /// (compressed), or `<run_dir>/run.json` for a run written before format 6.
    pub run_json_sha256: String,
    /// sha256 of the run's recorded history (the record's `history` as compact JSON, every
    /// event an object, as format 5 stored it): what every measurement is computed from. The
    /// same however the record file stores it; a re-analysis keeps it; `verify` checks it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_sha256: Option<String>,
    /// On a line appended by `firedrill analyze`: the sha256 of the record file's bytes it
    /// replaced (`run_json_sha256` of the run's previous line). `null` on a run's first line.
    pub reanalyzed_from: Option<String>,
    /// On a line appended by `firedrill analyze`: why the record changed. Absent on a run's
    /// first line, and on re-analysis lines written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reanalysis: Option<ReanalysisNote>,
    /// sha256 of the previous line's bytes, without its newline; [`FIRST_PREV_SHA256`] on the
    /// first line.
    pub prev_sha256: String,
}

/// Why `firedrill analyze` rewrote a record: who judged it again, the record format before
/// and after, and what changed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReanalysisNote {
    /// The version of the firedrill that judged the run again.
    pub firedrill: String,
    /// The record's format before and after (the same when only values changed).
    pub format_from: u32,
    pub format_to: u32,
    /// What changed, one line each: the verdict and objectives ("rto: stored PASS (…), now …"),
    /// then each key measurement whose value changed ("proxy_switch_time: 3.48s → 2.68s"), then
    /// what each record format after `format_from` changed ("format 3: role answers are one
    /// event, ..."). Empty when only new fields changed the bytes.
    pub changes: Vec<String>,
    /// Why, in the words of whoever ran the analysis (`firedrill analyze --reason`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The measurements a history keeps of a run (run.json keeps them all).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyMeasurements {
    /// Write downtime, the worst over the faults; `null` if not measured (writes never
    /// recovered, or their recovery was not confirmed).
    #[serde(default, with = "humantime_serde")]
    pub rto: Option<Duration>,
    /// Acknowledged writes lost; `null` without a read-back.
    pub lost_writes: Option<u64>,
    /// The span of acknowledged writes lost, zero when none was; `null` without a read-back.
    #[serde(default, with = "humantime_serde")]
    pub rpo: Option<Duration>,
    /// Whether split brain was detected; `null` if not measured (no role observed in the
    /// history, or in some fault's window, and nothing detected).
    pub split_brain: Option<bool>,
    /// Acknowledged writes the read-back could not check (they completed after it began).
    /// Absent without a read-back, and in lines written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unchecked_writes: Option<u64>,
    /// Unknown writes the read-back left unresolved (all of them without one). Absent in lines
    /// written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unresolved_writes: Option<u64>,
    /// Write attempts the harness never sent (its own connection cap). Absent in lines written
    /// before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_sent_writes: Option<u64>,
    #[serde(default, with = "humantime_serde")]
    pub leader_election_time: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub promotion_time: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub proxy_switch_time: Option<Duration>,
    /// Absent from lines written before it.
    #[serde(default, with = "humantime_serde")]
    pub old_leader_out_time: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    pub time_to_full_redundancy: Option<Duration>,
}

/// One objective's verdict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveVerdict {
    /// The objective as a scenario states it: `rto <= 30s`.
    pub objective: String,
    /// The value judged, as in run.json; `null` if it could not be measured.
    pub measured: Option<MeasuredValue>,
    pub passed: bool,
    /// Why it was not measured, or a remark on the value.
    pub note: Option<String>,
}

impl HistoryLine {
    /// The line of a run whose directory is `run_dir` (relative to the reports directory) and
    /// whose record file holds the bytes `stored`. `seq` and `prev_sha256` are set by
    /// [`append`].
    pub fn new(record: &RunRecord, run_dir: &str, stored: &[u8]) -> HistoryLine {
        let m = &record.measurements;
        HistoryLine {
            format: HISTORY_FORMAT,
            seq: 0,
            run_id: record.run_id.clone(),
            scenario: record.scenario.name.clone(),
            runbook: record.scenario.runbook.clone(),
            started: record.history.started_wall.clone(),
            run_dir: run_dir.to_string(),
            passed: record.passed(),
            game_day: record.game_day.is_some(),
            measurements: KeyMeasurements {
                rto: m.rto,
                lost_writes: m.lost_writes.as_ref().map(|l| l.count),
                rpo: m.rpo(),
                split_brain: m
                    .value(crate::scenario::Measure::SplitBrain)
                    .ok()
                    .map(|_| m.split_brain.detected),
                unchecked_writes: m.lost_writes.as_ref().map(|l| l.unchecked),
                unresolved_writes: Some(m.unknown_writes.unresolved.len() as u64),
                not_sent_writes: Some(m.writes.not_sent),
                leader_election_time: m.leader_election_time,
                promotion_time: m.promotion_time,
                proxy_switch_time: m.proxy_switch_time,
                old_leader_out_time: m.old_leader_out_time,
                time_to_full_redundancy: m.time_to_full_redundancy,
            },
            objectives: record
                .verdict
                .objectives
                .iter()
                .map(|o| ObjectiveVerdict {
                    objective: format!("{} {}", o.measure.name(), o.bound),
                    measured: o.measured,
                    passed: o.passed,
                    note: o.note.clone(),
                })
                .collect(),
            run_json_sha256: sha256_hex(stored),
            history_sha256: Some(history_sha256(record)),
            reanalyzed_from: None,
            reanalysis: None,
            prev_sha256: String::new(),
        }
    }

    /// Whether the run was judged: its scenario had objectives. A run not judged is neither
    /// passed nor failed.
    pub fn judged(&self) -> bool {
        !self.objectives.is_empty()
    }

    /// Whether the run passed: judged, and `passed`.
    pub fn counts_as_passed(&self) -> bool {
        self.judged() && self.passed
    }

    /// Whether the run failed: judged, and not `passed`.
    pub fn counts_as_failed(&self) -> bool {
        self.judged() && !self.passed
    }

    /// The names of the facts about the run (id, scenario, start, verdict, measurements,
    /// objectives, recorded history) on which this line and `other` disagree.
    pub fn disagreements(&self, other: &HistoryLine) -> Vec<&'static str> {
        let mut differ = Vec::new();
        let mut check = |name, same: bool| {
            if !same {
                differ.push(name);
            }
        };
        check("run_id", self.run_id == other.run_id);
        check("scenario", self.scenario == other.scenario);
        check("runbook", self.runbook == other.runbook);
        check("started", self.started == other.started);
        check("passed", self.passed == other.passed);
        check("game_day", self.game_day == other.game_day);
        // a line written before these counts were kept does not hold them
        let mut theirs = other.measurements.clone();
        let mine = &self.measurements;
        if mine.unchecked_writes.is_none() && mine.unresolved_writes.is_none() {
            theirs.unchecked_writes = None;
            theirs.unresolved_writes = None;
        }
        if mine.not_sent_writes.is_none() {
            theirs.not_sent_writes = None;
        }
        check("measurements", *mine == theirs);
        check("objectives", self.objectives == other.objectives);
        if let (Some(mine), Some(theirs)) = (&self.history_sha256, &other.history_sha256) {
            check("history_sha256", mine == theirs);
        }
        differ
    }

    /// The line's start as an instant; `None` if `started` is not RFC 3339.
    pub fn started_at(&self) -> Option<std::time::SystemTime> {
        humantime::parse_rfc3339(&self.started).ok()
    }
}

/// Lower-case hexadecimal sha256 of `bytes`.
/// sha256 of a run's recorded history as compact JSON.
pub fn history_sha256(record: &RunRecord) -> String {
    let json = serde_json::to_vec(&record.history).expect("a history always serialises");
    sha256_hex(&json)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A line of the history file as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawLine<'a> {
    /// From 1.
    pub number: usize,
    /// The line's bytes, without its newline.
    pub bytes: &'a [u8],
    /// Whether a newline ends it: only the file's last line may lack one, when a write was
    /// interrupted or the file cut.
    pub complete: bool,
}

/// The file's lines. A file ending in a newline has no empty last line.
pub fn split_lines(bytes: &[u8]) -> Vec<RawLine<'_>> {
    let mut lines = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let (bytes, complete, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..i], true, &rest[i + 1..]),
            None => (rest, false, &rest[rest.len()..]),
        };
        lines.push(RawLine {
            number: lines.len() + 1,
            bytes,
            complete,
        });
        rest = next;
    }
    lines
}

/// Parses one line (without its newline), checking what a reader relies on: the format, the
/// start instant, the digests' shape.
pub fn parse_line(bytes: &[u8]) -> Result<HistoryLine, String> {
    #[derive(Deserialize)]
    struct Format {
        format: u32,
    }
    if let Ok(Format { format }) = serde_json::from_slice::<Format>(bytes)
        && format > HISTORY_FORMAT
    {
        return Err(format!(
            "history format {format} is newer than this firedrill reads ({HISTORY_FORMAT})"
        ));
    }
    let line: HistoryLine = serde_json::from_slice(bytes).map_err(|e| {
        let message = e.to_string();
        let message = message.split(" at line ").next().unwrap_or("").to_string();
        format!("{message} (column {})", e.column())
    })?;
    if line.started_at().is_none() {
        return Err(format!(
            "started `{}` is not an RFC 3339 UTC instant",
            line.started
        ));
    }
    for (name, digest) in [
        ("run_json_sha256", Some(&line.run_json_sha256)),
        ("prev_sha256", Some(&line.prev_sha256)),
        ("reanalyzed_from", line.reanalyzed_from.as_ref()),
    ] {
        if let Some(digest) = digest
            && !is_sha256_hex(digest)
        {
            return Err(format!(
                "{name} `{digest}` is not a sha256 in lower-case hexadecimal"
            ));
        }
    }
    Ok(line)
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Why the history could not be read or appended to.
#[derive(Debug, thiserror::Error)]
#[error("{}: {kind}", path.display())]
pub struct HistoryError {
    /// The history file.
    pub path: PathBuf,
    pub kind: HistoryErrorKind,
}

#[derive(Debug, thiserror::Error)]
pub enum HistoryErrorKind {
    #[error("cannot read the run history: {0}")]
    Read(std::io::Error),
    #[error("cannot append to the run history: {0}")]
    Write(std::io::Error),
    #[error(
        "line {line}, the last, is incomplete (no newline at its end: a write was interrupted or \
         the file was cut); nothing was appended rather than chaining onto it: see \
         `firedrill verify`, then move the incomplete line aside"
    )]
    Incomplete { line: usize },
    #[error(
        "line {line}, the last, is not a history line ({message}); nothing was appended rather \
         than chaining onto it: see `firedrill verify`"
    )]
    NotALine { line: usize, message: String },
}

impl HistoryError {
    fn new(path: &Path, kind: HistoryErrorKind) -> HistoryError {
        HistoryError {
            path: path.to_path_buf(),
            kind,
        }
    }

    /// Whether the history file does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(&self.kind, HistoryErrorKind::Read(e) if e.kind() == std::io::ErrorKind::NotFound)
    }
}

/// Reads the history file of a reports directory.
pub fn read_history(reports: &Path) -> Result<Vec<u8>, HistoryError> {
    let path = reports.join(HISTORY_FILE);
    std::fs::read(&path).map_err(|e| HistoryError::new(&path, HistoryErrorKind::Read(e)))
}

/// The lines of a history that parse, in file order (see [`super::verify_history`] for the
/// others).
pub fn parsed_lines(history: &[u8]) -> Vec<HistoryLine> {
    split_lines(history)
        .into_iter()
        .filter(|l| l.complete)
        .filter_map(|l| parse_line(l.bytes).ok())
        .collect()
}

/// Appends `line` to `<reports>/history.jsonl` (created if missing), setting its `seq` and
/// `prev_sha256`, and returns it as written.
///
/// The file is locked (an exclusive advisory lock on the file itself) from reading its last line
/// to writing the new one, so concurrent runs chain one after the other; the line is written in
/// one write in append mode and synced. A last line without its newline, or one that does not
/// parse, is refused: the new line would chain onto garbage.
pub fn append(reports: &Path, mut line: HistoryLine) -> Result<HistoryLine, HistoryError> {
    let path = reports.join(HISTORY_FILE);
    let read = |e| HistoryError::new(&path, HistoryErrorKind::Read(e));
    let write = |e| HistoryError::new(&path, HistoryErrorKind::Write(e));
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(&path)
        .map_err(write)?;
    file.lock().map_err(write)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(read)?;
    let (seq, prev) = match split_lines(&bytes).last() {
        None => (1, FIRST_PREV_SHA256.to_string()),
        Some(last) if !last.complete => {
            return Err(HistoryError::new(
                &path,
                HistoryErrorKind::Incomplete { line: last.number },
            ));
        }
        Some(last) => match parse_line(last.bytes) {
            Ok(_) => (last.number as u64 + 1, sha256_hex(last.bytes)),
            Err(message) => {
                return Err(HistoryError::new(
                    &path,
                    HistoryErrorKind::NotALine {
                        line: last.number,
                        message,
                    },
                ));
            }
        },
    };
    line.seq = seq;
    line.prev_sha256 = prev;
    let mut text = serde_json::to_string(&line).map_err(|e| write(e.into()))?;
    text.push('\n');
    file.write_all(text.as_bytes()).map_err(write)?;
    file.sync_data().map_err(write)?;
    Ok(line)
}

/// What [`record_reanalysis`] did.
#[derive(Clone, Debug, PartialEq)]
pub enum Reanalysis {
    /// The record file's bytes did not change: the history's digest still holds.
    Unchanged,
    /// The record file changed, but the run is in no history: why.
    NotInHistory(String),
    /// The record file changed and this line, marked `reanalyzed_from` the replaced bytes' digest,
    /// was appended to the history.
    Appended {
        history: PathBuf,
        line: Box<HistoryLine>,
    },
}

/// After `firedrill analyze` rewrote the record in `run_dir` (whose record file held `replaced`
/// before: a `run.json` of an older format, or `run.json.gz`):
/// if its bytes changed and the run is in its reports directory's history (`run_dir` is
/// `<reports>/runs/<name>`), appends a line for the run as judged again, marked
/// `reanalyzed_from` the digest of `replaced`, so the history records the new bytes.
pub fn record_reanalysis(
    run_dir: &Path,
    record: &RunRecord,
    replaced: &[u8],
    verdict_changes: &[String],
    reason: Option<&str>,
) -> Result<Reanalysis, HistoryError> {
    let run_dir = if run_dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        run_dir
    };
    let stored = crate::store::record_path(run_dir);
    let written = std::fs::read(&stored)
        .map_err(|e| HistoryError::new(&stored, HistoryErrorKind::Read(e)))?;
    if written == replaced {
        return Ok(Reanalysis::Unchanged);
    }
    let not_in = |why: String| Ok(Reanalysis::NotInHistory(why));
    let dir = run_dir
        .canonicalize()
        .unwrap_or_else(|_| run_dir.to_path_buf());
    let (Some(name), Some(runs)) = (dir.file_name(), dir.parent()) else {
        return not_in(format!("{} is not a run directory", dir.display()));
    };
    let Some(reports) = runs
        .parent()
        .filter(|_| runs.file_name() == Some("runs".as_ref()))
    else {
        return not_in(format!(
            "{} is not in the runs directory of a reports directory",
            dir.display()
        ));
    };
    let rel = format!("runs/{}", name.to_string_lossy());
    let history = match read_history(reports) {
        Ok(bytes) => bytes,
        Err(e) if e.is_not_found() => {
            return not_in(format!("{} does not exist", e.path.display()));
        }
        Err(e) => return Err(e),
    };
    if !parsed_lines(&history).iter().any(|l| l.run_dir == rel) {
        return not_in(format!(
            "no line of {} records {rel}",
            reports.join(HISTORY_FILE).display()
        ));
    }
    let mut line = HistoryLine::new(record, &rel, &written);
    line.reanalyzed_from = Some(sha256_hex(replaced));
    let before: Option<RunRecord> = crate::store::decode(&stored, replaced).ok();
    let mut changes = verdict_changes.to_vec();
    if let Some(before) = &before {
        let was = HistoryLine::new(before, &rel, replaced);
        changes.extend(measurement_changes(&was.measurements, &line.measurements));
    }
    let format_from = before.as_ref().map_or(0, |b| b.format);
    if before.is_some() {
        changes.extend(crate::record::format_changes(format_from, record.format));
    }
    line.reanalysis = Some(ReanalysisNote {
        firedrill: env!("CARGO_PKG_VERSION").to_string(),
        format_from,
        format_to: record.format,
        changes,
        reason: reason.map(str::to_string),
    });
    let line = append(reports, line)?;
    Ok(Reanalysis::Appended {
        history: reports.join(HISTORY_FILE),
        line: Box::new(line),
    })
}

/// Each key measurement whose value differs, as `name: before → after` (JSON values, `null`
/// when not measured or not kept).
fn measurement_changes(before: &KeyMeasurements, after: &KeyMeasurements) -> Vec<String> {
    let (Ok(serde_json::Value::Object(before)), Ok(serde_json::Value::Object(after))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return Vec::new();
    };
    after
        .iter()
        .filter_map(|(name, now)| {
            let was = before.get(name).unwrap_or(&serde_json::Value::Null);
            (was != now).then(|| format!("{name}: {was} → {now}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{sample_record, write_reports, write_run_dir};

    #[test]
    fn lines_are_split_on_newlines_and_a_cut_last_line_is_incomplete() {
        assert!(split_lines(b"").is_empty());
        let lines = split_lines(b"a\nbc\n");
        assert_eq!(lines.len(), 2);
        assert_eq!(
            (lines[1].number, lines[1].bytes, lines[1].complete),
            (2, &b"bc"[..], true)
        );
        let lines = split_lines(b"a\nbc");
        assert_eq!((lines[1].bytes, lines[1].complete), (&b"bc"[..], false));
        assert_eq!(split_lines(b"\n")[0].bytes, b"");
    }

    #[test]
    fn appended_lines_chain_onto_the_previous_line() {
        let reports = tempfile::tempdir().unwrap();
        let record = sample_record();
        let dir = write_run_dir(&record, reports.path()).unwrap();
        let run_json = std::fs::read(dir.join("run.json.gz")).unwrap();
        let dir2 = write_run_dir(&record, reports.path()).unwrap();
        let bytes = read_history(reports.path()).unwrap();
        let lines = split_lines(&bytes);
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|l| l.complete));
        let first = parse_line(lines[0].bytes).unwrap();
        let second = parse_line(lines[1].bytes).unwrap();
        assert_eq!((first.seq, second.seq), (1, 2));
        assert_eq!(first.prev_sha256, FIRST_PREV_SHA256);
        assert_eq!(second.prev_sha256, sha256_hex(lines[0].bytes));
        assert_eq!(first.run_json_sha256, sha256_hex(&run_json));
        assert_eq!(first.run_dir, "runs/2024-01-01T00-00-00Z-sample");
        assert_eq!(
            second.run_dir,
            format!("runs/{}", dir2.file_name().unwrap().to_string_lossy())
        );
        assert_eq!(first.scenario, "sample");
        assert_eq!(first.passed, record.passed());
        assert_eq!(first.objectives.len(), record.verdict.objectives.len());
        assert_eq!(first.objectives[0].objective, "lag_at_failover <= 65536");
        assert_eq!(first.reanalyzed_from, None);
        assert_eq!(parsed_lines(&bytes), vec![first, second]);
    }

    #[test]
    fn a_line_round_trips_with_durations_as_humantime_strings() {
        let record = sample_record();
        let mut line = HistoryLine::new(&record, "runs/x", b"{}\n");
        line.seq = 1;
        line.prev_sha256 = FIRST_PREV_SHA256.into();
        let text = serde_json::to_string(&line).unwrap();
        assert!(!text.contains('\n'));
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["measurements"]["leader_election_time"], "1s 903ms");
        assert_eq!(json["measurements"]["lost_writes"], 0);
        assert_eq!(json["measurements"]["rpo"], "0s");
        assert_eq!(json["runbook"], serde_json::Value::Null);
        assert_eq!(json["reanalyzed_from"], serde_json::Value::Null);
        assert_eq!(parse_line(text.as_bytes()).unwrap(), line);
    }

    #[test]
    fn lines_keep_what_the_read_back_left_unjudged_and_older_lines_still_agree() {
        let record = crate::report::rows::doubtful_record();
        let line = HistoryLine::new(&record, "runs/x", b"{}\n");
        let m = &line.measurements;
        assert_eq!(
            (m.unchecked_writes, m.unresolved_writes, m.not_sent_writes),
            (Some(1), Some(1), Some(2))
        );
        let json = serde_json::to_value(&line).unwrap();
        assert_eq!(json["measurements"]["unresolved_writes"], 1);
        // a line written before they were kept: absent, and no disagreement with its run
        let mut old = json.clone();
        for key in ["unchecked_writes", "unresolved_writes", "not_sent_writes"] {
            old["measurements"].as_object_mut().unwrap().remove(key);
        }
        let old: HistoryLine = serde_json::from_value(old).unwrap();
        assert_eq!(old.measurements.unresolved_writes, None);
        assert!(old.disagreements(&line).is_empty());
        // a line that holds them must hold the run's
        let mut edited = line.clone();
        edited.measurements.unresolved_writes = Some(0);
        assert_eq!(edited.disagreements(&line), ["measurements"]);
    }

    /// A game day's line says so; a scripted run's line has no `game_day` key, so that it is
    /// byte for byte what it was before game days, and lines written then still agree with
    /// their runs.
    #[test]
    fn a_game_day_is_marked_and_other_lines_are_as_before() {
        let record = crate::report::gameday_record();
        let line = HistoryLine::new(&record, "runs/x", b"{}\n");
        assert!(line.game_day);
        let text = serde_json::to_string(&line).unwrap();
        assert!(
            text.contains("\"passed\":true,\"game_day\":true,\"measurements\":"),
            "{text}"
        );

        let scripted = HistoryLine::new(&sample_record(), "runs/x", b"{}\n");
        let text = serde_json::to_string(&scripted).unwrap();
        assert!(!text.contains("game_day"), "{text}");
        // a line as written before game days: it parses, and agrees with its run
        let old: HistoryLine = serde_json::from_str(&text).unwrap();
        assert!(!old.game_day);
        assert!(old.disagreements(&scripted).is_empty());
        assert_eq!(serde_json::to_string(&old).unwrap(), text);
        // a line that hides, or claims, a game day disagrees with its run
        let mut hidden = line.clone();
        hidden.game_day = false;
        assert_eq!(hidden.disagreements(&line), ["game_day"]);
    }

    #[test]
    fn a_bad_line_is_named_for_what_is_wrong() {
        let record = sample_record();
        let mut line = HistoryLine::new(&record, "runs/x", b"{}\n");
        line.prev_sha256 = FIRST_PREV_SHA256.into();
        let text = |line: &HistoryLine| serde_json::to_string(line).unwrap();
        let mut bad = line.clone();
        bad.started = "yesterday".into();
        assert_eq!(
            parse_line(text(&bad).as_bytes()).unwrap_err(),
            "started `yesterday` is not an RFC 3339 UTC instant"
        );
        let mut bad = line.clone();
        bad.prev_sha256 = "abc".into();
        assert!(
            parse_line(text(&bad).as_bytes())
                .unwrap_err()
                .starts_with("prev_sha256 `abc`")
        );
        let mut bad = line.clone();
        bad.format = HISTORY_FORMAT + 1;
        assert!(
            parse_line(text(&bad).as_bytes())
                .unwrap_err()
                .contains("is newer")
        );
        assert!(
            parse_line(b"{\"format\": 1}")
                .unwrap_err()
                .starts_with("missing field")
        );
    }

    #[test]
    fn appending_after_an_incomplete_or_garbage_last_line_is_refused() {
        let reports = tempfile::tempdir().unwrap();
        let record = sample_record();
        let line = HistoryLine::new(&record, "runs/x", b"{}\n");
        append(reports.path(), line.clone()).unwrap();
        let path = reports.path().join(HISTORY_FILE);
        let good = std::fs::read(&path).unwrap();

        // Cut in the middle of the second line: a write interrupted.
        let mut cut = good.clone();
        cut.extend_from_slice(&good[..40]);
        std::fs::write(&path, &cut).unwrap();
        let err = append(reports.path(), line.clone()).unwrap_err();
        assert!(
            matches!(err.kind, HistoryErrorKind::Incomplete { line: 2 }),
            "{err}"
        );
        assert!(
            err.to_string().contains("line 2, the last, is incomplete"),
            "{err}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), cut, "nothing appended");

        let mut garbage = good.clone();
        garbage.extend_from_slice(b"{\"format\":1,\"seq\":\n");
        std::fs::write(&path, &garbage).unwrap();
        let err = append(reports.path(), line.clone()).unwrap_err();
        assert!(
            matches!(err.kind, HistoryErrorKind::NotALine { line: 2, .. }),
            "{err}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), garbage, "nothing appended");
    }

    #[test]
    fn a_failed_append_leaves_the_run_directory_and_says_so() {
        let reports = tempfile::tempdir().unwrap();
        std::fs::write(reports.path().join(HISTORY_FILE), b"{\"cut").unwrap();
        let err = write_run_dir(&sample_record(), reports.path()).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("was written but not added to the run history"),
            "{message}"
        );
        assert!(
            message.contains("line 1, the last, is incomplete"),
            "{message}"
        );
        assert!(
            reports
                .path()
                .join("runs/2024-01-01T00-00-00Z-sample/run.json.gz")
                .exists()
        );
    }

    #[test]
    fn concurrent_appends_form_one_chain() {
        let reports = tempfile::tempdir().unwrap();
        let record = sample_record();
        std::thread::scope(|scope| {
            for t in 0..4 {
                let (reports, record) = (reports.path(), &record);
                scope.spawn(move || {
                    for i in 0..10 {
                        let line = HistoryLine::new(record, &format!("runs/{t}-{i}"), b"{}");
                        append(reports, line).unwrap();
                    }
                });
            }
        });
        let bytes = read_history(reports.path()).unwrap();
        let lines = split_lines(&bytes);
        assert_eq!(lines.len(), 40);
        let mut prev = FIRST_PREV_SHA256.to_string();
        for (i, raw) in lines.iter().enumerate() {
            let line = parse_line(raw.bytes).unwrap();
            assert_eq!(line.seq, i as u64 + 1);
            assert_eq!(line.prev_sha256, prev);
            prev = sha256_hex(raw.bytes);
        }
    }

    #[test]
    fn reanalysis_appends_only_when_run_json_changed_and_the_run_is_in_the_history() {
        let reports = tempfile::tempdir().unwrap();
        let record = sample_record();
        let dir = write_run_dir(&record, reports.path()).unwrap();
        let before = std::fs::read(dir.join("run.json.gz")).unwrap();

        // The same record rewritten: the same bytes, nothing appended.
        let analysis =
            crate::analyze::reanalyze(&crate::store::load(&dir.join("run.json.gz")).unwrap());
        write_reports(&analysis.record, &dir).unwrap();
        assert_eq!(std::fs::read(dir.join("run.json.gz")).unwrap(), before);
        assert_eq!(
            record_reanalysis(&dir, &analysis.record, &before, &[], None).unwrap(),
            Reanalysis::Unchanged
        );

        // A verdict judged differently: a new line marked with the replaced digest.
        let mut changed = record.clone();
        changed.verdict.passed = !changed.verdict.passed;
        write_reports(&changed, &dir).unwrap();
        let Reanalysis::Appended { line, .. } =
            record_reanalysis(&dir, &changed, &before, &[], None).unwrap()
        else {
            panic!("not appended");
        };
        assert_eq!(line.seq, 2);
        assert_eq!(line.reanalyzed_from, Some(sha256_hex(&before)));
        assert_eq!(line.passed, changed.passed());
        assert_eq!(line.run_dir, "runs/2024-01-01T00-00-00Z-sample");
        assert_eq!(
            line.reanalysis.as_ref().unwrap().changes,
            Vec::<String>::new()
        );

        // The line says why: who judged again, the formats, what changed, the reason given.
        let replaced = std::fs::read(dir.join("run.json.gz")).unwrap();
        let mut remeasured = changed.clone();
        remeasured.format += 1;
        remeasured.measurements.rto = Some(std::time::Duration::from_millis(2_680));
        write_reports(&remeasured, &dir).unwrap();
        let verdict_changes = vec!["rto: stored PASS (3.480s), now PASS (2.680s)".to_string()];
        let Reanalysis::Appended { line, .. } = record_reanalysis(
            &dir,
            &remeasured,
            &replaced,
            &verdict_changes,
            Some("new proxy switch definition"),
        )
        .unwrap() else {
            panic!("not appended");
        };
        let note = line.reanalysis.expect("a re-analysis line says why");
        assert_eq!(note.firedrill, env!("CARGO_PKG_VERSION"));
        assert_eq!(
            (note.format_from, note.format_to),
            (changed.format, changed.format + 1)
        );
        assert_eq!(note.reason.as_deref(), Some("new proxy switch definition"));
        assert_eq!(note.changes[0], verdict_changes[0]);
        let was = serde_json::to_value(
            changed
                .measurements
                .rto
                .map(humantime::format_duration)
                .map(|d| d.to_string()),
        )
        .unwrap();
        assert_eq!(note.changes[1], format!("rto: {was} → \"2s 680ms\""));
        assert_eq!(note.changes.len(), 2, "{:?}", note.changes);

        // A run directory outside any history.
        let elsewhere = tempfile::tempdir().unwrap();
        write_reports(&record, elsewhere.path()).unwrap();
        assert!(matches!(
            record_reanalysis(elsewhere.path(), &record, b"old", &[], None).unwrap(),
            Reanalysis::NotInHistory(_)
        ));
    }
}
