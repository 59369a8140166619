//! The quarterly report's model: the runs of a period (a UTC quarter or a range of days) taken
//! from the run history, aggregated per scenario, compared with the period before, with the
//! failed runs, the runbook procedures left unrehearsed and the history chain's status.
//! Renderers (Markdown, JSON, HTML) work from [`QuarterlyReport`] alone.

use super::history::{HistoryLine, ObjectiveVerdict};
use super::verify::{ChainHead, Verification};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Why a period could not be understood.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("bad quarter `{0}`: expected YEAR-QN with N from 1 to 4, e.g. 2026-Q4")]
    Quarter(String),
    #[error("bad date `{0}`: expected a day of the calendar as YYYY-MM-DD, e.g. 2026-10-01")]
    Date(String),
    #[error("`{0}`: the year must be from 1971 to 9998")]
    Year(String),
    #[error("the period ends ({until}) before it begins ({since})")]
    Reversed { since: String, until: String },
}

const FIRST_YEAR: u32 = 1971;
const LAST_YEAR: u32 = 9998;

/// A span of UTC time: `[start, end)`. A quarter runs from 00:00 UTC on its first day to 00:00
/// UTC on the first day of the next quarter; a range of days from 00:00 UTC on its first day
/// to 00:00 UTC on the day after its last (both days included).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Period {
    /// "2026-Q4", or "2026-10-01 to 2026-12-31".
    pub label: String,
    /// The first day, `YYYY-MM-DD`.
    pub first_day: String,
    /// The last day, included.
    pub last_day: String,
    #[serde(skip)]
    start: SystemTime,
    #[serde(skip)]
    end: SystemTime,
    /// (year, quarter) for a quarter.
    #[serde(skip)]
    quarter: Option<(u32, u32)>,
}

impl Period {
    /// `YEAR-QN` (`2026-Q4`; `q` in either case).
    pub fn quarter(text: &str) -> Result<Period, PeriodError> {
        let bad = || PeriodError::Quarter(text.to_string());
        let (year, q) = text.split_once('-').ok_or_else(bad)?;
        let q = q.strip_prefix(['Q', 'q']).ok_or_else(bad)?;
        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let q = match q {
            "1" => 1,
            "2" => 2,
            "3" => 3,
            "4" => 4,
            _ => return Err(bad()),
        };
        let year: u32 = year.parse().map_err(|_| bad())?;
        if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
            return Err(PeriodError::Year(text.to_string()));
        }
        Ok(Period::of_quarter(year, q))
    }

    fn of_quarter(year: u32, q: u32) -> Period {
        let first_of = |year: u32, month: u32| {
            humantime::parse_rfc3339(&format!("{year:04}-{month:02}-01T00:00:00Z"))
                .expect("a valid first day of a month")
        };
        let start = first_of(year, 3 * (q - 1) + 1);
        let end = if q == 4 {
            first_of(year + 1, 1)
        } else {
            first_of(year, 3 * q + 1)
        };
        Period {
            label: format!("{year}-Q{q}"),
            first_day: day(start),
            last_day: day(end - Duration::from_secs(1)),
            start,
            end,
            quarter: Some((year, q)),
        }
    }

    /// The days from `since` to `until`, both included (`YYYY-MM-DD`, UTC).
    pub fn days(since: &str, until: &str) -> Result<Period, PeriodError> {
        let start = parse_day(since)?;
        let end = parse_day(until)? + Duration::from_secs(86_400);
        if end <= start {
            return Err(PeriodError::Reversed {
                since: since.to_string(),
                until: until.to_string(),
            });
        }
        Ok(Period::of_span(start, end))
    }

    fn of_span(start: SystemTime, end: SystemTime) -> Period {
        let (first_day, last_day) = (day(start), day(end - Duration::from_secs(1)));
        Period {
            label: format!("{first_day} to {last_day}"),
            first_day,
            last_day,
            start,
            end,
            quarter: None,
        }
    }

    /// The period before: the previous quarter, or the days of the same length just before
    /// (from 1970-01-01 at the earliest).
    pub fn previous(&self) -> Period {
        match self.quarter {
            Some((year, 1)) => Period::of_quarter(year - 1, 4),
            Some((year, q)) => Period::of_quarter(year, q - 1),
            None => {
                let length = self.end.duration_since(self.start).unwrap_or_default();
                let start = self
                    .start
                    .checked_sub(length)
                    .filter(|s| *s >= UNIX_EPOCH)
                    .unwrap_or(UNIX_EPOCH);
                Period::of_span(start, self.start)
            }
        }
    }

    /// Whether `instant` is in `[start, end)`.
    pub fn contains(&self, instant: SystemTime) -> bool {
        self.start <= instant && instant < self.end
    }

    pub fn start(&self) -> SystemTime {
        self.start
    }

    pub fn end(&self) -> SystemTime {
        self.end
    }

    /// A file name for the period's report, without extension: `2026-Q4`, or
    /// `2026-10-01_2026-12-31`.
    pub fn file_stem(&self) -> String {
        match self.quarter {
            Some(_) => self.label.clone(),
            None => format!("{}_{}", self.first_day, self.last_day),
        }
    }
}

