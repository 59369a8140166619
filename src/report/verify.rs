//! Verifying the run history: every line parses, each links to the one before it (the hash
//! chain), and every run's record file (`run.json.gz`, or `run.json` of a run written before
//! format 6) is the one its line recorded.

use super::history::{
    FIRST_PREV_SHA256, HistoryError, HistoryLine, parse_line, read_history, sha256_hex, split_lines,
};
use crate::store::RECORD_FILE;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// What a reports directory holds for one run directory under `runs/`.
#[derive(Clone, Debug, PartialEq)]
pub enum StoredRun {
    /// The directory holds no record file: neither `run.json.gz` nor `run.json`.
    NoRecord,
    /// The record file (`file`, its name) could not be read: why.
    Unreadable { file: String, why: String },
    Present {
        /// The record file's name: `run.json.gz`, or `run.json` (a run written before format 6).
        file: String,
        /// sha256 of the record file's bytes.
        sha256: String,
        /// The run's `history.started_wall`, if the record holds one.
        started: Option<String>,
        /// The history line this record implies (the facts a line records of it); `None` if
        /// it does not load as a run record.
        implied: Option<Box<HistoryLine>>,
    },
}

/// The kinds of problem [`verify_history`] finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The last line has no newline: a write was interrupted, or the file was cut.
    TruncatedLine,
    /// A line that does not parse as a history line.
    NotALine,
    /// A line changed after the next one was appended: the next one recorded another digest.
    EditedLine,
    /// Lines missing from the chain.
    RemovedLines,
    /// A line that nothing links to, between lines that link past it.
    InsertedLine,
    /// A line out of its place in the chain.
    ReorderedLine,
    /// A line whose `seq` is not its line number although it chains correctly.
    Renumbered,
    /// A run's record file changed since its line recorded it.
    EditedRun,
    /// A run directory, or its record file, that a line records is missing or unreadable.
    MissingRun,
    /// A run recorded by two lines, the later not a re-analysis of the earlier.
    DuplicateRun,
    /// A line whose facts (verdict, measurements, objectives, start, recorded history...) are
    /// not its record's, although the record file is the one it records: the line was forged or
    /// edited, or the run's history was rewritten and re-analysed.
    DisagreesWithRun,
    /// A run directory no line records, from after the history's first line.
    UnrecordedRun,
}

/// One problem, located by line number (or by run directory, for a run no line records).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub line: Option<usize>,
    pub kind: ProblemKind,
    /// In lower case, naming what is wrong and what it means.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The last complete line: quoting its digest elsewhere (a signed report) anchors every line up
/// to it, since the chain cannot show an edit of the last line by itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChainHead {
    pub line: usize,
    pub sha256: String,
}

/// The result of verifying a history.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// Complete lines in the file.
    pub lines: usize,
    /// Distinct runs (run directories) the lines that parse record.
    pub runs: usize,
    pub head: Option<ChainHead>,
    /// Every problem, by line number (runs no line records last).
    pub problems: Vec<Problem>,
    /// What is in order but worth stating: runs rewritten by `firedrill analyze`, run
    /// directories older than the history.
    pub notes: Vec<String>,
    /// Lines that are re-analyses of an earlier line's run.
    pub reanalyses: usize,
}

impl Verification {
    /// Whether no problem was found.
    pub fn intact(&self) -> bool {
        self.problems.is_empty()
    }

    /// One line: "history intact: 3 runs, chain verified (...)" or "history NOT intact: ...".
    pub fn summary(&self) -> String {
        let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        let mut detail = vec![plural(self.lines, "line")];
        if self.reanalyses > 0 {
            detail.push(format!("{} rewritten by analyze", self.reanalyses));
        }
        if let Some(head) = &self.head {
            detail.push(format!("line {} sha256 {}", head.line, head.sha256));
        }
        if self.intact() {
            format!(
                "history intact: {}, chain verified ({})",
                plural(self.runs, "run"),
                detail.join(", ")
            )
        } else {
            format!(
                "history NOT intact: {} ({})",
                plural(self.problems.len(), "problem"),
                detail.join(", ")
            )
        }
    }
}

