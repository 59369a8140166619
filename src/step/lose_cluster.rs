//! lose-cluster: the whole database cluster lost, as a disaster loses it and as the runbook's
//! restore test begins ("stop all Patroni instances"): every PostgreSQL node killed, its data
//! disk emptied, and the cluster's keys deleted from etcd, so that a restored node bootstraps a
//! new cluster instead of rejoining the lost one.

use std::time::Duration;

use super::{Action, Context, Done, StepError};
use crate::fault::NoKeys;
use crate::scenario::{KeyError, StepInput};
use crate::topology::kinds::{ETCD, PATRONI, patroni};

pub struct LoseCluster;

impl Action for LoseCluster {
    type Params = NoKeys;
    const NAME: &'static str = "lose-cluster";
    const SUMMARY: &'static str = "every PostgreSQL node killed, its data disk emptied, and the \
         cluster's keys deleted from etcd: what a restore starts from";

    fn params(_: &mut StepInput<'_>) -> Result<NoKeys, KeyError> {
        Ok(NoKeys {})
    }

    async fn run(ctx: Context<'_>, _: &NoKeys) -> Result<Done, StepError> {
        let cluster = ctx.cluster;
        let nodes: Vec<_> = cluster.nodes_of(PATRONI).cloned().collect();
        for node in &nodes {
            ctx.ensure_owned(node).await?;
        }
        let started = ctx.clock.now();
        // All at once, as a disaster strikes: no node outlives another to take over.
        crate::fault::kill(cluster, &nodes)
            .await
            .map_err(|e| StepError::Harness(e.to_string()))?;
        let killed = ctx.clock.now();
        let mut wiped = 0;
        for node in &nodes {
            wiped += cluster
                .wipe_disk(node, 0)
                .await
                .map_err(|e| StepError::Harness(format!("empty the disk of {}: {e}", node.name)))?;
        }
        let keys = delete_cluster_keys(ctx).await?;
        let ended = ctx.clock.now();
        let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
        let detail = format!(
            "killed {}; emptied their data disks ({:.1} MB); deleted {keys} keys under {}",
            names.join(", "),
            wiped as f64 / f64::from(1 << 20),
            patroni::CLUSTER_KEYS
        );
        Ok(Done::new(detail)
            .during(started, ended)
            .value("nodes", &names)
            .value("killed_at", killed)
            .value("bytes_wiped", wiped)
            .value("keys_deleted", keys))
    }
}

/// Deletes the cluster's keys through the first etcd member that answers. With none answering
/// the cluster is not lost as asked: the step fails.
async fn delete_cluster_keys(ctx: Context<'_>) -> Result<u64, StepError> {
    let mut errors = Vec::new();
    for member in ctx.cluster.nodes_of(ETCD) {
        match crate::topology::kinds::etcd::delete_prefix(
            ctx.cluster,
            member,
            patroni::CLUSTER_KEYS,
            Duration::from_secs(5),
        )
        .await
        {
            Ok(deleted) => return Ok(deleted),
            Err(e) => errors.push(e),
        }
    }
    Err(StepError::failed(format!(
        "the cluster's keys could not be deleted: {}",
        if errors.is_empty() {
            "the topology has no etcd member".to_owned()
        } else {
            errors.join("; ")
        }
    )))
}
