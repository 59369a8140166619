use crate::client::Client;
use crate::topology::{Cluster, TopologyError};
use std::time::Duration;

/// How long creating the schema may keep failing (a stalled host) before the drill gives up.
const PREPARE_WITHIN: Duration = Duration::from_secs(15);

/// Creates what the writes go to through the client endpoint, retrying for a bounded time,
/// then waits until every replica has replayed it: a read through the replicas at the first
/// instant of the workload would otherwise find no table (seen: the first read of a drill
/// failed with `relation "firedrill_writes" does not exist`).
pub async fn prepare(client: &dyn Client, cluster: &Cluster) -> Result<(), TopologyError> {
    let deadline = tokio::time::Instant::now() + PREPARE_WITHIN;
    create(client, cluster, deadline).await?;
    let roles = cluster.roles(Duration::from_secs(1)).await;
    for replica in roles.replicas() {
        let endpoint = cluster
            .endpoint_of(replica, Duration::from_secs(2))
            .map_err(|e| TopologyError::Database {
                action: format!("find the {} on {}", client.schema(), replica.name),
                message: e.to_string(),
            })?;
        loop {
            let read = match client.connect(&endpoint).await {
                Ok(mut connection) => connection.read_latest(None).await.map(|_| ()),
                Err(e) => Err(e),
            };
            match read.map_err(|e| e.text) {
                Ok(()) => break,
                Err(e) if tokio::time::Instant::now() < deadline => {
                    tracing::debug!(
                        "waiting for the {} on {}: {e}",
                        client.schema(),
                        replica.name
                    );
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => {
                    return Err(TopologyError::Database {
                        action: format!("find the {} on {}", client.schema(), replica.name),
                        message: e,
                    });
                }
            }
        }
    }
    Ok(())
}

async fn create(
    client: &dyn Client,
    cluster: &Cluster,
    deadline: tokio::time::Instant,
) -> Result<(), TopologyError> {
    let endpoint = cluster
        .primary_endpoint(Duration::from_secs(2))
        .map_err(|e| TopologyError::Database {
            action: format!("create {}", client.schema()),
            message: e.to_string(),
        })?;
    loop {
        match client.prepare(&endpoint).await {
            Ok(()) => return Ok(()),
            Err(e) if tokio::time::Instant::now() < deadline => {
                tracing::debug!("retrying the creation of the {}: {e}", client.schema());
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => {
                return Err(TopologyError::Database {
                    action: format!("create {}", client.schema()),
                    message: e,
                });
            }
        }
    }
}
