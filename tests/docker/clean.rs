//! `firedrill clean` removes what dead runs left and keeps what live runs own; `--all` also
//! removes live runs' objects, saying what before removing; `--dry-run` only says.

use crate::common;

use bollard::models::NetworkCreateRequest;
use firedrill::engine::{self, LABEL_HOST, LABEL_PID, LABEL_RUN, LABEL_SCENARIO};
use std::collections::HashMap;
use std::process::Command;

async fn labelled_network(docker: &bollard::Docker, run_id: &str, pid: u32) {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let labels = HashMap::from([
        (LABEL_RUN.to_string(), run_id.to_string()),
        (LABEL_PID.to_string(), pid.to_string()),
        (LABEL_HOST.to_string(), host.trim().to_string()),
        (LABEL_SCENARIO.to_string(), "clean-test".to_string()),
    ]);
    docker
        .create_network(NetworkCreateRequest {
            name: run_id.to_string(),
            labels: Some(labels),
            ..Default::default()
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn clean_says_what_it_removes_then_removes_dead_runs_and_keeps_live_ones_unless_all() {
    let Some(_turn) = common::docker_turn("clean", common::Turn::Beside).await else {
        return;
    };
    let docker = engine::connect().await.unwrap();
    let suffix = format!("{:08x}", rand::random::<u32>());
    let dead = format!("fd-dead-{suffix}");
    let live = format!("fd-live-{suffix}");
    // No process has pid 4194304 or above: the kernel's pid_max ceiling.
    labelled_network(&docker, &dead, 4_194_304).await;
    labelled_network(&docker, &live, std::process::id()).await;

    let clean = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_firedrill"))
            .arg("clean")
            .args(args)
            .args(["--run", &dead, "--run", &live])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let selector = |run: &str| format!("{LABEL_RUN}={run}");

    // --all --dry-run: says what it would remove, the live run included, and removes nothing.
    let stdout = clean(&["--all", "--dry-run"]);
    assert!(
        stdout.contains(&format!(
            "will remove run {dead} (scenario clean-test, pid 4194304 on "
        )) && stdout.contains("): 0 container(s), 1 network(s), 0 volume(s)\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            ", although pid {} still running",
            std::process::id()
        )),
        "{stdout}"
    );
    assert!(stdout.ends_with("dry run: nothing removed\n"), "{stdout}");
    for run in [&dead, &live] {
        let left = engine::find_leftovers(&docker, &selector(run))
            .await
            .unwrap();
        assert_eq!(left.networks.len(), 1, "a dry run removed {run}");
    }

    // Without --all: the dead run goes, the live one stays.
    let stdout = clean(&[]);
    assert!(
        stdout.contains(&format!("will remove run {dead}")),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("removed run {dead}")), "{stdout}");
    assert!(stdout.contains(&format!("kept run {live}")), "{stdout}");

    let dead_left = engine::find_leftovers(&docker, &selector(&dead))
        .await
        .unwrap();
    let live_left = engine::find_leftovers(&docker, &selector(&live))
        .await
        .unwrap();
    assert!(dead_left.is_empty(), "{dead_left:?}");
    assert_eq!(live_left.networks, vec![live.clone()]);

    // --all: the live run too, said before done.
    let stdout = clean(&["--all"]);
    let said = stdout
        .find(&format!("will remove run {live}"))
        .expect(&stdout);
    let done = stdout.find(&format!("removed run {live}")).expect(&stdout);
    assert!(said < done, "{stdout}");
    let live_left = engine::find_leftovers(&docker, &selector(&live))
        .await
        .unwrap();
    assert!(live_left.is_empty(), "{live_left:?}");
}