fn parse_day(text: &str) -> Result<SystemTime, PeriodError> {
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let shaped = text.len() == 10
        && text.as_bytes()[4] == b'-'
        && text.as_bytes()[7] == b'-'
        && digits(&text[..4])
        && digits(&text[5..7])
        && digits(&text[8..]);
    if !shaped {
        return Err(PeriodError::Date(text.to_string()));
    }
    let year: u32 = text[..4]
        .parse()
        .map_err(|_| PeriodError::Date(text.into()))?;
    if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
        return Err(PeriodError::Year(text.to_string()));
    }
    humantime::parse_rfc3339(&format!("{text}T00:00:00Z"))
        .map_err(|_| PeriodError::Date(text.to_string()))
}

/// `YYYY-MM-DD` of an instant, UTC.
fn day(instant: SystemTime) -> String {
    humantime::format_rfc3339_seconds(instant).to_string()[..10].to_string()
}

/// The smallest, median and largest of some durations. The median is the middle value of the
/// sorted durations, or, for an even count, the mean of the two middle values (truncated to
/// the nanosecond).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Spread {
    #[serde(with = "humantime_serde")]
    pub min: Duration,
    #[serde(with = "humantime_serde")]
    pub median: Duration,
    #[serde(with = "humantime_serde")]
    pub max: Duration,
}

impl Spread {
    /// `None` for no durations.
    pub fn of(mut values: Vec<Duration>) -> Option<Spread> {
        values.sort();
        let n = values.len();
        let median = match n {
            0 => return None,
            _ if n % 2 == 1 => values[n / 2],
            _ => (values[n / 2 - 1] + values[n / 2]) / 2,
        };
        Some(Spread {
            min: values[0],
            median,
            max: values[n - 1],
        })
    }
}

/// What a set of runs (of one scenario, in one period) showed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunStats {
    pub runs: usize,
    /// Judged runs that passed.
    pub passed: usize,
    /// Runs not judged (their scenario had no objectives): neither passed nor failed, and left
    /// out of the pass rate.
    pub not_judged: usize,
    /// RTO over the runs where it was measured; `None` if none.
    pub rto: Option<Spread>,
    /// Runs whose RTO was measured (writes recovered).
    pub rto_measured: usize,
    /// Acknowledged writes lost, summed over the runs with a read-back; `None` if none had.
    pub lost_writes_total: Option<u64>,
    /// The most acknowledged writes one run lost.
    pub lost_writes_max: Option<u64>,
    /// Runs with a read-back (whose lost writes were counted).
    pub lost_writes_measured: usize,
    /// Acknowledged writes the read-back could not check, summed over the runs whose lines
    /// record it.
    pub unchecked_writes: u64,
    /// Unknown writes left unresolved, summed over the runs whose lines record it.
    pub unresolved_writes: u64,
    /// Write attempts the harness never sent, summed over the runs whose lines record it.
    pub not_sent_writes: u64,
    /// Runs in which split brain was detected.
    pub split_brain_runs: usize,
    /// Runs in which split brain was measured (detected, or roles were observed and none was).
    pub split_brain_measured: usize,
    /// Of the runs, the game days (people drove them by hand). Absent from the JSON when none.
    #[serde(skip_serializing_if = "is_zero")]
    pub game_days: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// `3`, or `3 (1 game day)` when some of the runs were game days.
