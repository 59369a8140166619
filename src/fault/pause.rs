//! pause: the node frozen with the cgroup freezer (`docker pause`): every process stops, its
//! sockets stay open: hung, not dead. Healed by resuming it.

use super::{FaultError, names, on_each};
use crate::topology::{Cluster, Node};

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
