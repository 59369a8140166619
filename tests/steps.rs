//! Steps against a real cluster: two `target` steps mark the restore target on the leader while
//! the writes go on, the second with a named restore point, and what they recorded is checked
//! against the run's own clock and the WAL.

mod common;

use chrono::{DateTime, FixedOffset};
use firedrill::history::{At, StepEvent, StepOutcome};
use firedrill::step::{TargetMark, lsn_bytes};
use std::time::Duration;

const SCENARIO: &str = r#"
name = "steps-target"
description = "the restore target marked twice on the leader while writes go on"
duration = "12s"

[[step]]
at = "3s"
action = "target"

[[step]]
at = "6s"
action = "target"
restore_point = "firedrill-steps-test"

[objectives]
lost_writes = "== 0"
"#;

/// The wall-clock time of run instant `at`, from the history's start (RFC 3339, to the
/// millisecond, taken just after the run's clock started).
fn wall(started_wall: &DateTime<FixedOffset>, at: At) -> DateTime<FixedOffset> {
    *started_wall + chrono::Duration::nanoseconds(at.0 as i64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_steps_record_the_leader_s_clock_and_wal_position() {
    let scenario = firedrill::scenario::parse(std::path::Path::new("steps-target.toml"), SCENARIO)
        .expect("the scenario is valid");
    let Some(record) = common::drill("steps::target", &scenario).await else {
        return;
    };
    let steps: Vec<&StepEvent> = record.history.steps().collect();
    assert_eq!(steps.len(), 2, "{steps:?}");
    let marks: Vec<TargetMark> = steps
        .iter()
        .map(|s| {
            assert_eq!(s.outcome, StepOutcome::Done, "{s:?}");
            assert_eq!(s.action, "target");
            assert!(s.started >= s.at && s.ended >= s.started, "{s:?}");
            TargetMark::of(s).unwrap_or_else(|| panic!("no mark in {s:?}"))
        })
        .collect();
    assert_eq!(
        steps.iter().map(|s| s.step).collect::<Vec<_>>(),
        [1, 2],
        "in order"
    );

    // no fault: the leader at bring-up
    for mark in &marks {
        assert_eq!(mark.node, record.timings.initial_leader, "{mark:?}");
    }

    // The server's times increase, and each lies between its step's start and end mapped to
    // wall-clock time from the run's start. That start is stored to the millisecond, truncated,
    // and read just after the run's clock started: a run instant's wall time is the mapping's
    // plus 0 to about 1 ms.
    let started_wall = DateTime::parse_from_rfc3339(&record.history.started_wall).unwrap();
    let times: Vec<DateTime<FixedOffset>> = marks
        .iter()
        .map(|m| DateTime::parse_from_rfc3339(&m.target_time).unwrap())
        .collect();
    assert!(times[0] < times[1], "{times:?}");
    let slack = chrono::Duration::milliseconds(2);
    for ((step, mark), time) in steps.iter().zip(&marks).zip(&times) {
        let (from, to) = (
            wall(&started_wall, step.started),
            wall(&started_wall, step.ended),
        );
        assert!(
            from - slack <= *time && *time <= to + slack,
            "step {}: the leader's clock read {time}, the step ran from {from} to {to}",
            step.step
        );
        // and on the run's clock, inside the round trip the statement took
        assert!(
            step.started <= mark.target_at && mark.target_at <= step.ended,
            "{mark:?} {step:?}"
        );
        // the microseconds are kept
        assert_eq!(
            mark.target_time.len(),
            "2026-11-28T05:59:46.123456+00:00".len()
        );
    }
    // the marks are as far apart as the server's clock says
    let between = (times[1] - times[0]).to_std().unwrap();
    let on_run_clock = marks[1].target_at.since(marks[0].target_at);
    let diff = between.abs_diff(on_run_clock);
    assert!(
        diff < Duration::from_millis(2),
        "{between:?} vs {on_run_clock:?}"
    );

    // The WAL moved on between them (writes went on), and the restore point was written after
    // the position read with it.
    let lsns: Vec<u64> = marks
        .iter()
        .map(|m| lsn_bytes(&m.target_lsn).unwrap_or_else(|| panic!("{m:?}")))
        .collect();
    assert!(lsns[0] < lsns[1], "{marks:?}");
    assert_eq!(marks[0].restore_point, None);
    assert_eq!(marks[0].restore_point_lsn, None);
    assert_eq!(
        marks[1].restore_point.as_deref(),
        Some("firedrill-steps-test")
    );
    let point = marks[1]
        .restore_point_lsn
        .as_deref()
        .and_then(lsn_bytes)
        .unwrap_or_else(|| panic!("no restore point LSN: {:?}", marks[1]));
    assert!(point >= lsns[1], "{marks:?}");

    // the reports show them
    let table = firedrill::report::table(&record);
    assert!(
        table.contains("restore point \"firedrill-steps-test\""),
        "{table}"
    );
    assert!(record.passed(), "{table}");
}
