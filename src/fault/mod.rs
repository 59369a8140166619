//! Faults (Jepsen's nemesis): each kind, in its own file, injects and heals itself against the
//! nodes its target resolves to when the fault fires. Every action is recorded with the instant
//! it began and ended.

mod crash;
mod disk_full;
mod error;
mod iptables;
mod lag;
mod partition;
mod patroni_freeze;
mod pause;
mod postgres_crash;
mod sql;
mod stop;
mod switchover;
mod target;

pub use error::FaultError;
pub use target::{Resolver, lag_bytes};

use crate::engine;
use crate::history::{Clock, FaultAction, FaultEvent};
use crate::scenario::{Fault, FaultKind, Target};
use crate::topology::{Cluster, Node};

/// Resolves the fault's target now and injects it. `F`, the event's `at`, is the instant the
/// injection itself began (after the target was resolved).
pub async fn inject(
    cluster: &Cluster,
    resolver: &Resolver<'_>,
    index: usize,
    fault: &Fault,
    clock: Clock,
) -> Result<(Vec<Node>, FaultEvent), FaultError> {
    let nodes = resolver.resolve(&fault.target).await?;
    // What a kind needs besides its targets is resolved before F too.
    let peers = match &fault.kind {
        FaultKind::Partition { from, .. } => resolver.peers(from, &nodes).await?,
        _ => Vec::new(),
    };
    let other = match &fault.kind {
        FaultKind::Switchover { candidate: Some(c) } => Some(resolver.resolve_one(c).await?),
        // The stream a lag fault blocks comes from the leader.
        FaultKind::Lag { .. } => Some(resolver.resolve_one(&Target::Leader).await?),
        _ => None,
    };
    let involved: Vec<&Node> = nodes.iter().chain(&peers).chain(other.as_ref()).collect();
    ensure_owned(cluster, fault, involved).await?;
    let at = clock.now();
    let detail = match &fault.kind {
        FaultKind::Crash => crash::inject(cluster, &nodes).await?,
        FaultKind::PostgresCrash => postgres_crash::inject(cluster, &nodes).await?,
        FaultKind::Stop => stop::inject(cluster, &nodes).await?,
        FaultKind::Pause => pause::inject(cluster, &nodes).await?,
        FaultKind::Partition { direction, .. } => {
            partition::inject(cluster, &nodes, &peers, *direction).await?
        }
        FaultKind::Switchover { .. } => switchover::inject(cluster, &nodes, other.as_ref()).await?,
        FaultKind::Lag { behind } => {
            let leader = other.as_ref().expect("resolved above");
            lag::inject(cluster, &nodes, leader, *behind).await?
        }
        FaultKind::DiskFull => disk_full::inject(cluster, &nodes).await?,
        FaultKind::PatroniFreeze => patroni_freeze::inject(cluster, &nodes).await?,
    };
    let event = event(index, fault, FaultAction::Inject, &nodes, at, clock, detail);
    Ok((nodes, event))
}

/// Heals a fault on the nodes it was injected on.
pub async fn heal(
    cluster: &Cluster,
    index: usize,
    fault: &Fault,
    nodes: &[Node],
    clock: Clock,
) -> Result<FaultEvent, FaultError> {
    ensure_owned(cluster, fault, nodes).await?;
    let at = clock.now();
    let detail = match &fault.kind {
        FaultKind::Crash | FaultKind::Stop => crash::heal(cluster, nodes).await?,
        FaultKind::Pause => pause::heal(cluster, nodes).await?,
        FaultKind::Partition { .. } => partition::heal(cluster, nodes).await?,
        FaultKind::Lag { .. } => lag::heal(cluster, nodes).await?,
        FaultKind::DiskFull => disk_full::heal(cluster, nodes).await?,
        FaultKind::PatroniFreeze => patroni_freeze::heal(cluster, nodes).await?,
        // Validation rejects a duration on these: nothing to heal.
        FaultKind::PostgresCrash | FaultKind::Switchover { .. } => None,
    };
    Ok(event(
        index,
        fault,
        FaultAction::Heal,
        nodes,
        at,
        clock,
        detail,
    ))
}

/// Refuses a fault on any container that does not carry this run's label (isolation on a shared
/// engine): checked before every injection and heal, before `F`.
async fn ensure_owned<'a>(
    cluster: &Cluster,
    fault: &Fault,
    nodes: impl IntoIterator<Item = &'a Node>,
) -> Result<(), FaultError> {
    for node in nodes {
        engine::ensure_owned(&cluster.docker, &node.container, &cluster.run_id)
            .await
            .map_err(|source| match source {
                engine::EngineError::NotOurs { .. } => FaultError::Isolation {
                    kind: fault.kind.name().to_string(),
                    node: node.name.clone(),
                    source: Box::new(source),
                },
                other => FaultError::action("look up the container", &node.name)(other.to_string()),
            })?;
    }
    Ok(())
}

/// Checks, before the workload starts, that every fault of the scenario can be injected on
/// this host: a fault that would silently do nothing fails the drill here.
pub async fn preflight(cluster: &Cluster, faults: &[Fault]) -> Result<(), FaultError> {
    if let Some(f) = faults
        .iter()
        .find(|f| matches!(f.kind, FaultKind::Partition { .. } | FaultKind::Lag { .. }))
    {
        iptables::preflight(cluster, f.kind.name()).await?;
    }
    Ok(())
}

fn event(
    index: usize,
    fault: &Fault,
    action: FaultAction,
    nodes: &[Node],
    at: crate::history::At,
    clock: Clock,
    detail: Option<String>,
) -> FaultEvent {
    FaultEvent {
        fault: index,
        action,
        kind: fault.kind.name().to_string(),
        node: nodes.first().map(|n| n.name.clone()).unwrap_or_default(),
        nodes: if nodes.len() > 1 {
            nodes.iter().map(|n| n.name.clone()).collect()
        } else {
            Vec::new()
        },
        at,
        done: clock.now(),
        detail,
        scheduled_at: Some(fault.at),
    }
}

/// Runs one action on every node at once; the first failure is the result.
async fn on_each<'a, F, Fut>(nodes: &'a [Node], action: F) -> Result<(), FaultError>
where
    F: Fn(&'a Node) -> Fut,
    Fut: std::future::Future<Output = Result<(), FaultError>>,
{
    futures_util::future::try_join_all(nodes.iter().map(action))
        .await
        .map(|_| ())
}

/// Runs a shell script as root in the node's container; a non-zero exit is an error carrying
/// what the script printed.
async fn run_as_root(
    cluster: &Cluster,
    node: &Node,
    action: &str,
    script: &str,
) -> Result<String, FaultError> {
    let out = engine::exec(
        &cluster.docker,
        &node.container,
        Some("root"),
        &["sh", "-c", script],
    )
    .await
    .map_err(|e| FaultError::action(action, &node.name)(e.to_string()))?;
    if out.success() {
        Ok(out.stdout)
    } else {
        Err(FaultError::action(action, &node.name)(
            format!("{}{}", out.stdout, out.stderr).trim().to_string(),
        ))
    }
}

fn names(nodes: &[Node]) -> String {
    nodes
        .iter()
        .map(|n| n.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
