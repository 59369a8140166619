//! Each fault really takes effect, and its heal really undoes it, on one real cluster.

use crate::common;

use firedrill::engine::{self, RunLabels};
use firedrill::fault::{
    self, Crash, Direction, DiskFull, FaultSpec, Lag, LagParams, NoKeys, Partition,
    PartitionParams, PartitionPeers, PatroniFreeze, Pause, PostgresCrash, Resolver, Stop,
    Switchover, SwitchoverParams,
};
use firedrill::history::{Clock, Role};
use firedrill::progress::Progress;
use firedrill::scenario::{self, Fault, Target};
use firedrill::topology::{Cluster, Node};
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

fn fault(kind: FaultSpec, target: Target) -> Fault {
    Fault {
        at: Duration::ZERO,
        kind,
        target,
        duration: None,
    }
}

async fn role(cluster: &Cluster, node: &Node) -> Option<Role> {
    cluster
        .self_report(node, Duration::from_millis(800))
        .await?
        .ok()
        .map(|s| s.role)
}

/// Whether the node is a replica that serves: Patroni says role "replica" *and* state
/// "running", and its PostgreSQL answers SQL as a standby. Patroni reports role "replica" in
/// state "starting" as soon as it restarts, before PostgreSQL listens: the engine's port proxy
/// then accepts a connection and closes it ("connection closed"), so a step that needs the
/// replica's SQL (the lag fault reads its WAL position) must wait for this, not for the role.
async fn serving_replica(cluster: &Cluster, node: &Node) -> bool {
    let running = cluster
        .self_report(node, Duration::from_millis(800))
        .await
        .is_some_and(|s| s.is_ok_and(|s| s.serves_as_replica()));
    if !running {
        return false;
    }
    let Ok(client) = cluster.connect(node, Duration::from_secs(1)).await else {
        return false;
    };
    client
        .query_one("SELECT pg_is_in_recovery()", &[])
        .await
        .is_ok_and(|row| row.get::<_, bool>(0))
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

/// What a shell command run as `postgres` in the node's container printed.
async fn sh_as_postgres(cluster: &Cluster, node: &Node, script: &str) -> String {
    engine::exec(
        &cluster.docker,
        &node.container,
        Some("postgres"),
        &["sh", "-c", script],
    )
    .await
    .unwrap()
    .stdout
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
    let Some(_turn) = common::docker_turn("faults", common::Turn::Beside).await else {
        return;
    };
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
            FaultSpec::new(
                &Partition,
                PartitionParams {
                    from: PartitionPeers::All,
                    direction: Direction::Both,
                },
            ),
            Target::Leader,
        )],
    )
    .await
    .expect("iptables works in the containers");

    // partition: the replica cannot reach etcd1; another node still can; healed, it can again.
    let partition = fault(
        FaultSpec::new(
            &Partition,
            PartitionParams {
                from: PartitionPeers::Of(vec![Target::Node("etcd1".into())]),
                direction: Direction::Outgoing,
            },
        ),
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
    let pause = fault(
        FaultSpec::new(&Pause, NoKeys {}),
        Target::Node(replica.name.clone()),
    );
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
    let pg_crash = fault(
        FaultSpec::new(&PostgresCrash, NoKeys {}),
        Target::Node(replica.name.clone()),
    );
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
            !now.is_empty() && now != before && serving_replica(cluster, &replica).await
        })
        .await,
        "patroni did not restart postgresql"
    );

    // crash and stop: the container is down and Patroni silent; healed, the container runs,
    // its disk kept its data (the same database system), and it rejoins as a replica.
    let system_id = || {
        sh_as_postgres(
            cluster,
            &replica,
            "pg_controldata /data/pg | grep 'system identifier'",
        )
    };
    let identity = system_id().await;
    assert!(identity.contains("identifier"), "{identity}");
    for (i, kind) in [
        (3, FaultSpec::new(&Crash, NoKeys {})),
        (4, FaultSpec::new(&Stop, NoKeys {})),
    ] {
        let f = fault(kind, Target::Node(replica.name.clone()));
        let (hit, _) = fault::inject(cluster, &resolver, i, &f, clock)
            .await
            .unwrap();
        assert!(!container_running(cluster, &replica).await);
        assert_eq!(role(cluster, &replica).await, None);
        fault::heal(cluster, i, &f, &hit, clock).await.unwrap();
        assert!(container_running(cluster, &replica).await);
        assert!(
            eventually(Duration::from_secs(60), || async {
                serving_replica(cluster, &replica).await
            })
            .await,
            "{} did not rejoin as a serving replica after the restart",
            replica.name
        );
        assert_eq!(system_id().await, identity, "the data did not survive");
    }

    // lag: the replica's received WAL stops while the leader's grows; healed, it catches up.
    let wal = |node: Node| async move {
        cluster
            .self_report(&node, Duration::from_secs(1))
            .await
            .and_then(Result::ok)
            .and_then(|s| s.position)
            .unwrap_or(0)
    };
    let client = cluster
        .connect(&leader, Duration::from_secs(2))
        .await
        .unwrap();
    let write_some = || async {
        client
            .batch_execute("CREATE TABLE IF NOT EXISTS lag_probe (x int); INSERT INTO lag_probe SELECT generate_series(1, 1000)")
            .await
            .unwrap();
    };
    let lag = fault(
        FaultSpec::new(
            &Lag,
            LagParams {
                behind: Some(fault::Behind::Bytes(16 << 10)),
            },
        ),
        Target::Node(replica.name.clone()),
    );
    let writer = async {
        for _ in 0..40 {
            write_some().await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let (injected, _) = tokio::join!(fault::inject(cluster, &resolver, 6, &lag, clock), writer);
    let (hit, event) = injected.expect("lag injected");
    assert!(event.detail.unwrap().contains("behind"));
    let held = wal(replica.clone()).await;
    write_some().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        wal(replica.clone()).await,
        held,
        "the blocked replica still received WAL"
    );
    assert!(
        wal(leader.clone()).await > held + (16 << 10),
        "the leader's WAL did not grow"
    );
    fault::heal(cluster, 6, &lag, &hit, clock).await.unwrap();
    let target = wal(leader.clone()).await;
    assert!(
        eventually(Duration::from_secs(20), || async {
            wal(replica.clone()).await >= target
        })
        .await,
        "{} did not catch up after the heal",
        replica.name
    );

    // patroni-freeze: Patroni stops answering, PostgreSQL still serves; thawed, Patroni answers.
    let freeze = fault(
        FaultSpec::new(&PatroniFreeze, NoKeys {}),
        Target::Node(replica.name.clone()),
    );
    let (hit, _) = fault::inject(cluster, &resolver, 10, &freeze, clock)
        .await
        .unwrap();
    assert_eq!(
        role(cluster, &replica).await,
        None,
        "a frozen Patroni answered"
    );
    let served = cluster
        .connect(&replica, Duration::from_secs(2))
        .await
        .expect("postgres still accepts connections")
        .query_one("SELECT pg_is_in_recovery()", &[])
        .await
        .expect("postgres still answers");
    assert!(
        served.get::<_, bool>(0),
        "the replica's postgres changed role"
    );
    fault::heal(cluster, 10, &freeze, &hit, clock)
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            serving_replica(cluster, &replica).await
        })
        .await,
        "patroni did not answer after the thaw"
    );

    // disk-full: a write to the data disk gets ENOSPC; healed, writes work again.
    let write_file = || {
        sh_as_postgres(
            cluster,
            &replica,
            "dd if=/dev/zero of=/data/probe bs=8192 count=1 2>&1; rm -f /data/probe",
        )
    };
    let disk_full = fault(
        FaultSpec::new(&DiskFull, NoKeys {}),
        Target::Node(replica.name.clone()),
    );
    let (hit, _) = fault::inject(cluster, &resolver, 7, &disk_full, clock)
        .await
        .unwrap();
    assert!(write_file().await.contains("No space left on device"));
    fault::heal(cluster, 7, &disk_full, &hit, clock)
        .await
        .unwrap();
    let after = write_file().await;
    assert!(!after.contains("No space"), "{after}");

    // disk-full refuses a node without a disk of its own: filling it would fill the host's.
    let proxy = fault(
        FaultSpec::new(&DiskFull, NoKeys {}),
        Target::Node("haproxy".into()),
    );
    let refused = fault::inject(cluster, &resolver, 8, &proxy, clock).await;
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().contains("refusing")),
        "{:?}",
        refused.map(|r| r.1)
    );

    // switchover: leadership moves to the candidate.
    let switchover = fault(
        FaultSpec::new(
            &Switchover,
            SwitchoverParams {
                candidate: Some(Target::Node(other.name.clone())),
            },
        ),
        Target::Leader,
    );
    fault::inject(cluster, &resolver, 9, &switchover, clock)
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
