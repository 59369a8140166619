//! crash: SIGKILL of the whole node (its container); healed by starting it again.

use super::FaultError;
use crate::topology::{Cluster, Node};
use bollard::query_parameters::KillContainerOptions;

pub async fn inject(cluster: &Cluster, node: &Node) -> Result<Option<String>, FaultError> {
    cluster
        .docker
        .kill_container(
            &node.container,
            Some(KillContainerOptions {
                signal: "SIGKILL".into(),
            }),
        )
        .await
        .map_err(|e| FaultError::Action {
            action: "kill the container".into(),
            node: node.name.clone(),
            message: e.to_string(),
        })?;
    Ok(Some(
        "SIGKILL sent to every process of the container".into(),
    ))
}

pub async fn heal(cluster: &Cluster, node: &Node) -> Result<Option<String>, FaultError> {
    cluster
        .docker
        .start_container(&node.container, None)
        .await
        .map_err(|e| FaultError::Action {
            action: "restart the container".into(),
            node: node.name.clone(),
            message: e.to_string(),
        })?;
    Ok(Some("container started again".into()))
}
