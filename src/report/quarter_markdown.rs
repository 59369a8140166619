//! The quarterly report as Markdown, for the file kept as evidence and signed.

use super::quarter::{QuarterlyReport, RunStats};
use super::rows::fmt_duration;
use std::fmt::Write;
use std::time::Duration;

/// A blank line to write on.
const BLANK: &str = "____________________";

/// The quarterly report as Markdown. Links to run directories are relative to
/// `<reports>/quarterly/`, where the report is written.
pub fn quarterly_markdown(report: &QuarterlyReport) -> String {
    let mut md = String::new();
    let (period, previous) = (&report.period, &report.previous);
    let _ = writeln!(md, "# Failover drills: {}\n", period.label);
    let _ = writeln!(
        md,
        "The failover drills run from {} to {} (UTC), as the run history records them, compared \
         with {}.\n",
        period.first_day, period.last_day, previous.label
    );
    let _ = writeln!(md, "| | |\n|---|---|");
    let _ = writeln!(
        md,
        "| period | {} to {}, UTC |",
        period.first_day, period.last_day
    );
    let _ = writeln!(
        md,
        "| compared with | {}{} |",
        previous.label,
        if previous.label.contains(" to ") {
            String::new()
        } else {
            format!(": {} to {}", previous.first_day, previous.last_day)
        }
    );
    let _ = writeln!(
        md,
        "| runs | {}, of {} scenario{} covering {} runbook procedure{}; {} |",
        super::quarter::runs_with_game_days(report.runs, report.game_days),
        report.scenarios.len(),
        plural(report.scenarios.len()),
        report.procedures,
        plural(report.procedures),
        pass_rate_of(report.passed, report.runs, report.not_judged),
    );
    let _ = writeln!(
        md,
        "| failed runs | {} |",
        if report.failed_runs.is_empty() {
            "none".to_string()
        } else {
            report.failed_runs.len().to_string()
        }
    );
    let _ = writeln!(
        md,
        "| gaps | {} |",
        match report.gaps.len() {
            0 => "none".to_string(),
            n => format!(
                "{n} procedure{} rehearsed before, not in this period",
                plural(n)
            ),
        }
    );
    let _ = writeln!(
        md,
        "| run history | {} |",
        if report.chain.intact {
            "intact, chain verified".to_string()
        } else {
            format!(
                "**NOT intact: {} problem{}** (below)",
                report.chain.problems.len(),
                plural(report.chain.problems.len())
            )
        }
    );
    let _ = writeln!(
        md,
        "| generated | {} by firedrill {} |\n",
        report.generated, report.firedrill
    );

    let _ = writeln!(md, "## Runs by scenario\n");
    if report.scenarios.is_empty() {
        let _ = writeln!(md, "No run in this period.\n");
    } else {
        let _ = writeln!(
            md,
            "| runbook procedure | scenario | runs | passed | RTO min / median / max | acknowledged \
             writes lost, total / max | split brain |\n|---|---|---|---|---|---|---|"
        );
        for s in &report.scenarios {
            let n = &s.now;
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} |",
                cell(s.runbook.as_deref().unwrap_or("—")),
                cell(&s.scenario),
                super::quarter::runs_with_game_days(n.runs, n.game_days),
                pass_rate(n),
                rto(n),
                lost(n),
                match n.split_brain_runs {
                    0 => format!("none{}", n.split_brain_unmeasured_note()),
                    k => format!(
                        "**{k} run{}**{}",
                        plural(k),
                        n.split_brain_unmeasured_note()
                    ),
                },
            );
        }
        let _ = writeln!(
            md,
            "\nRTO is over the runs where it was measured (writes recovered and were seen to keep \
             succeeding for {}); writes lost over the runs with a read-back; split brain over the \
             runs where a node's role was observed. The median is the middle value, or the mean of the two middle \
             values for an even count. Pass rates are rounded to one decimal.\n",
            super::rows::stable_words()
        );

        let _ = writeln!(md, "## Trend against {}\n", previous.label);
        let _ = writeln!(
            md,
            "| runbook procedure | scenario | median RTO, {} → {} | pass rate, {} → {} |\n\
             |---|---|---|---|",
            previous.label, period.label, previous.label, period.label
        );
        for s in &report.scenarios {
            let then = s.previous.as_ref();
            let median = |stats: &RunStats| stats.rto.map(|r| r.median);
            let rto_trend = match (then.map(median), median(&s.now)) {
                (None, now) => format!("no runs → {}", opt_duration(now)),
                (Some(Some(a)), Some(b)) => {
                    format!(
                        "{} → {} ({})",
                        fmt_duration(a),
                        fmt_duration(b),
                        delta(a, b)
                    )
                }
                (Some(a), b) => format!("{} → {}", opt_duration(a), opt_duration(b)),
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} → {} |",
                cell(s.runbook.as_deref().unwrap_or("—")),
                cell(&s.scenario),
                rto_trend,
                then.map_or_else(|| "no runs".to_string(), pass_rate),
                pass_rate(&s.now),
            );
        }
        let _ = writeln!(md);
    }

    let _ = writeln!(md, "## Failed runs\n");
    if report.failed_runs.is_empty() {
        let _ = writeln!(md, "None: every run of the period passed.\n");
    } else {
        let _ = writeln!(
            md,
            "| started | scenario | run | objectives not met |\n|---|---|---|---|"
        );
        for run in &report.failed_runs {
            let why: Vec<String> = run
                .failed_objectives
                .iter()
                .map(|o| {
                    let measured = o
                        .measured
                        .map_or_else(|| "not measured".to_string(), |m| format!("measured {m}"));
                    let objective = super::escape::md_code(&o.objective);
                    match &o.note {
                        Some(note) if o.measured.is_some() => {
                            format!("{objective}: {} ({})", cell(&measured), cell(note))
                        }
                        Some(note) => format!("{objective}: {}", cell(note)),
                        None => format!("{objective}: {}", cell(&measured)),
                    }
                })
                .collect();
            let _ = writeln!(
                md,
                "| {} | {}{} | {} | {}{} |",
                cell(&run.started),
                cell(&run.scenario),
                if run.game_day { " (game day)" } else { "" },
                run_link(&run.run_dir),
                if why.is_empty() {
                    "no objective failed; the run is marked failed".to_string()
                } else {
                    why.join("; ")
                },
                if run.reanalyzed {
                    " (judged again by `firedrill analyze`)"
                } else {
                    ""
                },
            );
        }
        let _ = writeln!(md);
    }

    let _ = writeln!(
        md,
        "## Gaps: procedures not rehearsed in {}\n",
        period.label
    );
    if report.gaps.is_empty() {
        let _ = writeln!(
            md,
            "None: every procedure rehearsed before was rehearsed in this period.\n"
        );
    } else {
        let _ = writeln!(
            md,
            "| runbook procedure | rehearsed before by | its latest run |\n|---|---|---|"
        );
        for gap in &report.gaps {
            for (i, last) in gap.scenarios.iter().enumerate() {
                let procedure = match (i, &gap.runbook) {
                    (0, Some(runbook)) => cell(runbook),
                    (0, None) => "— (the scenario names none)".to_string(),
                    _ => String::new(),
                };
                let _ = writeln!(
                    md,
                    "| {procedure} | {} | {}, {}{} |",
                    cell(&last.scenario),
                    cell(&last.started),
                    run_link(&last.run_dir),
                    if last.game_day { " (a game day)" } else { "" }
                );
            }
        }
        let _ = writeln!(md);
    }

    let _ = writeln!(md, "## Run history\n");
    let _ = writeln!(md, "`firedrill verify`: {}\n", report.chain.summary);
    for problem in &report.chain.problems {
        let _ = writeln!(md, "- {problem}");
    }
    if !report.chain.problems.is_empty() {
        let _ = writeln!(md);
    }
    if let Some(head) = &report.chain.head {
        let _ = writeln!(
            md,
            "Each line of history.jsonl holds the sha256 of the line before it and of its run's \
             run.json. Line {} (sha256 `{}`) is the last this report was made from: quoted with \
             the signatures, it anchors every line up to it, and `firedrill verify` shows any \
             later change.\n",
            head.line, head.sha256
        );
    }

    let _ = writeln!(md, "## Sign-off\n");
    let s = &report.sign_off;
    let _ = writeln!(md, "| | name | signature | date |\n|---|---|---|---|");
    let _ = writeln!(
        md,
        "| Prepared by | {} | {BLANK} | {} |",
        s.prepared_by.as_deref().map_or(BLANK.to_string(), cell),
        s.prepared_on.as_deref().map_or(BLANK.to_string(), cell)
    );
    let _ = writeln!(
        md,
        "| Reviewed by | {} | {BLANK} | {BLANK} |",
        s.reviewed_by.as_deref().map_or(BLANK.to_string(), cell),
    );
    md
}