pub(crate) fn runs_with_game_days(runs: usize, game_days: usize) -> String {
    match game_days {
        0 => runs.to_string(),
        1 => format!("{runs} (1 game day)"),
        n => format!("{runs} ({n} game days)"),
    }
}

impl RunStats {
    /// What the lost-writes figures leave unjudged, shown beside them: " (3 acknowledged writes
    /// not checked, 12 unknown writes unresolved; 405 write attempts not sent)", the parts that
    /// are not zero; empty when all are.
    pub fn lost_caveat(&self) -> String {
        let mut parts: Vec<String> =
            super::rows::caveat_parts(self.unchecked_writes, self.unresolved_writes)
                .into_iter()
                .collect();
        if self.not_sent_writes > 0 {
            parts.push(format!(
                "{} write attempt{} not sent",
                self.not_sent_writes,
                if self.not_sent_writes == 1 { "" } else { "s" }
            ));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!(" ({})", parts.join("; "))
        }
    }

    fn of(runs: &[&HistoryLine]) -> RunStats {
        let lost: Vec<u64> = runs
            .iter()
            .filter_map(|r| r.measurements.lost_writes)
            .collect();
        let rto: Vec<Duration> = runs.iter().filter_map(|r| r.measurements.rto).collect();
        RunStats {
            runs: runs.len(),
            passed: runs.iter().filter(|r| r.counts_as_passed()).count(),
            not_judged: runs.iter().filter(|r| !r.judged()).count(),
            rto_measured: rto.len(),
            rto: Spread::of(rto),
            lost_writes_total: (!lost.is_empty()).then(|| lost.iter().sum()),
            lost_writes_max: lost.iter().copied().max(),
            lost_writes_measured: lost.len(),
            unchecked_writes: runs
                .iter()
                .filter_map(|r| r.measurements.unchecked_writes)
                .sum(),
            unresolved_writes: runs
                .iter()
                .filter_map(|r| r.measurements.unresolved_writes)
                .sum(),
            not_sent_writes: runs
                .iter()
                .filter_map(|r| r.measurements.not_sent_writes)
                .sum(),
            split_brain_runs: runs
                .iter()
                .filter(|r| r.measurements.split_brain == Some(true))
                .count(),
            split_brain_measured: runs
                .iter()
                .filter(|r| r.measurements.split_brain.is_some())
                .count(),
            game_days: runs.iter().filter(|r| r.game_day).count(),
        }
    }

    /// ", 3 of 4 measured" after a count of split brain runs when some run's split brain was not
    /// measured; empty when every run's was.
    pub fn split_brain_unmeasured_note(&self) -> String {
        if self.split_brain_measured == self.runs {
            String::new()
        } else {
            format!(" ({} of {} measured)", self.split_brain_measured, self.runs)
        }
    }

    /// Runs judged: those whose scenario had objectives.
    pub fn judged(&self) -> usize {
        self.runs - self.not_judged
    }

    /// Passed runs over judged runs, in percent; `None` without a judged run.
    pub fn pass_rate(&self) -> Option<f64> {
        let judged = self.judged();
        (judged > 0).then(|| self.passed as f64 * 100.0 / judged as f64)
    }
}

/// One scenario's runs in the period, and in the period before.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScenarioSummary {
    pub scenario: String,
    /// The runbook procedure its latest run in the period named.
    pub runbook: Option<String>,
    pub now: RunStats,
    /// `None`: no run in the period before.
    pub previous: Option<RunStats>,
}

