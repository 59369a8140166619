//! pause: the node frozen with the cgroup freezer (`docker pause`): every process stops, its
//! sockets stay open: hung, not dead. Healed by resuming it.

use super::{FaultError, Fire, Healing, NoKeys, Targets, Verb, names, on_each};
use crate::scenario::{FaultInput, KeyError};
use crate::topology::{Cluster, Node};

pub struct Pause;

impl Verb for Pause {
    type Params = NoKeys;
    const NAME: &'static str = "pause";
    const SUMMARY: &'static str =
        "the node frozen (`docker pause`): hung, not dead; healed by resuming it";
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

pub async fn inject(cluster: &Cluster, nodes: &[Node]) -> Result<Option<String>, FaultError> {
    on_each(nodes, |node| async move {
        cluster
            .docker
            .pause_container(&node.container)
            .await
            .map_err(|e| FaultError::action("pause the container", &node.name)(e.to_string()))
    })
    .await?;
    Ok(Some(format!("froze every process of {}", names(nodes))))
}

pub async fn heal(cluster: &Cluster, nodes: &[Node]) -> Result<Option<String>, FaultError> {
    on_each(nodes, |node| async move {
        cluster
            .docker
            .unpause_container(&node.container)
            .await
            .map_err(|e| FaultError::action("resume the container", &node.name)(e.to_string()))
    })
    .await?;
    Ok(Some(format!("resumed {}", names(nodes))))
}
