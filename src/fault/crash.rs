//! crash: SIGKILL of every process of the node (its container); healed by starting it again,
//! on the same published ports.

use super::{FaultError, Fire, Healing, NoKeys, Targets, Verb, names, on_each};
use crate::scenario::{FaultInput, KeyError};
use crate::topology::{Cluster, Node};
use bollard::query_parameters::KillContainerOptions;

pub struct Crash;

impl Verb for Crash {
    type Params = NoKeys;
    const NAME: &'static str = "crash";
    const SUMMARY: &'static str =
        "SIGKILL of the whole node (its container); healed by starting it again";
    const HEALING: Healing = Healing::Healed;
    const TARGETS: Targets = Targets::AnyKind;

    fn params(_: &mut FaultInput<'_>) -> Result<NoKeys, KeyError> {
        Ok(NoKeys {})
    }

    async fn inject(fire: Fire<'_>, _: &NoKeys) -> Result<Option<String>, FaultError> {
        inject(fire.cluster, fire.targets).await
    }

    async fn heal(cluster: &Cluster, nodes: &[Node]) -> Result<Option<String>, FaultError> {
        heal(cluster, nodes).await
    }
}

/// SIGKILL to every process of each node, all at once.
pub async fn inject(cluster: &Cluster, nodes: &[Node]) -> Result<Option<String>, FaultError> {
    on_each(nodes, |node| async move {
        cluster
            .docker
            .kill_container(
                &node.container,
                Some(KillContainerOptions {
                    signal: "SIGKILL".into(),
                }),
            )
            .await
            .map_err(|e| FaultError::action("kill the container", &node.name)(e.to_string()))
    })
    .await?;
    Ok(Some(format!(
        "SIGKILL to every process of {}",
        names(nodes)
    )))
}

/// Starts the nodes' containers again (also the heal of `stop`).
pub async fn heal(cluster: &Cluster, nodes: &[Node]) -> Result<Option<String>, FaultError> {
    on_each(nodes, |node| async move {
        cluster
            .docker
            .start_container(&node.container, None)
            .await
            .map_err(|e| FaultError::action("restart the container", &node.name)(e.to_string()))
    })
    .await?;
    Ok(Some(format!("started {} again", names(nodes))))
}
