//! Each fault really takes effect, and its heal really undoes it, on one real cluster.

mod common;

use firedrill::engine::{self, RunLabels};
use firedrill::fault::{self, Resolver};
use firedrill::history::{Clock, Role};
use firedrill::progress::Progress;
use firedrill::scenario::{self, Direction, Fault, FaultKind, PartitionPeers, Target};
use firedrill::topology::{Cluster, Node, PATRONI_REST_PORT, probe_patroni};
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

fn fault(kind: FaultKind, target: Target) -> Fault {
    Fault {
        at: Duration::ZERO,
        kind,
        target,
        duration: None,
    }
}

async fn role(cluster: &Cluster, node: &Node) -> Option<Role> {
    let addr = node.host_addr(PATRONI_REST_PORT)?;
    probe_patroni(&cluster.http, &addr, Duration::from_millis(800))
        .await
        .ok()
        .map(|s| s.role)
}

/// Polls `check` every 200 ms for at most `within`.
async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

/// Whether `from` reaches etcd1's client port over the run's network.
async fn reaches_etcd1(cluster: &Cluster, from: &Node) -> bool {
    let out = engine::exec(
        &cluster.docker,
        &from.container,
        None,
        &["curl", "-sf", "-m", "1", "http://etcd1:2379/health"],
    )
    .await
    .unwrap();
    out.success()
}

async fn container_running(cluster: &Cluster, node: &Node) -> bool {
    let inspect = cluster
        .docker
        .inspect_container(&node.container, None)
        .await
        .unwrap();
    inspect.state.and_then(|s| s.running).unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_takes_effect_and_heals() {
    if !common::docker_or_skip("faults").await {
        return;
    }
    let scenario = scenario::load(&common::scenario_path("patroni-primary-crash")).unwrap();
    let docker = engine::connect().await.unwrap();
    let image = firedrill::image::ensure(
        &docker,
        &firedrill::image::base_recipe(),
        &Progress::default(),
    )
    .await
    .unwrap();
    let labels = RunLabels {
        run_id: format!("fd-faults-{:08x}", rand::random::<u32>()),
        scenario: "fault-effects".into(),
    };
    let body = async {
        let cluster = Cluster::up(
            &docker,
            &scenario,
            &image.tag,
            &labels,
            Duration::from_secs(120),
            &Progress::default(),
        )
        .await
        .expect("cluster up");
        check_faults(&cluster).await;
    };
    let outcome = AssertUnwindSafe(body).catch_unwind().await;
    engine::remove_run(&docker, &labels.run_id).await.unwrap();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn check_faults(cluster: &Cluster) {
    let clock = Clock::start();
    let resolver = Resolver::new(cluster, &[], 7);
    let leader = resolver.resolve_one(&Target::Leader).await.unwrap();
    let replica = resolver
        .resolve_one(&Target::Replica(firedrill::scenario::Pick::MostLagging))
        .await
        .unwrap();
    assert_ne!(leader.name, replica.name);
    let other = resolver
        .resolve(&Target::Replica(firedrill::scenario::Pick::All))
        .await
        .unwrap()
        .into_iter()
        .find(|n| n.name != replica.name)
        .unwrap();
    fault::preflight(
        cluster,
        &[fault(
            FaultKind::Partition {
                from: PartitionPeers::All,
                direction: Direction::Both,
            },
            Target::Leader,
        )],
    )
    .await
    .expect("iptables works in the containers");

    // partition: the replica cannot reach etcd1; another node still can; healed, it can again.
    let partition = fault(
        FaultKind::Partition {
            from: PartitionPeers::Of(vec![Target::Node("etcd1".into())]),
            direction: Direction::Outgoing,
        },
        Target::Node(replica.name.clone()),
    );
    assert!(reaches_etcd1(cluster, &replica).await);
    let (hit, _) = fault::inject(cluster, &resolver, 0, &partition, clock)
        .await
        .unwrap();
    assert!(
        !reaches_etcd1(cluster, &replica).await,
        "partitioned node still reaches etcd1"
    );
    assert!(
        reaches_etcd1(cluster, &other).await,
        "the partition hit a bystander"
    );
    fault::heal(cluster, 0, &partition, &hit, clock)
        .await
        .unwrap();
    assert!(
        reaches_etcd1(cluster, &replica).await,
        "heal did not restore connectivity"
    );

    // pause: the node stops answering; resumed, it answers again.
    let pause = fault(FaultKind::Pause, Target::Node(replica.name.clone()));
    let (hit, _) = fault::inject(cluster, &resolver, 1, &pause, clock)
        .await
        .unwrap();
    assert_eq!(
        role(cluster, &replica).await,
        None,
        "a paused node answered"
    );
    fault::heal(cluster, 1, &pause, &hit, clock).await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            role(cluster, &replica).await.is_some()
        })
        .await
    );

    // postgres-crash: the postmaster is gone; Patroni (still up) starts PostgreSQL again.
    let pid = || async {
        engine::exec(
            &cluster.docker,
            &replica.container,
            None,
            &["head", "-n1", "/data/pg/postmaster.pid"],
        )
        .await
        .unwrap()
        .stdout
        .trim()
        .to_string()
    };
    let before = pid().await;
    let pg_crash = fault(FaultKind::PostgresCrash, Target::Node(replica.name.clone()));
    fault::inject(cluster, &resolver, 2, &pg_crash, clock)
        .await
        .unwrap();
    let gone = engine::exec(
        &cluster.docker,
        &replica.container,
        None,
        &["kill", "-0", &before],
    )
    .await
    .unwrap();
    assert!(!gone.success(), "postmaster {before} survived");
    assert!(
        eventually(Duration::from_secs(30), || async {
            let now = pid().await;
            !now.is_empty() && now != before && role(cluster, &replica).await == Some(Role::Replica)
        })
        .await,
        "patroni did not restart postgresql"
    );

    // crash and stop: the container is down and Patroni silent; healed, the container runs and
    // Patroni answers again on the same published port. (Its data directory is on tmpfs and
    // comes back empty, so rejoining as a replica is not checked here.)
    for (i, kind) in [(3, FaultKind::Crash), (4, FaultKind::Stop)] {
        let f = fault(kind, Target::Node(replica.name.clone()));
        let (hit, _) = fault::inject(cluster, &resolver, i, &f, clock)
            .await
            .unwrap();
        assert!(!container_running(cluster, &replica).await);
        assert_eq!(role(cluster, &replica).await, None);
        fault::heal(cluster, i, &f, &hit, clock).await.unwrap();
        assert!(container_running(cluster, &replica).await);
        assert!(
            eventually(Duration::from_secs(30), || async {
                role(cluster, &replica).await.is_some()
            })
            .await,
            "patroni on {} did not answer after the restart",
            replica.name
        );
    }

    // switchover: leadership moves to the candidate.
    let switchover = fault(
        FaultKind::Switchover {
            candidate: Some(Target::Node(other.name.clone())),
        },
        Target::Leader,
    );
    fault::inject(cluster, &resolver, 5, &switchover, clock)
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(30), || async {
            role(cluster, &other).await == Some(Role::Leader)
        })
        .await,
        "leadership did not move to {}",
        other.name
    );
}
