//! crash: SIGKILL of every process of the node (its container); healed by starting it again,
//! on the same published ports.

use super::{FaultError, names, on_each};
use crate::topology::{Cluster, Node};
use bollard::query_parameters::KillContainerOptions;

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
