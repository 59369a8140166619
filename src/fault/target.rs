use super::FaultError;
use crate::history::Role;
use crate::scenario::Target;
use crate::topology::{Cluster, Node, NodeKind, PATRONI_REST_PORT, probe_patroni};
use std::time::Duration;

/// The node a target names, at this instant. `leader` asks every Patroni node for its role and
/// takes the one node that says it leads.
pub async fn resolve(cluster: &Cluster, target: &Target) -> Result<Node, FaultError> {
    match target {
        Target::Node(name) => cluster
            .node(name)
            .cloned()
            .ok_or_else(|| FaultError::Target {
                target: name.clone(),
                reason: "no such node in this run".into(),
            }),
        Target::Leader => {
            let nodes: Vec<&Node> = cluster.nodes_of(NodeKind::Patroni).collect();
            let probes = nodes.iter().map(|n| async {
                let addr = n.host_addr(PATRONI_REST_PORT)?;
                probe_patroni(&cluster.http, &addr, Duration::from_secs(1))
                    .await
                    .ok()
            });
            let statuses = futures_util::future::join_all(probes).await;
            let leaders: Vec<&Node> = nodes
                .iter()
                .zip(&statuses)
                .filter(|(_, s)| matches!(s, Some(s) if s.role == Role::Leader))
                .map(|(n, _)| *n)
                .collect();
            match leaders.as_slice() {
                [leader] => Ok((*leader).clone()),
                [] => Err(FaultError::Target {
                    target: "leader".into(),
                    reason: "no node reports itself leader".into(),
                }),
                many => Err(FaultError::Target {
                    target: "leader".into(),
                    reason: format!(
                        "{} nodes report themselves leader: {}",
                        many.len(),
                        many.iter()
                            .map(|n| n.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }),
            }
        }
    }
}
