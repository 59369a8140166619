//! Isolation on a shared engine: a fault is refused on any container the run did not create,
//! and two drills at once on one engine do not disturb each other.

mod common;

use bollard::models::ContainerCreateBody;
use bollard::query_parameters::{CreateContainerOptions, RemoveContainerOptions};
use firedrill::engine::{self, LABEL_RUN, LABEL_SCENARIO};
use firedrill::fault::{self, Crash, FaultError, FaultSpec, NoKeys, Pause};
use firedrill::history::Clock;
use firedrill::progress::Progress;
use firedrill::scenario::{self, Fault, Target};
use firedrill::topology::{Cluster, Node, Secrets, kinds};
use firedrill::{DrillOptions, image};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// Drills share two cores: the drills of this file run one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Starts a container that sleeps, with the given labels.
async fn sleeper(
    docker: &bollard::Docker,
    image: &str,
    name: &str,
    labels: HashMap<String, String>,
) {
    docker
        .create_container(
            Some(CreateContainerOptions {
                name: Some(name.to_string()),
                ..Default::default()
            }),
            ContainerCreateBody {
                image: Some(image.to_string()),
                cmd: Some(vec!["sleep".into(), "infinity".into()]),
                labels: Some(labels),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    docker.start_container(name, None).await.unwrap();
}

async fn running(docker: &bollard::Docker, name: &str) -> bool {
    let c = docker.inspect_container(name, None).await.unwrap();
    c.state.and_then(|s| s.running) == Some(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_on_a_container_the_run_did_not_create_is_refused() {
    if !common::docker_or_skip("isolation::refused").await {
        return;
    }
    let docker = engine::connect().await.unwrap();
    let image = image::ensure(&docker, &image::base_recipe(), &Progress::default())
        .await
        .unwrap();
    let suffix = format!("{:08x}", rand::random::<u32>());
    let unlabelled = format!("fd-isolation-bystander-{suffix}");
    let other_runs = format!("fd-isolation-other-{suffix}");
    sleeper(&docker, &image.tag, &unlabelled, HashMap::new()).await;
    sleeper(
        &docker,
        &image.tag,
        &other_runs,
        HashMap::from([(LABEL_RUN.to_string(), format!("fd-other-{suffix}"))]),
    )
    .await;

    // A run whose node names point at those two containers: as if a name had been reused.
    let node = |name: &str, container: &str| Node {
        name: name.to_string(),
        kind: kinds::PATRONI,
        container: container.to_string(),
        ip: String::new(),
        ports: BTreeMap::new(),
    };
    let cluster = Cluster {
        run_id: format!("fd-isolation-{suffix}"),
        network: String::new(),
        image: image.tag.clone(),
        nodes: vec![node("pg1", &unlabelled), node("pg2", &other_runs)],
        secrets: Secrets::generate(),
        docker: docker.clone(),
        http: reqwest::Client::new(),
        bring_up: Duration::ZERO,
        initial_leader: "pg1".into(),
        config_digests: BTreeMap::new(),
        client_endpoint: "haproxy".into(),
        leader_key: None,
        protocol: firedrill::client::Protocol::Postgres,
        initial_backup: None,
    };
    let resolver = fault::Resolver::new(&cluster, &[], 1);
    let mut errors = Vec::new();
    for (target, kind) in [
        ("pg1", FaultSpec::new(&Crash, NoKeys {})),
        ("pg2", FaultSpec::new(&Pause, NoKeys {})),
    ] {
        let f = Fault {
            at: Duration::ZERO,
            kind,
            target: Target::Node(target.into()),
            duration: None,
        };
        let result = fault::inject(&cluster, &resolver, 0, &f, Clock::start()).await;
        errors.push(result.map(|(_, event)| event));
    }
    // Both still run: nothing was done to them.
    let (first_running, second_running) = (
        running(&docker, &unlabelled).await,
        running(&docker, &other_runs).await,
    );
    for name in [&unlabelled, &other_runs] {
        docker
            .remove_container(
                name,
                Some(RemoveContainerOptions {
                    force: true,
                    ..Default::default()
                }),
            )
            .await
            .unwrap();
    }
    assert!(first_running && second_running, "a refused fault acted");
    let errors: Vec<FaultError> = errors
        .into_iter()
        .map(|r| r.expect_err("a fault on a container of no run or another run was injected"))
        .collect();
    for e in &errors {
        assert!(matches!(e, FaultError::Isolation { .. }), "{e}");
    }
    assert_eq!(
        errors[0].to_string(),
        format!(
            "fault crash on pg1: refused to act on container {unlabelled}: it is not this run's (fd-isolation-{suffix}) but not firedrill's"
        )
    );
    assert_eq!(
        errors[1].to_string(),
        format!(
            "fault pause on pg2: refused to act on container {other_runs}: it is not this run's (fd-isolation-{suffix}) but run fd-other-{suffix}'s"
        )
    );
}

/// The shipped primary-crash scenario, renamed and shortened.
fn short_crash(name: &str) -> scenario::Scenario {
    let text = std::fs::read_to_string(common::scenario_path("patroni-primary-crash")).unwrap();
    let text = text
        .replace(
            "name = \"patroni-primary-crash\"",
            &format!("name = \"{name}\""),
        )
        .replace("duration = \"60s\"", "duration = \"30s\"")
        .replace("at = \"10s\"", "at = \"5s\"");
    scenario::parse(std::path::Path::new(&format!("{name}.toml")), &text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_drills_at_once_do_not_interfere() {
    if !common::docker_or_skip("isolation::two_at_once").await {
        return;
    }
    let _serial = SERIAL.lock().await;
    // Built once before, not by both drills at the same moment.
    let docker = engine::connect().await.unwrap();
    image::ensure(&docker, &image::base_recipe(), &Progress::default())
        .await
        .unwrap();
    let suffix = format!("{:08x}", rand::random::<u32>());
    let (a, b) = (format!("two-a-{suffix}"), format!("two-b-{suffix}"));
    let (sa, sb) = (short_crash(&a), short_crash(&b));
    let options = DrillOptions::default();
    let (ra, rb) = tokio::join!(firedrill::run(&sa, &options), firedrill::run(&sb, &options));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_ne!(ra.run_id, rb.run_id);
    for record in [&ra, &rb] {
        let table = firedrill::report::table(record);
        // Each drill saw exactly its own one crash: one failover, nothing lost, no split brain.
        let faults: Vec<_> = record
            .history
            .events
            .iter()
            .filter(|e| matches!(e, firedrill::history::Event::Fault(_)))
            .collect();
        assert_eq!(faults.len(), 1, "{table}");
        assert_eq!(record.measurements.leader_changes, 1, "{table}");
        assert!(!record.measurements.split_brain.detected, "{table}");
        assert_eq!(
            record.measurements.lost_writes.as_ref().map(|l| l.count),
            Some(0),
            "{table}"
        );
        assert!(record.verdict.passed, "{table}");
        // Two drills on two cores may leave the harness unable to send its load while the
        // cluster answers slowly (writes not sent outside an outage: a run problem that says the
        // host was too busy); any other problem is a failure of the drill.
        let others: Vec<&String> = record
            .problems
            .iter()
            .filter(|p| !p.starts_with("the harness did not send"))
            .collect();
        assert!(others.is_empty(), "{others:?}\n{table}");
    }
    for name in [&a, &b] {
        let left = engine::find_leftovers(&docker, &format!("{LABEL_SCENARIO}={name}"))
            .await
            .unwrap();
        assert!(left.is_empty(), "{name} left {left:?}");
    }
}
