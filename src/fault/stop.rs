//! stop: a graceful stop, as `systemctl stop patroni`: SIGTERM to the node's processes, then
//! wait for them to exit (SIGKILL after 30 s, as systemd's default). Healed by `crash::heal`.

use super::{FaultError, Fire, Healing, NoKeys, Targets, Verb, crash, names, on_each};
use crate::scenario::{FaultInput, KeyError};
use crate::topology::{Cluster, Node};
use bollard::query_parameters::StopContainerOptions;

pub struct Stop;

impl Verb for Stop {
    type Params = NoKeys;
    const NAME: &'static str = "stop";
    const SUMMARY: &'static str =
        "a graceful stop (SIGTERM, then wait), as `systemctl stop`; healed by starting it again";
    const HEALING: Healing = Healing::Healed;
    const TARGETS: Targets = Targets::AnyKind;

    fn params(_: &mut FaultInput<'_>) -> Result<NoKeys, KeyError> {
        Ok(NoKeys {})
    }

    async fn inject(fire: Fire<'_>, _: &NoKeys) -> Result<Option<String>, FaultError> {
        inject(fire.cluster, fire.targets).await
    }

    async fn heal(cluster: &Cluster, nodes: &[Node]) -> Result<Option<String>, FaultError> {
        crash::heal(cluster, nodes).await
    }
}

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
