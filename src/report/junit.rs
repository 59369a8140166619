//! The run as a JUnit XML report, for CI systems: one test suite per run, one test case per
//! objective (named as the scenario writes it), and a test case "drill ran" that fails if the
//! drill did not complete normally. A scenario without objectives gets a failing test case
//! "objectives judged" instead: nothing was shown to hold, and a CI must not show it green.

use super::rows::{
    action_items, ended_by_words, fault_line, measurement_rows, note_line, objective_rows,
    participants_line, restore_rows, step_line,
};
use crate::check::NOT_JUDGED;
use crate::record::RunRecord;
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

/// The name of the test case that fails when the run had problems.
pub const DRILL_RAN: &str = "drill ran";

/// The name of the test case that fails when the scenario has no objectives.
pub const JUDGED: &str = "objectives judged";

/// The run as JUnit XML. Fails only if the XML cannot be written (not expected: it is written
/// to memory).
pub fn junit(record: &RunRecord) -> std::io::Result<String> {
    let s = &record.scenario;
    let classname = format!("firedrill.{}", s.name);
    let mut suite = TestSuite::new(s.name.as_str());
    if let Ok(started) = chrono::DateTime::parse_from_rfc3339(&record.history.started_wall) {
        suite.set_timestamp(started);
    }
    suite.set_time(record.timings.wall);
    suite.add_properties([
        Property::new("run_id", record.run_id.as_str()),
        Property::new("started", record.history.started_wall.as_str()),
        Property::new("seed", record.seed.to_string()),
        Property::new("scenario_file", s.source.path.display().to_string()),
        Property::new("scenario_sha256", s.source.sha256.as_str()),
        Property::new("description", s.description.as_str()),
    ]);
    if let Some(runbook) = &s.runbook {
        suite.add_property(Property::new("runbook", runbook.as_str()));
    }
    if let Some(game_day) = &record.game_day {
        suite.add_properties([
            Property::new("game_day", "true"),
            Property::new("game_day_participants", participants_line(game_day)),
            Property::new("game_day_ended_by", game_day.ended_by.as_str()),
        ]);
    }

    let ran = if record.problems.is_empty() {
        TestCaseStatus::success()
    } else {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        status
            .set_message(record.problems.join("; "))
            .set_type("problem")
            .set_description(record.problems.join("\n"));
        status
    };
    let mut case = TestCase::new(DRILL_RAN, ran);
    case.set_classname(classname.as_str())
        .set_time(record.timings.drill);
    suite.add_test_case(case);

    if !record.verdict.judged() {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        status.set_message(NOT_JUDGED).set_type("not judged");
        let mut case = TestCase::new(JUDGED, status);
        case.set_classname(classname.as_str());
        suite.add_test_case(case);
    }
    for (objective, row) in record.verdict.objectives.iter().zip(objective_rows(record)) {
        let status = if objective.passed {
            TestCaseStatus::success()
        } else {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            // the measured value, or why there is none
            // the row's measured value: the number and what it leaves unjudged
            let message = match (&objective.measured, &objective.note) {
                (Some(_), Some(note)) => {
                    format!("{}: measured {} ({note})", row.objective, row.measured)
                }
                (Some(_), None) => format!("{}: measured {}", row.objective, row.measured),
                (None, _) => format!("{}: {}", row.objective, row.measured),
            };
            status.set_message(message).set_type("objective not met");
            status
        };
        let mut case = TestCase::new(row.objective.as_str(), status);
        case.set_classname(classname.as_str());
        if objective.measured.is_some() {
            case.add_property(Property::new("measured", row.measured.as_str()));
        }
        suite.add_test_case(case);
    }

    // the measurements and the steps, for whoever reads the CI's test page; a failed step is a
    // recorded outcome, judged by the objectives on what it measured, not a failed test case
    let mut out: String = measurement_rows(record)
        .iter()
        .map(|r| format!("{}: {}\n", r.name, r.value))
        .collect();
    // what happened at an instant: the steps, and in a game day what people did by hand and
    // wrote down, in time order
    let mut happened: Vec<(crate::history::At, String)> = Vec::new();
    for event in &record.history.events {
        match event {
            crate::history::Event::Step(step) => happened.push((step.started, step_line(step))),
            crate::history::Event::Note(n) => happened.push((n.at, note_line(n))),
            crate::history::Event::Fault(f) if f.by_hand => {
                happened.push((f.at, fault_line(f, true)))
            }
            _ => {}
        }
    }
    // stable: events at one instant keep the history's order
    happened.sort_by_key(|(at, _)| *at);
    for (at, line) in &happened {
        out.push_str(&format!("{at} {line}\n"));
    }
    let restore = restore_rows(record);
    if !restore.is_empty() {
        out.push_str("restore:\n");
        for r in &restore {
            out.push_str(&format!("  {}: {}\n", r.name, r.value));
        }
    }
    if let Some(game_day) = &record.game_day {
        out.push_str(&format!(
            "game day: participants {}; ended by {}\n",
            participants_line(game_day),
            ended_by_words(game_day)
        ));
        let items = action_items(record);
        if items.is_empty() {
            out.push_str("action items: none written\n");
        } else {
            out.push_str("action items:\n");
            for (at, item) in &items {
                out.push_str(&format!("  - {item} (noted at {at})\n"));
            }
        }
    }
    suite.set_system_out(out);

    let mut report = Report::new("firedrill");
    report.add_test_suite(suite);
    report.to_string().map_err(std::io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample_record;

    #[test]
    fn writes_the_read_back_could_not_judge_and_writes_never_sent() {
        let record = crate::report::rows::doubtful_record();
        insta::assert_snapshot!(crate::report::rows::doubtful_lines(
            &junit(&record).unwrap()
        ));
    }

    #[test]
    fn a_failover_with_replication_measurements() {
        insta::assert_snapshot!(junit(&sample_record()).unwrap());
    }

    #[test]
    fn a_game_day_lists_its_notes_and_faults_by_hand_in_its_output() {
        let xml = junit(&crate::report::gameday_record()).unwrap();
        insta::assert_snapshot!(xml);
        for line in [
            "t+10.000s fault 1: injected crash on pg1 by hand: killed pg1 (SIGKILL)\n",
            "t+12.345s note: app showed 502s\n",
            "t+20.000s fault 1: healed crash on pg1 by hand\n",
            "t+25.500s note: action: alert on replication lag\n",
            "  - alert on replication lag (noted at t+25.500s)\n",
        ] {
            assert!(xml.contains(line), "{line} {xml}");
        }
        assert!(
            xml.contains("<property name=\"game_day\" value=\"true\"/>"),
            "{xml}"
        );
        let scripted = junit(&sample_record()).unwrap();
        assert!(!scripted.contains("game_day") && !scripted.contains("note:"));
    }

    #[test]
    fn a_run_with_a_done_and_a_failed_step() {
        let xml = junit(&crate::report::steps_record()).unwrap();
        insta::assert_snapshot!(xml);
        assert!(
            xml.contains(
                "t+1.000s step 1 target: failed after 1.004s: no node reports itself leader"
            ),
            "{xml}"
        );
    }

    #[test]
    fn a_restore_drill_and_a_failed_restore() {
        insta::assert_snapshot!(
            "restore_done",
            junit(&crate::report::restore_record(true)).unwrap()
        );
        let xml = junit(&crate::report::restore_record(false)).unwrap();
        insta::assert_snapshot!("restore_failed", xml);
        assert!(
            xml.contains("  outcome: FAILED (step 4): pg1 stopped (exit 1) without leading"),
            "{xml}"
        );
        // each restore objective fails, saying the restore failed
        let failed: Vec<(String, Option<String>)> = cases(&xml)
            .into_iter()
            .filter(|(name, _)| name.starts_with("restore_time"))
            .collect();
        assert_eq!(failed.len(), 1);
        assert!(
            failed[0]
                .1
                .as_deref()
                .unwrap()
                .starts_with("restore_time <= 5m: not measured: the restore failed: pg1 stopped"),
            "{failed:?}"
        );
    }

    #[test]
    fn a_run_without_objectives_fails_as_not_judged() {
        let xml = junit(&crate::report::rows::not_judged_record()).unwrap();
        assert!(
            xml.contains(
                "<testcase name=\"objectives judged\" classname=\"firedrill.sample\">\n            \
                 <failure message=\"NOT JUDGED — the scenario has no objectives\" type=\"not judged\"/>"
            ),
            "{xml}"
        );
    }

    /// `(name, failure message)` of each test case, read back with quick-junit's own parser.
    fn cases(xml: &str) -> Vec<(String, Option<String>)> {
        let report = Report::deserialize_from_str(xml).expect("valid JUnit XML");
        assert_eq!(report.test_suites.len(), 1, "one suite per run");
        report.test_suites[0]
            .test_cases
            .iter()
            .map(|c| {
                let message = match &c.status {
                    TestCaseStatus::NonSuccess {
                        kind: NonSuccessKind::Failure,
                        message,
                        ..
                    } => Some(message.as_ref().map_or("", |m| m.as_str()).to_string()),
                    TestCaseStatus::Success { .. } => None,
                    other => panic!("unexpected status {other:?}"),
                };
                (c.name.as_str().to_string(), message)
            })
            .collect()
    }

    #[test]
    fn a_case_per_objective_and_one_for_the_run_itself() {
        let mut record = sample_record();
        let rto = crate::check::judge(
            &[crate::scenario::Objective {
                measure: crate::scenario::Measure::Rto,
                bound: crate::scenario::Bound::Duration {
                    cmp: crate::scenario::Cmp::Le,
                    value: std::time::Duration::from_secs(30),
                },
            }],
            &crate::check::Measurements {
                rto: None,
                ..record.measurements.clone()
            },
        );
        record.verdict.objectives.extend(rto.objectives);
        let some = |s: &str| Some(s.to_string());
        assert_eq!(
            cases(&junit(&record).unwrap()),
            [
                (DRILL_RAN.to_string(), None),
                (
                    "lag_at_failover <= 64kB".into(),
                    some("lag_at_failover <= 64kB: measured 65.5 kB (67072 B)")
                ),
                (
                    "leader_changes == 0".into(),
                    some("leader_changes == 0: measured 1")
                ),
                ("time_to_full_redundancy <= 30s".into(), None),
                ("stale_reads <= 5".into(), None),
                (
                    "rto <= 30s".into(),
                    some("rto <= 30s: not measured: writes never recovered")
                ),
            ]
        );

        record.problems = vec!["no read-back".into(), "pg3 did not stop".into()];
        let xml = junit(&record).unwrap();
        assert_eq!(
            cases(&xml)[0],
            (
                DRILL_RAN.to_string(),
                some("no read-back; pg3 did not stop")
            )
        );
        assert!(
            xml.contains(">no read-back\npg3 did not stop</failure>"),
            "{xml}"
        );
    }

    #[test]
    fn markup_in_the_record_stays_text() {
        let mut record = sample_record();
        record.problems = vec!["<script>alert(1)</script> & \"x\"".into()];
        let xml = junit(&record).unwrap();
        assert!(!xml.contains("<script"), "{xml}");
        assert_eq!(
            cases(&xml)[0].1.as_deref(),
            Some("<script>alert(1)</script> & \"x\"")
        );
    }
}
