//! The quarterly report on a terminal (`report --format table`) and as JUnit XML for a CI
//! dashboard (`report --format junit`): the same model as the Markdown and HTML reports.

use super::fmt_duration;
use super::quarter::{QuarterlyReport, RunStats};
use super::quarter_markdown::pass_rate;
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use tabled::settings::Style;
use tabled::{Table, Tabled};

#[derive(Tabled)]
struct ScenarioLine {
    procedure: String,
    scenario: String,
    runs: String,
    passed: String,
    #[tabled(rename = "RTO median (min–max)")]
    rto: String,
    #[tabled(rename = "writes lost (total)")]
    lost: String,
    #[tabled(rename = "split brain")]
    split_brain: String,
}

fn rto(stats: &RunStats) -> String {
    stats.rto.map_or_else(
        || "not measured".to_string(),
        |r| {
            format!(
                "{} ({}–{})",
                fmt_duration(r.median),
                fmt_duration(r.min),
                fmt_duration(r.max)
            )
        },
    )
}

/// One line per scenario, then the failed runs, the gaps and the history's status.
pub fn quarterly_table(report: &QuarterlyReport) -> String {
    let lines = report.scenarios.iter().map(|s| ScenarioLine {
        procedure: s.runbook.clone().unwrap_or_else(|| "(none named)".into()),
        scenario: s.scenario.clone(),
        runs: super::quarter::runs_with_game_days(s.now.runs, s.now.game_days),
        passed: pass_rate(&s.now),
        rto: rto(&s.now),
        lost: format!(
            "{}{}",
            s.now
                .lost_writes_total
                .map_or_else(|| "not measured".into(), |t| t.to_string()),
            s.now.lost_caveat()
        ),
        split_brain: format!(
            "{}{}",
            s.now.split_brain_runs,
            s.now.split_brain_unmeasured_note()
        ),
    });
    let mut out = format!(
        "failover drills {} ({} to {}): {} run{}, {} passed{}{}\n",
        report.period.label,
        report.period.first_day,
        report.period.last_day,
        report.runs,
        if report.runs == 1 { "" } else { "s" },
        report.passed,
        match report.not_judged {
            0 => String::new(),
            n => format!(", {n} not judged (no objectives)"),
        },
        match report.game_days {
            0 => String::new(),
            1 => ", 1 a game day".to_string(),
            n => format!(", {n} game days"),
        }
    );
    out.push_str(&Table::new(lines).with(Style::rounded()).to_string());
    out.push('\n');
    for run in &report.failed_runs {
        let why: Vec<String> = run
            .failed_objectives
            .iter()
            .map(|o| o.objective.clone())
            .collect();
        out.push_str(&format!(
            "failed: {} {}{} ({}): {}\n",
            run.started,
            run.scenario,
            if run.game_day { " (game day)" } else { "" },
            run.run_dir,
            why.join(", ")
        ));
    }
    for gap in &report.gaps {
        out.push_str(&format!(
            "not rehearsed: {}\n",
            gap.runbook.as_deref().unwrap_or("(no procedure named)")
        ));
    }
    out.push_str(&format!(
        "run history: {}\n",
        if report.chain.intact {
            "intact".to_string()
        } else {
            format!("NOT intact: {}", report.chain.problems.join("; "))
        }
    ));
    out
}

fn failure(message: String, kind: &str) -> TestCaseStatus {
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
    status.set_message(message).set_type(kind);
    status
}