/// A run of the period that failed: judged, and did not pass (a run not judged is not one).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FailedRun {
    pub started: String,
    pub scenario: String,
    pub runbook: Option<String>,
    /// Relative to the reports directory.
    pub run_dir: String,
    pub run_id: String,
    /// Whether its verdict is that of a re-analysis (`firedrill analyze`).
    pub reanalyzed: bool,
    /// Whether it was a game day (people drove it by hand); absent from the JSON when not.
    #[serde(skip_serializing_if = "is_false")]
    pub game_day: bool,
    /// The objectives that failed, with what was measured.
    pub failed_objectives: Vec<ObjectiveVerdict>,
}

/// A runbook procedure rehearsed before the period but not in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// `None` for a scenario that names no procedure (then the gap is that scenario).
    pub runbook: Option<String>,
    /// The scenarios that rehearsed it before, each with its latest run.
    pub scenarios: Vec<LastRun>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LastRun {
    pub scenario: String,
    pub started: String,
    pub run_dir: String,
    /// Whether it was a game day; absent from the JSON when not.
    #[serde(skip_serializing_if = "is_false")]
    pub game_day: bool,
}

/// The run history's verification, as the report states it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChainStatus {
    pub intact: bool,
    /// `firedrill verify`'s summary line.
    pub summary: String,
    pub head: Option<ChainHead>,
    /// Each problem, "line N: ...".
    pub problems: Vec<String>,
}

/// Who prepared and reviewed the report; blank lines to sign where not given.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SignOff {
    pub prepared_by: Option<String>,
    /// The day the report was generated, when `prepared_by` is given.
    pub prepared_on: Option<String>,
    pub reviewed_by: Option<String>,
}

/// What the report is made with besides the history.
#[derive(Clone, Debug)]
pub struct ReportOptions {
    pub prepared_by: Option<String>,
    pub reviewed_by: Option<String>,
    /// When the report is generated.
    pub generated: SystemTime,
    /// The firedrill version generating it.
    pub firedrill: String,
}

/// The quarterly report: every renderer's input.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QuarterlyReport {
    pub period: Period,
    pub previous: Period,
    /// RFC 3339, UTC, to the second.
    pub generated: String,
    pub firedrill: String,
    /// Runs in the period.
    pub runs: usize,
    /// Judged runs of the period that passed.
    pub passed: usize,
    /// Runs of the period not judged (no objectives): neither passed nor failed.
    pub not_judged: usize,
    /// Runs of the period that were game days; absent from the JSON when none.
    #[serde(skip_serializing_if = "is_zero")]
    pub game_days: usize,
    /// Runbook procedures rehearsed in the period.
    pub procedures: usize,
    /// Per scenario run in the period, by runbook procedure (those naming none last), then
    /// scenario name.
    pub scenarios: Vec<ScenarioSummary>,
    /// Failed runs of the period, by start.
    pub failed_runs: Vec<FailedRun>,
    /// Procedures rehearsed before the period and not in it, by procedure.
    pub gaps: Vec<Gap>,
    pub chain: ChainStatus,
    pub sign_off: SignOff,
}

