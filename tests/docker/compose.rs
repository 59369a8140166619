//! The compose export for real: the default scenario's export, started by a compose tool
//! (Debian's docker-compose 1.29 or the compose plugin), comes ready by the conditions a drill's
//! bring-up waits for (etcd healthy, one Patroni leader, every replica streaming from it,
//! HAProxy routing to it), every object carries the export's label, and `down -v` leaves
//! nothing behind. Also: every shipped export passes the compose tool's own check.
//!
//! Without a compose tool the tests print a visible skip; with FIREDRILL_REQUIRE_DOCKER set
//! (CI) a missing tool fails them, as a missing engine does.

use crate::common;

use firedrill::engine::{LABEL_COMPOSE, label_filter};
use firedrill::progress::{DrillEvent, Progress};
use firedrill::topology::compose;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long the stack may take from `up -d` to ready: a drill's default bring-up bound.
const READY_WITHIN: Duration = Duration::from_secs(120);

/// A compose tool: the program and the arguments before compose's own.
#[derive(Clone, Debug)]
struct Tool(Vec<&'static str>);

impl Tool {
    fn command(&self) -> Command {
        let mut command = Command::new(self.0[0]);
        command.args(&self.0[1..]);
        command
    }

    fn name(&self) -> String {
        self.0.join(" ")
    }
}

/// The compose tool on this machine (docker-compose first: what `.ci/run` installs), or a
/// visible skip; a failure with FIREDRILL_REQUIRE_DOCKER set.
fn compose_tool_or_skip(test: &str) -> Option<Tool> {
    for tool in [
        Tool(vec!["docker-compose"]),
        Tool(vec!["docker", "compose"]),
    ] {
        let works = tool
            .command()
            .arg("version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if works {
            return Some(tool);
        }
    }
    let why = "neither docker-compose nor `docker compose` works";
    if common::required("FIREDRILL_REQUIRE_DOCKER") {
        panic!(
            "{test}: FIREDRILL_REQUIRE_DOCKER is set but {why} (.ci/run installs docker-compose)"
        );
    }
    common::skip(test, why);
    None
}

fn scenario(name: &str) -> firedrill::scenario::Scenario {
    firedrill::scenario::load(&common::scenario_path(name)).expect("a shipped scenario loads")
}

/// Runs the tool on `file` as project `project`, failing the test with its output if it fails.
fn run(tool: &Tool, file: &Path, project: &str, args: &[&str]) -> Output {
    let output = tool
        .command()
        .arg("-f")
        .arg(file)
        .args(["-p", project])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{} could not run: {e}", tool.name()));
    assert!(
        output.status.success(),
        "{} {}: {}{}",
        tool.name(),
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Takes the project down, its volumes with it, whatever way the test ends.
struct Down {
    tool: Tool,
    file: PathBuf,
    project: String,
}

impl Drop for Down {
    fn drop(&mut self) {
        let output = self
            .tool
            .command()
            .arg("-f")
            .arg(&self.file)
            .args([
                "-p",
                &self.project,
                "down",
                "-v",
                "--remove-orphans",
                "-t",
                "5",
            ])
            .output();
        match output {
            Ok(o) if o.status.success() => {}
            Ok(o) => eprintln!(
                "compose: down -v of {} failed: {}",
                self.project,
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => eprintln!("compose: down -v of {} could not run: {e}", self.project),
        }
    }
}

/// The containers, networks and volumes of compose project `project`.
async fn objects(docker: &bollard::Docker, project: &str) -> Vec<(String, Option<String>)> {
    use std::collections::HashMap;
    let filter = label_filter(&format!("com.docker.compose.project={project}"));
    let label =
        |labels: Option<HashMap<String, String>>| labels.and_then(|mut l| l.remove(LABEL_COMPOSE));
    let mut found = Vec::new();
    let containers = docker
        .list_containers(Some(bollard::query_parameters::ListContainersOptions {
            all: true,
            filters: Some(filter.clone()),
            ..Default::default()
        }))
        .await
        .unwrap();
    for c in containers {
        let name = c.names.unwrap_or_default().join(",");
        found.push((format!("container {name}"), label(c.labels)));
    }
    let networks = docker
        .list_networks(Some(bollard::query_parameters::ListNetworksOptions {
            filters: Some(filter.clone()),
        }))
        .await
        .unwrap();
    for n in networks {
        found.push((
            format!("network {}", n.name.unwrap_or_default()),
            label(n.labels),
        ));
    }
    let volumes = docker
        .list_volumes(Some(bollard::query_parameters::ListVolumesOptions {
            filters: Some(filter),
        }))
        .await
        .unwrap();
    for v in volumes.volumes.unwrap_or_default() {
        found.push((
            format!("volume {}", v.name),
            Some(v.labels).and_then(|mut l| l.remove(LABEL_COMPOSE)),
        ));
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_export_starts_by_hand_and_comes_ready() {
    starts_and_comes_ready("compose", "patroni-primary-crash", "pg1", 6).await;
}

/// pgBouncer's auth file made from the environment at start, and pgBackRest's shared
/// repository: ready includes every pooler serving and the stanza created, checked and
/// backed up, as a drill's bring-up does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pgbouncer_and_pgbackrest_export_starts_by_hand_and_comes_ready() {
    starts_and_comes_ready(
        "compose pgbouncer pgbackrest",
        "pgbouncer-restore-point",
        "pg1",
        7,
    )
    .await;
}

/// The API servers read the database's password from their environment (the export's `.env`),
/// not from a file: ready includes every one up in HAProxy after a passed status check, which
/// asks the database through them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_tier_export_starts_by_hand_and_comes_ready() {
    starts_and_comes_ready("compose api tier", "api-over-patroni-failover", "pg1", 6).await;
}

/// The pair's keepalived and the API servers in front of it compute the virtual IP from their
/// own addresses on the network the compose tool made: ready includes the address on db1, the
/// harness reaching db1 there, and every API server up in HAProxy after a passed status check,
/// which asks the database at the address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pair_with_api_servers_export_starts_by_hand_and_comes_ready() {
    starts_and_comes_ready("compose pair api tier", "pair-with-api-servers", "db1", 2).await;
}

/// Exports `name` into a temporary directory, starts it with the compose tool as a project of
/// its own, waits for it to be ready as a drill waits (with `leader`, the node that bootstraps),
/// checks the labels of its objects (`volumes` of them), and takes it down.
async fn starts_and_comes_ready(test: &str, name: &str, leader: &str, volumes: usize) {
    let Some(_turn) = common::docker_turn(test, common::Turn::Beside).await else {
        return;
    };
    let Some(tool) = compose_tool_or_skip(test) else {
        return;
    };
    let docker = firedrill::engine::connect().await.unwrap();
    let scenario = scenario(name);
    // Compose cannot pull firedrill's image: it is built here, as `firedrill image build` does.
    let image = firedrill::image::ensure(
        &docker,
        &firedrill::image::base_recipe(),
        &Progress::default(),
    )
    .await
    .expect("the base image is built");
    assert_eq!(image.tag, compose::image_of(&scenario));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("docker-compose.yml");
    let export = compose::export(&scenario, &image.tag).unwrap();
    let written = compose::write(&export, &file).unwrap();
    assert!(written.env_created);
    let project = format!("fdcompose{:08x}", rand::random::<u32>());
    let down = Down {
        tool: tool.clone(),
        file: file.clone(),
        project: project.clone(),
    };

    let started = Instant::now();
    run(&tool, &file, &project, &["up", "-d"]);
    let up_returned = started.elapsed();
    let secrets = compose::read_secrets(&written.env).unwrap();
    let cluster = compose::attach(&docker, &project, &scenario, secrets)
        .await
        .unwrap_or_else(|e| panic!("{test}: the started stack's containers: {e}"));
    let prefix = format!("{test} ({})", tool.name());
    let progress = Progress::new(move |event| {
        if let DrillEvent::Reached { condition, after } = event {
            eprintln!("{prefix}: {condition} after {:.1}s", after.as_secs_f64());
        }
    });
    let ready = compose::ready(&cluster, &scenario, READY_WITHIN, &progress)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "{test}: the stack `{} up -d` started did not come ready as a drill's does: {e}",
                tool.name()
            )
        });
    let took = started.elapsed();
    eprintln!(
        "{test}: {name}: {} up -d returned after {:.1}s; ready (leader {}) {:.1}s after up began",
        tool.name(),
        up_returned.as_secs_f64(),
        ready.leader,
        took.as_secs_f64()
    );
    // the first node bootstraps, as in a drill: the others wait for it
    assert_eq!(ready.leader, leader);
    // a topology that backs up is ready with its first backup in the shared repository
    let backs_up = firedrill::topology::kinds::pgbackrest::settings(&scenario.topology)
        .is_some_and(|s| s.initial_backup);
    assert_eq!(ready.backup.is_some(), backs_up, "{:?}", ready.backup);

    // Every object is labelled with the export; the keeper and every node run.
    let found = objects(&docker, &project).await;
    let containers = found
        .iter()
        .filter(|(o, _)| o.starts_with("container "))
        .count();
    assert_eq!(containers, export.services.len(), "{found:?}");
    assert!(
        found.iter().any(|(o, _)| o.starts_with("network ")),
        "{found:?}"
    );
    assert_eq!(
        found
            .iter()
            .filter(|(o, _)| o.starts_with("volume "))
            .count(),
        volumes,
        "{found:?}"
    );
    for (object, label) in &found {
        assert_eq!(
            label.as_deref(),
            Some(scenario.name.as_str()),
            "{object} lacks {LABEL_COMPOSE}"
        );
    }

    drop(down);
    let left = objects(&docker, &project).await;
    assert!(left.is_empty(), "left after down -v: {left:?}");
}

#[test]
fn every_shipped_export_passes_the_compose_tools_own_check() {
    const TEST: &str = "compose config";
    let Some(tool) = compose_tool_or_skip(TEST) else {
        return;
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docker-compose");
    let mut checked = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        // A copy with its own env file: the shipped directories have none.
        let tmp = tempfile::tempdir().unwrap();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let scenario = scenario(&name);
        let export = compose::export(&scenario, &compose::image_of(&scenario)).unwrap();
        let file = tmp.path().join("docker-compose.yml");
        compose::write(&export, &file).unwrap();
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            std::fs::read_to_string(dir.join("docker-compose.yml")).unwrap(),
            "docker-compose/{name} is stale (see tests/compose_export.rs)"
        );
        run(&tool, &file, "fdcomposecheck", &["config", "-q"]);
        checked += 1;
    }
    assert_eq!(checked, 9);
}