/// Verifies a history's bytes against the run directories found under `runs/`, keyed
/// `runs/<name>`. Pure: [`verify_reports`] reads both from a reports directory.
///
/// Each line's `prev_sha256` must be the sha256 of the line before it (all zeros for the
/// first). Where it is not, the break is classified by what the line links to instead: a line
/// further down (reordered); a line further up, with lines between that no line outside them
/// follows (inserted), or else (reordered); nothing, with a gap in `seq` (removed); or nothing
/// (the line before was edited). Then each run's latest line must match its run.json.
pub fn verify_history(history: &[u8], runs: &BTreeMap<String, StoredRun>) -> Verification {
    let raw = split_lines(history);
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let mut problem = |line: Option<usize>, kind, message: String| {
        problems.push(Problem {
            line,
            kind,
            message,
        })
    };
    if let Some(last) = raw.last().filter(|l| !l.complete) {
        problem(
            Some(last.number),
            ProblemKind::TruncatedLine,
            "incomplete: no newline at its end (a write was interrupted, or the file was cut)"
                .into(),
        );
    }
    let complete: Vec<_> = raw.iter().filter(|l| l.complete).collect();
    let digests: Vec<String> = complete.iter().map(|l| sha256_hex(l.bytes)).collect();
    let mut parsed: Vec<Option<HistoryLine>> = Vec::with_capacity(complete.len());
    for line in &complete {
        match parse_line(line.bytes) {
            Ok(l) => parsed.push(Some(l)),
            Err(message) => {
                problem(
                    Some(line.number),
                    ProblemKind::NotALine,
                    format!("not a history line: {message}"),
                );
                parsed.push(None);
            }
        }
    }

    // The chain. Line numbers below are 1-based: line n is parsed[n - 1].
    let mut line_of_digest: HashMap<&str, usize> = HashMap::new();
    for (i, digest) in digests.iter().enumerate() {
        line_of_digest.entry(digest.as_str()).or_insert(i + 1);
    }
    // Digest → the lines that follow it in the chain.
    let mut followers: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, line) in parsed.iter().enumerate() {
        if let Some(line) = line {
            followers.entry(&line.prev_sha256).or_default().push(i + 1);
        }
    }
    // Whether a line outside `range` follows line `k` in the chain.
    let followed_from_outside = |k: usize, range: &std::ops::Range<usize>| {
        followers
            .get(digests[k - 1].as_str())
            .is_some_and(|by| by.iter().any(|m| !range.contains(m)))
    };
    for (i, line) in parsed.iter().enumerate() {
        let Some(line) = line else { continue };
        let n = i + 1;
        let expected = if n == 1 {
            FIRST_PREV_SHA256
        } else {
            &digests[i - 1]
        };
        if line.prev_sha256 == expected {
            // Numbered one after the line it follows (lines removed further up shift all).
            let want = match n {
                1 => Some(1),
                _ => parsed[i - 1].as_ref().map(|before| before.seq + 1),
            };
            if let Some(want) = want.filter(|&want| want != line.seq) {
                let place = match n {
                    1 => "it is the first line".to_string(),
                    _ => format!("it follows the line numbered {}", want - 1),
                };
                problem(
                    Some(n),
                    ProblemKind::Renumbered,
                    format!("numbered {} but {place}", line.seq),
                );
            }
            continue;
        }
        match line_of_digest.get(line.prev_sha256.as_str()).copied() {
            Some(j) if j >= n => problem(
                Some(n),
                ProblemKind::ReorderedLine,
                format!("out of order: it follows line {j} in the chain, which comes after it"),
            ),
            // Lines between that only each other follow were added there.
            Some(j) if (j + 1..n).all(|k| !followed_from_outside(k, &(j + 1..n))) => {
                for k in j + 1..n {
                    problem(
                        Some(k),
                        ProblemKind::InsertedLine,
                        format!(
                            "inserted: no line after it follows it in the chain, and line {n} \
                             follows line {j}"
                        ),
                    );
                }
            }
            Some(j) => problem(
                Some(n),
                ProblemKind::ReorderedLine,
                format!(
                    "out of order: it follows line {j} in the chain, not line {}",
                    n - 1
                ),
            ),
            None if n == 1 => problem(
                Some(n),
                ProblemKind::RemovedLines,
                "the first line follows a line that is not in the file: lines before it were \
                 removed"
                    .into(),
            ),
            None if line.prev_sha256 == FIRST_PREV_SHA256 => problem(
                Some(n),
                ProblemKind::InsertedLine,
                format!(
                    "begins a chain of its own (its previous-line digest is a first line's): it, \
                     and what follows, were added to the file, or lines 1 to {} were",
                    n - 1
                ),
            ),
            None => {
                let gap = parsed[i - 1]
                    .as_ref()
                    .filter(|before| line.seq > before.seq + 1)
                    .map(|before| (before.seq + 1, line.seq - 1));
                match gap {
                    Some((from, to)) if from == to => problem(
                        Some(n),
                        ProblemKind::RemovedLines,
                        format!(
                            "the line numbered {from} before it was removed: it follows a line \
                             that is not in the file"
                        ),
                    ),
                    Some((from, to)) => problem(
                        Some(n),
                        ProblemKind::RemovedLines,
                        format!(
                            "the lines numbered {from} to {to} before it were removed: it follows \
                             a line that is not in the file"
                        ),
                    ),
                    None => problem(
                        Some(n - 1),
                        ProblemKind::EditedLine,
                        format!(
                            "edited after it was written: line {n} recorded another sha256 for it \
                             (or lines between them were removed)"
                        ),
                    ),
                }
            }
        }
    }

    // The runs: each run's latest line against its record file.
    let mut latest: BTreeMap<&str, usize> = BTreeMap::new();
    let mut first_line: BTreeMap<&str, usize> = BTreeMap::new();
    let mut reanalyses = 0;
    for (i, line) in parsed.iter().enumerate() {
        let Some(line) = line else { continue };
        let n = i + 1;
        let dir = line.run_dir.as_str();
        if let Some(&before) = latest.get(dir) {
            let recorded = &parsed[before - 1].as_ref().expect("parsed").run_json_sha256;
            match &line.reanalyzed_from {
                Some(from) if from == recorded => {
                    reanalyses += 1;
                    notes.push(format!(
                        "line {before}: {dir} was rewritten by analyze: line {n} records its \
                         record now"
                    ));
                }
                Some(_) => problem(
                    Some(n),
                    ProblemKind::EditedRun,
                    format!(
                        "re-analysis of {dir} from a record that is not the one line {before} \
                         recorded: it was changed before `firedrill analyze` rewrote it"
                    ),
                ),
                None => problem(
                    Some(n),
                    ProblemKind::DuplicateRun,
                    format!("records {dir} again (line {before} recorded it)"),
                ),
            }
        } else if line.reanalyzed_from.is_some() {
            problem(
                Some(n),
                ProblemKind::RemovedLines,
                format!(
                    "re-analysis of {dir}, which no line before it records: its line was removed"
                ),
            );
        }
        latest.insert(dir, n);
        first_line.entry(dir).or_insert(n);
    }
    for (&dir, &n) in &latest {
        let line = parsed[n - 1].as_ref().expect("parsed");
        match runs.get(dir) {
            None => problem(
                Some(n),
                ProblemKind::MissingRun,
                format!("{dir} is missing"),
            ),
            Some(StoredRun::NoRecord) => problem(
                Some(n),
                ProblemKind::MissingRun,
                format!("{dir}/{RECORD_FILE} is missing"),
            ),
            Some(StoredRun::Unreadable { file, why }) => problem(
                Some(n),
                ProblemKind::MissingRun,
                format!("cannot read {dir}/{file}: {why}"),
            ),
            Some(StoredRun::Present { file, sha256, .. }) if *sha256 != line.run_json_sha256 => {
                problem(
                    Some(n),
                    ProblemKind::EditedRun,
                    format!(
                        "{dir}/{file} changed since this line recorded it (sha256 {sha256}, \
                         recorded {})",
                        line.run_json_sha256
                    ),
                )
            }
            Some(StoredRun::Present {
                file,
                implied: Some(implied),
                ..
            }) => {
                // The line's facts must be its record's, and the history first recorded
                // for the run must still be the one its record holds.
                let mut differ = line.disagreements(implied);
                let first = first_line[dir];
                if first != n
                    && let Some(first) = parsed[first - 1].as_ref()
                    && let (Some(then), Some(now)) =
                        (&first.history_sha256, &implied.history_sha256)
                    && then != now
                    && !differ.contains(&"history_sha256")
                {
                    differ.push("history_sha256 (against the run's first line)");
                }
                if !differ.is_empty() {
                    problem(
                        Some(n),
                        ProblemKind::DisagreesWithRun,
                        format!(
                            "records facts its run ({dir}/{file}) does not hold: {}",
                            differ.join(", ")
                        ),
                    );
                }
            }
            Some(StoredRun::Present {
                file,
                implied: None,
                ..
            }) => problem(
                Some(n),
                ProblemKind::MissingRun,
                format!("{dir}/{file} is not a run record this firedrill reads"),
            ),
        }
    }
    let first_started = parsed
        .iter()
        .flatten()
        .next()
        .and_then(HistoryLine::started_at);
    for (dir, stored) in runs {
        if latest.contains_key(dir.as_str()) {
            continue;
        }
        let started = match stored {
            StoredRun::Present {
                started: Some(s), ..
            } => humantime::parse_rfc3339(s).ok(),
            _ => None,
        };
        match (started, first_started) {
            (Some(started), Some(first)) if started < first => notes.push(format!(
                "{dir} is not in the history: it ran before the history's first line"
            )),
            (Some(_), None) | (Some(_), Some(_)) | (None, _) => problem(
                None,
                ProblemKind::UnrecordedRun,
                format!(
                    "{dir} is not in the history: its line was removed, or appending it failed"
                ),
            ),
        }
    }

    problems.sort_by_key(|p| (p.line.unwrap_or(usize::MAX), p.kind));
    Verification {
        lines: complete.len(),
        runs: latest.len(),
        head: complete.last().map(|l| ChainHead {
            line: l.number,
            sha256: digests[l.number - 1].clone(),
        }),
        problems,
        notes,
        reanalyses,
    }
}

