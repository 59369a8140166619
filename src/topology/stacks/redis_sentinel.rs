//! Redis with Sentinel: a master and its replicas, Sentinels watching them, clients asking the
//! Sentinels where the master is. No PostgreSQL, no proxy: the stack the design's seams must
//! carry as they carry Patroni's.

use super::super::kind::Render;
use super::super::kinds::{REDIS, SENTINEL, redis, sentinel};
use super::super::ready::{Reached, ReadyBound, poll_until};
use super::super::{Cluster, NodeKind, TopologyError};
use super::{ClientEndpoint, Ready, Stack, StartGroup};
use crate::client::Protocol;
use crate::client::redis::{session, text};
use crate::progress::Progress;
use crate::scenario::{Family, Topology};
use futures_util::future::BoxFuture;
use std::time::{Duration, Instant};

pub struct RedisSentinelStack;

impl Stack for RedisSentinelStack {
    fn name(&self) -> &'static str {
        "redis-sentinel"
    }

    fn summary(&self) -> &'static str {
        "Redis, a master and its replicas (asynchronous replication), Sentinels failing over \
         and telling clients where the master is"
    }

    fn kinds(&self) -> &'static [NodeKind] {
        &[REDIS, SENTINEL]
    }

    /// redis1 first, then its replicas and the Sentinels (which resolve redis1 by name).
    fn plan(&self, render: &Render<'_>) -> Vec<StartGroup> {
        let mut first = REDIS.kind().specs(render);
        let mut rest = first.split_off(1.min(first.len()));
        rest.extend(SENTINEL.kind().specs(render));
        vec![
            StartGroup {
                specs: first,
                bootstraps: true,
            },
            StartGroup {
                specs: rest,
                bootstraps: false,
            },
        ]
    }

    fn ready<'a>(
        &'a self,
        cluster: &'a Cluster,
        _topology: &'a Topology,
        bound: ReadyBound,
        progress: &'a Progress,
    ) -> BoxFuture<'a, Result<Ready, TopologyError>> {
        Box::pin(async move {
            let mut reached = Reached::new(bound, progress);
            let leader = wait_ready(cluster, bound.deadline(), &mut reached).await?;
            Ok(Ready {
                leader,
                backup: None,
            })
        })
    }

    fn client_endpoint(&self) -> ClientEndpoint {
        ClientEndpoint::Discovery {
            arbiter: sentinel::NAME,
            port: sentinel::PORT,
            service: sentinel::MASTER_NAME,
        }
    }

    fn protocol(&self) -> Protocol {
        Protocol::Redis
    }

    fn no_replica_reads(&self, _topology: &Topology) -> Option<&'static str> {
        Some(
            "in the redis-sentinel stack: its clients ask the Sentinels for the master, and \
             nothing balances readers over the replicas",
        )
    }

    fn leader_key(&self) -> Option<&'static str> {
        None
    }

    /// The servers report their roles, the Sentinels name the master; no proxy, pooler or
    /// backup repository.
    fn lacks(&self, family: Family, _topology: &Topology) -> Option<String> {
        match family {
            Family::WritePath | Family::Role | Family::Reads => None,
            Family::Proxy => Some(
                "the redis-sentinel stack has no proxy: its clients ask the Sentinels where the \
                 master is"
                    .into(),
            ),
            Family::Pool | Family::PoolRole => {
                Some("the redis-sentinel stack has no connection pooler".into())
            }
            Family::Restore => Some("the redis-sentinel stack has no backup repository".into()),
        }
    }
}

/// Waits until redis1 is the only master with every replica online, and every Sentinel names
/// it, knows every replica and every other Sentinel: a failover needs them all to have met.
async fn wait_ready(
    cluster: &Cluster,
    deadline: Instant,
    reached: &mut Reached<'_>,
) -> Result<String, TopologyError> {
    let master = redis::first();
    super::first_leads_every_other_following(
        cluster,
        REDIS,
        &master,
        ("master", "replica", "online"),
        deadline,
        reached,
    )
    .await?;
    let replicas = cluster.nodes_of(REDIS).count() - 1;
    let sentinels: Vec<_> = cluster.nodes_of(SENTINEL).collect();
    let last_error = std::sync::Mutex::new(String::new());
    poll_until(deadline, || async {
        for s in &sentinels {
            if let Err(e) = acquainted(cluster, s, &master, replicas, sentinels.len()).await {
                *last_error.lock().expect("not poisoned") = format!("{}: {e}", s.name);
                return false;
            }
        }
        true
    })
    .await
    .ok_or_else(|| {
        reached.not_ready(&format!(
            "every Sentinel naming {master} and knowing every replica and Sentinel (last: {})",
            last_error.lock().expect("not poisoned")
        ))
    })?;
    reached.note(format!(
        "{} Sentinels name {master}, know {} replicas and each other",
        sentinels.len(),
        replicas
    ));
    Ok(master)
}

/// Whether Sentinel `node` names `master` and knows `replicas` replicas and the other
/// `sentinels - 1` Sentinels (`SENTINEL MASTER`); why not, if not.
async fn acquainted(
    cluster: &Cluster,
    node: &super::super::Node,
    master: &str,
    replicas: usize,
    sentinels: usize,
) -> Result<(), String> {
    let timeout = Duration::from_secs(1);
    let named = cluster
        .named_leader(node, timeout)
        .await
        .ok_or("names no master")??;
    if named.as_deref() != Some(master) {
        return Err(format!("names {named:?}"));
    }
    let port = node
        .ports
        .get(&sentinel::PORT)
        .copied()
        .ok_or("no published port")?;
    let mut connection = session("127.0.0.1", port, timeout).await?;
    let fields: std::collections::HashMap<String, String> = ::redis::cmd("SENTINEL")
        .arg("MASTER")
        .arg(sentinel::MASTER_NAME)
        .query_async(&mut connection)
        .await
        .map_err(|e| text(&e))?;
    let count = |field: &str| {
        fields
            .get(field)
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0)
    };
    let (known_replicas, others) = (count("num-slaves"), count("num-other-sentinels"));
    if known_replicas < replicas || others + 1 < sentinels {
        return Err(format!(
            "knows {known_replicas} of {replicas} replicas, {others} of {} other Sentinels",
            sentinels - 1
        ));
    }
    Ok(())
}
