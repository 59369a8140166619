//! stop: a graceful stop, as `systemctl stop patroni`: SIGTERM to the node's processes, then
//! wait for them to exit (SIGKILL after 30 s, as systemd's default). Healed by `crash::heal`.

use super::{FaultError, names, on_each};
use crate::topology::{Cluster, Node};
use bollard::query_parameters::StopContainerOptions;

const GRACE_SECONDS: i32 = 30;

pub async fn inject(cluster: &Cluster, nodes: &[Node]) -> Result<Option<String>, FaultError> {
    on_each(nodes, |node| async move {
        cluster
            .docker
            .stop_container(
                &node.container,
                Some(StopContainerOptions {
                    t: Some(GRACE_SECONDS),
                    signal: Some("SIGTERM".into()),
                }),
            )
            .await
            .map_err(|e| FaultError::action("stop the container", &node.name)(e.to_string()))
    })
    .await?;
    Ok(Some(format!(
        "SIGTERM to {}, waited for exit (at most {GRACE_SECONDS}s)",
        names(nodes)
    )))
}