/// The run directories under `<reports>/runs/`, keyed `runs/<name>`, with their record file's
/// digest and start.
pub fn scan_runs(reports: &Path) -> BTreeMap<String, StoredRun> {
    let mut runs = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(reports.join("runs")) else {
        return runs;
    };
    for entry in entries.flatten() {
        if !entry.path().is_dir() {
            continue;
        }
        let key = format!("runs/{}", entry.file_name().to_string_lossy());
        let Some(path) = crate::store::record_file(&entry.path()) else {
            runs.insert(key, StoredRun::NoRecord);
            continue;
        };
        let file = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let stored = match std::fs::read(&path) {
            Err(e) => StoredRun::Unreadable {
                file,
                why: e.to_string(),
            },
            Ok(bytes) => {
                let record = crate::store::decode(&path, &bytes).ok();
                StoredRun::Present {
                    file,
                    sha256: sha256_hex(&bytes),
                    started: match &record {
                        Some(record) => Some(record.history.started_wall.clone()),
                        None => started_wall(&path, &bytes),
                    },
                    implied: record.map(|r| Box::new(HistoryLine::new(&r, &key, &bytes))),
                }
            }
        };
        runs.insert(key, stored);
    }
    runs
}

/// The start of a record that does not load (a newer format, a field changed by hand), if it
/// can be read.
fn started_wall(path: &Path, stored: &[u8]) -> Option<String> {
    let json = crate::store::decompressed(path, stored).ok()?;
    #[derive(serde::Deserialize)]
    struct Record {
        history: History,
    }
    #[derive(serde::Deserialize)]
    struct History {
        started_wall: String,
    }
    serde_json::from_slice::<Record>(&json)
        .ok()
        .map(|r| r.history.started_wall)
}

