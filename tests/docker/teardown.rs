//! Teardown on every path: an objective that fails, an error half-way through bring-up, a panic,
//! SIGINT and SIGTERM to the command line, a second SIGINT that forces, and SIGKILL (after which
//! `firedrill clean` removes what the run left). Each run uses a scenario name of its own, so "nothing left"
//! is checked by that label.

use crate::common;

use common::drill_cli::{DrillCli, clean_runs_of, leftovers};
use firedrill::engine::{self, LABEL_SCENARIO};
use firedrill::history::FaultAction;
use firedrill::progress::{DrillEvent, Progress};
use firedrill::{DrillError, DrillOptions, scenario};

/// The shipped scenario, renamed and shortened, with its objectives replaced.
fn scenario_text(name: &str, duration: &str, objectives: &str) -> String {
    let (head, _) = common::drill_cli::crash_scenario_parts(name, duration);
    head + "[objectives]\n" + objectives
}

async fn assert_nothing_left(name: &str) {
    let docker = engine::connect().await.unwrap();
    let left = engine::find_leftovers(&docker, &format!("{LABEL_SCENARIO}={name}"))
        .await
        .unwrap();
    assert!(left.is_empty(), "run of {name} left behind: {left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_objective_is_judged_and_torn_down() {
    let Some(_turn) = common::docker_turn("teardown::failed_objective", common::Turn::Beside).await
    else {
        return;
    };
    let name = format!("teardown-objective-{:08x}", rand::random::<u32>());
    let text = scenario_text(&name, "30s", "rto = \"<= 1ms\"\nlost_writes = \"== 0\"\n");
    let s = scenario::parse(std::path::Path::new("objective.toml"), &text).unwrap();
    let record = firedrill::run(&s, &DrillOptions::default()).await.unwrap();
    assert!(
        !record.passed(),
        "an rto of at most 1ms cannot hold across a crash"
    );
    let rto = &record.verdict.objectives[0];
    assert!(!rto.passed && rto.measured.is_some(), "{rto:?}");
    assert!(
        record.verdict.objectives[1].passed,
        "no acknowledged write lost"
    );
    assert_nothing_left(&name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_during_bring_up_tears_down_and_says_what_was_reached() {
    let Some(_turn) = common::docker_turn("teardown::bring_up_error", common::Turn::Beside).await
    else {
        return;
    };
    let name = format!("teardown-bringup-{:08x}", rand::random::<u32>());
    let text = scenario_text(&name, "20s", "lost_writes = \"== 0\"\n").replace(
        "[objectives]",
        "[bounds]\nbring_up = \"500ms\"\n\n[objectives]",
    );
    let s = scenario::parse(std::path::Path::new("bringup.toml"), &text).unwrap();
    let err = firedrill::run(&s, &DrillOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, DrillError::Topology(_)),
        "expected a bring-up error, got {err}"
    );
    assert!(err.to_string().contains("not ready after"), "{err}");
    assert_nothing_left(&name).await;
}

/// The command line running a drill of its own scenario (written in a temporary directory that
/// also holds its reports).
fn start(name: &str) -> (DrillCli, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{name}.toml"));
    std::fs::write(
        &path,
        scenario_text(name, "60s", "lost_writes = \"== 0\"\n"),
    )
    .unwrap();
    (DrillCli::start(&path, dir.path(), &[]), dir)
}

/// Interrupted once the fault is in (every container exists and one was killed), the run tears
/// down cleanly, says so, and exits 2.
async fn interrupted_once(test: &str, signal: &str) {
    let Some(_turn) = common::docker_turn(test, common::Turn::Beside).await else {
        return;
    };
    let name = format!(
        "teardown-{}-{:08x}",
        &signal[1..].to_lowercase(),
        rand::random::<u32>()
    );
    let (mut cli, _dir) = start(&name);
    cli.wait_for("injected crash");
    cli.signal(signal);
    let (code, rest) = cli.finish();
    assert_eq!(code, Some(2), "{rest:#?}");
    assert!(
        rest.iter()
            .any(|l| l.contains("interrupted; everything the run created was removed")),
        "{rest:#?}"
    );
    assert_nothing_left(&name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_tears_down_and_exits_2() {
    interrupted_once("teardown::sigint", "-INT").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_tears_down_and_exits_2() {
    interrupted_once("teardown::sigterm", "-TERM").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_interrupt_quits_at_once_and_clean_removes_the_rest() {
    let Some(_turn) = common::docker_turn("teardown::second_sigint", common::Turn::Beside).await
    else {
        return;
    };
    let name = format!("teardown-twice-{:08x}", rand::random::<u32>());
    let (mut cli, _dir) = start(&name);
    cli.wait_for("injected crash");
    cli.signal("-INT");
    cli.wait_for("interrupt again to quit now");
    cli.signal("-INT");
    let (code, rest) = cli.finish();
    assert_eq!(code, Some(2), "{rest:#?}");
    assert!(
        rest.iter()
            .any(|l| l.contains("interrupted again: quitting")
                && l.contains("run `firedrill clean`")),
        "{rest:#?}"
    );
    let stdout = clean_runs_of(&name).await;
    assert_nothing_left(&name).await;
    // What the forced exit left (if the teardown had not got to it) was the dead run's.
    assert!(!stdout.contains("kept run"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_sigkill_clean_removes_what_the_run_left() {
    let Some(_turn) = common::docker_turn("teardown::sigkill", common::Turn::Beside).await else {
        return;
    };
    let name = format!("teardown-sigkill-{:08x}", rand::random::<u32>());
    let (mut cli, _dir) = start(&name);
    cli.wait_for("injected crash");
    cli.signal("-KILL");
    let (code, _) = cli.finish();
    assert_eq!(code, None, "killed by a signal");
    let left = leftovers(&name).await;
    assert!(
        left.containers.len() >= 7 && !left.networks.is_empty() && !left.volumes.is_empty(),
        "a killed run leaves its containers, network and volumes: {left:?}"
    );
    let stdout = clean_runs_of(&name).await;
    assert!(stdout.contains("removed run fd-"), "{stdout}");
    assert_nothing_left(&name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_during_the_drill_tears_down() {
    let Some(_turn) = common::docker_turn("teardown::panic", common::Turn::Beside).await else {
        return;
    };
    let name = format!("teardown-panic-{:08x}", rand::random::<u32>());
    let text = scenario_text(&name, "20s", "lost_writes = \"== 0\"\n");
    let s = scenario::parse(std::path::Path::new("panic.toml"), &text).unwrap();
    // A progress sink (the caller's code, run inside the drill) that panics once the fault is in.
    let options = DrillOptions {
        progress: Progress::new(|event| {
            if let DrillEvent::Fault {
                action: FaultAction::Inject,
                kind,
                node,
                ..
            } = event
            {
                panic!("sink gave up at: injected {kind} on {node}");
            }
        }),
        ..DrillOptions::default()
    };
    let err = firedrill::run(&s, &options).await.unwrap_err();
    assert!(
        matches!(&err, DrillError::Panicked(m) if m.contains("sink gave up at")),
        "{err}"
    );
    assert_nothing_left(&name).await;
}
