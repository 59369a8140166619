//! `firedrill clean` removes what dead runs left and keeps what live runs own.

mod common;

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
async fn clean_removes_dead_runs_and_keeps_live_ones() {
    if !common::docker_or_skip("clean").await {
        return;
    }
    let docker = engine::connect().await.unwrap();
    let suffix = format!("{:08x}", rand::random::<u32>());
    let dead = format!("fd-dead-{suffix}");
    let live = format!("fd-live-{suffix}");
    // No process has pid 4194304 or above: the kernel's pid_max ceiling.
    labelled_network(&docker, &dead, 4_194_304).await;
    labelled_network(&docker, &live, std::process::id()).await;

    let out = Command::new(env!("CARGO_BIN_EXE_firedrill"))
        .arg("clean")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(stdout.contains(&format!("removed run {dead}")), "{stdout}");
    assert!(stdout.contains(&format!("kept run {live}")), "{stdout}");

    let selector = |run: &str| format!("{LABEL_RUN}={run}");
    let dead_left = engine::find_leftovers(&docker, &selector(&dead))
        .await
        .unwrap();
    let live_left = engine::find_leftovers(&docker, &selector(&live))
        .await
        .unwrap();
    engine::remove_run(&docker, &live).await.unwrap();
    assert!(dead_left.is_empty(), "{dead_left:?}");
    assert_eq!(live_left.networks, vec![live.clone()]);
}
