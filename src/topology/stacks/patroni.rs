//! PostgreSQL run by Patroni, its leader key in etcd, HAProxy routing clients to the leader by
//! Patroni's REST API: the runbooks' main stack.

use super::super::kind::Render;
use super::super::kinds::pgbackrest;
use super::super::kinds::{
    APP, ETCD, HAPROXY, PATRONI, PGBACKREST, PGBOUNCER, VARNISH, app, etcd, haproxy, patroni,
    varnish,
};
use super::super::ready::{Reached, ReadyBound, poll_until};
use super::super::{Cluster, NodeKind, TopologyError};
use super::{ClientEndpoint, Ready, Stack, StartGroup};
use crate::client::Protocol;
use crate::progress::Progress;
use crate::scenario::{Family, Topology};
use futures_util::future::BoxFuture;
use std::time::Duration;

pub struct PatroniStack;

impl Stack for PatroniStack {
    fn name(&self) -> &'static str {
        "patroni"
    }

    fn summary(&self) -> &'static str {
        "PostgreSQL run by Patroni, its leader key in etcd, HAProxy routing to the leader"
    }

    fn kinds(&self) -> &'static [NodeKind] {
        &[PATRONI, ETCD, HAPROXY, PGBOUNCER, PGBACKREST, APP, VARNISH]
    }

    /// etcd first (Patroni needs its store), then pg1, which bootstraps the cluster (the only
    /// node whose configuration may), then every other node: the other PostgreSQL nodes wait
    /// for pg1's leadership and clone it, the poolers and HAProxy check their servers until
    /// they answer. No group waits for more than the one before it to have started, and pg1's
    /// container starts before the others compete with it for the engine. Every run begins
    /// with the same leader, so a seed repeats a run's choices and a proxy configured for one
    /// fixed primary (the tcp check) starts out right.
    fn plan(&self, render: &Render<'_>) -> Vec<StartGroup> {
        let mut first = PATRONI.kind().specs(render);
        let mut rest = first.split_off(1.min(first.len()));
        let bootstraps = !rest.is_empty();
        rest.extend(PGBOUNCER.kind().specs(render));
        rest.extend(HAPROXY.kind().specs(render));
        // Application servers connect to the database through HAProxy when asked (their pools
        // open connections on demand): they start with it.
        rest.extend(APP.kind().specs(render));
        vec![
            StartGroup {
                specs: ETCD.kind().specs(render),
                bootstraps: false,
            },
            StartGroup {
                specs: first,
                bootstraps,
            },
            StartGroup {
                specs: rest,
                bootstraps: false,
            },
            // Varnish resolves its servers' names when it loads its VCL: once they run.
            StartGroup {
                specs: VARNISH.kind().specs(render),
                bootstraps: false,
            },
        ]
    }

    fn ready<'a>(
        &'a self,
        cluster: &'a Cluster,
        topology: &'a Topology,
        bound: ReadyBound,
        progress: &'a Progress,
    ) -> BoxFuture<'a, Result<Ready, TopologyError>> {
        Box::pin(async move {
            let leader = wait_ready(cluster, topology, bound, progress).await?;
            let backup = match pgbackrest::settings(topology) {
                Some(backups) => {
                    first_backup(cluster, &leader, backups.initial_backup, bound, progress).await?
                }
                None => None,
            };
            Ok(Ready { leader, backup })
        })
    }

    fn client_endpoint(&self) -> ClientEndpoint {
        ClientEndpoint::Node(haproxy::NAME)
    }

    fn protocol(&self) -> Protocol {
        Protocol::Postgres
    }

    /// HAProxy's replica endpoint needs Patroni's checks (a TCP check knows no roles) and a
    /// replica to send readers to.
    fn no_replica_reads(&self, topology: &Topology) -> Option<&'static str> {
        let check = haproxy::settings(topology).map(|s| s.check);
        if check == Some(haproxy::HaproxyCheck::Tcp) {
            return Some(
                "with topology.haproxy.check = \"tcp\": a TCP check knows no roles, so HAProxy \
                 has no replica endpoint",
            );
        }
        (PATRONI.kind().count(topology) == 1)
            .then_some("with topology.patroni.nodes = 1: a single node has no replica")
    }

    fn leader_key(&self) -> Option<&'static str> {
        Some(patroni::LEADER_KEY)
    }

    /// Every family but the pooler's, whatever the layout: Patroni reports roles, etcd holds
    /// its leader key and HAProxy, always the client endpoint, tells its view of the servers.
    /// The pool families need `[topology.pgbouncer]`. (Readers are the workload's, not the
    /// stack's.)
    fn lacks(&self, family: Family, topology: &Topology) -> Option<String> {
        match family {
            // a restore step's presence is the scenario's, not the stack's: validate checks it
            Family::WritePath | Family::Role | Family::Proxy | Family::Reads | Family::Restore => {
                None
            }
            Family::Pool | Family::PoolRole => (PGBOUNCER.kind().count(topology) == 0).then(|| {
                "the patroni stack without [topology.pgbouncer] has no connection pooler".to_owned()
            }),
        }
    }
}