pub(super) fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A table cell: pipes escaped, line breaks flattened.
fn cell(text: &str) -> String {
    super::escape::md_cell(text)
}

/// A link to a run's report: the directory as text and, percent-encoded where Markdown or a
/// table would read a character otherwise, as the destination.
fn run_link(run_dir: &str) -> String {
    let mut target = String::new();
    for c in run_dir.chars() {
        match c {
            ' ' | '(' | ')' | '<' | '>' | '|' | '\n' | '\r' | '%' => {
                target.push_str(&format!("%{:02X}", c as u32))
            }
            c => target.push(c),
        }
    }
    format!("[{}](../{target}/report.md)", cell(run_dir))
}

/// "66.7% passed (2 of 3)"; over the judged runs, with those not judged counted beside: "50.0%
/// passed (1 of 2 judged; 1 not judged)".
pub(super) fn pass_rate_of(passed: usize, runs: usize, not_judged: usize) -> String {
    let judged = runs - not_judged;
    match (runs, judged, not_judged) {
        (0, _, _) => "no runs".to_string(),
        (_, 0, n) => format!("none judged ({n} not judged)"),
        (_, j, 0) => format!(
            "{:.1}% passed ({passed} of {j})",
            passed as f64 * 100.0 / j as f64
        ),
        (_, j, n) => format!(
            "{:.1}% passed ({passed} of {j} judged; {n} not judged)",
            passed as f64 * 100.0 / j as f64
        ),
    }
}

