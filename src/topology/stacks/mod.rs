//! The stacks: which node kinds an HA layout runs, how many, in which order they start, and
//! what makes the whole ready. One file each, registered by one line in `STACKS`; the scenario
//! names one (`[topology] stack`, "patroni" by default).

pub mod pair;
pub mod patroni;
pub mod redis_sentinel;

use super::kind::Render;
use super::kinds::pgbackrest::BackupSet;
use super::kinds::{APP, haproxy};
pub use super::ready::ReadyBound;
use super::ready::{Reached, poll_until};
use super::{Cluster, NodeKind, NodeSpec, TopologyError};
use crate::client::Protocol;
use crate::progress::Progress;
use crate::scenario::{Family, Topology};
use futures_util::future::BoxFuture;

/// An HA layout.
pub trait Stack: Sync + Send + 'static {
    /// Its name in scenario files (`[topology] stack = "patroni"`).
    fn name(&self) -> &'static str;
    /// What it is, for `firedrill list`.
    fn summary(&self) -> &'static str;
    /// The kinds it may run, in the order nodes are listed (`pg1..pg3, etcd1..etcd3, haproxy`).
    fn kinds(&self) -> &'static [NodeKind];
    /// Its nodes in start order: each group starts together once the one before has started.
    fn plan(&self, render: &Render<'_>) -> Vec<StartGroup>;
    /// Waits until the whole stack, laid out as `topology`, is ready to be drilled.
    fn ready<'a>(
        &'a self,
        cluster: &'a Cluster,
        topology: &'a Topology,
        bound: ReadyBound,
        progress: &'a Progress,
    ) -> BoxFuture<'a, Result<Ready, TopologyError>>;
    /// Where clients connect: a node, or the virtual IP on the run's network.
    fn client_endpoint(&self) -> ClientEndpoint;
    /// The protocol its clients speak: the workload's client, the read-back's.
    fn protocol(&self) -> Protocol;
    /// Why readers cannot read through replicas in the stack laid out as `topology` (`with
    /// topology.patroni.nodes = 1: a single node has no replica`); `None`: they can.
    fn no_replica_reads(&self, topology: &Topology) -> Option<&'static str>;
    /// The key in the store (etcd) whose value names the leader, for the kinds that answer as
    /// authorities; `None`: the stack keeps none.
    fn leader_key(&self) -> Option<&'static str>;
    /// Why the stack, laid out as `topology`, never gives the measurements of `family` (`the
    /// patroni stack without [topology.pgbouncer] has no pooler`); `None`: it gives them.
    /// `validate` refuses objectives on such measurements.
    fn lacks(&self, family: Family, topology: &Topology) -> Option<String>;
}

/// Where a stack's clients connect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientEndpoint {
    /// A node of the stack (HAProxy in the Patroni stack), through its published port.
    Node(&'static str),
    /// The virtual IP on the run's network (its last usable address), on this port: the
    /// harness reaches it over the Docker bridge.
    VirtualIp { port: u16 },
    /// Wherever the arbiters of kind `arbiter` (Sentinels) say the primary is: clients ask
    /// them, through their published `port`, for `service`'s address, and connect to it over
    /// the Docker bridge.
    Discovery {
        arbiter: &'static str,
        port: u16,
        service: &'static str,
    },
}

/// A stack ready to be drilled.
#[derive(Clone, Debug)]
pub struct Ready {
    /// The leader it was ready with.
    pub leader: String,
    /// The backup taken at bring-up, when the topology backs up (`[topology.pgbackrest]`).
    pub backup: Option<BackupSet>,
}

/// Nodes started together.
pub struct StartGroup {
    pub specs: Vec<NodeSpec>,
    /// The group's first node bootstraps the stack: once every node has started, bring-up
    /// waits for it to report itself leader (every run begins with the same leader).
    pub bootstraps: bool,
}

/// Waits, when the cluster has application servers, until HAProxy counts every one up after a
/// passed check of its status endpoint: the tier answers.
async fn tier_ready(
    cluster: &Cluster,
    deadline: std::time::Instant,
    reached: &mut Reached<'_>,
) -> Result<(), TopologyError> {
    let servers = cluster.nodes_of(APP).count();
    if servers == 0 {
        return Ok(());
    }
    poll_until(deadline, || async {
        haproxy::tier_ready(cluster, std::time::Duration::from_secs(1))
            .await
            .inspect_err(|e| tracing::debug!("application tier not ready: {e}"))
            .is_ok()
    })
    .await
    .ok_or_else(|| {
        reached.not_ready("every application server up in haproxy after a passed check")
    })?;
    reached.note(format!("{servers} application servers up"));
    Ok(())
}

/// Waits until `first` is the only node reporting itself leader and every other node of
/// `kind` streams from it (the leader's report lists it): "db1 primary, db2 streaming", in the
/// stack's words (`leads`, what the others are, `follow`).
async fn first_leads_every_other_following(
    cluster: &Cluster,
    kind: NodeKind,
    first: &str,
    (leads, others_are, follow): (&str, &str, &str),
    deadline: std::time::Instant,
    reached: &mut Reached<'_>,
) -> Result<(), TopologyError> {
    let others: Vec<String> = cluster
        .nodes_of(kind)
        .map(|n| n.name.clone())
        .filter(|n| n != first)
        .collect();
    poll_until(deadline, || async {
        let roles = cluster.roles(std::time::Duration::from_secs(1)).await;
        let streaming = roles
            .reports
            .iter()
            .find(|(node, _)| node.name == first)
            .and_then(|(_, report)| report.as_ref())
            .filter(|report| report.leads())
            .map(|report| report.streaming.clone())
            .unwrap_or_default();
        roles.leader().is_some_and(|l| l.name == first)
            && others.iter().all(|o| streaming.contains(o))
    })
    .await
    .ok_or_else(|| reached.not_ready(&format!("{first} {leads}, every {others_are} {follow}")))?;
    reached.note(format!("{first} {leads}, {} {follow}", others.join(", ")));
    Ok(())
}

/// Every stack.
pub const STACKS: &[&dyn Stack] = &[
    &patroni::PatroniStack,
    &pair::PairStack,
    &redis_sentinel::RedisSentinelStack,
];

/// The stack of this name.
pub fn named(name: &str) -> Option<&'static dyn Stack> {
    STACKS.iter().copied().find(|s| s.name() == name)
}

/// The stacks' names, for messages.
pub fn names() -> Vec<&'static str> {
    STACKS.iter().map(|s| s.name()).collect()
}
