//! Teardown on every path: an objective that fails, an error half-way through bring-up, and
//! SIGINT to the command line. Each run uses a scenario name of its own, so "nothing left"
//! is checked by that label.

mod common;

use firedrill::engine::{self, LABEL_SCENARIO};
use firedrill::{DrillError, DrillOptions, scenario};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Drills share two cores: run them one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The shipped scenario, renamed and shortened, with its objectives replaced.
fn scenario_text(name: &str, duration: &str, objectives: &str) -> String {
    let text = std::fs::read_to_string(common::scenario_path("patroni-primary-crash")).unwrap();
    let head = text.split("[objectives]").next().unwrap();
    head.replace(
        "name = \"patroni-primary-crash\"",
        &format!("name = \"{name}\""),
    )
    .replace("duration = \"60s\"", &format!("duration = \"{duration}\""))
    .replace("at = \"10s\"", "at = \"4s\"")
        + "[objectives]\n"
        + objectives
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
    if !common::docker_or_skip("teardown::failed_objective").await {
        return;
    }
    let _serial = SERIAL.lock().await;
    let name = format!("teardown-objective-{:08x}", rand::random::<u32>());
    let text = scenario_text(&name, "20s", "rto = \"<= 1ms\"\nlost_writes = \"== 0\"\n");
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
    if !common::docker_or_skip("teardown::bring_up_error").await {
        return;
    }
    let _serial = SERIAL.lock().await;
    let name = format!("teardown-bringup-{:08x}", rand::random::<u32>());
    let text = scenario_text(&name, "20s", "lost_writes = \"== 0\"\n");
    let s = scenario::parse(std::path::Path::new("bringup.toml"), &text).unwrap();
    let options = DrillOptions {
        ready_within: Duration::from_millis(500),
        ..DrillOptions::default()
    };
    let err = firedrill::run(&s, &options).await.unwrap_err();
    assert!(
        matches!(err, DrillError::Topology(_)),
        "expected a bring-up error, got {err}"
    );
    assert!(err.to_string().contains("not ready after"), "{err}");
    assert_nothing_left(&name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_tears_down_and_exits_2() {
    if !common::docker_or_skip("teardown::sigint").await {
        return;
    }
    let _serial = SERIAL.lock().await;
    let name = format!("teardown-sigint-{:08x}", rand::random::<u32>());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sigint.toml");
    std::fs::write(
        &path,
        scenario_text(&name, "60s", "lost_writes = \"== 0\"\n"),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_firedrill"))
        .arg("run")
        .arg(&path)
        .arg("--reports")
        .arg(dir.path())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Interrupt once the workload runs: the cluster is up and every container exists.
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        seen.push(line.clone());
        if line.contains("injected crash") {
            break;
        }
    }
    assert!(
        seen.iter().any(|l| l.contains("injected crash")),
        "the drill never reached its fault: {seen:#?}"
    );
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let code = child.wait().unwrap().code();
    assert_eq!(code, Some(2), "{rest:#?}");
    assert!(
        rest.iter()
            .any(|l| l.contains("interrupted; everything the run created was removed")),
        "{rest:#?}"
    );
    assert_nothing_left(&name).await;
}