/// "66.7% (2 of 3)", over the judged runs: "50.0% (1 of 2 judged; 1 not judged)".
pub(super) fn pass_rate(stats: &RunStats) -> String {
    match (stats.pass_rate(), stats.not_judged) {
        (None, 0) => "no runs".to_string(),
        (None, n) => format!("none judged ({n} not judged)"),
        (Some(rate), 0) => format!("{rate:.1}% ({} of {})", stats.passed, stats.runs),
        (Some(rate), n) => format!(
            "{rate:.1}% ({} of {} judged; {n} not judged)",
            stats.passed,
            stats.judged()
        ),
    }
}

fn rto(stats: &RunStats) -> String {
    match stats.rto {
        None => "not measured".to_string(),
        Some(r) => {
            let spread = format!(
                "{} / {} / {}",
                fmt_duration(r.min),
                fmt_duration(r.median),
                fmt_duration(r.max)
            );
            if stats.rto_measured == stats.runs {
                spread
            } else {
                format!(
                    "{spread} ({} of {} measured)",
                    stats.rto_measured, stats.runs
                )
            }
        }
    }
}

fn lost(stats: &RunStats) -> String {
    match (stats.lost_writes_total, stats.lost_writes_max) {
        (Some(total), Some(max)) => {
            let lost = if total == 0 {
                "0 / 0".to_string()
            } else {
                format!("**{total} / {max}**")
            };
            let lost = format!("{lost}{}", stats.lost_caveat());
            if stats.lost_writes_measured == stats.runs {
                lost
            } else {
                format!(
                    "{lost} ({} of {} read back)",
                    stats.lost_writes_measured, stats.runs
                )
            }
        }
        _ => format!("not measured{}", stats.lost_caveat()),
    }
}

pub(super) fn opt_duration(d: Option<Duration>) -> String {
    d.map_or_else(|| "not measured".to_string(), fmt_duration)
}

