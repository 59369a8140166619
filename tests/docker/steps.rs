//! Steps against a real cluster: two `target` steps mark the restore target on the leader while
//! the writes go on, the second with a named restore point, and what they recorded is checked
//! against the run's own clock and the WAL.

use crate::common;

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
    let Some(record) = common::drill("steps::target", &scenario, common::Turn::Beside).await else {
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

const BROKEN_ARCHIVE: &str = r#"
name = "steps-broken-archive"
description = "WAL cannot reach the repository at bring-up: the drill must not start"
duration = "10s"

[topology.pgbackrest]

[objectives]
lost_writes = "== 0"
"#;

/// A repository the WAL cannot reach at bring-up stops the drill before it starts: `pgbackrest
/// check` fails, and the error says it with pgBackRest's own words. The stanza's archive is made
/// read-only once stanza-create made it (as the `archive-fail` fault does; as a repository
/// remounted read-only or owned by the wrong user is): every WAL push then fails. It is done
/// while the drill waits (the progress sink runs inline, on the stanza's creation and before
/// `check`), so the order is certain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bring_up_stops_when_pgbackrest_check_fails() {
    let Some(_turn) = common::docker_turn("steps::broken_archive", common::Turn::Beside).await
    else {
        return;
    };
    let name = format!("steps-broken-archive-{:08x}", rand::random::<u32>());
    let text = BROKEN_ARCHIVE.replace("\"steps-broken-archive\"", &format!("{name:?}"));
    let scenario = firedrill::scenario::parse(std::path::Path::new("broken-archive.toml"), &text)
        .expect("the scenario is valid");
    let broken = std::sync::Arc::new(std::sync::Mutex::new(None::<String>));
    let sink = {
        let (broken, name) = (broken.clone(), name.clone());
        move |event: firedrill::progress::DrillEvent| {
            if matches!(&event, firedrill::progress::DrillEvent::Reached { condition, .. }
                if condition == "stanza firedrill created")
            {
                *broken.lock().unwrap() = Some(break_archive(&name));
            }
        }
    };
    let options = firedrill::DrillOptions {
        progress: firedrill::progress::Progress::new(sink),
        ..firedrill::DrillOptions::default()
    };
    let error = firedrill::run(&scenario, &options)
        .await
        .expect_err("a drill whose WAL cannot be archived must not run");
    let broken = broken.lock().unwrap().clone();
    assert!(broken.is_some(), "the archive was never broken: {error}");
    let said = error.to_string();
    assert!(
        said.starts_with("the backup repository is not usable, so the drill cannot run: pgbackrest --archive-timeout=20 check on pg1 failed"),
        "{said}"
    );
    assert!(
        said.contains("ERROR: [082]: WAL segment") && said.contains("was not archived"),
        "pgBackRest's own words: {said}"
    );
    // exit 2: every error of a drill that could not run is exit 2 (cli.rs)
    assert!(
        matches!(error, firedrill::DrillError::Topology(_)),
        "{error:?}"
    );
    assert!(common::drill_cli::leftovers(&name).await.is_empty());
}

/// Makes the stanza's archive in the run's repository read-only, through pg1 (the repository is
/// one disk shared by every node). What it ran, for the message.
fn break_archive(scenario: &str) -> String {
    let ps = std::process::Command::new("docker")
        .args(["ps", "--format", "{{.Names}}", "--filter"])
        .arg(format!("label=io.firedrill.scenario={scenario}"))
        .output()
        .expect("docker ps");
    let names = String::from_utf8_lossy(&ps.stdout).to_string();
    let pg1 = names
        .lines()
        .find(|n| n.ends_with("-pg1"))
        .unwrap_or_else(|| panic!("no pg1 among {names:?}"))
        .to_owned();
    let script = "chmod -R a-w /var/lib/pgbackrest/archive";
    let out = std::process::Command::new("docker")
        .args(["exec", "--user", "root", &pg1, "sh", "-c", script])
        .output()
        .expect("docker exec");
    assert!(out.status.success(), "{script} on {pg1}: {out:?}");
    format!("{script} on {pg1}")
}
