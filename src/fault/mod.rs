//! Faults (Jepsen's nemesis): each kind injects and heals itself against a node resolved when
//! the fault fires. Every action is recorded with the instant it began and ended.

mod crash;
mod error;
mod target;

pub use error::FaultError;
pub use target::resolve;

use crate::history::{Clock, FaultAction, FaultEvent};
use crate::scenario::{Fault, FaultKind};
use crate::topology::{Cluster, Node};

/// Resolves the fault's target now and injects it. `F`, the event's `at`, is the instant the
/// injection itself began (after the target was resolved).
pub async fn inject(
    cluster: &Cluster,
    index: usize,
    fault: &Fault,
    clock: Clock,
) -> Result<(Node, FaultEvent), FaultError> {
    let node = resolve(cluster, &fault.target).await?;
    let at = clock.now();
    let detail = match fault.kind {
        FaultKind::Crash => crash::inject(cluster, &node).await?,
    };
    let event = FaultEvent {
        fault: index,
        action: FaultAction::Inject,
        kind: fault.kind.name().to_string(),
        node: node.name.clone(),
        at,
        done: clock.now(),
        detail,
    };
    Ok((node, event))
}

/// Heals a fault on the node it was injected on.
pub async fn heal(
    cluster: &Cluster,
    index: usize,
    fault: &Fault,
    node: &Node,
    clock: Clock,
) -> Result<FaultEvent, FaultError> {
    let at = clock.now();
    let detail = match fault.kind {
        FaultKind::Crash => crash::heal(cluster, node).await?,
    };
    Ok(FaultEvent {
        fault: index,
        action: FaultAction::Heal,
        kind: fault.kind.name().to_string(),
        node: node.name.clone(),
        at,
        done: clock.now(),
        detail,
    })
}