/// The report for `period` from the lines of a history (those that parse, in file order) and
/// its verification.
///
/// A run is counted once, as its latest line records it (a re-analysis supersedes the run's
/// first line), in the period holding its start. Lines whose start does not parse are left out
/// (`verify` reports them).
pub fn quarterly_report(
    lines: &[HistoryLine],
    verification: &Verification,
    period: &Period,
    options: &ReportOptions,
) -> QuarterlyReport {
    let previous = period.previous();
    let mut latest: BTreeMap<&str, &HistoryLine> = BTreeMap::new();
    for line in lines {
        latest.insert(&line.run_dir, line);
    }
    let mut runs: Vec<(SystemTime, &HistoryLine)> = latest
        .values()
        .filter_map(|&line| line.started_at().map(|t| (t, line)))
        .collect();
    runs.sort_by(|a, b| (a.0, &a.1.run_dir).cmp(&(b.0, &b.1.run_dir)));
    let in_period: Vec<_> = runs.iter().filter(|r| period.contains(r.0)).collect();
    let in_previous: Vec<_> = runs.iter().filter(|r| previous.contains(r.0)).collect();

    let previous_by = by_scenario(&in_previous);
    let mut scenarios: Vec<ScenarioSummary> = by_scenario(&in_period)
        .into_iter()
        .map(|(scenario, runs)| ScenarioSummary {
            runbook: runs.last().and_then(|r| r.runbook.clone()),
            now: RunStats::of(&runs),
            previous: previous_by.get(&scenario).map(|r| RunStats::of(r)),
            scenario,
        })
        .collect();
    scenarios.sort_by(|a, b| {
        (a.runbook.is_none(), &a.runbook, &a.scenario).cmp(&(
            b.runbook.is_none(),
            &b.runbook,
            &b.scenario,
        ))
    });

    let failed_runs = in_period
        .iter()
        .filter(|(_, line)| line.counts_as_failed())
        .map(|&&(_, line)| FailedRun {
            started: line.started.clone(),
            scenario: line.scenario.clone(),
            runbook: line.runbook.clone(),
            run_dir: line.run_dir.clone(),
            run_id: line.run_id.clone(),
            reanalyzed: line.reanalyzed_from.is_some(),
            game_day: line.game_day,
            failed_objectives: line
                .objectives
                .iter()
                .filter(|o| !o.passed)
                .cloned()
                .collect(),
        })
        .collect();

    // A procedure is keyed by its name, a scenario naming none by the scenario's.
    let key = |line: &HistoryLine| match &line.runbook {
        Some(runbook) => (Some(runbook.clone()), String::new()),
        None => (None, line.scenario.clone()),
    };
    let covered: BTreeSet<_> = in_period.iter().map(|(_, line)| key(line)).collect();
    let mut gaps: BTreeMap<(Option<String>, String), BTreeMap<String, LastRun>> = BTreeMap::new();
    for (_, line) in runs.iter().filter(|r| r.0 < period.start()) {
        let k = key(line);
        if covered.contains(&k) {
            continue;
        }
        // Runs are in start order: the last one seen is the latest.
        gaps.entry(k).or_default().insert(
            line.scenario.clone(),
            LastRun {
                scenario: line.scenario.clone(),
                started: line.started.clone(),
                run_dir: line.run_dir.clone(),
                game_day: line.game_day,
            },
        );
    }
    let mut gaps: Vec<Gap> = gaps
        .into_iter()
        .map(|((runbook, _), scenarios)| Gap {
            runbook,
            scenarios: scenarios.into_values().collect(),
        })
        .collect();
    gaps.sort_by(|a, b| (a.runbook.is_none(), &a.runbook).cmp(&(b.runbook.is_none(), &b.runbook)));

    let generated = humantime::format_rfc3339_seconds(options.generated).to_string();
    QuarterlyReport {
        period: period.clone(),
        previous,
        runs: in_period.len(),
        passed: in_period.iter().filter(|r| r.1.counts_as_passed()).count(),
        not_judged: in_period.iter().filter(|r| !r.1.judged()).count(),
        game_days: in_period.iter().filter(|r| r.1.game_day).count(),
        procedures: covered
            .iter()
            .filter(|(runbook, _)| runbook.is_some())
            .count(),
        scenarios,
        failed_runs,
        gaps,
        chain: ChainStatus {
            intact: verification.intact(),
            summary: verification.summary(),
            head: verification.head.clone(),
            problems: verification
                .problems
                .iter()
                .map(ToString::to_string)
                .collect(),
        },
        sign_off: SignOff {
            prepared_on: options
                .prepared_by
                .as_ref()
                .map(|_| generated[..10].to_string()),
            prepared_by: options.prepared_by.clone(),
            reviewed_by: options.reviewed_by.clone(),
        },
        generated,
        firedrill: options.firedrill.clone(),
    }
}

