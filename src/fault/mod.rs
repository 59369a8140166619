//! Faults (Jepsen's nemesis), as verbs: each kind, in its own file, implements [`Verb`] (its
//! keys and their checks, the node kinds it applies to, inject, heal, what it recorded) and is
//! listed once in [`VERBS`]. Scenario validation, its messages and `firedrill list --faults`
//! all read the registry. Targets are resolved when a fault fires; every action is recorded
//! with the instant it began and ended.
//!
//! # Adding a fault verb
//!
//! 1. A new file here with a unit struct implementing [`Verb`]: `NAME` and `SUMMARY`; `KEYS`
//!    (beyond at/kind/target/duration) and `params`, which checks them into the verb's own
//!    `Params` type (use [`NoKeys`] for none) with messages at FILE:LINE:COL through
//!    [`FaultInput`](crate::scenario::FaultInput); `HEALING`; `TARGETS` (kind names);
//!    `REQUIRES`; `involve` (nodes to resolve before the injection instant, if any); `inject`;
//!    `heal`; `schedule_note` if the report's schedule line should say more.
//! 2. One line in [`VERBS`].
//!
//! Nothing else changes: the scenario model holds a [`FaultSpec`], whatever the kind.

mod crash;
mod disk_full;
mod error;
mod iptables;
mod lag;
mod partition;
mod patroni_freeze;
mod pause;
mod postgres_crash;
mod spec;
mod sql;
mod stop;
mod switchover;
mod target;
mod verb;

pub use crash::Crash;
pub use disk_full::DiskFull;
pub use error::FaultError;
pub use lag::{Behind, Lag, LagParams};
pub use partition::{Direction, Partition, PartitionParams, PartitionPeers};
pub use patroni_freeze::PatroniFreeze;
pub use pause::Pause;
pub use postgres_crash::PostgresCrash;
pub use spec::FaultSpec;
pub use stop::Stop;
pub use switchover::{Switchover, SwitchoverParams};
pub use target::{Resolver, lag_bytes};
pub use verb::{
    DynVerb, Fire, Healing, Key, KeyForm, NoKeys, Requirement, Targets, Verb, WITH_DATA_DISK,
};

use crate::engine;
use crate::history::{Clock, FaultAction, FaultEvent};
use crate::scenario::Fault;
use crate::topology::{Cluster, Node};

/// Every fault verb, one line each, in the order messages and `firedrill list` show them.
pub static VERBS: &[&dyn DynVerb] = &[
    &Crash,
    &PostgresCrash,
    &Stop,
    &Pause,
    &Partition,
    &Switchover,
    &Lag,
    &DiskFull,
    &PatroniFreeze,
];

/// The verb named `name` in scenario files.
pub fn verb_named(name: &str) -> Option<&'static dyn DynVerb> {
    VERBS.iter().copied().find(|verb| verb.name() == name)
}

/// Every verb's name, in registry order.
pub fn verb_names() -> impl Iterator<Item = &'static str> {
    VERBS.iter().map(|verb| verb.name())
}

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
    let involved = fault.kind.armed().involve(resolver, &nodes).await?;
    ensure_owned(cluster, fault, nodes.iter().chain(&involved)).await?;
    let at = clock.now();
    let fire = Fire {
        cluster,
        targets: &nodes,
        involved: &involved,
    };
    let detail = fault.kind.armed().inject(fire).await?;
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
    let detail = fault.kind.armed().heal(cluster, nodes).await?;
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
/// this host: a fault that would silently do nothing fails the drill here. Each requirement is
/// checked once, in the name of the first fault that has it.
pub async fn preflight(cluster: &Cluster, faults: &[Fault]) -> Result<(), FaultError> {
    let mut checked: Vec<Requirement> = Vec::new();
    for fault in faults {
        for &requirement in fault.kind.verb().requires() {
            if checked.contains(&requirement) {
                continue;
            }
            checked.push(requirement);
            match requirement {
                Requirement::Iptables => iptables::preflight(cluster, fault.kind.name()).await?,
            }
        }
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