/// Verifies `<reports>/history.jsonl` against `<reports>/runs/`. Fails only if the history
/// cannot be read.
pub fn verify_reports(reports: &Path) -> Result<Verification, HistoryError> {
    let history = read_history(reports)?;
    Ok(verify_history(&history, &scan_runs(reports)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::history::{HISTORY_FILE, Reanalysis, append, record_reanalysis};
    use crate::report::{sample_record, write_reports, write_run_dir};
    use std::path::PathBuf;

    /// A reports directory with `n` runs of the sample record, each a second apart.
    fn reports_with_runs(n: usize) -> (tempfile::TempDir, Vec<PathBuf>) {
        let reports = tempfile::tempdir().unwrap();
        let dirs = (0..n)
            .map(|i| {
                let mut record = sample_record();
                record.run_id = format!("run-{i}");
                record.history.started_wall = format!("2026-11-0{}T06:10:03.123Z", i + 1);
                write_run_dir(&record, reports.path()).unwrap()
            })
            .collect();
        (reports, dirs)
    }

    fn lines(reports: &Path) -> Vec<Vec<u8>> {
        split_lines(&read_history(reports).unwrap())
            .iter()
            .map(|l| l.bytes.to_vec())
            .collect()
    }

    fn rewrite(reports: &Path, lines: &[Vec<u8>]) {
        let mut bytes = Vec::new();
        for line in lines {
            bytes.extend_from_slice(line);
            bytes.push(b'\n');
        }
        std::fs::write(reports.join(HISTORY_FILE), bytes).unwrap();
    }

    fn kinds(v: &Verification) -> Vec<(Option<usize>, ProblemKind)> {
        v.problems.iter().map(|p| (p.line, p.kind)).collect()
    }

    #[test]
    fn an_untouched_history_is_intact() {
        let (reports, _) = reports_with_runs(3);
        let v = verify_reports(reports.path()).unwrap();
        assert!(v.intact(), "{:?}", v.problems);
        assert_eq!((v.lines, v.runs), (3, 3));
        let head = v.head.clone().unwrap();
        assert_eq!(head.line, 3);
        assert_eq!(
            v.summary(),
            format!(
                "history intact: 3 runs, chain verified (3 lines, line 3 sha256 {})",
                head.sha256
            )
        );
    }

    #[test]
    fn an_empty_history_is_intact() {
        let v = verify_history(b"", &BTreeMap::new());
        assert!(v.intact());
        assert_eq!(
            v.summary(),
            "history intact: 0 runs, chain verified (0 lines)"
        );
    }

    #[test]
    fn an_edited_line_is_found_by_the_next_line() {
        let (reports, _) = reports_with_runs(3);
        let mut l = lines(reports.path());
        let text = String::from_utf8(l[1].clone()).unwrap();
        l[1] = text
            .replace("\"passed\":false", "\"passed\":true")
            .into_bytes();
        assert_ne!(l[1], text.as_bytes(), "the sample fails an objective");
        rewrite(reports.path(), &l);
        let v = verify_reports(reports.path()).unwrap();
        // Found twice: by the chain, and because its verdict is not its record's.
        assert_eq!(
            kinds(&v),
            vec![
                (Some(2), ProblemKind::EditedLine),
                (Some(2), ProblemKind::DisagreesWithRun)
            ]
        );
        assert!(
            v.problems[0]
                .to_string()
                .starts_with("line 2: edited after it was written")
        );
        let disagreement = v.problems[1].to_string();
        assert!(
            disagreement.starts_with("line 2: records facts its run (runs/")
                && disagreement.ends_with("/run.json.gz) does not hold: passed, objectives"),
            "{disagreement}"
        );
        assert!(
            v.summary()
                .starts_with("history NOT intact: 2 problems (3 lines")
        );
    }

    #[test]
    fn an_edited_last_line_is_found_by_its_run() {
        // Nothing follows the last line to expose it in the chain: its record does.
        let (reports, _) = reports_with_runs(2);
        let mut l = lines(reports.path());
        let text = String::from_utf8(l[1].clone()).unwrap();
        l[1] = text
            .replacen(
                "\"passed\":false,\"measurements\"",
                "\"passed\":true,\"measurements\"",
                1,
            )
            .into_bytes();
        assert_ne!(l[1], text.as_bytes());
        rewrite(reports.path(), &l);
        let v = verify_reports(reports.path()).unwrap();
        assert_eq!(kinds(&v), vec![(Some(2), ProblemKind::DisagreesWithRun)]);
        assert!(v.problems[0].to_string().ends_with("does not hold: passed"));
    }

    #[test]
    fn a_rewritten_history_judged_again_is_found() {
        // The run's recorded history edited, then re-analysed through the tool itself: the new
        // line matches the new record, but not the history the run's first line recorded.
        let (reports, dirs) = reports_with_runs(2);
        let dir = &dirs[0];
        let stored = std::fs::read(dir.join(RECORD_FILE)).unwrap();
        let mut record = crate::store::load(&dir.join(RECORD_FILE)).unwrap();
        record.history.events.retain(
            |e| !matches!(e, crate::history::Event::Write(w) if w.outcome != crate::history::Outcome::Ok),
        );
        let record = crate::analyze::reanalyze(&record).record;
        crate::report::write_reports(&record, dir).unwrap();
        crate::report::record_reanalysis(dir, &record, &stored, &[], None).unwrap();
        let v = verify_reports(reports.path()).unwrap();
        assert_eq!(kinds(&v), vec![(Some(3), ProblemKind::DisagreesWithRun)]);
        assert!(
            v.problems[0]
                .to_string()
                .ends_with("history_sha256 (against the run's first line)"),
            "{}",
            v.problems[0]
        );
    }

    #[test]
    fn a_removed_line_is_found_by_the_gap_it_leaves() {
        let (reports, _) = reports_with_runs(4);
        let mut l = lines(reports.path());
        l.remove(1);
        rewrite(reports.path(), &l);
        let v = verify_reports(reports.path()).unwrap();
        assert_eq!(
            kinds(&v),
            vec![
                (Some(2), ProblemKind::RemovedLines),
                (None, ProblemKind::UnrecordedRun)
            ]
        );
        assert_eq!(
            v.problems[0].to_string(),
            "line 2: the line numbered 2 before it was removed: it follows a line that is not in \
             the file"
        );
        assert!(
            v.problems[1]
                .message
                .contains("runs/2026-11-02T06-10-03Z-sample is not in the history")
        );

        // The first line removed.
        let mut l = lines(reports.path());
        l.remove(0);
        rewrite(reports.path(), &l);
        let v = verify_reports(reports.path()).unwrap();
        assert_eq!(kinds(&v)[0], (Some(1), ProblemKind::RemovedLines));
    }

    #[test]
    fn the_last_line_removed_leaves_its_run_unrecorded() {
        let (reports, _) = reports_with_runs(3);
        let mut l = lines(reports.path());
        l.pop();
        rewrite(reports.path(), &l);
        let v = verify_reports(reports.path()).unwrap();
        assert_eq!(kinds(&v), vec![(None, ProblemKind::UnrecordedRun)]);
        assert_eq!(
            v.problems[0].to_string(),
            "runs/2026-11-03T06-10-03Z-sample is not in the history: its line was removed, or \
             appending it failed"
        );
    }

    #[test]
    fn an_inserted_line_is_the_one_nothing_follows() {
        let (reports, _) = reports_with_runs(3);
        let mut l = lines(reports.path());
        // A forged line linked correctly to line 1, put after it.
        let mut forged = parse_line(&l[1]).unwrap();
        forged.run_id = "forged".into();
        l.insert(1, serde_json::to_vec(&forged).unwrap());
        rewrite(reports.path(), &l);
        let v = verify_reports(reports.path()).unwrap();
        assert!(
            kinds(&v).contains(&(Some(2), ProblemKind::InsertedLine)),
            "{:?}",
            v.problems
        );
        assert!(
            v.problems[0].to_string().starts_with(
                "line 2: inserted: no line after it follows it in the chain, and line 3 follows \
                 line 1"
            ),
            "{:?}",
            v.problems
        );
    }

    #[test]
    fn lines_inserted_together_are_each_inserted() {
        let (reports, _) = reports_with_runs(3);
        let mut l = lines(reports.path());
        // Two forged lines chained onto line 2 and onto each other, put after line 2.
        let mut first = parse_line(&l[2]).unwrap();
        first.run_id = "forged-1".into();
        let first = serde_json::to_vec(&first).unwrap();
        let mut second = parse_line(&l[2]).unwrap();
        second.run_id = "forged-2".into();
        second.seq = 4;
        second.prev_sha256 = sha256_hex(&first);
        l.insert(2, first);
        l.insert(3, serde_json::to_vec(&second).unwrap());
        rewrite(reports.path(), &l);
        let v = verify_reports(reports.path()).unwrap();
        assert_eq!(
            kinds(&v),
            vec![
                (Some(3), ProblemKind::InsertedLine),
                (Some(4), ProblemKind::InsertedLine),
                (Some(4), ProblemKind::DuplicateRun),
                (Some(5), ProblemKind::DuplicateRun)
            ],
            "{:?}",
            v.problems
        );
    }

    #[test]
    fn reordered_lines_are_out_of_order() {
        let (reports, _) = reports_with_runs(4);
        let mut l = lines(reports.path());
        l.swap(1, 2);
        rewrite(reports.path(), &l);
        let v = verify_reports(reports.path()).unwrap();
        assert_eq!(
            kinds(&v),
            vec![
                (Some(2), ProblemKind::ReorderedLine),
                (Some(3), ProblemKind::ReorderedLine),
                (Some(4), ProblemKind::ReorderedLine)
            ]
        );
        assert_eq!(
            v.problems[0].to_string(),
            "line 2: out of order: it follows line 3 in the chain, which comes after it"
        );
    }

    #[test]
    fn a_truncated_last_line_is_reported_and_not_counted() {
        let (reports, _) = reports_with_runs(2);
        let path = reports.path().join(HISTORY_FILE);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 30]).unwrap();
        let v = verify_reports(reports.path()).unwrap();
        assert_eq!(
            kinds(&v),
            vec![
                (Some(2), ProblemKind::TruncatedLine),
                (None, ProblemKind::UnrecordedRun)
            ]
        );
        assert_eq!(v.lines, 1);
    }

    #[test]
    fn a_line_that_does_not_parse_is_named() {
        let (reports, _) = reports_with_runs(2);
        let mut l = lines(reports.path());
        l[0] = b"not json".to_vec();
        rewrite(reports.path(), &l);
        let v = verify_reports(reports.path()).unwrap();
        assert_eq!(
            kinds(&v)[..2],
            [
                (Some(1), ProblemKind::NotALine),
                (Some(1), ProblemKind::EditedLine)
            ]
        );
        assert!(
            v.problems[0]
                .message
                .starts_with("not a history line: expected ident"),
            "{:?}",
            v.problems
        );
    }

    #[test]
    fn an_edited_or_missing_run_is_named() {
        let (reports, dirs) = reports_with_runs(3);
        crate::store::edit_by_hand(&dirs[0].join(RECORD_FILE), "\"seed\":1", "\"seed\":2");
        std::fs::remove_dir_all(&dirs[1]).unwrap();
        std::fs::remove_file(dirs[2].join(RECORD_FILE)).unwrap();
        let v = verify_reports(reports.path()).unwrap();
        assert_eq!(
            kinds(&v),
            vec![
                (Some(1), ProblemKind::EditedRun),
                (Some(2), ProblemKind::MissingRun),
                (Some(3), ProblemKind::MissingRun)
            ]
        );
        assert!(v.problems[0].message.starts_with(
            "runs/2026-11-01T06-10-03Z-sample/run.json.gz changed since this line recorded it"
        ));
        assert_eq!(
            v.problems[1].message,
            "runs/2026-11-02T06-10-03Z-sample is missing"
        );
        assert_eq!(
            v.problems[2].message,
            "runs/2026-11-03T06-10-03Z-sample/run.json.gz is missing"
        );
    }

    #[test]
    fn a_reanalysis_is_noted_not_a_problem_unless_the_run_was_edited_first() {
        let (reports, dirs) = reports_with_runs(2);
        let before = std::fs::read(dirs[0].join(RECORD_FILE)).unwrap();
        let mut record = crate::store::load(&dirs[0].join(RECORD_FILE)).unwrap();
        record.verdict.passed = !record.verdict.passed;
        write_reports(&record, &dirs[0]).unwrap();
        crate::report::history::record_reanalysis(&dirs[0], &record, &before, &[], None).unwrap();
        let v = verify_reports(reports.path()).unwrap();
        assert!(v.intact(), "{:?}", v.problems);
        assert_eq!((v.lines, v.runs, v.reanalyses), (3, 2, 1));
        assert_eq!(
            v.notes,
            vec![
                "line 1: runs/2026-11-01T06-10-03Z-sample was rewritten by analyze: line 3 \
                 records its record now"
            ]
        );
        assert!(
            v.summary()
                .contains("(3 lines, 1 rewritten by analyze, line 3 sha256")
        );

        // The record edited by hand, then re-analysed: the re-analysis does not launder it.
        let file = dirs[1].join(RECORD_FILE);
        crate::store::edit_by_hand(&file, "\"seed\":1", "\"seed\":2");
        let edited = std::fs::read(&file).unwrap();
        let mut record = crate::store::load(&file).unwrap();
        record.verdict.passed = !record.verdict.passed;
        write_reports(&record, &dirs[1]).unwrap();
        crate::report::history::record_reanalysis(&dirs[1], &record, &edited, &[], None).unwrap();
        let v = verify_reports(reports.path()).unwrap();
        assert_eq!(kinds(&v), vec![(Some(4), ProblemKind::EditedRun)]);
        assert!(
            v.problems[0]
                .message
                .contains("not the one line 2 recorded")
        );
    }

    #[test]
    fn a_run_recorded_twice_is_a_duplicate() {
        let (reports, dirs) = reports_with_runs(1);
        let record = crate::store::load(&dirs[0].join(RECORD_FILE)).unwrap();
        let stored = std::fs::read(dirs[0].join(RECORD_FILE)).unwrap();
        let line = HistoryLine::new(&record, "runs/2026-11-01T06-10-03Z-sample", &stored);
        append(reports.path(), line).unwrap();
        let v = verify_reports(reports.path()).unwrap();
        assert_eq!(kinds(&v), vec![(Some(2), ProblemKind::DuplicateRun)]);
    }

    #[test]
    fn runs_from_before_the_history_are_noted() {
        let (reports, _) = reports_with_runs(1);
        let mut old = sample_record();
        old.history.started_wall = "2026-01-01T00:00:00.000Z".into();
        let dir = reports.path().join("runs/2026-01-01T00-00-00Z-sample");
        std::fs::create_dir_all(&dir).unwrap();
        write_reports(&old, &dir).unwrap();
        let v = verify_reports(reports.path()).unwrap();
        assert!(v.intact(), "{:?}", v.problems);
        assert_eq!(
            v.notes,
            vec![
                "runs/2026-01-01T00-00-00Z-sample is not in the history: it ran before the \
                 history's first line"
            ]
        );
    }

    /// A game day's run and a scripted run in one history: it verifies, the scripted run's line
    /// holds no `game_day` key (as lines written before game days), and the game day's line
    /// must say what its record says.
    #[test]
    fn a_history_with_a_game_day_verifies() {
        let reports = tempfile::tempdir().unwrap();
        write_run_dir(&sample_record(), reports.path()).unwrap();
        let dir = write_run_dir(&crate::report::gameday_record(), reports.path()).unwrap();
        let v = verify_reports(reports.path()).unwrap();
        assert!(v.intact(), "{:?}", v.problems);
        let history = std::fs::read_to_string(reports.path().join(HISTORY_FILE)).unwrap();
        let lines: Vec<&str> = history.lines().collect();
        assert!(!lines[0].contains("game_day"), "{}", lines[0]);
        assert!(lines[1].contains("\"game_day\":true"), "{}", lines[1]);

        // the same record without its game day: the line records a fact it does not hold
        let mut record = crate::store::load(&dir.join(RECORD_FILE)).unwrap();
        record.game_day = None;
        let bytes = serde_json::to_vec_pretty(&record).unwrap();
        let line = HistoryLine::new(&record, "runs/x", &bytes);
        let stated = crate::report::parse_line(lines[1].as_bytes()).unwrap();
        assert_eq!(stated.disagreements(&line), ["game_day"]);
    }

    /// A run directory written before format 6 holds `run.json`: it verifies, an edit of it is
    /// found, and its re-analysis stores it as `run.json.gz` (the `run.json` gone), on a line
    /// marked with the replaced file's digest that the history verifies.
    #[test]
    fn an_old_run_json_verifies_and_its_reanalysis_moves_it_to_run_json_gz() {
        let fixture =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/format-5/gameday.run.json");
        let old = std::fs::read(&fixture).unwrap();
        let record = crate::store::load(&fixture).unwrap();
        let reports = tempfile::tempdir().unwrap();
        let rel = format!("runs/{}", crate::report::run_dir_name(&record));
        let dir = reports.path().join(&rel);
        std::fs::create_dir_all(&dir).unwrap();
        let plain = dir.join(crate::store::PLAIN_RECORD_FILE);
        std::fs::write(&plain, &old).unwrap();
        append(reports.path(), HistoryLine::new(&record, &rel, &old)).unwrap();
        let v = verify_reports(reports.path()).unwrap();
        assert!(v.intact(), "{:?}", v.problems);

        crate::store::edit_by_hand(&plain, "\"seed\": 1", "\"seed\": 2");
        let v = verify_reports(reports.path()).unwrap();
        assert_eq!(kinds(&v), vec![(Some(1), ProblemKind::EditedRun)]);
        assert!(
            v.problems[0]
                .message
                .starts_with(&format!("{rel}/run.json changed since")),
            "{}",
            v.problems[0]
        );
        std::fs::write(&plain, &old).unwrap();

        let analysis = crate::analyze::reanalyze(&crate::store::load(&plain).unwrap());
        assert!(analysis.reproduced, "{:?}", analysis.changes);
        write_reports(&analysis.record, &dir).unwrap();
        assert!(!plain.exists() && dir.join(RECORD_FILE).exists());
        let Reanalysis::Appended { line, .. } =
            record_reanalysis(&dir, &analysis.record, &old, &[], None).unwrap()
        else {
            panic!("not appended");
        };
        assert_eq!(line.reanalyzed_from, Some(sha256_hex(&old)));
        let note = line.reanalysis.unwrap();
        assert_eq!(
            (note.format_from, note.format_to),
            (5, crate::record::RECORD_FORMAT)
        );
        assert_eq!(note.changes.len(), 5, "{:?}", note.changes);
        assert!(note.changes[0].starts_with("format 6: the record is stored as run.json.gz"));
        assert!(note.changes[1].starts_with("format 7: an application tier"));
        assert!(note.changes[2].starts_with("format 8: the pair stack"));
        assert!(note.changes[3].starts_with("format 9: time to full redundancy"));
        assert!(note.changes[4].starts_with("format 10: the redis-sentinel stack"));
        let v = verify_reports(reports.path()).unwrap();
        assert!(v.intact(), "{:?}", v.problems);
        assert_eq!((v.lines, v.runs, v.reanalyses), (2, 1, 1));

        // judged again: nothing changes, nothing is appended
        let stored = std::fs::read(dir.join(RECORD_FILE)).unwrap();
        let again = crate::analyze::reanalyze(&crate::store::load(&dir.join(RECORD_FILE)).unwrap());
        write_reports(&again.record, &dir).unwrap();
        assert_eq!(
            record_reanalysis(&dir, &again.record, &stored, &[], None).unwrap(),
            Reanalysis::Unchanged
        );
    }

    #[test]
    fn a_missing_history_cannot_be_read() {
        let reports = tempfile::tempdir().unwrap();
        let err = verify_reports(reports.path()).unwrap_err();
        assert!(err.is_not_found());
        assert!(
            err.to_string()
                .contains("history.jsonl: cannot read the run history")
        );
    }
}