/// "+1.500s", "−0.250s", "±0.000s".
pub(super) fn delta(then: Duration, now: Duration) -> String {
    if now > then {
        format!("+{}", fmt_duration(now - then))
    } else if now < then {
        format!("−{}", fmt_duration(then - now))
    } else {
        format!("±{}", fmt_duration(Duration::ZERO))
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::check::MeasuredValue;
    use crate::report::history::{
        FIRST_PREV_SHA256, HistoryLine, KeyMeasurements, ObjectiveVerdict, sha256_hex,
    };
    use crate::report::quarter::{Period, ReportOptions, quarterly_report};
    use crate::report::verify::{StoredRun, verify_history};
    use std::collections::BTreeMap;

    /// A history line of `scenario` started at `started`, with an RTO in ms (`None`: not
    /// measured) and lost writes; it passes if the RTO is at most 30 s and nothing was lost.
    fn line(
        scenario: &str,
        runbook: Option<&str>,
        started: &str,
        rto_ms: Option<u64>,
        lost: u64,
    ) -> HistoryLine {
        let rto = rto_ms.map(Duration::from_millis);
        let rto_ok = rto.is_some_and(|r| r <= Duration::from_secs(30));
        let dir = format!("runs/{}Z-{scenario}", started[..19].replace(':', "-"));
        HistoryLine {
            format: 1,
            seq: 0,
            run_id: format!("id-{}", &started[..10]),
            scenario: scenario.into(),
            runbook: runbook.map(Into::into),
            started: started.into(),
            run_dir: dir.clone(),
            passed: rto_ok && lost == 0,
            game_day: false,
            measurements: KeyMeasurements {
                rto,
                lost_writes: Some(lost),
                rpo: Some(Duration::from_millis(if lost > 0 { 800 } else { 0 })),
                split_brain: Some(false),
                ..KeyMeasurements::default()
            },
            objectives: vec![
                ObjectiveVerdict {
                    objective: "rto <= 30s".into(),
                    measured: rto.map(MeasuredValue::Duration),
                    passed: rto_ok,
                    note: rto
                        .is_none()
                        .then(|| "not measured: writes never recovered after fault 0".into()),
                },
                ObjectiveVerdict {
                    objective: "lost_writes == 0".into(),
                    measured: Some(MeasuredValue::Count(lost)),
                    passed: lost == 0,
                    note: None,
                },
            ],
            run_json_sha256: sha256_hex(dir.as_bytes()),
            history_sha256: None,
            reanalyzed_from: None,
            reanalysis: None,
            prev_sha256: String::new(),
        }
    }

    /// Chains the lines as `append` would; returns the file's bytes and the runs they record.
    pub(crate) fn chain(lines: &mut [HistoryLine]) -> (Vec<u8>, BTreeMap<String, StoredRun>) {
        let mut bytes = Vec::new();
        let mut prev = FIRST_PREV_SHA256.to_string();
        let mut runs = BTreeMap::new();
        for (i, line) in lines.iter_mut().enumerate() {
            line.seq = i as u64 + 1;
            line.prev_sha256 = prev;
            let text = serde_json::to_string(line).unwrap();
            prev = sha256_hex(text.as_bytes());
            bytes.extend_from_slice(text.as_bytes());
            bytes.push(b'\n');
            runs.insert(
                line.run_dir.clone(),
                StoredRun::Present {
                    file: crate::store::RECORD_FILE.into(),
                    sha256: line.run_json_sha256.clone(),
                    started: Some(line.started.clone()),
                    implied: Some(Box::new(line.clone())),
                },
            );
        }
        (bytes, runs)
    }

    pub(crate) fn two_quarters() -> Vec<HistoryLine> {
        let crash = Some("1. Primary node crash");
        let partition = Some("2. Network partition");
        let mut reanalyzed = line(
            "patroni-graceful-stop",
            crash,
            "2026-12-01T10:00:00.000Z",
            Some(4_000),
            0,
        );
        reanalyzed.passed = false;
        reanalyzed.objectives[0].objective = "rto <= 3s".into();
        reanalyzed.objectives[0].passed = false;
        reanalyzed.reanalyzed_from = Some(reanalyzed.run_json_sha256.clone());
        reanalyzed.run_json_sha256 = sha256_hex(b"the run.json analyze wrote");
        vec![
            // 2026-Q3
            line(
                "patroni-primary-crash",
                crash,
                "2026-07-03T09:00:00.000Z",
                Some(12_000),
                0,
            ),
            line(
                "patroni-primary-crash",
                crash,
                "2026-08-03T09:00:00.000Z",
                Some(14_000),
                0,
            ),
            line(
                "patroni-isolate-primary-from-etcd",
                partition,
                "2026-08-14T10:00:00.000Z",
                Some(20_000),
                0,
            ),
            line(
                "haproxy-crash",
                None,
                "2026-09-30T23:59:59.999Z",
                Some(5_000),
                0,
            ),
            // 2026-Q4
            line(
                "patroni-primary-crash",
                crash,
                "2026-10-01T00:00:00.000Z",
                Some(9_000),
                0,
            ),
            line(
                "patroni-primary-crash",
                crash,
                "2026-11-03T14:02:11.000Z",
                Some(41_200),
                3,
            ),
            line(
                "patroni-primary-crash",
                crash,
                "2026-11-20T08:00:00.000Z",
                None,
                0,
            ),
            line(
                "patroni-primary-crash",
                crash,
                "2026-12-15T08:00:00.000Z",
                Some(8_000),
                0,
            ),
            line(
                "patroni-graceful-stop",
                crash,
                "2026-12-01T10:00:00.000Z",
                Some(4_000),
                0,
            ),
            reanalyzed,
            line(
                "etcd-member-down",
                None,
                "2026-12-31T23:59:59.999Z",
                Some(0),
                0,
            ),
            // 2027-Q1: outside
            line(
                "patroni-primary-crash",
                crash,
                "2027-01-01T00:00:00.000Z",
                Some(1_000),
                0,
            ),
        ]
    }

    pub(crate) fn options() -> ReportOptions {
        ReportOptions {
            prepared_by: Some("Dana Reyes, SRE lead".into()),
            reviewed_by: None,
            generated: humantime::parse_rfc3339("2027-01-04T09:30:00Z").unwrap(),
            firedrill: "test".into(),
        }
    }

    #[test]
    fn a_quarter_over_two_quarters_of_history() {
        let mut lines = two_quarters();
        let (bytes, runs) = chain(&mut lines);
        let verification = verify_history(&bytes, &runs);
        assert!(verification.intact(), "{:?}", verification.problems);
        let period = Period::quarter("2026-Q4").unwrap();
        let report = quarterly_report(&lines, &verification, &period, &options());
        assert_eq!((report.runs, report.passed), (6, 3));
        let crash = &report.scenarios[1];
        assert_eq!(crash.scenario, "patroni-primary-crash");
        assert_eq!(crash.now.rto.unwrap().median, Duration::from_millis(9_000));
        assert_eq!(
            crash.previous.as_ref().unwrap().rto.unwrap().median,
            Duration::from_millis(13_000),
            "the mean of the middle two"
        );
        insta::assert_snapshot!(quarterly_markdown(&report));
    }

    #[test]
    fn a_broken_chain_and_blank_sign_off_lines() {
        let mut lines = two_quarters();
        let (bytes, runs) = chain(&mut lines);
        let text =
            String::from_utf8(bytes)
                .unwrap()
                .replacen("\"passed\":false", "\"passed\":true", 1);
        let verification = verify_history(text.as_bytes(), &runs);
        let period = Period::days("2026-11-01", "2026-11-30").unwrap();
        let options = ReportOptions {
            prepared_by: None,
            ..options()
        };
        let parsed = crate::report::history::parsed_lines(text.as_bytes());
        let md = quarterly_markdown(&quarterly_report(&parsed, &verification, &period, &options));
        assert!(
            md.starts_with("# Failover drills: 2026-11-01 to 2026-11-30\n"),
            "{md}"
        );
        assert!(
            md.contains("| compared with | 2026-10-02 to 2026-10-31 |"),
            "{md}"
        );
        assert!(
            md.contains("| run history | **NOT intact: 2 problems** (below) |"),
            "{md}"
        );
        assert!(
            md.contains("\n- line 6: edited after it was written: line 7 recorded another sha256"),
            "{md}"
        );
        assert!(
            md.contains(&format!("| Prepared by | {BLANK} | {BLANK} | {BLANK} |")),
            "{md}"
        );
    }

    /// A run of `scenario` whose scenario had no objectives; `old`: as written before "not
    /// judged" existed, with `passed: true`.
    fn not_judged(scenario: &str, started: &str, old: bool) -> HistoryLine {
        let mut l = line(scenario, None, started, Some(2_000), 0);
        l.objectives.clear();
        l.passed = old;
        l
    }

    #[test]
    fn runs_not_judged_are_neither_passed_nor_failed() {
        let mut lines = vec![
            line("crash", None, "2026-10-02T10:00:00.000Z", Some(9_000), 0),
            line("crash", None, "2026-10-03T10:00:00.000Z", Some(41_000), 0),
            not_judged("crash", "2026-10-04T10:00:00.000Z", false),
            not_judged("measure-only", "2026-10-05T10:00:00.000Z", true),
        ];
        let (bytes, runs) = chain(&mut lines);
        let verification = verify_history(&bytes, &runs);
        let period = Period::quarter("2026-Q4").unwrap();
        let report = quarterly_report(&lines, &verification, &period, &options());
        assert_eq!((report.runs, report.passed, report.not_judged), (4, 1, 2));
        assert_eq!(
            report.failed_runs.len(),
            1,
            "only the judged run that failed"
        );
        let crash = &report.scenarios[0].now;
        assert_eq!((crash.runs, crash.passed, crash.not_judged), (3, 1, 1));
        assert_eq!(crash.pass_rate(), Some(50.0), "over the judged runs");
        let only = &report.scenarios[1].now;
        assert_eq!(only.pass_rate(), None);

        let md = quarterly_markdown(&report);
        assert!(
            md.contains(
                "| runs | 4, of 2 scenarios covering 0 runbook procedures; 50.0% passed (1 of 2 \
                 judged; 2 not judged) |"
            ),
            "{md}"
        );
        assert!(
            md.contains("| — | crash | 3 | 50.0% (1 of 2 judged; 1 not judged) |"),
            "{md}"
        );
        assert!(
            md.contains("| — | measure-only | 1 | none judged (1 not judged) |"),
            "{md}"
        );
        let table = crate::report::quarter_terminal::quarterly_table(&report);
        assert!(
            table.contains(": 4 runs, 1 passed, 2 not judged (no objectives)\n"),
            "{table}"
        );
    }

    /// Game days count as runs of their scenario, marked as game days wherever a run is named
    /// and counted per scenario; a quarter without one reads as before.
    #[test]
    fn game_days_are_marked_and_counted_per_scenario() {
        let game_day = |started: &str, rto: u64| {
            let mut l = line("patroni-gameday", None, started, Some(rto), 0);
            l.game_day = true;
            l
        };
        let mut lines = vec![
            line("crash", None, "2026-10-02T10:00:00.000Z", Some(9_000), 0),
            game_day("2026-10-03T10:00:00.000Z", 8_600),
            game_day("2026-10-20T10:00:00.000Z", 41_000),
            // a game day of the quarter before, the latest run of a scenario not run since
            game_day("2026-09-03T10:00:00.000Z", 8_000),
        ];
        lines[3].scenario = "old-gameday".into();
        lines[3].run_dir = "runs/old-gameday".into();
        let (bytes, runs) = chain(&mut lines);
        let verification = verify_history(&bytes, &runs);
        assert!(verification.intact(), "{:?}", verification.problems);
        let period = Period::quarter("2026-Q4").unwrap();
        let report = quarterly_report(&lines, &verification, &period, &options());
        assert_eq!((report.runs, report.game_days), (3, 2));
        let gameday = &report.scenarios[1];
        assert_eq!((gameday.now.runs, gameday.now.game_days), (2, 2));
        assert_eq!(report.scenarios[0].now.game_days, 0);
        assert!(report.failed_runs[0].game_day);
        assert!(report.gaps[0].scenarios[0].game_day);

        let md = quarterly_markdown(&report);
        for needle in [
            "| runs | 3 (2 game days), of 2 scenarios",
            "| — | crash | 1 | 100.0% (1 of 1) |",
            "| — | patroni-gameday | 2 (2 game days) | 50.0% (1 of 2) |",
            "| 2026-10-20T10:00:00.000Z | patroni-gameday (game day) | [runs/",
            "2026-09-03T10:00:00.000Z, [runs/old-gameday](../runs/old-gameday/report.md) (a game day) |",
        ] {
            assert!(md.contains(needle), "{needle}\n{md}");
        }
        let html = crate::report::quarterly_html(&report);
        assert!(
            html.contains("<td>patroni-gameday (game day)</td>"),
            "{html}"
        );
        assert!(html.contains("2 (2 game days)"), "{html}");
        let table = crate::report::quarter_terminal::quarterly_table(&report);
        assert!(
            table.contains(": 3 runs, 2 passed, 2 game days\n"),
            "{table}"
        );
        assert!(
            table.contains("patroni-gameday (game day) (runs/"),
            "{table}"
        );
        let json = crate::report::quarterly_json(&report);
        assert!(json.contains("\"game_days\": 2"), "{json}");

        // without game days, no mark and no key
        let mut plain = two_quarters();
        let (bytes, runs) = chain(&mut plain);
        let verification = verify_history(&bytes, &runs);
        let report = quarterly_report(&plain, &verification, &period, &options());
        let json = crate::report::quarterly_json(&report);
        assert!(!json.contains("game_day"), "{json}");
        assert!(!quarterly_markdown(&report).contains("game day"));
    }

    #[test]
    fn a_period_without_runs_says_so() {
        let period = Period::quarter("2025-Q1").unwrap();
        let verification = verify_history(b"", &BTreeMap::new());
        let md = quarterly_markdown(&quarterly_report(&[], &verification, &period, &options()));
        assert!(
            md.contains("| runs | 0, of 0 scenarios covering 0 runbook procedures; no runs |"),
            "{md}"
        );
        assert!(
            md.contains("## Runs by scenario\n\nNo run in this period.\n"),
            "{md}"
        );
        assert!(!md.contains("## Trend"), "{md}");
    }
}