/// Waits until etcd is healthy, one Patroni leader runs, every replica streams from it
/// (`pg_stat_replication` on the leader: Patroni's `state` of a streaming replica is "running") and
/// HAProxy routes to it, its view of every server agreeing with the roles. Returns the
/// leader's name.
async fn wait_ready(
    cluster: &Cluster,
    topology: &Topology,
    bound: ReadyBound,
    progress: &Progress,
) -> Result<String, TopologyError> {
    let check = haproxy::settings(topology).map(|s| s.check);
    let deadline = bound.deadline();
    let mut reached = Reached::new(bound, progress);

    let etcd_members: Vec<_> = cluster.nodes_of(ETCD).collect();
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
    .ok_or_else(|| reached.not_ready("every etcd member healthy"))?;
    reached.note(format!("etcd healthy ({} members)", etcd_members.len()));

    let leader = poll_until(deadline, || single_leader(cluster))
        .await
        .flatten()
        .ok_or_else(|| reached.not_ready("one patroni leader"))?;
    reached.note(format!("leader {leader}"));

    let replicas = cluster.nodes_of(PATRONI).count().saturating_sub(1);
    poll_until(deadline, || async {
        streaming_replicas(cluster, &leader).await == Some(replicas)
    })
    .await
    .ok_or_else(|| reached.not_ready(&format!("{replicas} replicas streaming from {leader}")))?;
    reached.note(format!("{replicas} replicas streaming"));

    let poolers: Vec<_> = cluster.nodes_of(PGBOUNCER).collect();
    if !poolers.is_empty() {
        poll_until(deadline, || async {
            let checks = poolers.iter().map(|n| pooler_serves(cluster, n));
            futures_util::future::join_all(checks)
                .await
                .iter()
                .all(|ok| *ok)
        })
        .await
        .ok_or_else(|| reached.not_ready("every pgbouncer serving its node"))?;
        reached.note(format!("{} pgbouncers serving", poolers.len()));
    }

    poll_until(deadline, || async {
        endpoint_routes_to(cluster).await.as_deref() == Some(leader.as_str())
    })
    .await
    .ok_or_else(|| reached.not_ready(&format!("haproxy routing to {leader}")))?;
    if let Some(check) = check {
        poll_until(deadline, || {
            haproxy::view_agrees(cluster, check, &leader, Duration::from_secs(1))
        })
        .await
        .ok_or_else(|| {
            reached.not_ready(&format!(
                "haproxy's view to agree with the roles ({leader} alone up for writes{})",
                match check {
                    haproxy::HaproxyCheck::PatroniRest => ", the replicas up for reads",
                    haproxy::HaproxyCheck::Tcp => "",
                }
            ))
        })?;
    }
    reached.note(format!("haproxy routes to {leader}"));

    super::tier_ready(cluster, deadline, &mut reached).await?;

    if let Some(cache) = cluster.nodes_of(VARNISH).next() {
        let status = app::settings(topology).map_or(app::STATUS_PATH, |t| t.status.as_str());
        poll_until(deadline, || async {
            varnish::serves(cluster, cache, status, Duration::from_secs(1)).await
        })
        .await
        .ok_or_else(|| reached.not_ready("varnish answering from an application server"))?;
        reached.note("varnish serving".to_string());
    }
    Ok(leader)
}

/// How long bring-up's `pgbackrest check` waits for its WAL segment in the repository.
const CHECK_ARCHIVE_WAIT: Duration = Duration::from_secs(20);