/// One test suite for the period: a test case per scenario (failing if any of its runs failed,
/// naming them and their failed objectives), one per procedure left unrehearsed (failing), and
/// "run history intact" (failing if the chain does not verify).
pub fn quarterly_junit(report: &QuarterlyReport) -> std::io::Result<String> {
    let name = format!("firedrill {}", report.period.label);
    let mut suite = TestSuite::new(name.as_str());
    suite.add_properties([
        Property::new("first_day", report.period.first_day.as_str()),
        Property::new("last_day", report.period.last_day.as_str()),
        Property::new("generated", report.generated.as_str()),
        Property::new("firedrill", report.firedrill.as_str()),
    ]);
    let chain = if report.chain.intact {
        TestCaseStatus::success()
    } else {
        failure(report.chain.problems.join("; "), "history not intact")
    };
    let mut case = TestCase::new("run history intact", chain);
    case.set_classname("firedrill.history");
    suite.add_test_case(case);
    for s in &report.scenarios {
        let failed: Vec<String> = report
            .failed_runs
            .iter()
            .filter(|r| r.scenario == s.scenario)
            .map(|r| {
                let why: Vec<String> = r
                    .failed_objectives
                    .iter()
                    .map(|o| o.objective.clone())
                    .collect();
                format!(
                    "{} ({}{}): {}",
                    r.started,
                    r.run_dir,
                    if r.game_day { ", a game day" } else { "" },
                    why.join(", ")
                )
            })
            .collect();
        let status = if failed.is_empty() {
            TestCaseStatus::success()
        } else {
            failure(
                format!(
                    "{} of {} runs failed: {}",
                    failed.len(),
                    s.now.runs,
                    failed.join("; ")
                ),
                "failed runs",
            )
        };
        let mut case = TestCase::new(s.scenario.as_str(), status);
        // the lost writes with what they leave unjudged, as the other reports show them
        case.add_property(Property::new(
            "writes_lost",
            format!(
                "{}{}",
                s.now
                    .lost_writes_total
                    .map_or_else(|| "not measured".into(), |t| t.to_string()),
                s.now.lost_caveat()
            ),
        ));
        case.set_classname(format!(
            "firedrill.{}",
            s.runbook.as_deref().unwrap_or("scenario")
        ));
        suite.add_test_case(case);
    }
    for gap in &report.gaps {
        let procedure = gap.runbook.as_deref().unwrap_or("(no procedure named)");
        let mut case = TestCase::new(
            format!("rehearsed: {procedure}"),
            failure(format!("not rehearsed in {}", report.period.label), "gap"),
        );
        case.set_classname("firedrill.gaps");
        suite.add_test_case(case);
    }
    let mut junit = Report::new(name.as_str());
    junit.add_test_suite(suite);
    junit.to_string().map_err(std::io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::quarter::{Period, quarterly_report};
    use crate::report::quarter_markdown::tests::{chain, options, two_quarters};
    use crate::report::verify::verify_history;

    fn q4() -> QuarterlyReport {
        let mut lines = two_quarters();
        let (bytes, runs) = chain(&mut lines);
        let verification = verify_history(&bytes, &runs);
        let period = Period::quarter("2026-Q4").unwrap();
        quarterly_report(&lines, &verification, &period, &options())
    }

    #[test]
    fn the_quarter_on_a_terminal() {
        insta::assert_snapshot!(quarterly_table(&q4()));
    }

    #[test]
    fn lost_writes_show_what_the_read_backs_left_unjudged() {
        let mut lines = two_quarters();
        for l in lines.iter_mut().filter(|l| l.started.starts_with("2026-1")) {
            l.measurements.unchecked_writes = Some(1);
            l.measurements.unresolved_writes = Some(6);
            l.measurements.not_sent_writes = Some(405);
        }
        let (bytes, runs) = chain(&mut lines);
        let verification = verify_history(&bytes, &runs);
        assert!(verification.intact(), "{:?}", verification.problems);
        let period = Period::quarter("2026-Q4").unwrap();
        let report = quarterly_report(&lines, &verification, &period, &options());
        let shown = |text: String| -> String {
            text.lines()
                .filter(|l| l.contains("unresolved"))
                .map(|l| format!("{}\n", l.trim_end()))
                .collect()
        };
        insta::assert_snapshot!(format!(
            "{}{}{}{}",
            shown(quarterly_table(&report)),
            shown(crate::report::quarterly_markdown(&report)),
            shown(crate::report::quarterly_html(&report)),
            shown(quarterly_junit(&report).unwrap())
        ));
        // lines without the counts (written before they were kept) add nothing
        let stats = &report.scenarios[0].now;
        assert!(stats.lost_caveat().contains("unknown writes unresolved"));
        let (bytes, runs) = chain(&mut two_quarters());
        let report = quarterly_report(
            &two_quarters(),
            &verify_history(&bytes, &runs),
            &period,
            &options(),
        );
        assert_eq!(report.scenarios[0].now.lost_caveat(), "");
    }

    #[test]
    fn the_quarter_as_junit() {
        insta::assert_snapshot!(quarterly_junit(&q4()).unwrap());
    }
}
