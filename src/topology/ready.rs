//! Readiness: conditions polled until they hold, never fixed sleeps.

use super::{Cluster, Node, NodeKind, TopologyError, etcd, patroni};
use crate::history::Role;
use crate::progress::{DrillEvent, Progress};
use std::time::{Duration, Instant};

const POLL: Duration = Duration::from_millis(100);

/// Waits until etcd is healthy, one Patroni leader runs, every replica streams from it
/// (`pg_stat_replication` on the leader: Patroni 3.0.2 calls a streaming replica "running") and
/// HAProxy routes to it. Returns the leader's name.
pub(super) async fn wait_ready(
    cluster: &Cluster,
    within: Duration,
    started: Instant,
    progress: &Progress,
) -> Result<String, TopologyError> {
    let deadline = started + within;
    let mut reached: Vec<String> = Vec::new();
    let note = |what: String, reached: &mut Vec<String>| {
        progress.send(DrillEvent::Reached {
            condition: what.clone(),
            after: started.elapsed(),
        });
        reached.push(what);
    };
    let not_ready = |reached: &Vec<String>, waiting: &str| TopologyError::NotReady {
        waited: within,
        reached: if reached.is_empty() {
            "nothing".into()
        } else {
            reached.join(", ")
        },
        waiting: waiting.into(),
    };

    let etcd_members: Vec<_> = cluster.nodes_of(NodeKind::Etcd).collect();
    poll_until(deadline, || async {
        let checks = etcd_members.iter().map(|n| async {
            etcd::healthy(
                &cluster.http,
                &n.host_addr(etcd::CLIENT_PORT).unwrap_or_default(),
            )
            .await
        });
        futures_util::future::join_all(checks)
            .await
            .iter()
            .all(|ok| *ok)
    })
    .await
    .ok_or_else(|| not_ready(&reached, "every etcd member healthy"))?;
    note(
        format!("etcd healthy ({} members)", etcd_members.len()),
        &mut reached,
    );

    let leader = poll_until(deadline, || single_leader(cluster))
        .await
        .flatten()
        .ok_or_else(|| not_ready(&reached, "one patroni leader"))?;
    note(format!("leader {leader}"), &mut reached);

    let replicas = cluster.nodes_of(NodeKind::Patroni).count() - 1;
    poll_until(deadline, || async {
        streaming_replicas(cluster, &leader).await == Some(replicas)
    })
    .await
    .ok_or_else(|| {
        not_ready(
            &reached,
            &format!("{replicas} replicas streaming from {leader}"),
        )
    })?;
    note(format!("{replicas} replicas streaming"), &mut reached);

    poll_until(deadline, || async {
        endpoint_routes_to(cluster).await.as_deref() == Some(leader.as_str())
    })
    .await
    .ok_or_else(|| not_ready(&reached, &format!("haproxy routing to {leader}")))?;
    note(format!("haproxy routes to {leader}"), &mut reached);
    Ok(leader)
}

/// Waits until the first Patroni node, started alone, has bootstrapped the cluster and leads it.
pub(super) async fn wait_bootstrapped(
    http: &reqwest::Client,
    node: &Node,
    deadline: Instant,
    started: Instant,
    within: Duration,
    progress: &Progress,
) -> Result<(), TopologyError> {
    let rest = node.host_addr(patroni::REST_PORT).unwrap_or_default();
    poll_until(deadline, || async {
        matches!(
            patroni::probe_patroni(http, &rest, Duration::from_secs(1)).await,
            Ok(status) if status.role == Role::Leader
        )
    })
    .await
    .ok_or_else(|| TopologyError::NotReady {
        waited: within,
        reached: "containers started".into(),
        waiting: format!("{} to bootstrap the cluster as its leader", node.name),
    })?;
    progress.send(DrillEvent::Bootstrapped {
        node: node.name.clone(),
        after: started.elapsed(),
    });
    Ok(())
}

/// Polls `condition` every 100 ms until it returns true (or `Some`) or the deadline passes.
async fn poll_until<F, Fut, T>(deadline: Instant, mut condition: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
    T: Truthy,
{
    loop {
        let value = condition().await;
        if value.truthy() {
            return Some(value);
        }
        if Instant::now() + POLL > deadline {
            return None;
        }
        tokio::time::sleep(POLL).await;
    }
}

trait Truthy {
    fn truthy(&self) -> bool;
}

impl Truthy for bool {
    fn truthy(&self) -> bool {
        *self
    }
}

impl<T> Truthy for Option<T> {
    fn truthy(&self) -> bool {
        self.is_some()
    }
}

/// The one node reporting itself leader while every other node answers as a replica.
async fn single_leader(cluster: &Cluster) -> Option<String> {
    let statuses = cluster.patroni_statuses().await;
    let leaders: Vec<_> = statuses
        .iter()
        .filter(|(_, s)| matches!(s, Some(s) if s.role == Role::Leader))
        .map(|(n, _)| n.name.clone())
        .collect();
    let replicas = statuses
        .iter()
        .filter(|(_, s)| matches!(s, Some(s) if s.role == Role::Replica && s.state == "running"))
        .count();
    (leaders.len() == 1 && replicas == statuses.len() - 1).then(|| leaders[0].clone())
}

/// How many replicas the leader streams WAL to.
async fn streaming_replicas(cluster: &Cluster, leader: &str) -> Option<usize> {
    let node = cluster.node(leader)?;
    let client = cluster.connect(node, Duration::from_secs(1)).await.ok()?;
    let row = client
        .query_one(
            "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'",
            &[],
        )
        .await
        .ok()?;
    usize::try_from(row.get::<_, i64>(0)).ok()
}

/// The node the client endpoint (HAProxy) hands a new connection to, if it is writable.
async fn endpoint_routes_to(cluster: &Cluster) -> Option<String> {
    let client = cluster
        .connect(cluster.endpoint(), Duration::from_secs(1))
        .await
        .ok()?;
    let row = client
        .query_one(
            &format!("SELECT {}, pg_is_in_recovery()", patroni::THIS_NODE_SQL),
            &[],
        )
        .await
        .ok()?;
    let in_recovery: bool = row.get(1);
    (!in_recovery).then(|| row.get(0))
}