/// The stanza created and checked on the leader, then a full backup: a topology that backs up
/// is ready once a restore has something to start from. Any failure, `check`'s above all
/// (archiving broken), means the drill cannot run.
async fn first_backup(
    cluster: &Cluster,
    leader: &str,
    full_backup: bool,
    bound: ReadyBound,
    progress: &Progress,
) -> Result<Option<pgbackrest::BackupSet>, TopologyError> {
    let node = cluster.node(leader).ok_or_else(|| TopologyError::Node {
        node: leader.to_owned(),
        message: "the leader is not among the nodes".into(),
    })?;
    let within = || {
        bound
            .deadline()
            .saturating_duration_since(std::time::Instant::now())
    };
    let failed = |message| TopologyError::Backups { message };
    let mut reached = Reached::new(bound, progress);
    pgbackrest::command(cluster, node, &["stanza-create"], within())
        .await
        .map_err(failed)?;
    reached.note(format!("stanza {} created", pgbackrest::STANZA));
    // `check` pushes a WAL segment and waits for it in the repository: archiving works. A
    // 1 MB segment arrives within a second; its wait is cut from pgBackRest's 60 s so that a
    // broken archive is told in pgBackRest's words well within the bound.
    let wait = within()
        .saturating_sub(Duration::from_secs(2))
        .min(CHECK_ARCHIVE_WAIT)
        .max(Duration::from_secs(1));
    let wait = format!("--archive-timeout={}", wait.as_secs());
    pgbackrest::command(cluster, node, &[wait.as_str(), "check"], within())
        .await
        .map_err(failed)?;
    let set = match full_backup {
        true => Some(
            pgbackrest::backup(cluster, node, "full", within())
                .await
                .map_err(failed)?,
        ),
        false => None,
    };
    reached.note(match &set {
        Some(set) => format!(
            "stanza {} checked, full backup {} ({:.1} MB)",
            pgbackrest::STANZA,
            set.label,
            set.size as f64 / f64::from(1 << 20)
        ),
        None => format!(
            "stanza {} checked, no backup yet (initial_backup = false)",
            pgbackrest::STANZA
        ),
    });
    Ok(set)
}

/// The one node reporting itself leader while every other node answers as a serving replica.
async fn single_leader(cluster: &Cluster) -> Option<String> {
    let roles = cluster.roles(Duration::from_secs(1)).await;
    let leader = roles.leader()?;
    let serving = roles.serving_replicas().count();
    (serving == roles.asked() - 1).then(|| leader.name.clone())
}

/// How many replicas the leader streams WAL to: the nodes' own connections only, not a
/// `pg_basebackup` cloning a new replica (it streams too while it copies).
async fn streaming_replicas(cluster: &Cluster, leader: &str) -> Option<usize> {
    let node = cluster.node(leader)?;
    let client = cluster.connect(node, Duration::from_secs(1)).await.ok()?;
    let names: Vec<String> = cluster.nodes_of(PATRONI).map(|n| n.name.clone()).collect();
    let row = client
        .query_one(
            "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' \
             AND application_name = ANY($1)",
            &[&names],
        )
        .await
        .ok()?;
    usize::try_from(row.get::<_, i64>(0)).ok()
}

/// The node the client endpoint (HAProxy) hands a new connection to, if it is writable. A
/// simple query: through a transaction-mode pooler a prepared statement may not outlive its
/// transaction.
async fn endpoint_routes_to(cluster: &Cluster) -> Option<String> {
    let client = cluster
        .connect(cluster.endpoint().ok()?, Duration::from_secs(1))
        .await
        .ok()?;
    let sql = format!(
        "SELECT {}, pg_is_in_recovery()",
        super::super::kinds::patroni::THIS_NODE_SQL
    );
    let answer = client.simple_query(&sql).await.ok()?;
    let row = first_row(&answer)?;
    (row.get(1)? == "f").then(|| row.get(0).map(str::to_owned))?
}

/// Whether a pooler hands out a session on its PostgreSQL node (`SELECT 1` through it).
async fn pooler_serves(cluster: &Cluster, pooler: &super::super::Node) -> bool {
    let Ok(client) = cluster.connect(pooler, Duration::from_secs(1)).await else {
        return false;
    };
    client.simple_query("SELECT 1").await.is_ok()
}

fn first_row(
    messages: &[tokio_postgres::SimpleQueryMessage],
) -> Option<&tokio_postgres::SimpleQueryRow> {
    messages.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(row) => Some(row),
        _ => None,
    })
}