/// The quarterly report as pretty JSON, with a final newline. Durations are humantime strings
/// exact to the nanosecond, as in history.jsonl.
pub fn quarterly_json(report: &QuarterlyReport) -> String {
    serde_json::to_string_pretty(report).expect("the report serializes") + "\n"
}

fn by_scenario<'a>(
    runs: &[&(SystemTime, &'a HistoryLine)],
) -> BTreeMap<String, Vec<&'a HistoryLine>> {
    let mut by: BTreeMap<String, Vec<&HistoryLine>> = BTreeMap::new();
    for (_, line) in runs {
        by.entry(line.scenario.clone()).or_default().push(line);
    }
    by
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::history::HistoryLine;

    fn at(text: &str) -> SystemTime {
        humantime::parse_rfc3339(text).unwrap()
    }

    #[test]
    fn quarters_run_from_their_first_day_to_the_next_quarter_s() {
        let q4 = Period::quarter("2026-Q4").unwrap();
        assert_eq!(q4.label, "2026-Q4");
        assert_eq!(
            (q4.first_day.as_str(), q4.last_day.as_str()),
            ("2026-10-01", "2026-12-31")
        );
        assert_eq!(q4.start(), at("2026-10-01T00:00:00Z"));
        assert_eq!(q4.end(), at("2027-01-01T00:00:00Z"));
        assert!(q4.contains(at("2026-10-01T00:00:00Z")));
        assert!(q4.contains(at("2026-12-31T23:59:59.999Z")));
        assert!(!q4.contains(at("2027-01-01T00:00:00Z")));
        assert!(!q4.contains(at("2026-09-30T23:59:59.999Z")));
        assert_eq!(q4.file_stem(), "2026-Q4");

        let q1 = Period::quarter("2024-q1").unwrap();
        assert_eq!(
            (q1.first_day.as_str(), q1.last_day.as_str()),
            ("2024-01-01", "2024-03-31")
        );
        let previous = q1.previous();
        assert_eq!(previous.label, "2023-Q4");
        assert_eq!(previous.end(), q1.start());
        let q2 = Period::quarter("2026-Q2").unwrap();
        assert_eq!(
            (q2.first_day.as_str(), q2.last_day.as_str()),
            ("2026-04-01", "2026-06-30")
        );
        assert_eq!(q2.previous().label, "2026-Q1");
        assert_eq!(Period::quarter("2026-Q3").unwrap().last_day, "2026-09-30");
    }

    #[test]
    fn bad_quarters_say_what_is_expected() {
        for bad in [
            "2026-Q5", "2026-Q0", "2026Q4", "26-Q4", "2026-4", "2026-Q", "Q4-2026", "",
        ] {
            assert_eq!(
                Period::quarter(bad).unwrap_err().to_string(),
                format!("bad quarter `{bad}`: expected YEAR-QN with N from 1 to 4, e.g. 2026-Q4"),
            );
        }
        assert_eq!(
            Period::quarter("1969-Q4").unwrap_err().to_string(),
            "`1969-Q4`: the year must be from 1971 to 9998"
        );
    }

    #[test]
    fn ranges_of_days_include_both_days() {
        let p = Period::days("2026-10-01", "2026-10-31").unwrap();
        assert_eq!(p.label, "2026-10-01 to 2026-10-31");
        assert_eq!(p.file_stem(), "2026-10-01_2026-10-31");
        assert_eq!(p.start(), at("2026-10-01T00:00:00Z"));
        assert_eq!(p.end(), at("2026-11-01T00:00:00Z"));
        let previous = p.previous();
        assert_eq!(previous.label, "2026-08-31 to 2026-09-30");
        assert_eq!(previous.end(), p.start());
        let one = Period::days("2028-02-29", "2028-02-29").unwrap();
        assert_eq!(one.end(), at("2028-03-01T00:00:00Z"));

        assert_eq!(
            Period::days("2026-02-30", "2026-03-01")
                .unwrap_err()
                .to_string(),
            "bad date `2026-02-30`: expected a day of the calendar as YYYY-MM-DD, e.g. 2026-10-01"
        );
        assert!(matches!(
            Period::days("2026-1-01", "2026-03-01"),
            Err(PeriodError::Date(_))
        ));
        assert!(matches!(
            Period::days("2026-01-01", "yesterday"),
            Err(PeriodError::Date(_))
        ));
        assert_eq!(
            Period::days("2026-03-02", "2026-03-01")
                .unwrap_err()
                .to_string(),
            "the period ends (2026-03-01) before it begins (2026-03-02)"
        );
    }

    #[test]
    fn json_holds_the_model_with_humantime_durations() {
        let period = Period::quarter("2026-Q4").unwrap();
        let mut line = HistoryLine::new(&crate::report::sample_record(), "runs/x", b"{}");
        line.started = "2026-11-01T00:00:00.000Z".into();
        let options = ReportOptions {
            prepared_by: None,
            reviewed_by: Some("Sam Okafor".into()),
            generated: at("2027-01-04T09:30:00Z"),
            firedrill: "test".into(),
        };
        let report = quarterly_report(&[line], &Verification::default(), &period, &options);
        let json: serde_json::Value = serde_json::from_str(&quarterly_json(&report)).unwrap();
        assert_eq!(json["period"]["label"], "2026-Q4");
        assert_eq!(json["period"]["last_day"], "2026-12-31");
        assert_eq!(json["previous"]["label"], "2026-Q3");
        assert_eq!(json["runs"], 1);
        assert_eq!(json["scenarios"][0]["scenario"], "sample");
        assert_eq!(json["scenarios"][0]["previous"], serde_json::Value::Null);
        assert_eq!(json["scenarios"][0]["now"]["rto"]["median"], "2s 100ms");
        assert_eq!(json["sign_off"]["reviewed_by"], "Sam Okafor");
        assert_eq!(json["sign_off"]["prepared_on"], serde_json::Value::Null);
        assert_eq!(json["chain"]["intact"], true);
    }

    #[test]
    fn split_brain_is_counted_over_the_runs_where_it_was_measured() {
        let line = |split_brain| {
            let mut line = HistoryLine::new(&crate::report::sample_record(), "runs/x", b"{}");
            line.measurements.split_brain = split_brain;
            line
        };
        let lines = [line(Some(false)), line(None), line(Some(true))];
        let stats = RunStats::of(&lines.iter().collect::<Vec<_>>());
        assert_eq!((stats.split_brain_runs, stats.split_brain_measured), (1, 2));
        assert_eq!(stats.split_brain_unmeasured_note(), " (2 of 3 measured)");
        let stats = RunStats::of(&[&lines[0]]);
        assert_eq!((stats.split_brain_runs, stats.split_brain_measured), (0, 1));
        assert_eq!(stats.split_brain_unmeasured_note(), "");
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        let s = |v: &[u64]| Spread::of(v.iter().map(|&ms| Duration::from_millis(ms)).collect());
        assert_eq!(s(&[]), None);
        let odd = s(&[30, 10, 20]).unwrap();
        assert_eq!(
            (odd.min, odd.median, odd.max),
            (
                Duration::from_millis(10),
                Duration::from_millis(20),
                Duration::from_millis(30)
            )
        );
        assert_eq!(
            s(&[40, 10, 20, 30]).unwrap().median,
            Duration::from_millis(25)
        );
        assert_eq!(s(&[7]).unwrap().median, Duration::from_millis(7));
        let ns = Spread::of(vec![Duration::from_nanos(1), Duration::from_nanos(2)]).unwrap();
        assert_eq!(
            ns.median,
            Duration::from_nanos(1),
            "truncated to the nanosecond"
        );
    }
}
