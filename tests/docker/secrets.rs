//! Secrets: the PostgreSQL passwords are generated per run, reach the containers, and appear in
//! nothing the run writes: not the run record, the reports, the history, stdout or stderr.

use crate::common;

use common::drill_cli::{DrillCli, crash_scenario, leftovers};
use firedrill::engine::{self, LABEL_SCENARIO};
use std::path::{Path, PathBuf};

/// Every file under `dir`.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The passwords in a node's rendered Patroni configuration, read from inside its container.
async fn passwords_in(docker: &bollard::Docker, container: &str) -> Vec<String> {
    let out = engine::exec(
        docker,
        container,
        None,
        &["cat", "/etc/firedrill/patroni.yml"],
    )
    .await
    .unwrap();
    let config: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let auth = config["postgresql"]["authentication"].as_object().unwrap();
    auth.values()
        .map(|user| user["password"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_password_is_written_anywhere() {
    let Some(_turn) = common::docker_turn("secrets", common::Turn::Beside).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let name = format!("secrets-{:08x}", rand::random::<u32>());
    let path = dir.path().join("secrets.toml");
    std::fs::write(&path, crash_scenario(&name, "30s", "")).unwrap();
    let mut cli = DrillCli::start(&path, dir.path(), &[]);
    cli.wait_for("seed ");

    // While the cluster runs: the passwords every node was given.
    let docker = engine::connect().await.unwrap();
    let mut containers: Vec<String> = docker
        .list_containers(Some(bollard::query_parameters::ListContainersOptions {
            filters: Some(engine::label_filter(&format!("{LABEL_SCENARIO}={name}"))),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_iter()
        .filter_map(|c| c.names?.into_iter().next())
        .map(|n| n.trim_start_matches('/').to_string())
        .filter(|n| n.ends_with("-pg2") || n.ends_with("-pg3"))
        .collect();
    containers.sort();
    assert_eq!(containers.len(), 2, "{containers:?}");
    let passwords = passwords_in(&docker, &containers[0]).await;
    assert_eq!(passwords_in(&docker, &containers[1]).await, passwords);
    // superuser, replication, rewind: three of them, each different and not guessable.
    assert_eq!(passwords.len(), 3, "{passwords:?}");
    for p in &passwords {
        assert!(p.len() >= 32, "a short password: {p}");
    }
    assert!(
        passwords[0] != passwords[1]
            && passwords[1] != passwords[2]
            && passwords[0] != passwords[2]
    );

    let seen = cli.seen.clone();
    let (code, stderr) = tokio::task::spawn_blocking(move || {
        let (code, rest) = cli.finish();
        (code, [seen, rest].concat())
    })
    .await
    .unwrap();
    // Judged (0: objectives held, 1: one failed on a busy host): either way every report is written.
    assert!(matches!(code, Some(0 | 1)), "{stderr:#?}");
    assert!(leftovers(&name).await.is_empty());

    // Everything the run wrote: the record (with every node's log; searched decompressed), the
    // reports, the history, stdout; and stderr.
    let written = files(dir.path());
    assert!(
        written.iter().any(|f| f.ends_with("run.json.gz"))
            && written.iter().any(|f| f.ends_with("report.html"))
            && written.iter().any(|f| f.ends_with("history.jsonl"))
            && written.iter().any(|f| f.ends_with("stdout.log")),
        "{written:?}"
    );
    for file in &written {
        let bytes = std::fs::read(file).unwrap();
        let bytes = firedrill::store::decompressed(file, &bytes).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for p in &passwords {
            assert!(
                !text.contains(p.as_str()),
                "{} holds a password",
                file.display()
            );
        }
    }
    for line in &stderr {
        for p in &passwords {
            assert!(
                !line.contains(p.as_str()),
                "stderr holds a password: {line}"
            );
        }
    }
}
